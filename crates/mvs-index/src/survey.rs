//! `index --dry-run`: what an index run would process, measured by running
//! discovery and the chunker (both fast) without touching the index.

use std::collections::BTreeMap;

use mvs_parse::{ChunkOptions, FileChunks};
use serde::Serialize;

use crate::discovery::{SkipKind, SkipList, discover_with_skips};
use crate::embedder::TextEmbedder;
use crate::project::Project;

/// Files and chunks per language, skips per reason (with the first paths),
/// the largest directories and a sample of chunk texts for a speed probe.
#[derive(Debug, Default, Serialize)]
pub struct Survey {
    /// Files discovery returned.
    pub files: usize,
    /// Bytes in them.
    pub bytes: u64,
    /// Per language: (files, chunks).
    pub languages: BTreeMap<String, (usize, usize)>,
    /// Paths that would be skipped, per reason: `skipped` (counts) and
    /// `skipped_paths` (the first of each) in JSON.
    #[serde(flatten)]
    pub skipped: SkipList,
    /// Paths discovery could not read (also counted as `unreadable` skips).
    pub unreadable: usize,
    /// Chunks the run would embed (before the vector cache).
    pub chunks: usize,
    /// Top-level directories by bytes, largest first (at most 10).
    pub largest_dirs: Vec<(String, u64)>,
    /// Embedding texts spread over the tree, for timing the model.
    #[serde(skip)]
    pub sample_texts: Vec<String>,
}

/// Chunks sampled for the speed probe.
const SAMPLE_CHUNKS: usize = 64;

/// Surveys `project` as an index run would see it; writes nothing.
pub fn survey(project: &Project, options: &ChunkOptions) -> Survey {
    let found = discover_with_skips(project, None);
    let mut survey = Survey {
        files: found.files.len(),
        unreadable: found.unreadable.len(),
        skipped: found.skip_list(),
        ..Survey::default()
    };
    let files = found.files;
    let mut dirs: BTreeMap<String, u64> = BTreeMap::new();
    // The sample takes a middle chunk (a file's first is often just its
    // imports) of files spread over the tree: no whole-tree buffer of texts.
    let sample_stride = (files.len() / SAMPLE_CHUNKS).max(1);
    for (nth, file) in files.into_iter().enumerate() {
        survey.bytes += file.size;
        let top = file.rel_path.split_once('/').map_or(".", |(dir, _)| dir);
        *dirs.entry(top.to_string()).or_default() += file.size;
        if let Some(reason) = file.skip_before_reading(options) {
            survey.skipped.add(reason.into(), file.rel_path);
            continue;
        }
        let outcome = match std::fs::read(&file.path) {
            Ok(bytes) => mvs_parse::chunk_file(&file.rel_path, &bytes, options),
            Err(_) => {
                survey.skipped.add(SkipKind::Unreadable, file.rel_path);
                continue;
            }
        };
        match outcome {
            FileChunks::Parsed { language, chunks, .. } => {
                let entry = survey.languages.entry(language.to_string()).or_default();
                entry.0 += 1;
                entry.1 += chunks.len();
                survey.chunks += chunks.len();
                if nth % sample_stride == 0 && survey.sample_texts.len() < SAMPLE_CHUNKS {
                    let middle = chunks.len() / 2;
                    survey
                        .sample_texts
                        .extend(chunks.into_iter().nth(middle).map(|c| c.embedding_text));
                }
            }
            FileChunks::Skipped(reason) => survey.skipped.add(reason.into(), file.rel_path),
        }
    }
    let mut dirs: Vec<(String, u64)> = dirs.into_iter().collect();
    dirs.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
    dirs.truncate(10);
    survey.largest_dirs = dirs;
    survey
}

/// A survey and the time the run would take here, from a probe that embeds
/// the survey's sample with the model that would index.
#[derive(Debug, Serialize)]
pub struct DryRun {
    /// What the run would process.
    #[serde(flatten)]
    pub survey: Survey,
    /// Chunks per second the probe measured (texts already in the vector
    /// cache cost nothing, in the probe as in the run).
    pub chunks_per_s: f64,
    /// `chunks / chunks_per_s`.
    pub estimated_seconds: f64,
    /// Where the model runs.
    pub device: String,
}

/// `index --dry-run` and `index_project` with `dry_run`: surveys `project`
/// (chunks sized for `embedder`'s window) and times the model on a sample.
/// Writes nothing; blocking.
pub fn dry_run(
    project: &Project,
    mut options: ChunkOptions,
    embedder: &dyn TextEmbedder,
) -> Result<DryRun, crate::IndexError> {
    options.fit_model_window(embedder.max_tokens());
    let survey = survey(project, &options);
    let sample: Vec<&str> = survey.sample_texts.iter().map(String::as_str).collect();
    embedder.embed_documents(&sample[..sample.len().min(4)])?; // warm-up
    let started = std::time::Instant::now();
    embedder.embed_documents(&sample)?;
    let chunks_per_s = sample.len() as f64 / started.elapsed().as_secs_f64().max(1e-6);
    Ok(DryRun {
        estimated_seconds: survey.chunks as f64 / chunks_per_s.max(1e-6),
        chunks_per_s,
        device: embedder.device(),
        survey,
    })
}
