//! What a run reports: [`Progress`] while it works (CLI bars, MCP
//! notifications, `get_project_status`) and an [`IndexReport`] when it ends.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a run is, for progress displays (CLI bars, MCP notifications,
/// `get_project_status`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Progress {
    /// `discovering`, `indexing` (or `keywords` then `vectors` in a
    /// two-phase run), `finishing` or `done`.
    pub phase: String,
    /// Files to (re)process in this run.
    pub files_total: usize,
    /// Files committed so far.
    pub files_done: usize,
    /// Chunks embedded and committed so far.
    pub chunks_done: usize,
    /// Chunks this run will write: exact once every file is parsed, an
    /// estimate from the files parsed so far before that.
    pub chunks_total: usize,
    /// Files skipped so far, per reason.
    pub skipped: BTreeMap<String, usize>,
    /// Chunks per second since indexing began.
    pub chunks_per_s: f64,
    /// Seconds left at the current rate, once there is one.
    pub eta_s: Option<f64>,
    /// Whether the memory monitor is holding the run back.
    pub memory_pressure: bool,
    /// What the phase is doing when its counts do not say it (a
    /// `provisioning` step: "fetching onnxruntime==1.31.1 with pip").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Progress {
    /// What search can do now, for an agent deciding whether to wait:
    /// `keyword search ready, vectors 40% (2,180/5,451 chunks), ETA 3 min`.
    pub fn summary(&self) -> String {
        let percent = |done: usize, total: usize| (done * 100).checked_div(total).unwrap_or(0).min(100);
        let eta = match self.eta_s {
            Some(seconds) => format!(", ETA {}", format_duration(seconds)),
            None => String::new(),
        };
        match self.phase.as_str() {
            "keywords" => format!(
                "keyword search partial ({}/{} files), vectors follow",
                self.files_done, self.files_total
            ),
            "vectors" => format!(
                "keyword search ready, vectors {}% ({}/{} chunks){eta}",
                percent(self.chunks_done, self.chunks_total),
                self.chunks_done,
                self.chunks_total
            ),
            "indexing" => format!(
                "search covers {}% of the files being indexed ({}/{}){eta}",
                percent(self.files_done, self.files_total),
                self.files_done,
                self.files_total
            ),
            "finishing" => "keyword and vector search ready, search indices being built".into(),
            "done" => "keyword and vector search ready".into(),
            "provisioning" => format!(
                "fetching the model{}",
                self.note.as_ref().map(|note| format!(": {note}")).unwrap_or_default()
            ),
            _ => "looking for files; search answers from what is already indexed".into(),
        }
    }
}

/// `40 s`, `3 min`, `1 h 5 min`: an estimate's precision.
fn format_duration(seconds: f64) -> String {
    let seconds = seconds.max(0.0).round() as u64;
    match seconds {
        0..=89 => format!("{seconds} s"),
        90..=3599 => format!("{} min", (seconds + 30) / 60),
        _ => format!("{} h {} min", seconds / 3600, (seconds % 3600 + 30) / 60),
    }
}

/// What a run did, with stage metrics.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
// Reports saved by older versions lack newer fields; they still load.
#[serde(default)]
pub struct IndexReport {
    /// The shared generation this run started from (a run without a usable
    /// local index copies the shared index's published one), if any.
    pub seeded_from: Option<String>,
    /// Chunks that came with that generation (not embedded here).
    pub seeded_chunks: u64,
    /// The shared generation this run published ([`crate::IndexOptions::publish`]).
    pub published: Option<String>,
    /// Files found by discovery.
    pub files_seen: usize,
    /// Files parsed (new or changed).
    pub files_parsed: usize,
    /// Files skipped by change detection.
    pub files_unchanged: usize,
    /// Files whose records were dropped because they are gone.
    pub files_deleted: usize,
    /// Files recorded as skipped (binary, too large, unsupported ...).
    pub files_skipped: usize,
    /// Paths that could not be read, with reasons.
    pub unreadable: Vec<(String, String)>,
    /// Chunks of the files the run completed, each counted once (a two-phase
    /// run commits a file with pending vectors twice; a cancelled run leaves
    /// out the files it left pending).
    pub chunks_written: usize,
    /// Chunks whose vector was taken from the index's own rows (unchanged
    /// code in an edited file, a renamed or moved file) instead of the model.
    pub vectors_reused: usize,
    /// Wall time of the run.
    pub elapsed_ms: u64,
    /// Time to first answer: ms from the run's start until every file's
    /// chunks were searchable by keyword (the end of a two-phase run's
    /// keywords phase; a one-pass run's end). Search answers from each
    /// commit before that, with `partial` set.
    pub keywords_ready_ms: u64,
    /// Tokens the model read (after truncation, without padding).
    pub tokens_embedded: u64,
    /// Time parse workers spent reading and chunking (summed over workers).
    pub parse_busy_ms: u64,
    /// Time spent in the model.
    pub embed_busy_ms: u64,
    /// Time spent committing to the store.
    pub write_busy_ms: u64,
    /// Most files waiting between the parsers and the embedder (of
    /// [`crate::PARSED_QUEUE`]): full means parsing keeps ahead of the model.
    pub parsed_queue_max: usize,
    /// Mean files waiting there, sampled at each embedding call.
    pub parsed_queue_mean: f64,
    /// Most batches waiting between the embedder and the writer.
    pub embedded_queue_max: usize,
    /// Times the memory monitor halved the embedding batch.
    pub memory_pressure_events: usize,
    /// Peak resident memory of the process during the run.
    pub peak_rss_bytes: u64,
    /// Whether the run covered only some paths (a watcher's or a caller's).
    pub scoped: bool,
    /// Whether the run was cancelled before all files were processed.
    pub cancelled: bool,
    /// Files whose vectors an earlier, interrupted run left pending and this
    /// run computed.
    pub files_pending_resumed: usize,
    /// Embedding model id.
    pub model: String,
    /// Device inference ran on.
    pub device: String,
    /// When the run finished, ms since the epoch.
    pub finished_at_ms: i64,
}

impl IndexReport {
    /// Chunks per second of wall time.
    pub fn chunks_per_second(&self) -> f64 {
        self.chunks_written as f64 / (self.elapsed_ms.max(1) as f64 / 1000.0)
    }

    /// Files processed (parsed, touched or skipped) per second of wall time.
    pub fn files_per_second(&self) -> f64 {
        (self.files_parsed + self.files_skipped) as f64 / (self.elapsed_ms.max(1) as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(phase: &str, files: (usize, usize), chunks: (usize, usize), eta_s: Option<f64>) -> Progress {
        Progress {
            phase: phase.into(),
            files_done: files.0,
            files_total: files.1,
            chunks_done: chunks.0,
            chunks_total: chunks.1,
            eta_s,
            ..Progress::default()
        }
    }

    #[test]
    fn the_summary_says_what_search_can_do_now() {
        let cases = [
            (
                progress("", (0, 0), (0, 0), None),
                "looking for files; search answers from what is already indexed",
            ),
            (
                progress("keywords", (120, 219), (0, 0), None),
                "keyword search partial (120/219 files), vectors follow",
            ),
            (
                progress("vectors", (80, 219), (2180, 5451), Some(170.0)),
                "keyword search ready, vectors 39% (2180/5451 chunks), ETA 3 min",
            ),
            (
                progress("vectors", (0, 219), (0, 0), None),
                "keyword search ready, vectors 0% (0/0 chunks)",
            ),
            (
                progress("indexing", (3, 12), (40, 0), Some(42.4)),
                "search covers 25% of the files being indexed (3/12), ETA 42 s",
            ),
            (
                progress("done", (12, 12), (40, 40), None),
                "keyword and vector search ready",
            ),
        ];
        for (progress, expected) in cases {
            assert_eq!(progress.summary(), expected, "{progress:?}");
        }
        assert_eq!(format_duration(3_900.0), "1 h 5 min");
    }
}
