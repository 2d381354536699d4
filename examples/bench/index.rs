//! `index`: the indexing pipeline on a real tree, in one process with
//! the vector cache off: a cold run (time to first answer, full time,
//! chunks/s, tokens/s), the embedder alone on the same chunks, a no-op
//! re-index and a one-file-edit re-index, with peak memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use mcp_vector_search::Settings;
use mvs_index::{IndexOptions, IndexReport, Progress, Project};
use tokio::sync::watch;

/// Arguments of `index`.
#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    /// Tree to index; it is copied to a scratch directory first, so the
    /// tree itself is left as it is.
    path: PathBuf,
    /// Only the cold run: no embedder-alone pass (it doubles the time on a
    /// big tree), no re-index runs.
    #[arg(long)]
    cold_only: bool,
}

/// `index`.
pub async fn index(args: IndexArgs, settings: &Settings) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let root = scratch.path().join("tree");
    copy_tree(&args.path, &root).with_context(|| format!("cannot copy {}", args.path.display()))?;
    let project = Project::new(&root)?;
    let embedder = {
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || mcp_vector_search::uncached_embedder(&settings, &settings.embed_options()))
            .await??
    };
    // ONNX Runtime initialises lazily: keep that out of the timed runs.
    embedder.embed_documents(&["fn warm_up() {}"])?;
    let embedder = Arc::new(embedder);
    let options = settings.index_options();
    let (progress, _) = watch::channel(Progress::default());

    let cold = mvs_index::index_project(&project, Arc::clone(&embedder), &options, &progress).await?;
    println!(
        "{}: {} files, {} chunks on {}",
        args.path.display(),
        cold.files_seen,
        cold.chunks_written,
        cold.device
    );
    println!(
        "first answer      {:>8.1} s  (every file searchable by keyword; partial answers from the first commit)",
        cold.keywords_ready_ms as f64 / 1e3
    );
    let seconds = cold.elapsed_ms.max(1) as f64 / 1e3;
    println!(
        "cold index        {seconds:>8.1} s  {:>6.1} chunks/s, {:.0} tokens/s end to end",
        cold.chunks_per_second(),
        cold.tokens_embedded as f64 / seconds
    );
    print_stages(&cold);
    if args.cold_only {
        println!("peak RSS          {:>8.0} MB", super::peak_rss_bytes() as f64 / 1e6);
        return Ok(());
    }
    // The embedder alone on the same chunks (read back from the index, in
    // the pipeline's batch size), for the pipeline's efficiency.
    let texts = stored_embedding_texts(&project, &options, embedder.spec().max_tokens)?;
    let alone = {
        let embedder = Arc::clone(&embedder);
        tokio::task::spawn_blocking(move || -> anyhow::Result<f64> {
            let started = Instant::now();
            for batch in texts.chunks(64) {
                embedder.embed_documents(batch)?;
            }
            Ok(texts.len() as f64 / started.elapsed().as_secs_f64().max(1e-9))
        })
        .await??
    };
    let noop = mvs_index::index_project(&project, Arc::clone(&embedder), &options, &progress).await?;
    let edited = edit_one_file(&project)?;
    let one_edit = mvs_index::index_project(&project, Arc::clone(&embedder), &options, &progress).await?;

    let end_to_end = cold.chunks_per_second();
    println!(
        "embedder alone             {alone:.1} chunks/s on the same chunks: pipeline efficiency {:.2}",
        end_to_end / alone.max(1e-9)
    );
    println!("no-op re-index   {:>8.3} s", noop.elapsed_ms as f64 / 1e3);
    println!(
        "one-file edit    {:>8.3} s  ({edited}: {} chunks written, {} vectors reused)",
        one_edit.elapsed_ms as f64 / 1e3,
        one_edit.chunks_written,
        one_edit.vectors_reused
    );
    println!("peak RSS          {:>8.0} MB", super::peak_rss_bytes() as f64 / 1e6);
    Ok(())
}

fn print_stages(report: &IndexReport) {
    println!(
        "  stages: parse {:.1} s (summed over workers), embed {:.1} s, write {:.1} s; \
         parsed queue max {} mean {:.1} of {}; memory pressure events {}",
        report.parse_busy_ms as f64 / 1e3,
        report.embed_busy_ms as f64 / 1e3,
        report.write_busy_ms as f64 / 1e3,
        report.parsed_queue_max,
        report.parsed_queue_mean,
        mvs_index::PARSED_QUEUE,
        report.memory_pressure_events
    );
}

/// The embedding texts of the tree's chunks, as the run made them.
fn stored_embedding_texts(project: &Project, options: &IndexOptions, max_tokens: usize) -> anyhow::Result<Vec<String>> {
    let mut chunk_options = options.chunk_options.clone();
    chunk_options.fit_model_window(max_tokens);
    let (files, _) = mvs_index::discover(project);
    let mut texts = Vec::new();
    for file in files {
        let Ok(bytes) = std::fs::read(&file.path) else {
            continue;
        };
        if let mvs_parse::FileChunks::Parsed { chunks, .. } =
            mvs_parse::chunk_file(&file.rel_path, &bytes, &chunk_options)
        {
            texts.extend(chunks.into_iter().map(|c| c.embedding_text));
        }
    }
    Ok(texts)
}

/// Appends a function to the first indexed Rust or Python file.
fn edit_one_file(project: &Project) -> anyhow::Result<String> {
    let (files, _) = mvs_index::discover(project);
    let file = files
        .iter()
        .find(|f| f.rel_path.ends_with(".rs") || f.rel_path.ends_with(".py"))
        .context("no Rust or Python file to edit")?;
    let addition = if file.rel_path.ends_with(".rs") {
        "\npub fn bench_edit_marker() -> u32 { 42 }\n"
    } else {
        "\ndef bench_edit_marker():\n    return 42\n"
    };
    let mut content = std::fs::read(&file.path)?;
    content.extend_from_slice(addition.as_bytes());
    std::fs::write(&file.path, content)?;
    Ok(file.rel_path.clone())
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
