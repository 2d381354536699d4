//! `bench`: measurements on real trees, printed for docs/benchmarks.md.

pub mod index;
pub mod store;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use mvs_embed::{EmbedOptions, EmbedStats};
use mvs_index::Project;
use serde::{Deserialize, Serialize};

/// Arguments of `bench embed`.
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

/// `bench embed`.
pub async fn embed(args: EmbedArgs, model_dir: Option<PathBuf>) -> anyhow::Result<()> {
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
        let result = tokio::task::spawn_blocking(move || run_variant(variant, &texts, model_dir.as_deref())).await??;
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
        if let Some(dir) = &model_dir {
            command.arg("--model-dir").arg(dir);
        }
        let output = command
            .args(["bench", "embed", "--variant"])
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

/// `index --dry-run`: a survey of the tree and an estimate of the run's time
/// from embedding a sample of its chunks (without the vector cache, so the
/// estimate is for a cold run).
pub async fn dry_run(
    project: Project,
    chunk_options: mvs_parse::ChunkOptions,
    json: bool,
    model_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let survey_project = project.clone();
    let dry_run = tokio::task::spawn_blocking(move || -> anyhow::Result<mvs_index::DryRun> {
        let embedder = crate::uncached_embedder(&EmbedOptions::from_env(), model_dir.as_deref())?;
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
    for (reason, count) in &survey.skipped {
        println!("  skipped ({reason}): {count}");
    }
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

fn run_variant(variant: Variant, texts: &[String], model_dir: Option<&Path>) -> anyhow::Result<EmbedResult> {
    let mut options = EmbedOptions::from_env();
    if variant == Variant::Naive {
        options.naive = true;
        options.batch_size = Some(32);
    }
    let embedder = crate::uncached_embedder(&options, model_dir)?;
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
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

/// `bench parse`: chunking speed on one core.
pub fn parse(project: Project) -> anyhow::Result<()> {
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
