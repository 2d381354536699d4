//! The parse stage: worker threads pop files off a shared queue, read and
//! chunk them, and send them on to the embedding stage.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mvs_parse::{Chunk, ChunkOptions, FileChunks};
use mvs_store::{FileRecord, FileStatus};
use tokio::sync::mpsc;

use super::{Work, now_ms};
use crate::memory::MemoryMonitor;
use crate::plan::Candidate;

/// A file after reading and chunking.
pub(super) struct ParsedFile {
    /// The file's new record.
    pub record: FileRecord,
    /// Its chunks (none when skipped or unchanged).
    pub chunks: Vec<Chunk>,
    /// Same content as stored (only the mtime moved): keep the stored chunks.
    pub unchanged_content: bool,
}

impl ParsedFile {
    fn new(record: FileRecord, chunks: Vec<Chunk>) -> Self {
        Self {
            record,
            chunks,
            unchanged_content: false,
        }
    }
}

/// Pops files off the shared queue, reads and chunks them, and sends them
/// on; `rechunk` chunks even files whose content is the stored one.
pub(super) fn parse_worker(
    work: &Mutex<Work>,
    tx: &mpsc::Sender<ParsedFile>,
    busy: &Mutex<Duration>,
    chunk_options: &ChunkOptions,
    rechunk: bool,
    memory: &MemoryMonitor,
    cancel: &AtomicBool,
) {
    loop {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        // Under memory pressure, wait while the embedder has files queued:
        // it frees memory as it drains them (never wait on an empty queue,
        // which could not drain).
        while memory.under_pressure() && tx.capacity() < tx.max_capacity() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let Some(candidate) = work.lock().ok().and_then(|mut q| q.pop_front()) else {
            return;
        };
        let started = Instant::now();
        let parsed = parse_one(&candidate, chunk_options, rechunk);
        if let Ok(mut total) = busy.lock() {
            *total += started.elapsed();
        }
        if tx.blocking_send(parsed).is_err() {
            // The consumer is gone (its error ends the run).
            return;
        }
    }
}

/// Reads and chunks one file; a file touched but not edited keeps its
/// stored chunks (see [`Candidate::unchanged_content`]).
fn parse_one(candidate: &Candidate, chunk_options: &ChunkOptions, rechunk: bool) -> ParsedFile {
    let file = &candidate.file;
    let mut record = FileRecord {
        path: file.rel_path.clone(),
        size: file.size,
        mtime_ns: file.mtime_ns,
        content_hash: String::new(),
        language: None,
        status: FileStatus::Skipped,
        reason: None,
        chunks: 0,
        indexed_at_ms: now_ms(),
    };
    if let Some(reason) = file.skip_before_reading(chunk_options) {
        record.reason = Some(reason.as_str().into());
        return ParsedFile::new(record, Vec::new());
    }
    let bytes = match std::fs::read(&file.path) {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!("{}: {err}", file.rel_path);
            record.reason = Some("unreadable".into());
            return ParsedFile::new(record, Vec::new());
        }
    };
    record.content_hash = crate::discovery::content_hash(&bytes);
    if let Some(previous) = candidate.unchanged_content(&record.content_hash, rechunk) {
        record.status = previous.status;
        record.reason = previous.reason.clone();
        record.language = previous.language.clone();
        record.chunks = previous.chunks;
        return ParsedFile {
            record,
            chunks: Vec::new(),
            unchanged_content: true,
        };
    }
    match mvs_parse::chunk_file(&file.rel_path, &bytes, chunk_options) {
        FileChunks::Parsed {
            language,
            chunks,
            lossy,
        } => {
            if lossy {
                tracing::warn!(
                    "{} has bytes that are invalid in its encoding (UTF-8, or UTF-16 after a byte-order mark); \
                     indexed with replacement characters",
                    file.rel_path
                );
            }
            record.status = FileStatus::Indexed;
            record.language = Some(language.to_string());
            record.chunks = chunks.len() as u32;
            ParsedFile::new(record, chunks)
        }
        FileChunks::Skipped(reason) => {
            record.reason = Some(reason.as_str().into());
            ParsedFile::new(record, Vec::new())
        }
    }
}
