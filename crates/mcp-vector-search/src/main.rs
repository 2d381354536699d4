//! `mcp-vector-search`: index a repository and search it by meaning and by
//! keyword, from the command line or as an MCP stdio server.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mvs_embed::{Home, Verify};
use mvs_index::{IndexError, IndexOptions, Progress, Project, Query, SearchResponse};
use tokio::sync::watch;

mod bench;
mod doctor;
mod install;

/// Local hybrid semantic + keyword code search for coding agents.
#[derive(Debug, Parser)]
#[command(name = "mcp-vector-search", version, about)]
struct Cli {
    /// Directory with model.onnx, tokenizer.json and model.json to use
    /// instead of the default model (all-MiniLM-L6-v2).
    #[arg(long, global = true, env = "MCP_VECTOR_SEARCH_MODEL_DIR")]
    model_dir: Option<PathBuf>,
    /// Log more (to stderr).
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch and verify the ONNX Runtime library and the default model
    /// (done automatically on first use).
    Setup,
    /// Index a project (only new and changed files unless --force).
    Index {
        /// Project root (default: the current directory's project).
        path: Option<PathBuf>,
        /// Re-index every file.
        #[arg(long)]
        force: bool,
        /// Also index generated and minified files (skipped by default).
        #[arg(long)]
        include_generated: bool,
        /// Print the run report as JSON.
        #[arg(long)]
        json: bool,
        /// Report what a run would do (files and chunks per language, skips
        /// by reason, largest directories, estimated time) without indexing.
        #[arg(long, conflicts_with_all = ["force", "watch"])]
        dry_run: bool,
        /// After indexing, keep watching the project and index each change
        /// as it is saved (Ctrl-C stops).
        #[arg(long)]
        watch: bool,
    },
    /// Search an indexed project.
    Search {
        /// What to find: behaviour in words, or an identifier.
        query: String,
        /// Maximum results.
        #[arg(long, short = 'n', default_value_t = 10)]
        limit: usize,
        /// hybrid (default), vector or keyword (bm25).
        #[arg(long, default_value = "hybrid")]
        mode: String,
        #[command(flatten)]
        filter: FilterArgs,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Project root (default: the current directory's project).
        #[arg(long)]
        project_root: Option<PathBuf>,
    },
    /// Show what the index holds.
    Status {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Project root (default: the current directory's project).
        #[arg(long)]
        project_root: Option<PathBuf>,
    },
    /// Measure a stage on a real tree.
    Bench {
        #[command(subcommand)]
        stage: BenchStage,
    },
    /// Index a project (default: the current one) and show what searching it
    /// looks like: by meaning, by identifier, and filtered.
    Demo {
        /// Project root (default: the current directory's project).
        path: Option<PathBuf>,
    },
    /// Check Python, runtime, model, device, vector cache and the index, and
    /// say how to fix what fails.
    Doctor {
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
        /// Project root (default: the current directory's project).
        #[arg(long)]
        project_root: Option<PathBuf>,
    },
    /// Register the MCP server with a client: print the configuration, or
    /// merge it into the client's file with --write.
    Install(install::InstallArgs),
    /// Run the MCP server on stdio.
    Mcp {
        /// Project root (default: $MCP_PROJECT_ROOT, else the current directory).
        #[arg(long, env = "MCP_PROJECT_ROOT")]
        project_root: Option<PathBuf>,
    },
}

/// Filters of `search`, applied in both lanes before ranking.
#[derive(Debug, clap::Args)]
struct FilterArgs {
    /// Only this language (repeatable): rust, python, typescript, ...
    #[arg(long = "language", value_name = "LANG")]
    languages: Vec<String>,
    /// Only paths matching this glob (repeatable): 'src/**/*.rs', '*.py'.
    #[arg(long = "files", value_name = "GLOB")]
    include_globs: Vec<String>,
    /// Leave out paths matching this glob (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    exclude_globs: Vec<String>,
    /// Only this file extension (repeatable): .rs, .py.
    #[arg(long = "ext", value_name = "EXT")]
    extensions: Vec<String>,
    /// Only this chunk kind (repeatable): function, method, class, struct, ...
    #[arg(long = "kind", value_name = "KIND")]
    kinds: Vec<String>,
    /// Only the definition with this name or qualified name.
    #[arg(long)]
    name: Option<String>,
    /// Only this class/type and what it contains.
    #[arg(long = "in", value_name = "TYPE")]
    container: Option<String>,
    /// Only test files.
    #[arg(long, conflicts_with = "exclude_tests")]
    tests_only: bool,
    /// Leave out test files.
    #[arg(long)]
    exclude_tests: bool,
}

impl FilterArgs {
    fn into_filter(self) -> mvs_index::SearchFilter {
        mvs_index::SearchFilter {
            languages: self.languages,
            kinds: self.kinds,
            include_globs: self.include_globs,
            exclude_globs: self.exclude_globs,
            extensions: self.extensions,
            name: self.name,
            container: self.container,
            tests: mvs_index::TestFilter::from_flags(self.tests_only, self.exclude_tests),
        }
    }
}

#[derive(Debug, Subcommand)]
enum BenchStage {
    /// Chunking speed on one core: files are read into memory first, so only
    /// parsing and chunking are timed.
    Parse {
        /// Tree to chunk (default: the current directory's project).
        path: Option<PathBuf>,
    },
    /// Embedding speed and memory of the naive path (int8 weights, fp32
    /// arithmetic, fixed batches in input order) against the shipped one, on
    /// the chunks of a real tree; each variant runs in its own process so
    /// peak RSS is its own. The persistent vector cache is not used.
    Embed(bench::EmbedArgs),
    /// Search latency (vector, keyword, hybrid; p50/p95), ANN recall@10
    /// against exact search and bytes per chunk on disk, on a synthetic
    /// table of random unit vectors and code-like text, or a project's index.
    Store(bench::store::StoreArgs),
    /// The indexing pipeline on a copy of a real tree, vector cache off:
    /// cold run (end-to-end chunks/s against the embedder alone on the same
    /// chunks = efficiency, stage times), no-op and one-edit re-index times,
    /// peak RSS.
    Index(bench::index::IndexArgs),
}

/// Exit codes callers can tell apart.
mod exit {
    /// Any other failure.
    pub const FAILURE: u8 = 1;
    /// The project has no index.
    pub const NOT_INDEXED: u8 = 3;
    /// Another process holds the writer lock.
    pub const LOCK_HELD: u8 = 4;
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            let code = match err.downcast_ref::<IndexError>() {
                Some(IndexError::NotIndexed(_)) => exit::NOT_INDEXED,
                Some(IndexError::LockHeld { .. }) => exit::LOCK_HELD,
                _ => exit::FAILURE,
            };
            ExitCode::from(code)
        }
    }
}

/// glibc gives each thread that allocates concurrently its own heap arena,
/// up to 8 per core; LanceDB and DataFusion run many threads, and memory
/// freed in one arena is not reused by another. One arena per core cut the
/// peak RSS of a 10k-file run's keywords phase from 933 to 683 MB
/// (docs/benchmarks.md). Must run before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: mallopt only sets an allocator parameter; no other thread
        // exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cores.min(i32::MAX as usize) as i32);
        }
    }
}

/// Logs go to stderr only: in `mcp` mode stdout carries MCP messages.
fn init_logging(cli: &Cli) {
    let default = match (&cli.command, cli.verbose) {
        (_, true) => "info,lance=warn,lancedb=warn,datafusion=warn",
        (Command::Mcp { .. }, false) => "info,rmcp=warn,lance=warn,lancedb=warn,datafusion=warn,ort=warn",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MCP_VECTOR_SEARCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let model_dir = cli.model_dir.clone();
    match cli.command {
        Command::Setup => setup(model_dir.as_deref()).await,
        Command::Index {
            path,
            include_generated,
            json,
            dry_run: true,
            ..
        } => {
            let mut chunk_options = IndexOptions::from_env().chunk_options;
            chunk_options.include_generated = include_generated;
            bench::dry_run(project_at(path)?, chunk_options, json, model_dir).await
        }
        Command::Index {
            path,
            force,
            include_generated,
            json,
            dry_run: false,
            watch,
        } => {
            let mut options = IndexOptions::from_env();
            options.force = force;
            options.chunk_options.include_generated = include_generated;
            index(path, options, json, watch, model_dir).await
        }
        Command::Search {
            query,
            limit,
            mode,
            filter,
            json,
            project_root,
        } => {
            let filter = filter.into_filter();
            search(query, limit, &mode, filter, json, project_root, model_dir).await
        }
        Command::Status { json, project_root } => status(json, project_root).await,
        Command::Demo { path } => demo(path, model_dir).await,
        Command::Bench {
            stage: BenchStage::Parse { path },
        } => bench::parse(project_at(path)?),
        Command::Bench {
            stage: BenchStage::Embed(args),
        } => bench::embed(args, model_dir).await,
        Command::Bench {
            stage: BenchStage::Store(args),
        } => bench::store::store(args).await,
        Command::Bench {
            stage: BenchStage::Index(args),
        } => bench::index::index(args, model_dir).await,
        Command::Doctor { json, project_root } => doctor::doctor(json, project_at(project_root)?, model_dir).await,
        Command::Install(args) => {
            let project = project_at(args.project_root.clone())?;
            install::install(args, project.root())
        }
        Command::Mcp { project_root } => {
            let root = match project_root {
                Some(root) => root,
                None => std::env::current_dir().context("cannot read the current directory")?,
            };
            let loader: mvs_mcp::EmbedderLoader =
                Arc::new(move || mvs_embed::load_embedder(model_dir.as_deref()).map_err(|err| err.to_string()));
            mvs_mcp::serve_stdio(root, loader).await.map_err(anyhow::Error::msg)
        }
    }
}

fn project_at(path: Option<PathBuf>) -> anyhow::Result<Project> {
    let project = match path {
        Some(path) => Project::new(&path)?,
        None => Project::containing(&std::env::current_dir().context("cannot read the current directory")?)?,
    };
    Ok(project)
}

async fn load_embedder(model_dir: Option<PathBuf>) -> anyhow::Result<Arc<mvs_embed::Embedder>> {
    let embedder = tokio::task::spawn_blocking(move || mvs_embed::load_embedder(model_dir.as_deref())).await??;
    Ok(Arc::new(embedder))
}

/// An embedder that does not use the vector cache: measurements and
/// probes must run the model.
fn uncached_embedder(
    options: &mvs_embed::EmbedOptions,
    model_dir: Option<&Path>,
) -> anyhow::Result<mvs_embed::Embedder> {
    let home = Home::from_env()?;
    let runtime = home.ensure_runtime(Verify::Size)?;
    let model = mvs_embed::load_model_files(&home, model_dir, options, Verify::Size)?;
    Ok(mvs_embed::Embedder::load(&runtime, &model, options)?)
}

async fn setup(model_dir: Option<&Path>) -> anyhow::Result<()> {
    let home = Home::from_env()?;
    let runtime = home.ensure_runtime(Verify::Hash)?;
    let dir = model_dir.map(Path::to_path_buf);
    let model = tokio::task::spawn_blocking(move || {
        mvs_embed::load_model_files(
            &home,
            dir.as_deref(),
            &mvs_embed::EmbedOptions::from_env(),
            Verify::Hash,
        )
    })
    .await??;
    let embedder = load_embedder(model_dir.map(Path::to_path_buf)).await?;
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

async fn index(
    path: Option<PathBuf>,
    options: IndexOptions,
    json: bool,
    watch_changes: bool,
    model_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let project = project_at(path)?;
    let embedder = load_embedder(model_dir).await?;
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
        "indexed {}: {} files seen, {} parsed, {} unchanged, {} deleted, {} skipped; {} chunks ({} vectors reused) in {:.1} s ({:.0} chunks/s)",
        project.root().display(),
        report.files_seen,
        report.files_parsed,
        report.files_unchanged,
        report.files_deleted,
        report.files_skipped,
        report.chunks_written,
        report.vectors_reused,
        report.elapsed_ms as f64 / 1000.0,
        report.chunks_per_second()
    );
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
async fn demo(path: Option<PathBuf>, model_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let project = project_at(path)?;
    let root = Some(project.root().to_path_buf());
    index(root.clone(), IndexOptions::from_env(), false, false, model_dir.clone()).await?;
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
    let functions_no_tests = mvs_index::SearchFilter {
        kinds: vec!["function".into(), "method".into()],
        tests: mvs_index::TestFilter::Exclude,
        ..Default::default()
    };
    let mut searches = vec![(
        "by meaning",
        "handle an error and report it to the user".to_string(),
        mvs_index::SearchFilter::default(),
    )];
    if let Some(name) = identifier {
        searches.push(("by identifier", name, mvs_index::SearchFilter::default()));
    }
    searches.push((
        "functions only, tests left out",
        "read a file from disk".into(),
        functions_no_tests,
    ));
    for (what, query, filter) in searches {
        println!("\n== {what}: mcp-vector-search search {query:?}");
        search(query, 3, "hybrid", filter, false, root.clone(), model_dir.clone()).await?;
    }
    println!(
        "\nNext: `mcp-vector-search install claude-code` (or cursor, claude-desktop, codex) to give an agent these searches."
    );
    Ok(())
}

async fn search(
    query: String,
    limit: usize,
    mode: &str,
    filter: mvs_index::SearchFilter,
    json: bool,
    project_root: Option<PathBuf>,
    model_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mode = mvs_mcp::parse_mode(Some(mode)).map_err(anyhow::Error::msg)?;
    anyhow::ensure!((1..=1000).contains(&limit), "--limit must be between 1 and 1000");
    let project = project_at(project_root)?;
    let store = mvs_index::open_index(&project).await?;
    let embedder = match mode {
        mvs_store::SearchMode::Keyword => None,
        _ => Some(load_embedder(model_dir).await?),
    };
    let results = mvs_index::search(
        &project,
        &store,
        embedder,
        &Query {
            text: query.clone(),
            mode,
            limit,
            filter,
        },
    )
    .await?;
    let response = SearchResponse::new(&store, query, results);
    if json {
        println!("{}", serde_json::to_string(&response)?);
    } else {
        print!("{}", mvs_mcp::render_results(&response));
    }
    Ok(())
}

async fn status(json: bool, project_root: Option<PathBuf>) -> anyhow::Result<()> {
    let project = project_at(project_root)?;
    let status = mvs_index::project_status(&project).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    println!("project:  {}", status.project_root.display());
    println!("state:    {}", status.state);
    println!("files:    {} ({} indexed)", status.files, status.indexed_files);
    println!("chunks:   {} ({} with vectors)", status.chunks, status.vectors);
    println!("model:    {}", status.model.as_deref().unwrap_or("none"));
    println!("device:   {}", status.device.as_deref().unwrap_or("unknown"));
    for (language, counts) in &status.languages {
        println!("  {language}: {} files, {} chunks", counts.files, counts.chunks);
    }
    for (reason, count) in &status.skipped {
        println!("  skipped ({reason}): {count}");
    }
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
