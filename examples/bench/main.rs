//! Measurements on real trees, printed for docs/benchmarks.md:
//! `cargo run --release --example bench -- parse|embed|store|index ...`.
//! Configuration comes from the same `MCP_VECTOR_SEARCH_*` variables as the
//! binary's (`mcp_vector_search::Settings`).

mod index;
mod store;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mcp_vector_search::Settings;
use mvs_embed::EmbedStats;
use mvs_index::Project;
use serde::{Deserialize, Serialize};

/// Measure a stage of mcp-vector-search on a real tree.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Cli {
    /// Directory with a local ONNX model to measure instead of the default.
    #[arg(long, global = true)]
    model_dir: Option<PathBuf>,
    #[command(subcommand)]
    stage: Stage,
}

#[derive(Debug, Subcommand)]
enum Stage {
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
    Embed(EmbedArgs),
    /// Search latency (vector, keyword, hybrid; p50/p95), ANN recall@10
    /// against exact search and bytes per chunk on disk, on a synthetic
    /// table of random unit vectors and code-like text, or a project's index.
    Store(store::StoreArgs),
    /// The indexing pipeline on a copy of a real tree, vector cache off:
    /// cold run (time to first answer, full time, chunks/s, tokens/s, stage
    /// times; end-to-end chunks/s against the embedder alone on the same
    /// chunks = efficiency), no-op and one-edit re-index times, peak RSS.
    Index(index::IndexArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut settings = Settings::from_env();
    if cli.model_dir.is_some() {
        settings.model_dir = cli.model_dir;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.stage {
            Stage::Parse { path } => parse(project_of(path.as_deref())?),
            Stage::Embed(args) => embed(args, settings).await,
            Stage::Store(args) => store::store(args).await,
            Stage::Index(args) => index::index(args, &settings).await,
        }
    })
}

/// Arguments of `embed`.
#[derive(Debug, clap::Args)]
pub struct EmbedArgs {
    /// Tree whose chunks form the corpus (default: the current directory's
    /// project).
    path: Option<PathBuf>,
    /// Read the corpus from a JSON array of texts instead (see --save-texts).
    #[arg(long, conflicts_with = "path")]
    texts: Option<PathBuf>,
    /// Write the corpus as a JSON array of texts, to rerun it elsewhere.
    #[arg(long)]
    save_texts: Option<PathBuf>,
    /// Most chunks in the corpus (the first ones in path order).
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    /// Run one variant in this process and print its result as JSON.
    #[arg(long, value_enum)]
    variant: Option<Variant>,
}

/// A way of embedding the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Variant {
    /// The model as shipped (int8 weights, fp32 arithmetic), batches of 32 in
    /// input order padded to their longest text.
    Naive,
    /// What indexing uses: int8 arithmetic on CPU, length-sorted calls under
    /// a token budget, duplicates embedded once.
    Shipped,
}

/// One variant's measurement.
#[derive(Debug, Serialize, Deserialize)]
struct EmbedResult {
    variant: Variant,
    device: String,
    chunks: usize,
    seconds: f64,
    chunks_per_s: f64,
    tokens_per_s: f64,
    padding: f64,
    calls: u64,
    peak_rss_mb: f64,
    stats: EmbedStats,
}

/// `embed`: both variants, each in a child process of this program.
async fn embed(args: EmbedArgs, settings: Settings) -> anyhow::Result<()> {
    let texts = match &args.texts {
        Some(file) => {
            let raw = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            serde_json::from_str::<Vec<String>>(&raw).context("--texts must be a JSON array of strings")?
        }
        None => corpus(&project_of(args.path.as_deref())?, args.limit),
    };
    let texts: Vec<String> = texts.into_iter().take(args.limit).collect();
    if let Some(file) = &args.save_texts {
        std::fs::write(file, serde_json::to_string(&texts)?)?;
    }
    if let Some(variant) = args.variant {
        let result = tokio::task::spawn_blocking(move || run_variant(variant, &texts, &settings)).await??;
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    let scratch = tempfile::NamedTempFile::new()?;
    std::fs::write(scratch.path(), serde_json::to_string(&texts)?)?;
    println!(
        "corpus: {} chunks, {:.1} KB of embedding text",
        texts.len(),
        texts.iter().map(String::len).sum::<usize>() as f64 / 1e3
    );
    let mut results = Vec::new();
    for variant in [Variant::Naive, Variant::Shipped] {
        let mut command = std::process::Command::new(std::env::current_exe()?);
        if let Some(dir) = &settings.model_dir {
            command.arg("--model-dir").arg(dir);
        }
        let output = command
            .args(["embed", "--variant"])
            .arg(format!("{variant:?}").to_lowercase())
            .arg("--texts")
            .arg(scratch.path())
            .arg("--limit")
            .arg(texts.len().to_string())
            .stderr(std::process::Stdio::inherit())
            .output()?;
        anyhow::ensure!(output.status.success(), "the {variant:?} run failed");
        let result: EmbedResult = serde_json::from_slice(&output.stdout).context("unreadable variant result")?;
        println!(
            "{:8} {:>7.1} chunks/s {:>8.0} tokens/s  padding {:>4.1}%  {:>4} calls  peak RSS {:>4.0} MB  {:.2} s  on {}",
            format!("{variant:?}").to_lowercase(),
            result.chunks_per_s,
            result.tokens_per_s,
            result.padding * 100.0,
            result.calls,
            result.peak_rss_mb,
            result.seconds,
            result.device
        );
        results.push(result);
    }
    println!("speed-up: {:.2}x", results[1].chunks_per_s / results[0].chunks_per_s);
    Ok(())
}

fn project_of(path: Option<&Path>) -> anyhow::Result<Project> {
    Ok(match path {
        Some(path) => Project::new(path)?,
        None => Project::containing(&std::env::current_dir()?)?,
    })
}

/// The embedding texts of a tree's chunks, files in path order.
fn corpus(project: &Project, limit: usize) -> Vec<String> {
    let (mut files, _) = mvs_index::discover(project);
    files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    let options = mvs_parse::ChunkOptions::default();
    let mut texts = Vec::new();
    for file in files {
        let Ok(content) = std::fs::read(&file.path) else {
            continue;
        };
        if let mvs_parse::FileChunks::Parsed { chunks, .. } = mvs_parse::chunk_file(&file.rel_path, &content, &options)
        {
            texts.extend(chunks.into_iter().map(|chunk| chunk.embedding_text));
        }
        if texts.len() >= limit {
            break;
        }
    }
    texts
}

fn run_variant(variant: Variant, texts: &[String], settings: &Settings) -> anyhow::Result<EmbedResult> {
    let mut options = settings.embed_options();
    if variant == Variant::Naive {
        options.naive = true;
        options.batch_size = Some(32);
    }
    let embedder = mcp_vector_search::uncached_embedder(settings, &options)?;
    // The first call pays for ONNX Runtime's lazy initialisation.
    embedder.embed_documents(&texts[..texts.len().min(4)])?;
    let before = embedder.stats();
    let started = Instant::now();
    let vectors = embedder.embed_documents(texts)?;
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    anyhow::ensure!(vectors.len() == texts.len(), "one vector per text");
    let stats = embedder.stats().since(before);
    Ok(EmbedResult {
        variant,
        device: embedder.device().to_string(),
        chunks: texts.len(),
        seconds,
        chunks_per_s: texts.len() as f64 / seconds,
        tokens_per_s: stats.tokens as f64 / seconds,
        padding: 1.0 - stats.tokens as f64 / stats.padded_tokens.max(1) as f64,
        calls: stats.calls,
        peak_rss_mb: peak_rss_bytes() as f64 / 1e6,
        stats,
    })
}

/// This process's peak resident set size (Linux `VmHWM`; 0 elsewhere).
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

/// `parse`: chunking speed on one core.
fn parse(project: Project) -> anyhow::Result<()> {
    let (files, _) = mvs_index::discover(&project);
    let options = mvs_parse::ChunkOptions::default();
    let inputs: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter_map(|file| Some((file.rel_path, std::fs::read(&file.path).ok()?)))
        .collect();
    let bytes: usize = inputs.iter().map(|(_, content)| content.len()).sum();
    let started = std::time::Instant::now();
    let (mut parsed, mut chunks) = (0usize, 0usize);
    for (rel_path, content) in &inputs {
        if let mvs_parse::FileChunks::Parsed { chunks: found, .. } = mvs_parse::chunk_file(rel_path, content, &options)
        {
            parsed += 1;
            chunks += found.len();
        }
    }
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    println!(
        "{} files ({parsed} chunked), {:.1} MB, {chunks} chunks in {seconds:.2} s on one core: \
         {:.0} files/s, {:.1} MB/s, {:.0} chunks/s",
        inputs.len(),
        bytes as f64 / 1e6,
        inputs.len() as f64 / seconds,
        bytes as f64 / 1e6 / seconds,
        chunks as f64 / seconds
    );
    Ok(())
}
