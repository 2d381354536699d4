//! The write stage: commits embedded batches to the store in large groups
//! (fewer, larger commits keep LanceDB fast) and reports progress.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mvs_store::{FileStatus, Store};
use tokio::sync::{mpsc, watch};

use super::WRITE_BATCH_FILES;
use super::embed::EmbeddedBatch;
use crate::IndexError;
use crate::memory::MemoryMonitor;
use crate::report::Progress;

/// What the writer committed.
#[derive(Default)]
pub(super) struct Written {
    /// Files committed with chunks.
    pub parsed: usize,
    /// Files touched but not edited (only their records refreshed).
    pub unchanged: usize,
    /// Files committed as skipped.
    pub skipped: usize,
    /// Chunks committed.
    pub chunks: usize,
    /// Files committed with pending vectors.
    pub pending_files: usize,
    /// Chunks of those files, with a vector or not: the vectors phase
    /// commits each of them again.
    pub pending_file_chunks: usize,
    /// Files whose vectors an earlier, interrupted run left pending and
    /// this run computed (set over a run's passes, not by the writer).
    pub pending_resumed: usize,
    /// Time spent committing.
    pub busy: Duration,
    /// Most batches waiting for the writer.
    pub queue_max: usize,
}

/// Commits embedded batches in groups of `batch_chunks` chunks (or
/// [`WRITE_BATCH_FILES`] files) and reports progress.
pub(super) async fn write_stage(
    mut rx: mpsc::Receiver<EmbeddedBatch>,
    store: Arc<Store>,
    progress: watch::Sender<Progress>,
    (files_total, chunks_expected): (usize, Option<usize>),
    batch_chunks: usize,
    memory: Arc<MemoryMonitor>,
) -> Result<Written, IndexError> {
    let mut written = Written::default();
    let mut pending = EmbeddedBatch::default();
    let started_at = Instant::now();
    loop {
        let next = rx.recv().await;
        let closed = next.is_none();
        if let Some(batch) = next {
            written.queue_max = written.queue_max.max(rx.max_capacity() - rx.capacity() + 1);
            pending.append(batch);
        }
        let full = pending.chunks.len() >= batch_chunks || pending.file_count() >= WRITE_BATCH_FILES;
        if (full || closed) && pending.file_count() > 0 {
            let batch = std::mem::take(&mut pending);
            let started = Instant::now();
            store
                .replace_files_pending(&batch.files, &batch.chunks, &batch.vectors)
                .await?;
            store.record_files(&batch.touched).await?;
            written.busy += started.elapsed();
            written.unchanged += batch.touched.len();
            written.chunks += batch.chunks.len();
            written.pending_files += batch.pending_files;
            written.pending_file_chunks += batch.pending_file_chunks;
            for file in &batch.files {
                match file.status {
                    FileStatus::Indexed => written.parsed += 1,
                    FileStatus::Skipped => written.skipped += 1,
                }
            }
            let elapsed = started_at.elapsed().as_secs_f64().max(1e-3);
            progress.send_modify(|p| {
                p.files_done = (p.files_done + batch.file_count()).min(files_total);
                p.chunks_done += batch.chunks.len();
                for file in batch.files.iter().filter(|f| f.status == FileStatus::Skipped) {
                    let reason = file.reason.clone().unwrap_or_else(|| "unknown".into());
                    *p.skipped.entry(reason).or_default() += 1;
                }
                p.chunks_total = match chunks_expected {
                    Some(total) => total.max(p.chunks_done),
                    None => {
                        // Files left are assumed to yield chunks like those done.
                        let per_file = p.chunks_done as f64 / p.files_done.max(1) as f64;
                        p.chunks_done + (per_file * (files_total - p.files_done) as f64).round() as usize
                    }
                };
                p.chunks_per_s = p.chunks_done as f64 / elapsed;
                p.eta_s = (p.chunks_per_s > 0.0).then(|| (p.chunks_total - p.chunks_done) as f64 / p.chunks_per_s);
                p.memory_pressure = memory.under_pressure();
            });
        }
        if closed {
            return Ok(written);
        }
    }
}
