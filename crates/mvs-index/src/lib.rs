//! Keeping a project's index current, and reading it.
//!
//! * [`Project`]: the root, the `.mcp-vector-search/` index directory and the
//!   cross-process [`WriterLock`].
//! * [`discover`]: the files to index, under git's ignore rules plus defaults.
//! * [`index_project`]: change detection and the parse -> embed -> write
//!   pipeline, reporting [`Progress`] and returning an [`IndexReport`].
//! * [`project_status`] and [`search`]: what the index holds, and queries.

mod discovery;
mod memory;
mod pipeline;
mod project;
mod run_record;
mod survey;
mod watcher;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use mvs_embed::{EmbedError, Embedder};
pub use mvs_store::{SearchFilter, TestFilter};
use mvs_store::{SearchHit, SearchMode, SearchRequest, Store, StoreError};
use serde::Serialize;

pub use discovery::{Discovered, ProjectIgnore, Scope, Unreadable, discover, discover_in};
pub use memory::MemoryMonitor;
pub use pipeline::{IndexOptions, IndexReport, PARSED_QUEUE, Progress, index_project};
pub use project::{INDEX_DIR_NAME, Project, WriterLock};
pub use survey::{DryRun, Survey, dry_run, survey};
pub use watcher::{DEBOUNCE, Watcher, scoped_options, watch_and_index, watch_with_pipeline};

/// Errors of indexing and reading an index; messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Another process is writing this index.
    #[error(
        "another process{} is indexing {}; wait for it to finish (searching works meanwhile)",
        .pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        .index_dir.display()
    )]
    LockHeld {
        /// The index directory.
        index_dir: PathBuf,
        /// The holder's pid, when known.
        pid: Option<u32>,
    },
    /// The project has no index yet.
    #[error("{0} has no index yet; run `mcp-vector-search index` there first")]
    NotIndexed(PathBuf),
    /// The index was built with another embedding model than the one loaded.
    #[error(
        "the index was built with model {index_model} but {loaded_model} is loaded; \
         use the same model (--model-dir) or rebuild with `mcp-vector-search index --force`"
    )]
    ModelMismatch {
        /// Model of the index.
        index_model: String,
        /// Model loaded for the query.
        loaded_model: String,
    },
    /// What a caller referred to is not in the index.
    #[error("not in the index: {0}")]
    NotFound(String),
    /// A path given by a caller leads outside the project.
    #[error("{path} is outside the project {root}; only files under the project root can be read")]
    OutsideProject {
        /// The path as given.
        path: String,
        /// The project root.
        root: PathBuf,
    },
    /// The project root is not a directory.
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// Embedding failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A background task died.
    #[error("internal task failed: {0}")]
    Task(String),
    /// Filesystem error.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl IndexError {
    fn task(err: tokio::task::JoinError) -> Self {
        IndexError::Task(err.to_string())
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Opens the project's store for a model, creating the index directory.
pub(crate) async fn open_store_for(project: &Project, model_id: &str, dimension: usize) -> Result<Store, IndexError> {
    project.ensure_index_dir()?;
    Ok(Store::open(project.index_dir(), model_id, dimension).await?)
}

/// Deletes the index data and the last run's report (not the directory,
/// its `.gitignore` or the lock).
pub(crate) fn wipe_index(project: &Project) -> Result<(), IndexError> {
    Store::remove(project.index_dir())?;
    let report = project.index_dir().join(run_record::FILE_NAME);
    match std::fs::remove_file(&report) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(IndexError::Io {
            path: report,
            source: err,
        }),
        _ => Ok(()),
    }
}

/// Files and chunks of one language.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LanguageCounts {
    /// Files parsed.
    pub files: usize,
    /// Chunks stored.
    pub chunks: usize,
}

/// What an index holds and whether it is being written.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectStatus {
    /// `not_indexed`, `indexing` or `ready`.
    pub state: String,
    /// The project root.
    pub project_root: PathBuf,
    /// Files recorded (indexed or skipped).
    pub files: usize,
    /// Files parsed into chunks.
    pub indexed_files: usize,
    /// Chunks stored.
    pub chunks: usize,
    /// Vectors stored.
    pub vectors: usize,
    /// Embedding model of the index.
    pub model: Option<String>,
    /// Vector dimension.
    pub dimension: Option<usize>,
    /// Device of the last indexing run.
    pub device: Option<String>,
    /// Per-language counts.
    pub languages: BTreeMap<String, LanguageCounts>,
    /// Skipped files per reason.
    pub skipped: BTreeMap<String, usize>,
    /// The search indices and the rows each covers.
    pub search_indices: Vec<mvs_store::IndexCoverage>,
    /// The last completed run.
    pub last_run: Option<IndexReport>,
    /// Pid of the process indexing now.
    pub writer_pid: Option<u32>,
}

/// Reads the index's status without loading the model.
pub async fn project_status(project: &Project) -> Result<ProjectStatus, IndexError> {
    let writer_pid = project.writer_active();
    let last_run = run_record::load(project);
    let mut status = ProjectStatus {
        state: "not_indexed".into(),
        project_root: project.root().to_path_buf(),
        files: 0,
        indexed_files: 0,
        chunks: 0,
        vectors: 0,
        model: None,
        dimension: None,
        device: last_run.as_ref().map(|r| r.device.clone()),
        languages: BTreeMap::new(),
        skipped: BTreeMap::new(),
        search_indices: Vec::new(),
        last_run,
        writer_pid,
    };
    if let Some(store) = Store::open_existing(project.index_dir()).await? {
        let stats = store.stats().await?;
        status.files = stats.files;
        status.indexed_files = stats.indexed_files;
        status.chunks = stats.chunks;
        status.vectors = stats.vectors;
        status.model = Some(store.meta().model_id.clone());
        status.dimension = Some(store.meta().dimension);
        status.languages = stats
            .languages
            .into_iter()
            .map(|(language, (files, chunks))| (language, LanguageCounts { files, chunks }))
            .collect();
        status.skipped = stats.skipped.into_iter().collect();
        status.search_indices = stats.search_indices;
        // Rows without a finished run: an interrupted first run; `index`
        // completes it.
        status.state = match (&status.last_run, status.chunks) {
            (Some(_), _) => "ready",
            (None, 0) => "not_indexed",
            (None, _) => "stale",
        }
        .into();
    }
    if writer_pid.is_some() {
        status.state = "indexing".into();
    }
    Ok(status)
}

/// A query against a project's index.
#[derive(Debug, Clone)]
pub struct Query {
    /// The query text.
    pub text: String,
    /// Lanes to use.
    pub mode: SearchMode,
    /// Results wanted.
    pub limit: usize,
    /// Which chunks may be returned.
    pub filter: SearchFilter,
}

/// The answer to a search, as printed by `search --json` and returned by
/// the `search_code` tool (field names are a stable contract).
#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    /// The query text.
    pub query: String,
    /// Best first.
    pub results: Vec<SearchHit>,
    /// Some chunks still wait for their vectors (indexing is in its vectors
    /// phase): the vector lane saw only part of the code.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

impl SearchResponse {
    /// The answer to `query` from `store`: partial while its vectors are.
    pub fn new(store: &Store, query: String, results: Vec<SearchHit>) -> Self {
        Self {
            partial: store.vectors_pending(),
            query,
            results,
        }
    }
}

/// What `search_similar` starts from: a chunk, a named definition of a
/// file, or a whole file.
#[derive(Debug, Clone)]
pub enum SimilarTo {
    /// One chunk by id.
    Chunk(String),
    /// The chunks of a file, or only those named so.
    File {
        /// Path relative to the project root.
        path: String,
        /// A definition name (or qualified name) inside it.
        name: Option<String>,
    },
}

/// Chunks whose stored vectors are nearest to the source's (the mean of its
/// chunks' vectors for a whole file): no re-embedding, and the source chunks
/// themselves are left out.
pub async fn search_similar(
    project: &Project,
    store: &Store,
    source: &SimilarTo,
    limit: usize,
    filter: SearchFilter,
) -> Result<Vec<SearchHit>, IndexError> {
    let sources = match source {
        SimilarTo::Chunk(id) => store.chunk(id).await?.into_iter().collect(),
        SimilarTo::File { path, name } => store.file_chunks(path, name.as_deref()).await?,
    };
    if sources.is_empty() {
        return Err(IndexError::NotFound(match source {
            SimilarTo::Chunk(id) => format!("chunk {id}"),
            SimilarTo::File { path, name: Some(name) } => format!("{name} in {path} (is the file indexed?)"),
            SimilarTo::File { path, name: None } => format!("chunks of {path} (is the file indexed?)"),
        }));
    }
    let dimension = sources[0].1.len();
    let mut mean = vec![0f32; dimension];
    for (_, vector) in &sources {
        mean.iter_mut().zip(vector).for_each(|(m, v)| *m += v);
    }
    mvs_embed::normalize(&mut mean);
    let excluded: std::collections::HashSet<&str> = sources.iter().map(|(c, _)| c.chunk_id.as_str()).collect();
    let hits = store
        .search(&SearchRequest {
            text: String::new(),
            vector: Some(mean),
            mode: SearchMode::Vector,
            limit: limit + excluded.len(),
            filter,
            exact: false,
        })
        .await?;
    let mut hits: Vec<SearchHit> = hits
        .into_iter()
        .filter(|hit| !excluded.contains(hit.chunk.chunk_id.as_str()))
        .take(limit)
        .collect();
    mark_stale(project, store, &mut hits).await?;
    Ok(hits)
}

/// Searches an open store; embeds the query unless the search is keyword-only.
pub async fn search(
    project: &Project,
    store: &Store,
    embedder: Option<Arc<Embedder>>,
    query: &Query,
) -> Result<Vec<SearchHit>, IndexError> {
    let started = std::time::Instant::now();
    let embedding = match (query.mode, embedder) {
        (SearchMode::Keyword, _) => None,
        (_, Some(embedder)) => {
            // Vectors of different models live in different spaces.
            let (meta, spec) = (store.meta(), embedder.spec());
            if meta.model_id != spec.id || meta.dimension != spec.dimension {
                return Err(IndexError::ModelMismatch {
                    index_model: format!("{} ({}-d)", meta.model_id, meta.dimension),
                    loaded_model: format!("{} ({}-d)", spec.id, spec.dimension),
                });
            }
            // Inference is CPU work: keep it off the async worker threads.
            let text = query.text.clone();
            Some(tokio::task::spawn_blocking(move || embedder.embed_query(&text)))
        }
        (_, None) => {
            return Err(IndexError::Task(
                "a vector or hybrid search needs the embedding model".into(),
            ));
        }
    };
    // The keyword lane runs while the query is embedded; an embedding
    // failure is kept here and reported instead of the lane's complaint.
    let mut embed_failure = None;
    let mut embedded = None;
    let vector = async {
        let outcome = match embedding?.await {
            Ok(Ok(vector)) => Some(vector),
            Ok(Err(err)) => {
                embed_failure = Some(IndexError::from(err));
                None
            }
            Err(err) => {
                embed_failure = Some(IndexError::task(err));
                None
            }
        };
        embedded = Some(started.elapsed());
        outcome
    };
    let request = SearchRequest {
        text: query.text.clone(),
        vector: None,
        mode: query.mode,
        limit: query.limit,
        filter: query.filter.clone(),
        exact: false,
    };
    let searched = store.search_while_embedding(&request, vector).await;
    if let Some(err) = embed_failure {
        return Err(err);
    }
    let mut hits = searched?;
    let (embedded, searched) = (embedded.unwrap_or_default(), started.elapsed());
    mark_stale(project, store, &mut hits).await?;
    tracing::debug!(
        embed_ms = embedded.as_secs_f64() * 1e3,
        search_ms = searched.as_secs_f64() * 1e3,
        stale_check_ms = (started.elapsed() - searched).as_secs_f64() * 1e3,
        "search timing"
    );
    Ok(hits)
}

/// Flags hits whose file changed on disk (size or modification time) since
/// it was indexed: a `stat` per distinct file, no reading.
async fn mark_stale(project: &Project, store: &Store, hits: &mut [SearchHit]) -> Result<(), IndexError> {
    let mut paths: Vec<&str> = hits.iter().map(|h| h.chunk.file_path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    let records = store.file_records_for(&paths).await?;
    let changed: std::collections::HashSet<String> = records
        .into_iter()
        .filter(|record| match std::fs::metadata(project.root().join(&record.path)) {
            Ok(metadata) => metadata.len() != record.size || discovery::mtime_ns(&metadata) != record.mtime_ns,
            Err(_) => true,
        })
        .map(|record| record.path)
        .collect();
    for hit in hits {
        hit.stale = changed.contains(&hit.chunk.file_path);
    }
    Ok(())
}

/// Opens a project's index for reading.
pub async fn open_index(project: &Project) -> Result<Store, IndexError> {
    Store::open_existing(project.index_dir())
        .await?
        .ok_or_else(|| IndexError::NotIndexed(project.root().to_path_buf()))
}
