//! The CLI's commands: each takes typed options built by `main` from the
//! command line and [`Settings`], and prints for a human (or JSON).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use mcp_vector_search::{Settings, load_embedder, uncached_embedder};
use mvs_embed::Verify;
use mvs_index::{IndexError, IndexOptions, Progress, Project, Query, SearchArgs};

use crate::cli::FilterArgs;
use tokio::sync::watch;

/// The project at `path`, else the one containing the working directory,
/// with the configured shared index.
pub fn project_at(path: Option<PathBuf>, settings: &Settings) -> anyhow::Result<Project> {
    let project = match path {
        Some(path) => Project::new(&path)?,
        None => Project::containing(&std::env::current_dir().context("cannot read the current directory")?)?,
    };
    Ok(project.with_shared(settings.shared_index()?))
}

/// `setup`: provision and verify (full hashes) the runtime and model, then
/// load them once.
pub async fn setup(settings: &Settings) -> anyhow::Result<()> {
    let home = settings.home()?;
    let runtime = home.ensure_runtime(Verify::Hash)?;
    let (dir, options) = (settings.model_dir.clone(), settings.embed_options());
    let model =
        tokio::task::spawn_blocking(move || mvs_embed::load_model_files(&home, dir.as_deref(), &options, Verify::Hash))
            .await??;
    let embedder = load_embedder(settings).await?;
    let device = embedder.device();
    println!(
        "runtime: {} (onnxruntime {})",
        runtime.display(),
        device.runtime_version
    );
    println!(
        "model:   {} ({}-d) in {}",
        model.spec.id,
        model.spec.dimension,
        model.dir.display()
    );
    if let Some(int8) = &model.int8 {
        println!("int8:    {} (sha256 {})", int8.display(), mvs_embed::sha256_file(int8)?);
    }
    println!("device:  {device}");
    if let Some(reason) = &device.fallback {
        println!("warning: {reason}");
    }
    println!("ready.");
    Ok(())
}

/// `index`: one run with a progress display, then (`watch_changes`) a
/// scoped run for each batch of saved changes.
pub async fn index(
    project: Project,
    options: IndexOptions,
    json: bool,
    watch_changes: bool,
    settings: &Settings,
) -> anyhow::Result<()> {
    let embedder = load_embedder(settings).await?;
    let (progress_tx, progress_rx) = watch::channel(Progress::default());
    let reporter = tokio::spawn(show_progress(progress_rx));
    if !watch_changes {
        // The run holds the only handle, so the model is freed before the
        // index builds that end it (its memory peak).
        let report = mvs_index::index_project(&project, embedder, &options, &progress_tx).await?;
        drop(progress_tx);
        let _ = reporter.await;
        return print_report(&project, &report, json);
    }
    let report = mvs_index::index_project(&project, Arc::clone(&embedder), &options, &progress_tx).await?;
    print_report(&project, &report, json)?;
    eprintln!("watching {} for changes (Ctrl-C stops)", project.root().display());
    mvs_index::watch_with_pipeline(&project, embedder, &options, &progress_tx, |outcome| match outcome {
        Ok(report) if report.files_parsed + report.files_skipped + report.files_deleted > 0 => {
            if let Err(err) = print_report(&project, &report, json) {
                tracing::warn!("{err}");
            }
        }
        Ok(_) => {}
        Err(err) => eprintln!("error: {err}"),
    })
    .await?;
    Ok(())
}

fn print_report(project: &Project, report: &mvs_index::IndexReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
        return Ok(());
    }
    eprintln!(
        "indexed {}: {} files seen, {} parsed, {} unchanged, {} deleted, {} skipped; {} chunks ({} vectors reused) in {:.1} s ({:.0} chunks/s; keyword search complete after {:.1} s)",
        project.root().display(),
        report.files_seen,
        report.files_parsed,
        report.files_unchanged,
        report.files_deleted,
        report.files_skipped,
        report.chunks_written,
        report.vectors_reused,
        report.elapsed_ms as f64 / 1000.0,
        report.chunks_per_second(),
        report.keywords_ready_ms as f64 / 1000.0
    );
    if let Some(generation) = &report.seeded_from {
        eprintln!(
            "  started from the shared index's generation {generation} ({} chunks not embedded here)",
            report.seeded_chunks
        );
    }
    if let (Some(generation), Some(shared)) = (&report.published, project.shared()) {
        eprintln!("  published: {}/{generation}", shared.uri());
    }
    for (path, reason) in &report.unreadable {
        eprintln!("  unreadable: {path}: {reason}");
    }
    Ok(())
}

/// Shows indexing progress on stderr: a progress bar on a terminal, a plain
/// line every few seconds otherwise (logs, CI).
async fn show_progress(mut progress: watch::Receiver<Progress>) {
    const LINE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
    let terminal = std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut last_line: Option<std::time::Instant> = None;
    while progress.changed().await.is_ok() {
        let p = progress.borrow_and_update().clone();
        let eta = p.eta_s.map_or_else(|| "?".to_string(), |s| format!("{s:.0} s"));
        let summary = format!(
            "{}/{} chunks, {:.0} chunks/s, ETA {eta}{}",
            p.chunks_done,
            p.chunks_total,
            p.chunks_per_s,
            if p.memory_pressure { " (memory pressure)" } else { "" }
        );
        if p.phase == "done" {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
            continue;
        }
        if p.files_total == 0 {
            continue;
        }
        if terminal {
            let bar = bar.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::new(p.files_total as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} files  {msg}")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
                bar
            });
            bar.set_length(p.files_total as u64);
            bar.set_position(p.files_done as u64);
            bar.set_prefix(p.phase.clone());
            bar.set_message(summary);
        } else if last_line.is_none_or(|at| at.elapsed() >= LINE_EVERY) {
            eprintln!("{}: {}/{} files, {summary}", p.phase, p.files_done, p.files_total);
            last_line = Some(std::time::Instant::now());
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// `demo`: index, then three searches that show the kinds of query.
pub async fn demo(project: Project, settings: &Settings) -> anyhow::Result<()> {
    index(project.clone(), settings.index_options(), false, false, settings).await?;
    let store = mvs_index::open_index(&project).await?;
    // An identifier that exists here: the first function of the first file.
    let files: Vec<String> = store
        .file_records()
        .await?
        .into_iter()
        .filter(|f| f.chunks > 0)
        .map(|f| f.path)
        .collect();
    let mut identifier = None;
    for file in files.iter().take(50) {
        identifier = store
            .file_chunks(file, None)
            .await?
            .into_iter()
            .map(|(chunk, _)| chunk)
            .find(|chunk| matches!(chunk.kind.as_str(), "function" | "method"))
            .map(|chunk| chunk.name);
        if identifier.is_some() {
            break;
        }
    }
    let search_for = |query: String| SearchArgs {
        query,
        limit: Some(3),
        keyword_weight: settings.keyword_weight,
        ..SearchArgs::default()
    };
    let mut searches = vec![(
        "by meaning",
        search_for("handle an error and report it to the user".into()),
    )];
    if let Some(name) = identifier {
        searches.push(("by identifier", search_for(name)));
    }
    searches.push((
        "functions only, tests left out",
        SearchArgs {
            kind: vec!["function".into(), "method".into()],
            exclude_tests: true,
            ..search_for("read a file from disk".into())
        },
    ));
    for (what, args) in searches {
        println!("\n== {what}: mcp-vector-search search {:?}", args.query);
        search(args, false, project.clone(), settings).await?;
    }
    println!(
        "\nNext: `mcp-vector-search install claude-code` (or cursor, claude-desktop, codex) to give an agent these searches."
    );
    Ok(())
}

/// The `search` command's flags as the search arguments every caller
/// (CLI, MCP tools) validates the same way.
pub fn search_args(
    query: String,
    limit: usize,
    mode: String,
    similarity_threshold: Option<f32>,
    filter: FilterArgs,
    settings: &Settings,
) -> SearchArgs {
    SearchArgs {
        query,
        mode: Some(mode),
        limit: Some(limit),
        similarity_threshold,
        keyword_weight: settings.keyword_weight,
        language: filter.language,
        file_extensions: filter.file_extensions,
        files: filter.files,
        exclude: filter.exclude,
        kind: filter.kind,
        function_name: filter.function_name,
        class_name: filter.class_name,
        tests_only: filter.tests_only,
        exclude_tests: filter.exclude_tests,
    }
}

/// `search`: validates `args` (an invalid one is a usage error), searches,
/// prints text or JSON; an empty answer adds a `note` when no indexed file
/// or chunk passes the filters.
pub async fn search(args: SearchArgs, json: bool, project: Project, settings: &Settings) -> anyhow::Result<()> {
    let query = Query::from_args(args, project.root()).map_err(|invalid| UsageError(invalid.to_string()))?;
    let store = mvs_index::open_index(&project).await?;
    let embedder = match query.needs_embedder() {
        true => Some(load_embedder(settings).await?),
        false => None,
    };
    let response = mvs_index::search_response(&project, &store, embedder, &query).await?;
    // An empty answer says when the filters are why.
    let note = match response.results.is_empty() {
        true => query.why_empty(&store).await.map_err(IndexError::from)?,
        false => None,
    };
    if json {
        let mut value = serde_json::to_value(&response)?;
        if let Some(note) = note {
            value["note"] = note.into();
        }
        println!("{value}");
    } else {
        print!("{}", mvs_mcp::render_results(&response));
        if let Some(note) = note {
            println!("note: {note}");
        }
    }
    Ok(())
}

/// A command's arguments are wrong: exit code 2, like clap's own errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The index cannot be read: exit code 5. The message says how to repair it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DamagedIndex(pub String);

/// `status`: what the index holds. Read-only; where there is no index it
/// says so and fails with the not-indexed exit code (3), a damaged index
/// with exit code 5.
pub async fn status(json: bool, project: Project) -> anyhow::Result<()> {
    let status = mvs_index::project_status(&project).await?;
    let outcome = || -> anyhow::Result<()> {
        match &status.damaged {
            Some(damage) => Err(DamagedIndex(damage.clone()).into()),
            None if status.state == "not_indexed" => Err(IndexError::NotIndexed(status.project_root.clone()).into()),
            None => Ok(()),
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return outcome();
    }
    println!(
        "project:  {} (root: {})",
        status.project_root.display(),
        status.root_chosen_by.as_str()
    );
    println!("state:    {}", status.state);
    if let Some(shared) = &status.shared {
        println!("shared:   {shared} (no local index: searches read it)");
    }
    if let Some(reason) = status.incomplete.as_ref().or(status.damaged.as_ref()) {
        println!("          {reason}");
    }
    println!("files:    {} ({} indexed)", status.files, status.indexed_files);
    println!("chunks:   {} ({} with vectors)", status.chunks, status.vectors);
    println!("model:    {}", status.model.as_deref().unwrap_or("none"));
    println!("device:   {}", status.device.as_deref().unwrap_or("unknown"));
    for (language, counts) in &status.languages {
        println!("  {language}: {} files, {} chunks", counts.files, counts.chunks);
    }
    print!("{}", status.skipped);
    for index in &status.search_indices {
        let purpose = match index.purpose {
            mvs_store::IndexPurpose::Keyword => "full-text index".to_string(),
            mvs_store::IndexPurpose::Ann(kind) => format!("ANN index ({kind:?})"),
        };
        println!(
            "{purpose}: {} rows, {} newer rows scanned until folded in",
            index.indexed_rows, index.unindexed_rows
        );
    }
    if status.state == "not_indexed" || status.damaged.is_some() {
        return outcome();
    }
    if let Some(run) = &status.last_run {
        println!(
            "last run: {} chunks in {:.1} s (parse {} ms, embed {} ms, write {} ms)",
            run.chunks_written,
            run.elapsed_ms as f64 / 1000.0,
            run.parse_busy_ms,
            run.embed_busy_ms,
            run.write_busy_ms
        );
    }
    Ok(())
}

/// `index --dry-run`: a survey of the tree and an estimate of the run's time
/// from embedding a sample of its chunks (without the vector cache, so the
/// estimate is for a cold run).
pub async fn dry_run(
    project: Project,
    chunk_options: mvs_parse::ChunkOptions,
    json: bool,
    settings: &Settings,
) -> anyhow::Result<()> {
    let survey_project = project.clone();
    let settings = settings.clone();
    let dry_run = tokio::task::spawn_blocking(move || -> anyhow::Result<mvs_index::DryRun> {
        let embedder = uncached_embedder(&settings, &settings.embed_options())?;
        Ok(mvs_index::dry_run(&survey_project, chunk_options, &embedder)?)
    })
    .await??;
    if json {
        println!("{}", serde_json::to_string_pretty(&dry_run)?);
        return Ok(());
    }
    let survey = &dry_run.survey;
    println!(
        "{}: {} files, {:.1} MB (nothing written)",
        project.root().display(),
        survey.files,
        survey.bytes as f64 / 1e6
    );
    for (language, (files, chunks)) in &survey.languages {
        println!("  {language:12} {files:>6} files {chunks:>8} chunks");
    }
    print!("{}", survey.skipped);
    println!("largest directories:");
    for (dir, bytes) in &survey.largest_dirs {
        println!("  {dir:30} {:>8.1} MB", *bytes as f64 / 1e6);
    }
    println!(
        "estimate: {} chunks at {:.0} chunks/s on {} = {:.0} s (vectors already in the cache cost nothing)",
        survey.chunks, dry_run.chunks_per_s, dry_run.device, dry_run.estimated_seconds
    );
    Ok(())
}
