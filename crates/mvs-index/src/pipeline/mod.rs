//! The indexing run: plan (discovery and change detection), delete what is
//! gone, then passes of a pipeline of parse workers (blocking threads) ->
//! bounded channel -> one embedding consumer batching chunks -> bounded
//! channel -> a writer batching commits, then index maintenance and the
//! report. Stages overlap, so the model works while files are read and rows
//! written.

mod embed;
mod parse;
mod write;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mvs_parse::{CHUNKER_VERSION, ChunkOptions};
use mvs_store::{Published, SCHEMA_VERSION, SharedIndex, Store, StoreError};
use tokio::sync::{mpsc, watch};

use self::embed::{Embedded, EmbeddedBatch, embed_stage};
use self::parse::{ParsedFile, parse_worker};
use self::write::{Written, write_stage};
use crate::discovery::{Discovered, discover_with_skips};
use crate::embedder::TextEmbedder;
use crate::memory::{MemoryMonitor, release_freed_memory};
use crate::options::IndexOptions;
use crate::plan::{Candidate, Plan, Rules};
use crate::project::{Project, WriterLock};
use crate::report::{IndexReport, Progress};
use crate::run_record::DiscoveryRecord;
use crate::store_io::open_store_for;
use crate::{IndexError, run_record};

/// Files in flight between parsers and the embedder (backpressure).
pub const PARSED_QUEUE: usize = 64;
/// Embedded batches in flight between the embedder and the writer.
const EMBEDDED_QUEUE: usize = 4;
/// Chunks per embedding call.
const EMBED_BATCH_CHUNKS: usize = 64;
/// Chunks per store commit (fewer, larger commits keep LanceDB fast).
const WRITE_BATCH_CHUNKS: usize = 512;
/// Chunks per commit in the keywords phase: rows without vectors are
/// small and each commit has a fixed cost, so the phase that decides the
/// time to first answer commits in larger groups.
const KEYWORDS_WRITE_BATCH_CHUNKS: usize = 4096;
/// Files per store commit, for runs of files without chunks.
const WRITE_BATCH_FILES: usize = 256;
/// Above this many edited or deleted files, their stored vectors are not
/// gathered for reuse (the persistent vector cache still applies).
const REUSE_MAX_FILES: usize = 2000;
/// Longest a run waits for the shared index's vectors of its files.
const SHARED_LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// Table versions older than this are deleted after a run: long enough for
/// any search that started on an older version to finish.
const VERSION_RETENTION: Duration = Duration::from_secs(60);

/// Files to process, each with its stored record (if any).
type Work = VecDeque<Candidate>;

/// Milliseconds since the Unix epoch (0 before it).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Indexes `project` with `embedder`: only new and changed files are parsed
/// and embedded, deleted files lose their rows. Holds the writer lock for
/// the whole run and saves the report beside the index. Errors:
/// [`IndexError::LockHeld`] when another process writes the index, else
/// failures of the model, the store or the filesystem.
pub async fn index_project<E: TextEmbedder + 'static>(
    project: &Project,
    embedder: Arc<E>,
    options: &IndexOptions,
    progress: &watch::Sender<Progress>,
) -> Result<IndexReport, IndexError> {
    // Generic for callers (`Arc::clone(&embedder)` of any embedder type),
    // one body for the pipeline.
    index_with(project, embedder, options, progress).await
}

/// [`index_project`] with the embedder behind the seam.
async fn index_with(
    project: &Project,
    embedder: Arc<dyn TextEmbedder>,
    options: &IndexOptions,
    progress: &watch::Sender<Progress>,
) -> Result<IndexReport, IndexError> {
    let started = Instant::now();
    let _lock = acquire_lock(project).await?;
    if options.publish {
        // A publisher fails before any work when the shared index is
        // missing or unreachable.
        publish_target(project)?.published().await?;
    }
    // A run that starts the index (from nothing, or from a copy of the
    // shared index, which differs from this working tree wherever the tree
    // does) covers the whole tree, whatever scope it was asked for: a
    // watcher's first run never makes an index of a few files.
    let first_run = !mvs_store::Store::exists_in(project.index_dir());
    let (store, rules, seeded) = open_for_run(project, &*embedder, options).await?;
    let whole_tree;
    let options = match &options.scope {
        Some(_) if first_run || seeded.is_some() => {
            whole_tree = IndexOptions {
                scope: None,
                ..options.clone()
            };
            &whole_tree
        }
        _ => options,
    };
    progress.send_replace(Progress {
        phase: "discovering".into(),
        ..Progress::default()
    });
    let (plan, mut report, discovery) = plan_run(project, &store, &*embedder, options, rules).await?;
    if let Some(published) = &seeded {
        report.seeded_from = Some(published.generation.clone());
        report.seeded_chunks = published.chunks;
    }
    let mut reusable = reusable_vectors(&store, &plan).await?;
    if seeded.is_none() {
        reusable.extend(shared_vectors(project, &*embedder, &plan).await);
    }
    store.delete_files(&plan.deleted).await?;
    if options.scope.is_some() && plan.is_empty() {
        // A watcher's no-op (an ignored or untouched path): nothing to
        // refresh, and the last full run's report stays the one shown.
        progress.send_modify(|p| p.phase = "done".into());
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        report.finished_at_ms = now_ms();
        return Ok(report);
    }
    let wrote_anything = !plan.is_empty();
    let store = Arc::new(store);
    let memory = Arc::new(MemoryMonitor::with_limit(options.max_memory_bytes));
    let tokens_before = embedder.tokens_embedded();
    let pass = Pass::new(
        &store,
        Arc::clone(&embedder),
        reusable,
        &memory,
        options,
        rules,
        progress,
    );
    let (written, stages) = pass.run_all(project, plan.work).await?;
    report.tokens_embedded = embedder.tokens_embedded().saturating_sub(tokens_before);
    // The model and the pipeline's buffers are done with: free them before
    // the index builds, the run's memory peak (the caller may still hold
    // the model, e.g. a server or a watcher).
    drop(embedder);
    drop(pass);
    let released = release_freed_memory(&memory);
    tracing::debug!(
        released_mb = released / 1_000_000,
        "memory handed back before the index builds"
    );
    if wrote_anything || written.pending_resumed > 0 || seeded.is_some() {
        finish_indices(&store, progress).await?;
    }
    let store = Arc::try_unwrap(store).map_err(|_| IndexError::Task("the store is still shared".into()))?;
    report.cancelled = options.cancel.load(Ordering::Relaxed);
    fill_report(&mut report, &written, &stages, &memory, started);
    if report.cancelled && store.is_unpublished() {
        // A cancelled rebuild: the live index and its run's report stay.
        store.discard()?;
    } else {
        complete(store)?;
        // The local run is recorded whatever publishing does next.
        run_record::save(project, &report, discovery.clone())?;
        if options.publish && !report.cancelled {
            progress.send_modify(|p| p.phase = "publishing".into());
            report.published = Some(publish(project, &report).await?);
            run_record::save(project, &report, discovery)?;
        }
    }
    progress.send_modify(|p| p.phase = "done".into());
    log_report(&report);
    Ok(report)
}

/// Takes the writer lock; acquiring may wait briefly, so off the async
/// worker threads.
async fn acquire_lock(project: &Project) -> Result<WriterLock, IndexError> {
    let project = project.clone();
    tokio::task::spawn_blocking(move || WriterLock::acquire(&project))
        .await
        .map_err(IndexError::task)?
}

/// Opens the store for the embedder's model (with `force`, a rebuild beside
/// the live index, which keeps answering until the run publishes the new
/// one; without a usable local index but with a shared one, a copy of the
/// shared index's published generation) and the change-detection rules
/// against it. Also returns the shared generation the store was seeded from.
async fn open_for_run(
    project: &Project,
    embedder: &dyn TextEmbedder,
    options: &IndexOptions,
) -> Result<(Store, Rules, Option<Published>), IndexError> {
    let (model_id, dimension) = (embedder.model_id(), embedder.dimension());
    let (opened, mut seeded) = match seed_source(project, model_id, dimension, options).await? {
        Some((shared, published)) => {
            project.ensure_index_dir()?;
            match Store::seed(project.index_dir(), shared, &published).await {
                Ok(store) => (Ok(store), Some(published)),
                Err(err) if !options.publish => {
                    tracing::warn!("{err}; indexing locally instead");
                    (open_store_for(project, model_id, dimension, false).await, None)
                }
                Err(err) => return Err(err.into()),
            }
        }
        None => (open_store_for(project, model_id, dimension, options.force).await, None),
    };
    // A full run proves the index readable first (a scoped run, the
    // watcher's, stays cheap) and repairs a damaged one by rebuilding it.
    let mut store = if options.force || options.scope.is_some() {
        opened?
    } else {
        match readable(opened).await {
            Err(IndexError::Store(StoreError::Damaged { detail, .. })) => {
                tracing::warn!("the index is damaged ({detail}): rebuilding it beside the damaged one");
                seeded = None;
                open_store_for(project, model_id, dimension, true).await?
            }
            other => other?,
        }
    };
    // An empty index holds no chunks of older rules: record the current ones
    // now, so a run killed before its end is resumed, not started over.
    if store.meta().chunker_version != CHUNKER_VERSION && store.stats().await?.chunks == 0 {
        store.set_chunker_version(CHUNKER_VERSION)?;
    }
    let rules = Rules::new(
        options.force,
        store.meta().chunker_version,
        options.chunk_options.include_generated,
    );
    Ok((store, rules, seeded))
}

/// The shared generation a run starts from: the project has a shared index
/// with a published generation of the embedder's model, and no usable local
/// index (none, unreadable, of an older schema or another model). A
/// shared index that cannot be read is an error for a publisher and a
/// warning otherwise (the run indexes locally).
async fn seed_source<'p>(
    project: &'p Project,
    model_id: &str,
    dimension: usize,
    options: &IndexOptions,
) -> Result<Option<(&'p SharedIndex, Published)>, IndexError> {
    let Some(shared) = project.shared() else {
        return Ok(None);
    };
    if options.force {
        return Ok(None);
    }
    if let Ok(Some(local)) = Store::open_existing(project.index_dir()).await
        && local.meta().model_id == model_id
        && local.meta().dimension == dimension
    {
        return Ok(None);
    }
    let published = match shared.published().await {
        Ok(published) => published,
        Err(err) if !options.publish => {
            tracing::warn!("{err}; indexing locally instead");
            return Ok(None);
        }
        Err(err) => return Err(err.into()),
    };
    Ok(published
        .filter(|published| {
            let meta = &published.meta;
            let fits =
                meta.model_id == model_id && meta.dimension == dimension && meta.schema_version == SCHEMA_VERSION;
            if !fits {
                tracing::warn!(
                    "the shared index {} holds {} ({}-d, schema {}), not {model_id} ({dimension}-d, schema \
                     {SCHEMA_VERSION}): indexing locally",
                    shared.uri(),
                    meta.model_id,
                    meta.dimension,
                    meta.schema_version
                );
            }
            fits
        })
        .map(|published| (shared, published)))
}

/// The project's shared index, which a publishing run needs.
fn publish_target(project: &Project) -> Result<&SharedIndex, IndexError> {
    project.shared().ok_or_else(|| {
        StoreError::Invalid("publishing needs a shared index: give --index-uri (or MCP_VECTOR_SEARCH_INDEX_URI)".into())
            .into()
    })
}

/// Publishes the completed local index to the shared one; returns the
/// generation now published. A run that started from the published
/// generation and changed nothing publishes nothing.
async fn publish(project: &Project, report: &IndexReport) -> Result<String, IndexError> {
    let shared = publish_target(project)?;
    let unchanged = report.files_parsed == 0 && report.files_deleted == 0 && report.chunks_written == 0;
    if let Some(seeded) = report.seeded_from.as_ref().filter(|_| unchanged) {
        tracing::info!(generation = %seeded, "nothing changed since the published generation: not publishing");
        return Ok(seeded.clone());
    }
    let store = Store::open_existing(project.index_dir())
        .await?
        .ok_or_else(|| IndexError::NotIndexed(project.root().to_path_buf()))?;
    let host = sysinfo::System::host_name().unwrap_or_else(|_| "unknown-host".into());
    let published = shared
        .publish(&store, &format!("{host}:{}", std::process::id()))
        .await?;
    Ok(published.generation)
}

/// The opened store, once proven readable ([`Store::verify_readable`]).
async fn readable(opened: Result<Store, IndexError>) -> Result<Store, IndexError> {
    let store = opened?;
    store.verify_readable().await?;
    Ok(store)
}

/// Discovers the files (in the scope) and compares them with the stored
/// records; the report starts with what that found. Also returns what else
/// the walk found when it covered the whole tree (skips for `status`, links
/// for the watcher).
async fn plan_run(
    project: &Project,
    store: &Store,
    embedder: &dyn TextEmbedder,
    options: &IndexOptions,
    rules: Rules,
) -> Result<(Plan, IndexReport, Option<DiscoveryRecord>), IndexError> {
    let discovery_project = project.clone();
    let scope = options.scope.clone();
    let found = tokio::task::spawn_blocking(move || discover_with_skips(&discovery_project, scope.as_ref()))
        .await
        .map_err(IndexError::task)?;
    let discovery = options.scope.is_none().then(|| DiscoveryRecord::of(&found));
    let files_seen = found.files.len();
    let plan = Plan::new(found.files, store.file_records().await?, options.scope.as_ref(), rules);
    let report = IndexReport {
        files_seen,
        files_unchanged: plan.unchanged,
        files_deleted: plan.deleted.len(),
        unreadable: found.unreadable.into_iter().map(|u| (u.path, u.reason)).collect(),
        model: embedder.model_id().to_string(),
        device: embedder.device(),
        scoped: options.scope.is_some(),
        ..IndexReport::default()
    };
    Ok((plan, report, discovery))
}

/// Vectors of code about to be replaced or deleted, by chunk content: a
/// chunk that reappears (unchanged in an edited file, or in a renamed file)
/// keeps its vector instead of going through the model.
async fn reusable_vectors(store: &Store, plan: &Plan) -> Result<HashMap<String, Vec<f32>>, IndexError> {
    let replaced = plan.replaced_paths();
    if replaced.len() > REUSE_MAX_FILES {
        return Ok(HashMap::new());
    }
    Ok(store
        .chunks_of_files(&replaced)
        .await?
        .into_iter()
        .map(|(chunk, vector)| (chunk.content_hash, vector))
        .collect())
}

/// Vectors the shared index's published generation holds for the files
/// this run reads, by chunk content: a file pulled into this working tree
/// after the publisher indexed it (or edited back) is not embedded again.
/// Nothing without a shared index, for another model, or above
/// [`REUSE_MAX_FILES`] files; a store that cannot be read is a warning.
async fn shared_vectors(project: &Project, embedder: &dyn TextEmbedder, plan: &Plan) -> HashMap<String, Vec<f32>> {
    let Some(shared) = project.shared() else {
        return HashMap::new();
    };
    let paths = plan.work_paths();
    if paths.is_empty() || paths.len() > REUSE_MAX_FILES {
        return HashMap::new();
    }
    let found = async {
        let Some(store) = shared.open_reader().await? else {
            return Ok(Vec::new());
        };
        let meta = store.meta();
        // Vectors of other chunking rules embedded other texts.
        let same = meta.model_id == embedder.model_id()
            && meta.dimension == embedder.dimension()
            && meta.chunker_version == CHUNKER_VERSION;
        if !same {
            return Ok(Vec::new());
        }
        store.chunks_of_files(&paths).await
    };
    // A slow or unreachable store costs this run at most a few seconds.
    match tokio::time::timeout(SHARED_LOOKUP_TIMEOUT, found).await {
        Ok(Ok(chunks)) => chunks
            .into_iter()
            .map(|(chunk, vector)| (chunk.content_hash, vector))
            .collect(),
        Ok(Err(err)) => {
            tracing::warn!("vectors of the shared index unavailable ({err}); embedding here");
            HashMap::new()
        }
        Err(_) => {
            tracing::warn!("the shared index did not answer within {SHARED_LOOKUP_TIMEOUT:?}; embedding here");
            HashMap::new()
        }
    }
}

/// Brings the search indices up to the run's rows, then drops old table
/// versions and small fragments (they pile up with every commit; a failure
/// there costs disk space, not correctness).
async fn finish_indices(store: &Store, progress: &watch::Sender<Progress>) -> Result<(), IndexError> {
    progress.send_modify(|p| p.phase = "finishing".into());
    store.refresh_indices().await?;
    if let Err(err) = store.maintain(VERSION_RETENTION).await {
        tracing::warn!("index maintenance failed (the index is intact): {err}");
    }
    Ok(())
}

/// Records that the index's chunks follow the current chunking rules and
/// makes a rebuild the live index.
fn complete(mut store: Store) -> Result<(), IndexError> {
    if store.meta().chunker_version != CHUNKER_VERSION {
        store.set_chunker_version(CHUNKER_VERSION)?;
    }
    store.publish()?;
    Ok(())
}

/// Completes the report with what the passes wrote and measured.
fn fill_report(report: &mut IndexReport, written: &Written, stages: &Stages, memory: &MemoryMonitor, started: Instant) {
    report.files_parsed = written.parsed;
    report.files_unchanged += written.unchanged;
    report.files_skipped = written.skipped;
    report.files_pending_resumed = written.pending_resumed;
    report.chunks_written = written.chunks;
    report.vectors_reused = stages.reused;
    report.parsed_queue_max = stages.queue_max;
    report.parsed_queue_mean = stages.queue_sum as f64 / stages.calls.max(1) as f64;
    report.memory_pressure_events = stages.pressure_events;
    report.embedded_queue_max = stages.write_queue_max;
    report.parse_busy_ms = stages.parse_busy.as_millis() as u64;
    report.embed_busy_ms = stages.embed_busy.as_millis() as u64;
    report.write_busy_ms = stages.write_busy.as_millis() as u64;
    report.peak_rss_bytes = memory.peak_rss_bytes();
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report.keywords_ready_ms = stages.keywords_ready.map_or(report.elapsed_ms, |ready| {
        ready.duration_since(started).as_millis() as u64
    });
    report.finished_at_ms = now_ms();
}

fn log_report(report: &IndexReport) {
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
    /// The phase's name in [`Progress::phase`].
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
    /// When every file's chunks were searchable by keyword (the end of the
    /// keywords phase), if the run had one.
    keywords_ready: Option<Instant>,
}

impl Stages {
    /// Adds one pass's metrics.
    fn add(&mut self, parse_busy: Duration, embedded: &Embedded, written: &Written) {
        self.parse_busy += parse_busy;
        self.embed_busy += embedded.busy;
        self.write_busy += written.busy;
        self.reused += embedded.reused;
        self.calls += embedded.calls;
        self.queue_max = self.queue_max.max(embedded.queue_max);
        self.queue_sum += embedded.queue_sum;
        self.pressure_events += embedded.pressure_events;
        self.write_queue_max = self.write_queue_max.max(written.queue_max);
    }
}

/// What a pass needs besides its files.
struct Pass {
    store: Arc<Store>,
    embedder: Arc<dyn TextEmbedder>,
    reusable: Arc<HashMap<String, Vec<f32>>>,
    memory: Arc<MemoryMonitor>,
    /// The run's chunk options, sized to the model's window unless the
    /// caller set a chunk size.
    chunk_options: ChunkOptions,
    rechunk: bool,
    options: IndexOptions,
    progress: watch::Sender<Progress>,
}

impl Pass {
    fn new(
        store: &Arc<Store>,
        embedder: Arc<dyn TextEmbedder>,
        reusable: HashMap<String, Vec<f32>>,
        memory: &Arc<MemoryMonitor>,
        options: &IndexOptions,
        rules: Rules,
        progress: &watch::Sender<Progress>,
    ) -> Self {
        let mut chunk_options = options.chunk_options.clone();
        match options.max_chunk_bytes {
            Some(bytes) => chunk_options.max_chunk_bytes = bytes,
            None => chunk_options.fit_model_window(embedder.max_tokens()),
        }
        Self {
            store: Arc::clone(store),
            embedder,
            reusable: Arc::new(reusable),
            memory: Arc::clone(memory),
            chunk_options,
            rechunk: rules.rechunk_all,
            options: options.clone(),
            progress: progress.clone(),
        }
    }

    /// Every pass of a run over `work`. Big runs go in two phases: every
    /// file's chunks land first (keyword search works from the first
    /// commits), then vectors for those the model must compute; small runs
    /// (edits) embed as they go. Files whose vectors an earlier run left
    /// pending are completed too.
    async fn run_all(&self, project: &Project, work: Work) -> Result<(Written, Stages), IndexError> {
        let mut stages = Stages::default();
        let two_phase = work.len() >= self.options.two_phase_min_files.max(1);
        let phase = if two_phase { Phase::Keywords } else { Phase::Single };
        let first = self.run(work, None, phase, &mut stages).await?;
        if two_phase {
            self.store.refresh_indices().await?;
            stages.keywords_ready = Some(Instant::now());
            release_freed_memory(&self.memory);
        }
        // Files whose vectors are pending: those the first phase left, and
        // any that a run killed in its second phase left.
        let (pending, pending_chunks) = pending_work(project, &self.store).await?;
        let written = if pending.is_empty() {
            first
        } else {
            let vectors = self
                .run(pending, Some(pending_chunks), Phase::Vectors, &mut stages)
                .await?;
            // A file the first phase left partly pending (some vectors
            // cached) is committed whole again: count its chunks once.
            Written {
                chunks: first.chunks - first.pending_file_chunks + vectors.chunks,
                pending_resumed: vectors.parsed.saturating_sub(first.pending_files),
                ..first
            }
        };
        self.store.settle_pending().await?;
        Ok((written, stages))
    }

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
            match phase {
                Phase::Keywords => KEYWORDS_WRITE_BATCH_CHUNKS,
                Phase::Single | Phase::Vectors => WRITE_BATCH_CHUNKS,
            },
            Arc::clone(&self.memory),
        ));
        for parser in parsers {
            parser.await.map_err(IndexError::task)?;
        }
        let embedded = embed.await.map_err(IndexError::task)??;
        let written = write.await.map_err(IndexError::task)??;
        let parse_busy = parse_busy.lock().map_or(Duration::ZERO, |d| *d);
        stages.add(parse_busy, &embedded, &written);
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
            Some(Candidate { file, previous: None })
        })
        .collect();
    Ok((work, chunks))
}
