//! The embedding stage: batches parsed chunks across files and gives each
//! a vector (the model's, or a stored one of the same content), then hands
//! the batches to the writer.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mvs_parse::Chunk;
use mvs_store::{ChunkPart, ChunkRecord, FileRecord};
use tokio::sync::mpsc;

use super::parse::ParsedFile;
use super::{EMBED_BATCH_CHUNKS, Phase, WRITE_BATCH_FILES};
use crate::IndexError;
use crate::embedder::TextEmbedder;
use crate::memory::MemoryMonitor;

/// Files and their chunks with vectors, ready to commit.
#[derive(Default)]
pub(super) struct EmbeddedBatch {
    /// Files whose chunks are replaced by `chunks`.
    pub files: Vec<FileRecord>,
    /// The new chunks of `files`.
    pub chunks: Vec<ChunkRecord>,
    /// `None`: pending (keywords phase).
    pub vectors: Vec<Option<Vec<f32>>>,
    /// Files whose stored chunks stay; only their records are refreshed.
    pub touched: Vec<FileRecord>,
    /// Files of `files` committed with some vectors pending: the vectors
    /// phase commits each of them whole again.
    pub pending_files: usize,
    /// Chunks of those files, with a vector or not.
    pub pending_file_chunks: usize,
}

impl EmbeddedBatch {
    /// Adds `other`'s files and chunks to these.
    pub fn append(&mut self, mut other: EmbeddedBatch) {
        self.files.append(&mut other.files);
        self.chunks.append(&mut other.chunks);
        self.vectors.append(&mut other.vectors);
        self.touched.append(&mut other.touched);
        self.pending_files += other.pending_files;
        self.pending_file_chunks += other.pending_file_chunks;
    }

    /// Files committed by this batch.
    pub fn file_count(&self) -> usize {
        self.files.len() + self.touched.len()
    }
}

/// What the embedding stage did.
#[derive(Default)]
pub(super) struct Embedded {
    /// Time spent in the model (and vector lookups).
    pub busy: Duration,
    /// Chunks whose vector was a stored one.
    pub reused: usize,
    /// Embedding calls.
    pub calls: usize,
    /// Most files waiting for the stage at a call.
    pub queue_max: usize,
    /// Files waiting, summed over calls (for the mean).
    pub queue_sum: usize,
    /// Times memory pressure halved the batch.
    pub pressure_events: usize,
}

/// Batches chunks across files, embeds them (or reuses a stored vector of
/// the same content; in the keywords phase, only looks vectors up) and
/// hands them to the writer. Under memory pressure the batch halves (down
/// to one file's chunks), and grows back after.
pub(super) async fn embed_stage(
    mut rx: mpsc::Receiver<ParsedFile>,
    tx: mpsc::Sender<EmbeddedBatch>,
    embedder: Arc<dyn TextEmbedder>,
    reusable: Arc<HashMap<String, Vec<f32>>>,
    memory: Arc<MemoryMonitor>,
    phase: Phase,
    cancel: Arc<AtomicBool>,
) -> Result<Embedded, IndexError> {
    let mut stats = Embedded::default();
    let mut batch_chunks = EMBED_BATCH_CHUNKS;
    let mut pending: Vec<ParsedFile> = Vec::new();
    let mut pending_chunks = 0;
    loop {
        let next = rx.recv().await;
        let closed = next.is_none();
        if let Some(file) = next {
            pending_chunks += file.chunks.len();
            pending.push(file);
        }
        if cancel.load(Ordering::Relaxed) {
            // Files not embedded yet stay as they were (or pending) for the
            // next run; dropping the channel stops the parsers.
            return Ok(stats);
        }
        let full = pending_chunks >= batch_chunks || pending.len() >= WRITE_BATCH_FILES;
        if (full || closed) && !pending.is_empty() {
            let queued = rx.max_capacity() - rx.capacity();
            stats.queue_max = stats.queue_max.max(queued);
            stats.queue_sum += queued;
            stats.calls += 1;
            let files = std::mem::take(&mut pending);
            pending_chunks = 0;
            let embedder = Arc::clone(&embedder);
            let reusable = Arc::clone(&reusable);
            let started = Instant::now();
            let (batch, batch_reused) =
                tokio::task::spawn_blocking(move || embed_files(&*embedder, files, &reusable, phase))
                    .await
                    .map_err(IndexError::task)??;
            stats.busy += started.elapsed();
            stats.reused += batch_reused;
            if memory.under_pressure() {
                if batch_chunks > 1 {
                    batch_chunks /= 2;
                    stats.pressure_events += 1;
                    tracing::warn!(
                        rss_mb = memory.rss_bytes() / 1_000_000,
                        limit_mb = memory.limit_bytes() / 1_000_000,
                        batch_chunks,
                        "memory pressure: embedding batch halved, parsers pause"
                    );
                }
            } else if batch_chunks < EMBED_BATCH_CHUNKS {
                batch_chunks *= 2;
            }
            if tx.send(batch).await.is_err() {
                // The writer failed; its error ends the run.
                return Ok(stats);
            }
        }
        if closed {
            return Ok(stats);
        }
    }
}

/// One embedding call's worth of files: their chunks with vectors (stored
/// ones where the content is known, else the model's, or in the keywords
/// phase the cache's or pending), and how many vectors were reused.
fn embed_files(
    embedder: &dyn TextEmbedder,
    files: Vec<ParsedFile>,
    reusable: &HashMap<String, Vec<f32>>,
    phase: Phase,
) -> Result<(EmbeddedBatch, usize), IndexError> {
    let chunks: Vec<&Chunk> = files.iter().flat_map(|f| f.chunks.iter()).collect();
    let fresh: Vec<&str> = chunks
        .iter()
        .filter(|c| !reusable.contains_key(&c.content_hash))
        .map(|c| c.embedding_text.as_str())
        .collect();
    let mut embedded = if fresh.is_empty() {
        Vec::new()
    } else if phase == Phase::Keywords {
        embedder.cached_documents(&fresh)
    } else {
        embedder.embed_documents(&fresh)?.into_iter().map(Some).collect()
    }
    .into_iter();
    let vectors: Vec<Option<Vec<f32>>> = chunks
        .iter()
        .map(|c| match reusable.get(&c.content_hash) {
            Some(vector) => Some(vector.clone()),
            None => embedded.next().expect("one vector per embedded text"),
        })
        .collect();
    // A file left partly pending is committed whole again by the vectors
    // phase, which counts its reused vectors then.
    let mut batch = EmbeddedBatch::default();
    let mut reused = 0;
    let mut file_vectors = vectors.as_slice();
    for file in &files {
        let (these, rest) = file_vectors.split_at(file.chunks.len());
        file_vectors = rest;
        if these.iter().all(Option::is_some) {
            reused += file
                .chunks
                .iter()
                .filter(|c| reusable.contains_key(&c.content_hash))
                .count();
        } else {
            batch.pending_files += 1;
            batch.pending_file_chunks += file.chunks.len();
        }
    }
    batch.vectors = vectors;
    for file in files {
        if file.unchanged_content {
            batch.touched.push(file.record);
            continue;
        }
        batch
            .chunks
            .extend(file.chunks.into_iter().map(|c| chunk_record(&file.record.path, c)));
        batch.files.push(file.record);
    }
    Ok((batch, reused))
}

/// The store row of a parsed chunk of `file_path`.
fn chunk_record(file_path: &str, chunk: Chunk) -> ChunkRecord {
    ChunkRecord {
        chunk_id: chunk.id,
        file_path: file_path.to_string(),
        language: chunk.language.to_string(),
        kind: chunk.kind.as_str().to_string(),
        name: chunk.name,
        qualified_name: chunk.qualified_name,
        signature: chunk.signature,
        doc: chunk.doc,
        parent_id: chunk.parent_id,
        start_line: chunk.start_line,
        end_line: chunk.end_line,
        start_byte: chunk.start_byte as u64,
        end_byte: chunk.end_byte as u64,
        content: chunk.content,
        content_hash: chunk.content_hash,
        embedding_hash: Some(blake3::hash(chunk.embedding_text.as_bytes()).to_hex().to_string()),
        part: chunk.part.map(|part| ChunkPart {
            index: part.index,
            count: part.count,
            definition_id: part.definition_id,
        }),
        cell: chunk.cell,
    }
}
