//! Chunks, vectors and file records in an embedded LanceDB.
//!
//! * [`Store::open`] creates or opens the index in a directory and checks it
//!   was built with the same model.
//! * [`Store::replace_files`] swaps all chunks of a set of files in one
//!   commit (`merge_insert` deleting the files' rows that are not in the new
//!   set), so readers see either the old or the new chunks of a file.
//! * [`Store::search`] runs the vector lane (exact cosine), the keyword lane
//!   (LanceDB full-text index with the code analyzer: identifiers are split
//!   on case, `_`, `-`, `.` and `::` and kept whole too) or both, fused by
//!   a weighted sum of normalised lane scores. Every ranking rule (lane
//!   weights, fusion, the exact-symbol boost, the similarity threshold,
//!   merging several searches) is in [`rank`].
//!
//! One module per job, each adding an `impl Store` block:
//! `open` (connecting, `meta.json`, schema migration), `write`
//! (replacing and forgetting files, pending vectors, maintenance), `indices`
//! (full-text and ANN indices), `search` (the two lanes), `read` (chunks,
//! file records, stats), [`rank`] (ordering the results); `sql` writes
//! every predicate.

mod filter;
mod indices;
mod open;
pub mod rank;
mod read;
pub mod schema;
mod search;
mod shared;
mod sql;
mod write;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use lancedb::{Connection, Table};

pub use filter::{SearchFilter, TestFilter};
pub use indices::{ANN_MIN_ROWS, AnnKind, IndexCoverage, IndexPurpose, UNINDEXED_ROWS_FOLDED};
pub use open::IndexMeta;
pub use read::{DefinitionSpan, IndexStats};
pub use schema::{ChunkPart, ChunkRecord, FileRecord, FileStatus, SCHEMA_VERSION};
pub use search::{SearchHit, SearchMode, SearchRequest};
pub use shared::{LOCK_WAIT, Published, RETIRED_KEPT, Retired, SHARED_RECHECK, STALE_AFTER, SharedIndex};
pub use write::COMPACT_AT_FRAGMENTS;

/// Errors of the store; messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// LanceDB failed.
    #[error("index storage error: {0}")]
    Lance(#[from] lancedb::Error),
    /// Arrow failed to build a batch.
    #[error("index data error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The index was built differently than asked for.
    #[error("{0}")]
    Incompatible(String),
    /// A table or search index cannot be read (a truncated, missing or
    /// corrupt file).
    #[error(
        "the index in {} is damaged: {detail}; run `mcp-vector-search index` (or call index_project) to \
         repair it: it is rebuilt beside the damaged one",
        .dir.display()
    )]
    Damaged {
        /// The index directory.
        dir: PathBuf,
        /// What could not be read.
        detail: String,
    },
    /// Bad data handed to the store.
    #[error("{0}")]
    Invalid(String),
    /// The shared index on object storage failed.
    #[error(
        "shared index {uri}: cannot {action}: {detail}. Check that the bucket exists and that AWS_ENDPOINT_URL, \
         AWS_REGION and the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) are right; the local index \
         is untouched, and the next run starts this step over"
    )]
    Shared {
        /// The shared index's URI.
        uri: String,
        /// What was being done.
        action: &'static str,
        /// The object store's error.
        detail: String,
    },
    /// Another publisher holds the shared index's writer lock.
    #[error(
        "shared index {uri} is being published by {holder} (no new heartbeat seen for {heartbeat_s} s); run \
         this again when it is done, or wait longer with MCP_VECTOR_SEARCH_LOCK_WAIT_SECONDS (a lock whose \
         holder died is broken once its heartbeat stops for {} s)",
        crate::STALE_AFTER.as_secs()
    )]
    SharedLockHeld {
        /// The shared index's URI.
        uri: String,
        /// The holder (`host:pid`).
        holder: String,
        /// Seconds this publisher saw no new heartbeat from the holder.
        heartbeat_s: u64,
    },
    /// Filesystem error.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, StoreError>;

/// File records by path, with the files-table version they were read at.
type FileCache = std::sync::Mutex<Option<(u64, Arc<HashMap<String, FileRecord>>)>>;

/// Each file's centroid (see `rank::file_vector::centroids`; `None`: no
/// vector ready) by path, with the chunks-table version it was read at.
type CentroidCache = std::sync::Mutex<Option<(u64, HashMap<String, Option<Vec<f32>>>)>>;

/// An open index.
pub struct Store {
    /// The index directory.
    dir: PathBuf,
    meta: IndexMeta,
    /// A rebuild's generation, invisible to readers until published.
    unpublished: bool,
    /// `meta.json`'s modification time when opened: a rebuilt index (or a
    /// migrated one) has a newer one.
    opened_meta_mtime: Option<std::time::SystemTime>,
    /// A store on a shared index's generation: the index, and when it was
    /// last seen to be the published one (`None`: a local index).
    shared: Option<(SharedIndex, std::sync::Mutex<std::time::Instant>)>,
    /// The files table by path, as of a table version.
    file_cache: FileCache,
    /// File centroids read so far, as of a chunks-table version.
    centroid_cache: CentroidCache,
    chunks: Table,
    files: Table,
    _db: Connection,
}
