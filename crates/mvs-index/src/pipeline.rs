//! The indexing run: discovery and change detection, then a pipeline of
//! parse workers (blocking threads) -> bounded channel -> one embedding
//! consumer batching chunks -> bounded channel -> a writer batching commits.
//! Stages overlap, so the model works while files are read and rows written.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mvs_embed::Embedder;
use mvs_parse::{Chunk, ChunkOptions, FileChunks};
use mvs_store::{ChunkRecord, FileRecord, FileStatus, Store};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::discovery::{Discovered, Scope, discover_in};
use crate::memory::{MemoryMonitor, release_freed_memory};
use crate::project::{Project, WriterLock};
use crate::{IndexError, open_store_for, run_record};

/// Files in flight between parsers and the embedder (backpressure).
pub const PARSED_QUEUE: usize = 64;
/// Embedded batches in flight between the embedder and the writer.
const EMBEDDED_QUEUE: usize = 4;
/// Chunks per embedding call.
const EMBED_BATCH_CHUNKS: usize = 64;
/// Chunks per store commit (fewer, larger commits keep LanceDB fast).
const WRITE_BATCH_CHUNKS: usize = 512;
/// Files per store commit, for runs of files without chunks.
const WRITE_BATCH_FILES: usize = 256;
/// Default of [`IndexOptions::two_phase_min_files`].
const TWO_PHASE_MIN_FILES: usize = 200;
/// Above this many edited or deleted files, their stored vectors are not
/// gathered for reuse (the persistent vector cache still applies).
const REUSE_MAX_FILES: usize = 2000;

/// Knobs of an indexing run.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// Re-index every file, ignoring change detection.
    pub force: bool,
    /// Parse worker threads.
    pub parse_workers: usize,
    /// File limits for the chunker.
    pub chunk_options: ChunkOptions,
    /// `MCP_VECTOR_SEARCH_MAX_CHUNK_BYTES`: split definitions above this
    /// size instead of sizing chunks to the model's window.
    pub max_chunk_bytes: Option<usize>,
    /// Only these paths (files or directories) instead of the whole project:
    /// what a watcher saw change, or what a caller asked for.
    pub scope: Option<Scope>,
    /// Memory the run may use (`MCP_VECTOR_SEARCH_MAX_MEMORY_GB`, else the
    /// machine's or cgroup's limit): above 90% of it embedding batches
    /// halve and parse workers pause.
    pub max_memory_bytes: u64,
    /// Runs with at least this many files to (re)process go in two phases
    /// (every file's chunks first, so keyword search works early; then the
    /// vectors); smaller runs embed as they go.
    pub two_phase_min_files: usize,
    /// Set to stop the run early: files already committed stay, the rest
    /// are left for the next run (the report says `cancelled`). Clones share
    /// the flag; give each run its own.
    pub cancel: Arc<std::sync::atomic::AtomicBool>,
}

impl IndexOptions {
    /// Defaults from the machine; `MCP_VECTOR_SEARCH_MAX_WORKERS` overrides
    /// the worker count, `MCP_VECTOR_SEARCH_MAX_FILE_SIZE` (bytes) the file
    /// size cap, `MCP_VECTOR_SEARCH_MAX_CHUNK_BYTES` the chunk size.
    pub fn from_env() -> Self {
        use mvs_embed::env_positive;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut chunk_options = ChunkOptions::default();
        if let Some(max) = env_positive("MCP_VECTOR_SEARCH_MAX_FILE_SIZE") {
            chunk_options.max_file_bytes = max as u64;
        }
        Self {
            force: false,
            parse_workers: env_positive("MCP_VECTOR_SEARCH_MAX_WORKERS").unwrap_or(cores),
            chunk_options,
            max_chunk_bytes: env_positive("MCP_VECTOR_SEARCH_MAX_CHUNK_BYTES"),
            scope: None,
            max_memory_bytes: MemoryMonitor::from_env().limit_bytes(),
            cancel: Arc::default(),
            two_phase_min_files: TWO_PHASE_MIN_FILES,
        }
    }
}

/// Table versions older than this are deleted after a run: long enough for
/// any search that started on an older version to finish.
const VERSION_RETENTION: Duration = Duration::from_secs(60);

/// Where a run is, for progress displays (CLI bars, MCP notifications,
/// `get_project_status`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Progress {
    /// `discovering`, `indexing`, `finishing` or `done`.
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
}

/// What a run did, with stage metrics.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
// Reports saved by older versions lack newer fields; they still load.
#[serde(default)]
pub struct IndexReport {
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
    /// Chunks embedded and written.
    pub chunks_written: usize,
    /// Chunks whose vector was taken from the index's own rows (unchanged
    /// code in an edited file, a renamed or moved file) instead of the model.
    pub vectors_reused: usize,
    /// Wall time of the run.
    pub elapsed_ms: u64,
    /// Time parse workers spent reading and chunking (summed over workers).
    pub parse_busy_ms: u64,
    /// Time spent in the model.
    pub embed_busy_ms: u64,
    /// Time spent committing to the store.
    pub write_busy_ms: u64,
    /// Most files waiting between the parsers and the embedder (of
    /// [`PARSED_QUEUE`]): full means parsing keeps ahead of the model.
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

/// Files to process, each with its stored record (if any).
type Work = VecDeque<(Discovered, Option<FileRecord>)>;

/// A file after reading and chunking.
struct ParsedFile {
    record: FileRecord,
    chunks: Vec<Chunk>,
    /// Same content as stored (only the mtime moved): keep the stored chunks.
    unchanged_content: bool,
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

/// Files and their chunks with vectors, ready to commit.
#[derive(Default)]
struct EmbeddedBatch {
    /// Files whose chunks are replaced by `chunks`.
    files: Vec<FileRecord>,
    chunks: Vec<ChunkRecord>,
    /// `None`: pending (keywords phase).
    vectors: Vec<Option<Vec<f32>>>,
    /// Files whose stored chunks stay; only their records are refreshed.
    touched: Vec<FileRecord>,
}

impl EmbeddedBatch {
    fn append(&mut self, mut other: EmbeddedBatch) {
        self.files.append(&mut other.files);
        self.chunks.append(&mut other.chunks);
        self.vectors.append(&mut other.vectors);
        self.touched.append(&mut other.touched);
    }

    fn file_count(&self) -> usize {
        self.files.len() + self.touched.len()
    }
}

/// Indexes `project`: only new and changed files are parsed and embedded,
/// deleted files lose their rows. Holds the writer lock for the whole run.
pub async fn index_project(
    project: &Project,
    embedder: Arc<Embedder>,
    options: &IndexOptions,
    progress: &watch::Sender<Progress>,
) -> Result<IndexReport, IndexError> {
    let started = Instant::now();
    // Acquiring may wait briefly; keep that off the async worker threads.
    let lock_project = project.clone();
    let _lock = tokio::task::spawn_blocking(move || WriterLock::acquire(&lock_project))
        .await
        .map_err(IndexError::task)??;
    let spec = embedder.spec().clone();
    if options.force {
        crate::wipe_index(project)?;
    }
    let mut store = open_store_for(project, &spec.id, spec.dimension).await?;
    // An empty index holds no chunks of older rules: record the current ones
    // now, so a run killed before its end is resumed, not started over.
    if store.meta().chunker_version != mvs_parse::CHUNKER_VERSION && store.stats().await?.chunks == 0 {
        store.set_chunker_version(mvs_parse::CHUNKER_VERSION)?;
    }
    // Chunks made by other chunking rules are stale even where files are not.
    let rechunk_all = options.force || store.meta().chunker_version != mvs_parse::CHUNKER_VERSION;
    let store = Arc::new(store);
    progress.send_replace(Progress {
        phase: "discovering".into(),
        ..Progress::default()
    });
    let discovery_project = project.clone();
    let scope = options.scope.clone();
    let (discovered, unreadable) = tokio::task::spawn_blocking(move || discover_in(&discovery_project, scope.as_ref()))
        .await
        .map_err(IndexError::task)?;

    let stored: HashMap<String, FileRecord> = store
        .file_records()
        .await?
        .into_iter()
        .filter(|r| {
            options
                .scope
                .as_ref()
                .is_none_or(|scope| scope.contains_relative(&r.path))
        })
        .map(|r| (r.path.clone(), r))
        .collect();
    let mut report = IndexReport {
        files_seen: discovered.len(),
        unreadable: unreadable.into_iter().map(|u| (u.path, u.reason)).collect(),
        model: spec.id.clone(),
        device: embedder.device().to_string(),
        scoped: options.scope.is_some(),
        ..IndexReport::default()
    };
    let seen: std::collections::HashSet<&str> = discovered.iter().map(|d| d.rel_path.as_str()).collect();
    let deleted: Vec<String> = stored
        .keys()
        .filter(|path| !seen.contains(path.as_str()))
        .cloned()
        .collect();
    report.files_deleted = deleted.len();

    let mut work = Work::new();
    for file in discovered {
        let previous = stored.get(&file.rel_path).cloned();
        // A `.gitattributes` edit can flag or unflag an unchanged file.
        let flagged = |p: &FileRecord| p.reason.as_deref() == Some(mvs_parse::SkipReason::LinguistGenerated.as_str());
        let unchanged = !rechunk_all
            && previous.as_ref().is_some_and(|p| {
                p.size == file.size
                    && p.mtime_ns == file.mtime_ns
                    && flagged(p) == (file.generated && !options.chunk_options.include_generated)
            });
        if unchanged {
            report.files_unchanged += 1;
        } else {
            work.push_back((file, previous));
        }
    }
    // Vectors of code that is about to be replaced or deleted, by chunk
    // content: a chunk that reappears (unchanged in an edited file, or in a
    // renamed file) keeps its vector instead of going through the model.
    let mut replaced: Vec<&str> = deleted.iter().map(String::as_str).collect();
    replaced.extend(
        work.iter()
            .filter(|(_, p)| p.is_some())
            .map(|(f, _)| f.rel_path.as_str()),
    );
    let reusable: Arc<HashMap<String, Vec<f32>>> = Arc::new(if replaced.len() <= REUSE_MAX_FILES {
        store
            .chunks_of_files(&replaced)
            .await?
            .into_iter()
            .map(|(chunk, vector)| (chunk.content_hash, vector))
            .collect()
    } else {
        HashMap::new()
    });
    store.delete_files(&deleted).await?;
    if options.scope.is_some() && work.is_empty() && deleted.is_empty() {
        // A watcher's no-op (an ignored or untouched path): nothing to
        // refresh, and the last full run's report stays the one shown.
        progress.send_modify(|p| p.phase = "done".into());
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        report.finished_at_ms = crate::now_ms();
        return Ok(report);
    }
    let memory = Arc::new(MemoryMonitor::with_limit(options.max_memory_bytes));
    // Chunks fill the model's window unless the user sized them.
    let mut chunk_options = options.chunk_options.clone();
    match options.max_chunk_bytes {
        Some(bytes) => chunk_options.max_chunk_bytes = bytes,
        None => chunk_options.fit_model_window(spec.max_tokens),
    }
    let pass = Pass {
        store: Arc::clone(&store),
        embedder: Arc::clone(&embedder),
        reusable,
        memory: Arc::clone(&memory),
        chunk_options,
        rechunk: rechunk_all,
        options: options.clone(),
        progress: progress.clone(),
    };
    let wrote_anything = !work.is_empty() || !deleted.is_empty();
    let mut stages = Stages::default();
    // Big runs go in two phases: every file's chunks land first (keyword
    // search works from the first commits), then vectors for those the
    // model must compute. Small runs (edits) embed as they go.
    let two_phase = work.len() >= options.two_phase_min_files.max(1);
    let first = pass
        .run(
            work,
            None,
            if two_phase { Phase::Keywords } else { Phase::Single },
            &mut stages,
        )
        .await?;
    if two_phase {
        store.refresh_indices().await?;
        release_freed_memory(&memory);
    }
    // Files whose vectors are pending: those the first phase left, and any
    // that a run killed in its second phase left.
    let (pending, pending_chunks) = pending_work(project, &store).await?;
    let written = if pending.is_empty() {
        first
    } else {
        let vectors = pass
            .run(pending, Some(pending_chunks), Phase::Vectors, &mut stages)
            .await?;
        report.files_pending_resumed = vectors.parsed.saturating_sub(first.pending_files);
        Written {
            chunks: first.chunks_with_vectors + vectors.chunks,
            ..first
        }
    };
    store.settle_pending().await?;
    report.vectors_reused = stages.reused;
    report.parsed_queue_max = stages.queue_max;
    report.parsed_queue_mean = stages.queue_sum as f64 / stages.calls.max(1) as f64;
    report.memory_pressure_events = stages.pressure_events;
    report.embedded_queue_max = stages.write_queue_max;

    // The model and the pipeline's buffers are done with: free them before
    // the index builds, the run's memory peak (the caller may still hold
    // the model, e.g. a server or a watcher).
    drop(pass);
    drop(embedder);
    let released = release_freed_memory(&memory);
    tracing::debug!(
        released_mb = released / 1_000_000,
        "memory handed back before the index builds"
    );
    if wrote_anything || report.files_pending_resumed > 0 {
        progress.send_modify(|p| p.phase = "finishing".into());
        store.refresh_indices().await?;
        // Old versions and small fragments pile up with every commit; a
        // failure here costs disk space, not correctness.
        if let Err(err) = store.maintain(VERSION_RETENTION).await {
            tracing::warn!("index maintenance failed (the index is intact): {err}");
        }
    }
    let mut store = Arc::try_unwrap(store).map_err(|_| IndexError::Task("the store is still shared".into()))?;
    if store.meta().chunker_version != mvs_parse::CHUNKER_VERSION {
        store.set_chunker_version(mvs_parse::CHUNKER_VERSION)?;
    }

    report.cancelled = options.cancel.load(std::sync::atomic::Ordering::Relaxed);
    report.files_parsed = written.parsed;
    report.files_unchanged += written.unchanged;
    report.files_skipped = written.skipped;
    report.chunks_written = written.chunks;
    report.parse_busy_ms = stages.parse_busy.as_millis() as u64;
    report.embed_busy_ms = stages.embed_busy.as_millis() as u64;
    report.peak_rss_bytes = memory.peak_rss_bytes();
    report.write_busy_ms = stages.write_busy.as_millis() as u64;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report.finished_at_ms = crate::now_ms();
    run_record::save(project, &report)?;
    progress.send_modify(|p| p.phase = "done".into());
    tracing::info!(
        files = report.files_seen,
        parsed = report.files_parsed,
        unchanged = report.files_unchanged,
        deleted = report.files_deleted,
        chunks = report.chunks_written,
        elapsed_ms = report.elapsed_ms,
        parse_busy_ms = report.parse_busy_ms,
        embed_busy_ms = report.embed_busy_ms,
        write_busy_ms = report.write_busy_ms,
        files_per_s = format!("{:.1}", report.files_per_second()),
        chunks_per_s = format!("{:.1}", report.chunks_per_second()),
        parsed_queue_max = report.parsed_queue_max,
        parsed_queue_mean = format!("{:.1}", report.parsed_queue_mean),
        embedded_queue_max = report.embedded_queue_max,
        memory_pressure_events = report.memory_pressure_events,
        peak_rss_mb = report.peak_rss_bytes / 1_000_000,
        "indexing finished"
    );
    Ok(report)
}

/// Pops files off the shared queue, reads and chunks them, and sends them on.
fn parse_worker(
    work: &Mutex<Work>,
    tx: &mpsc::Sender<ParsedFile>,
    busy: &Mutex<Duration>,
    chunk_options: &ChunkOptions,
    rechunk: bool,
    memory: &MemoryMonitor,
    cancel: &std::sync::atomic::AtomicBool,
) {
    loop {
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        // Under memory pressure, wait while the embedder has files queued:
        // it frees memory as it drains them (never wait on an empty queue,
        // which could not drain).
        while memory.under_pressure() && tx.capacity() < tx.max_capacity() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let Some((file, previous)) = work.lock().ok().and_then(|mut q| q.pop_front()) else {
            return;
        };
        let started = Instant::now();
        let parsed = parse_one(&file, previous.as_ref(), chunk_options, rechunk);
        if let Ok(mut total) = busy.lock() {
            *total += started.elapsed();
        }
        if tx.blocking_send(parsed).is_err() {
            // The consumer is gone (its error ends the run).
            return;
        }
    }
}

/// Skips decided from discovery alone: chunk_file checks the size too, but
/// checking first avoids reading a huge file only to skip it; the
/// `.gitattributes` mark is not visible to the chunker.
pub(crate) fn skip_before_reading(file: &Discovered, options: &ChunkOptions) -> Option<mvs_parse::SkipReason> {
    if file.size > options.max_file_bytes {
        Some(mvs_parse::SkipReason::TooLarge)
    } else if file.generated && !options.include_generated {
        Some(mvs_parse::SkipReason::LinguistGenerated)
    } else {
        None
    }
}

fn parse_one(
    file: &Discovered,
    previous: Option<&FileRecord>,
    chunk_options: &ChunkOptions,
    rechunk: bool,
) -> ParsedFile {
    let mut record = FileRecord {
        path: file.rel_path.clone(),
        size: file.size,
        mtime_ns: file.mtime_ns,
        content_hash: String::new(),
        language: None,
        status: FileStatus::Skipped,
        reason: None,
        chunks: 0,
        indexed_at_ms: crate::now_ms(),
    };
    if let Some(reason) = skip_before_reading(file, chunk_options) {
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
    record.content_hash = blake3::hash(&bytes).to_hex().to_string();
    if let Some(previous) = previous.filter(|p| !rechunk && p.content_hash == record.content_hash) {
        // Touched but identical: keep the stored chunks, refresh the record.
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
                    "{} is not valid UTF-8; indexed with replacement characters",
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

/// Which pass of a run: one pass embedding as it goes, or the two phases
/// of a big run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Parse, embed and write in one pass.
    Single,
    /// Parse and write every file; vectors only where known without the
    /// model (stored or cached), the rest pending.
    Keywords,
    /// Compute the pending vectors (files parsed again, their chunks
    /// replaced with vectors).
    Vectors,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Single => "indexing",
            Phase::Keywords => "keywords",
            Phase::Vectors => "vectors",
        }
    }
}

/// Stage metrics summed over a run's passes.
#[derive(Default)]
struct Stages {
    parse_busy: Duration,
    embed_busy: Duration,
    write_busy: Duration,
    reused: usize,
    calls: usize,
    queue_max: usize,
    queue_sum: usize,
    pressure_events: usize,
    write_queue_max: usize,
}

/// What a pass needs besides its files.
struct Pass {
    store: Arc<Store>,
    embedder: Arc<Embedder>,
    reusable: Arc<HashMap<String, Vec<f32>>>,
    memory: Arc<MemoryMonitor>,
    chunk_options: ChunkOptions,
    rechunk: bool,
    options: IndexOptions,
    progress: watch::Sender<Progress>,
}

impl Pass {
    /// Runs parse workers -> embedding stage -> writer over `work`.
    /// `chunks_expected`: the chunks `work` yields, when known beforehand
    /// (else progress estimates it from the files done).
    async fn run(
        &self,
        work: Work,
        chunks_expected: Option<usize>,
        phase: Phase,
        stages: &mut Stages,
    ) -> Result<Written, IndexError> {
        let files_total = work.len();
        self.progress.send_replace(Progress {
            phase: phase.name().into(),
            files_total,
            chunks_total: chunks_expected.unwrap_or_default(),
            ..Progress::default()
        });
        if work.is_empty() {
            return Ok(Written::default());
        }
        let (parsed_tx, parsed_rx) = mpsc::channel::<ParsedFile>(PARSED_QUEUE);
        let (embedded_tx, embedded_rx) = mpsc::channel::<EmbeddedBatch>(EMBEDDED_QUEUE);
        let parse_busy = Arc::new(Mutex::new(Duration::ZERO));
        let work = Arc::new(Mutex::new(work));
        // Pending files are parsed again from scratch.
        let rechunk = self.rechunk || phase == Phase::Vectors;
        let mut parsers = Vec::new();
        for _ in 0..self.options.parse_workers.max(1).min(files_total) {
            let (work, tx, busy) = (Arc::clone(&work), parsed_tx.clone(), Arc::clone(&parse_busy));
            let (chunk_options, memory) = (self.chunk_options.clone(), Arc::clone(&self.memory));
            let cancel = Arc::clone(&self.options.cancel);
            parsers.push(tokio::task::spawn_blocking(move || {
                parse_worker(&work, &tx, &busy, &chunk_options, rechunk, &memory, &cancel)
            }));
        }
        drop(parsed_tx);
        let embed = tokio::spawn(embed_stage(
            parsed_rx,
            embedded_tx,
            Arc::clone(&self.embedder),
            Arc::clone(&self.reusable),
            Arc::clone(&self.memory),
            phase,
            Arc::clone(&self.options.cancel),
        ));
        let write = tokio::spawn(write_stage(
            embedded_rx,
            Arc::clone(&self.store),
            self.progress.clone(),
            (files_total, chunks_expected),
            Arc::clone(&self.memory),
        ));
        for parser in parsers {
            parser.await.map_err(IndexError::task)?;
        }
        let embedded = embed.await.map_err(IndexError::task)??;
        let written = write.await.map_err(IndexError::task)??;
        stages.parse_busy += parse_busy.lock().map_or(Duration::ZERO, |d| *d);
        stages.embed_busy += embedded.busy;
        stages.write_busy += written.busy;
        stages.reused += embedded.reused;
        stages.calls += embedded.calls;
        stages.queue_max = stages.queue_max.max(embedded.queue_max);
        stages.queue_sum += embedded.queue_sum;
        stages.pressure_events += embedded.pressure_events;
        stages.write_queue_max = stages.write_queue_max.max(written.queue_max);
        Ok(written)
    }
}

/// The files with pending vectors, as work for the vectors phase (gone
/// files are left to the next run's deletion), and how many chunks wait.
async fn pending_work(project: &Project, store: &Store) -> Result<(Work, usize), IndexError> {
    let pending = store.pending_files().await?;
    let chunks = pending.values().sum();
    let work = pending
        .into_keys()
        .filter_map(|rel_path| {
            let path = project.root().join(&rel_path);
            let metadata = std::fs::metadata(&path).ok()?;
            let file = Discovered {
                path,
                rel_path,
                size: metadata.len(),
                mtime_ns: crate::discovery::mtime_ns(&metadata),
                generated: false,
            };
            Some((file, None))
        })
        .collect();
    Ok((work, chunks))
}

/// What the embedding stage did.
#[derive(Default)]
struct Embedded {
    busy: Duration,
    reused: usize,
    calls: usize,
    queue_max: usize,
    queue_sum: usize,
    pressure_events: usize,
}

/// Batches chunks across files, embeds them (or reuses a stored vector of
/// the same content; in the keywords phase, only looks vectors up) and
/// hands them to the writer. Under memory pressure the batch halves (down
/// to one file's chunks), and grows back after.
async fn embed_stage(
    mut rx: mpsc::Receiver<ParsedFile>,
    tx: mpsc::Sender<EmbeddedBatch>,
    embedder: Arc<Embedder>,
    reusable: Arc<HashMap<String, Vec<f32>>>,
    memory: Arc<MemoryMonitor>,
    phase: Phase,
    cancel: Arc<std::sync::atomic::AtomicBool>,
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
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
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
                tokio::task::spawn_blocking(move || embed_files(&embedder, files, &reusable, phase))
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

fn embed_files(
    embedder: &Embedder,
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
    let reused = chunks.len() - fresh.len();
    let mut batch = EmbeddedBatch {
        vectors,
        ..EmbeddedBatch::default()
    };
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
    }
}

/// What the writer committed.
#[derive(Default)]
struct Written {
    parsed: usize,
    unchanged: usize,
    skipped: usize,
    /// Chunks committed.
    chunks: usize,
    /// Of those, chunks committed with their vector.
    chunks_with_vectors: usize,
    /// Files committed with pending vectors.
    pending_files: usize,
    busy: Duration,
    queue_max: usize,
}

/// Commits embedded batches in large groups and reports progress.
async fn write_stage(
    mut rx: mpsc::Receiver<EmbeddedBatch>,
    store: Arc<Store>,
    progress: watch::Sender<Progress>,
    (files_total, chunks_expected): (usize, Option<usize>),
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
        let full = pending.chunks.len() >= WRITE_BATCH_CHUNKS || pending.file_count() >= WRITE_BATCH_FILES;
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
            written.chunks_with_vectors += batch.vectors.iter().filter(|v| v.is_some()).count();
            let mut pending_paths: Vec<&str> = batch
                .chunks
                .iter()
                .zip(&batch.vectors)
                .filter(|(_, v)| v.is_none())
                .map(|(c, _)| c.file_path.as_str())
                .collect();
            pending_paths.dedup();
            written.pending_files += pending_paths.len();
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
