//! Keeping a project's index current, and reading it.
//!
//! * [`Project`]: the root, the `.mcp-vector-search/` index directory and the
//!   cross-process [`WriterLock`].
//! * [`discover`]: the files to index, under git's ignore rules plus defaults.
//! * [`index_project`]: change detection and the parse -> embed -> write
//!   pipeline, reporting [`Progress`] and returning an [`IndexReport`]; the
//!   model is any [`TextEmbedder`].
//! * [`project_status`] and [`search`]: what the index holds, and queries
//!   ([`Query::from_args`] validates a caller's [`SearchArgs`]).
//!
//! Nothing here reads the environment: the binary fills [`IndexOptions`]
//! and [`SearchArgs`] from its settings.

mod discovery;
mod embedder;
mod memory;
mod options;
mod pipeline;
mod plan;
mod project;
mod query;
mod report;
mod run_record;
mod search;
mod status;
mod store_io;
mod survey;
mod watcher;

use std::path::PathBuf;

use mvs_embed::EmbedError;
use mvs_store::StoreError;
pub use mvs_store::{SearchFilter, TestFilter};
// Reading a file the way the index did (chunk byte offsets index the decoded
// text; a notebook chunk's, its cell's source), and the whole of a split
// definition (`Store::definition_span`).
pub use mvs_parse::{SourceText, TextEncoding, decode_source, notebook_cell};
pub use mvs_store::{ChunkPart, DefinitionSpan};

pub use discovery::{
    DEFAULT_EXCLUDES, DEFAULT_EXCLUDES_OUTSIDE_GIT, Discovered, Discovery, ProjectIgnore, SKIPPED_PATHS_SHOWN, Scope,
    SkipKind, SkipList, Unreadable, discover, discover_in, discover_with_skips, exclusion_reason, is_secret_name,
};
pub use embedder::TextEmbedder;
pub use memory::MemoryMonitor;
pub use options::IndexOptions;
pub use pipeline::{PARSED_QUEUE, index_project};
pub use project::{INDEX_DIR_NAME, Project, RootRule, WriterLock};
pub use query::{
    DEFAULT_LIMIT, InvalidArgument, LIMIT, MAX_LIMIT, Query, SEARCH_MODES, SearchArgs, WholeNumber, checked_languages,
    known_kinds, known_languages, whole_number,
};
pub use report::{IndexReport, Progress};
pub use search::{SearchResponse, SimilarTo, explained, search, search_response, search_similar};
pub use status::{LanguageCounts, ProjectStatus, project_status};
pub use store_io::open_index;
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
