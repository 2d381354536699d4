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
//!   a weighted sum of normalised lane scores ([`fusion`]).

mod filter;
pub mod fusion;
pub mod schema;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchIterator};
use futures::TryStreamExt;
use lancedb::index::Index;
use lancedb::index::scalar::{FtsIndexBuilder, FullTextSearchQuery};
use lancedb::index::vector::{IvfHnswSqIndexBuilder, IvfPqIndexBuilder};
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::table::{CompactionOptions, NewColumnTransform, OptimizeAction, OptimizeOptions};
use lancedb::{Connection, DistanceType, Table};
use serde::{Deserialize, Serialize};

pub use filter::{SearchFilter, TestFilter};
pub use schema::{ChunkRecord, FileRecord, FileStatus, SCHEMA_VERSION};
use schema::{chunk_col, file_col};

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
    /// Bad data handed to the store.
    #[error("{0}")]
    Invalid(String),
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

/// What an index was built with (`meta.json` beside the tables).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// [`SCHEMA_VERSION`] at creation.
    pub schema_version: u32,
    /// Embedding model id.
    pub model_id: String,
    /// Vector dimension.
    pub dimension: usize,
    /// Version of the tool that created the index.
    pub tool_version: String,
    /// Version of the chunking rules the stored chunks were made with (0:
    /// unknown); the indexer re-chunks every file when it differs.
    #[serde(default)]
    pub chunker_version: u32,
}

const META_FILE: &str = "meta.json";
/// Column LanceDB adds to vector results.
const DISTANCE_COLUMN: &str = "_distance";
/// Column LanceDB adds to full-text results.
const BM25_COLUMN: &str = "_score";
const TABLES_DIR: &str = "lance";
/// Present while chunks wait for their vectors (see [`Store::vectors_pending`]).
const PENDING_MARKER: &str = "vectors_pending";

/// Which lanes a search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Vector and keyword lanes fused.
    #[default]
    Hybrid,
    /// Semantic similarity only.
    Vector,
    /// Full-text only.
    Keyword,
}

/// A search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The query as typed (keyword lane).
    pub text: String,
    /// The query embedding (vector lane); required unless mode is keyword.
    pub vector: Option<Vec<f32>>,
    /// Lanes.
    pub mode: SearchMode,
    /// Results wanted.
    pub limit: usize,
    /// Which chunks may be returned; applied in both lanes before ranking.
    pub filter: SearchFilter,
    /// Scan every vector even when an ANN index exists (recall checks).
    pub exact: bool,
}

/// One result with its fused score and per-lane standing.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// The chunk.
    #[serde(flatten)]
    pub chunk: ChunkRecord,
    /// Fused score in [0, 1]: the weighted sum of the lanes' normalised
    /// scores, divided by its best possible value, so thresholds mean the
    /// same in every mode.
    pub score: f32,
    /// 1-based rank in the vector lane.
    pub vector_rank: Option<u32>,
    /// Cosine similarity to the query.
    pub vector_score: Option<f32>,
    /// 1-based rank in the keyword lane.
    pub keyword_rank: Option<u32>,
    /// BM25 score.
    pub keyword_score: Option<f32>,
    /// The file changed on disk after this chunk was indexed, so the
    /// content may be out of date (set by callers that see the files; the
    /// store alone always says `false`).
    pub stale: bool,
}

/// An approximate-nearest-neighbour index over the vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnKind {
    /// IVF partitions, each an HNSW graph over 8-bit scalar-quantised
    /// vectors (the default: see docs/benchmarks.md).
    #[default]
    IvfHnswSq,
    /// IVF partitions with product-quantised vectors, re-ranked exactly.
    IvfPq,
}

/// Chunks from which [`Store::refresh_indices`] builds an ANN index; below
/// it an exact scan is fast enough (docs/benchmarks.md) and exact.
pub const ANN_MIN_ROWS: usize = 5_000;
/// Rows outside the indices that [`Store::refresh_indices`] leaves to be
/// scanned rather than folded in.
pub const UNINDEXED_ROWS_FOLDED: usize = 2_000;
/// IVF partitions searched per query.
const ANN_NPROBES: usize = 20;
/// HNSW candidate list per partition.
const ANN_EF: usize = 100;
/// PQ candidates re-ranked with the full vectors, as a multiple of the limit.
const ANN_REFINE_FACTOR: u32 = 2;

/// Small fragments that trigger a compaction in [`Store::maintain`].
pub const COMPACT_AT_FRAGMENTS: usize = 8;

/// Row counts of an index.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexStats {
    /// Files recorded (indexed or skipped).
    pub files: usize,
    /// Files parsed into chunks.
    pub indexed_files: usize,
    /// Chunks stored.
    pub chunks: usize,
    /// Chunks with a vector.
    pub vectors: usize,
    /// Per language: (files, chunks).
    pub languages: HashMap<String, (usize, usize)>,
    /// Skipped files per reason.
    pub skipped: HashMap<String, usize>,
    /// The search indices over the chunks and how much of the table each
    /// covers (rows outside one are scanned instead).
    pub search_indices: Vec<IndexCoverage>,
}

/// What a search index is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexPurpose {
    /// The keyword lane's full-text index.
    Keyword,
    /// The vector lane's ANN index.
    Ann(AnnKind),
}

/// A search index and the rows it covers.
#[derive(Debug, Clone, Serialize)]
pub struct IndexCoverage {
    /// Which lane it serves.
    pub purpose: IndexPurpose,
    /// LanceDB's name for it.
    pub name: String,
    /// Rows it covers.
    pub indexed_rows: usize,
    /// Rows added since, scanned by searches until folded in.
    pub unindexed_rows: usize,
    /// Segments: folding rows in adds a delta segment, which searches visit
    /// too; building the index anew makes one.
    pub segments: usize,
}

/// File records by path, with the files-table version they were read at.
type FileCache = std::sync::Mutex<Option<(u64, Arc<HashMap<String, FileRecord>>)>>;

/// An open index.
pub struct Store {
    /// The index directory.
    dir: PathBuf,
    meta: IndexMeta,
    /// `meta.json`'s modification time when opened: a rebuilt index (or a
    /// migrated one) has a newer one.
    opened_meta_mtime: Option<std::time::SystemTime>,
    /// The files table by path, as of a table version.
    file_cache: FileCache,
    chunks: Table,
    files: Table,
    _db: Connection,
}

impl Store {
    /// Opens the index in `dir` for writing, creating it for
    /// `model_id`/`dimension` when absent. An index built with another model
    /// or schema is refused with the command that rebuilds it. Only the
    /// writer (holding the writer lock) may call this.
    pub async fn open(dir: &Path, model_id: &str, dimension: usize) -> Result<Self> {
        let existing = read_meta(dir)?;
        match &existing {
            Some(meta) => {
                check_not_newer(dir, meta)?;
                check_model(dir, meta, model_id, dimension)?;
            }
            None => std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?,
        }
        let db = connect(dir, CacheBudget::Writer).await?;
        let chunks = open_or_create(&db, schema::CHUNKS_TABLE, schema::chunks_schema(dimension)).await?;
        let files = open_or_create(&db, schema::FILES_TABLE, schema::files_schema()).await?;
        let meta = match existing {
            Some(mut meta) => {
                migrate(dir, &mut meta, &chunks).await?;
                meta
            }
            None => {
                // meta.json is what makes readers treat the directory as an
                // index, so it appears only once the tables exist.
                let meta = IndexMeta {
                    schema_version: SCHEMA_VERSION,
                    model_id: model_id.to_string(),
                    dimension,
                    tool_version: env!("CARGO_PKG_VERSION").to_string(),
                    chunker_version: 0,
                };
                write_meta(dir, &meta)?;
                meta
            }
        };
        Ok(Self {
            file_cache: FileCache::default(),
            opened_meta_mtime: meta_mtime(dir),
            dir: dir.to_path_buf(),
            meta,
            chunks,
            files,
            _db: db,
        })
    }

    /// Opens an existing index for reading, with whatever model built it;
    /// `None` when `dir` holds no (complete) index. Never creates anything,
    /// so it is safe while a writer works.
    pub async fn open_existing(dir: &Path) -> Result<Option<Self>> {
        let Some(meta) = read_meta(dir)? else {
            return Ok(None);
        };
        check_not_newer(dir, &meta)?;
        if meta.schema_version < SCHEMA_VERSION {
            return Err(StoreError::Incompatible(format!(
                "the index in {} has schema version {} and this build reads {SCHEMA_VERSION}; \
                 run `mcp-vector-search index` once to upgrade it in place (nothing is re-embedded)",
                dir.display(),
                meta.schema_version
            )));
        }
        let db = connect(dir, CacheBudget::Reader).await?;
        let names = db.table_names().execute().await?;
        if ![schema::CHUNKS_TABLE, schema::FILES_TABLE]
            .iter()
            .all(|t| names.iter().any(|n| n == t))
        {
            return Ok(None);
        }
        let chunks = db.open_table(schema::CHUNKS_TABLE).execute().await?;
        let files = db.open_table(schema::FILES_TABLE).execute().await?;
        Ok(Some(Self {
            file_cache: FileCache::default(),
            opened_meta_mtime: meta_mtime(dir),
            dir: dir.to_path_buf(),
            meta,
            chunks,
            files,
            _db: db,
        }))
    }

    /// Whether this handle still reads the index on disk: false once the
    /// index was removed, rebuilt or its metadata rewritten since opening.
    /// Long-lived readers keep one store (its caches hold index pages and
    /// graphs, so queries stay fast) and reopen when this turns false.
    pub fn is_current(&self) -> bool {
        self.opened_meta_mtime.is_some() && meta_mtime(&self.dir) == self.opened_meta_mtime
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the index was built with.
    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// Records that every stored chunk now follows chunking rules `version`.
    pub fn set_chunker_version(&mut self, version: u32) -> Result<()> {
        self.meta.chunker_version = version;
        write_meta(&self.dir, &self.meta)?;
        self.opened_meta_mtime = meta_mtime(&self.dir);
        Ok(())
    }

    /// Deletes the index in `dir` (metadata first, so readers stop treating
    /// the directory as an index before the tables go). Other files in `dir`
    /// are left alone; a missing index is not an error.
    pub fn remove(dir: &Path) -> Result<()> {
        for (path, is_dir) in [
            (dir.join(META_FILE), false),
            (dir.join(TABLES_DIR), true),
            (dir.join(PENDING_MARKER), false),
        ] {
            let removed = if is_dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match removed {
                Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                    return Err(StoreError::Io { path, source });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Replaces, per file, all stored chunks by `chunks` (which must belong
    /// to files in `files`) and records the files. Chunks commit first: a
    /// crash before the file records commit leaves the old records, so the
    /// next run redoes those files.
    pub async fn replace_files(
        &self,
        files: &[FileRecord],
        chunks: &[ChunkRecord],
        vectors: &[Vec<f32>],
    ) -> Result<()> {
        let vectors: Vec<Option<Vec<f32>>> = vectors.iter().cloned().map(Some).collect();
        self.replace_files_pending(files, chunks, &vectors).await
    }

    /// [`Store::replace_files`] where some vectors may be pending (`None`):
    /// those chunks are searchable by keyword at once and left out of the
    /// vector lane until a later replace brings their vectors. While any are
    /// pending, [`Store::vectors_pending`] says so.
    pub async fn replace_files_pending(
        &self,
        files: &[FileRecord],
        chunks: &[ChunkRecord],
        vectors: &[Option<Vec<f32>>],
    ) -> Result<()> {
        if vectors.iter().any(Option::is_none) {
            // Before the rows exist, so no reader misses the filter.
            self.set_pending_marker(true)?;
        }
        if files.is_empty() {
            return Ok(());
        }
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        let in_files = format!("{} IN ({})", chunk_col::FILE_PATH, sql_list(&paths));
        if chunks.is_empty() {
            self.chunks.delete(in_files.as_str()).await?;
        } else {
            let batch = schema::chunks_batch(chunks, vectors, &self.meta.model_id, self.meta.dimension)?;
            let mut merge = self.chunks.merge_insert(&[chunk_col::ID]);
            merge
                .when_matched_update_all(None)
                .when_not_matched_insert_all()
                .when_not_matched_by_source_delete(Some(in_files));
            merge.execute(reader(batch)).await?;
        }
        // Step events name the points between commits (crash tests stop the
        // process exactly there).
        tracing::debug!(
            step = "chunks_committed",
            files = files.len(),
            "replace: chunks committed"
        );
        self.record_files(files).await?;
        tracing::debug!(
            step = "files_recorded",
            files = files.len(),
            "replace: file records committed"
        );
        Ok(())
    }

    /// Inserts or updates file records without touching their chunks.
    pub async fn record_files(&self, files: &[FileRecord]) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let batch = schema::files_batch(files)?;
        let mut merge = self.files.merge_insert(&[file_col::PATH]);
        merge.when_matched_update_all(None).when_not_matched_insert_all();
        merge.execute(reader(batch)).await?;
        Ok(())
    }

    /// Forgets files (deleted from disk): their chunks, then their records.
    pub async fn delete_files(&self, paths: &[String]) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let list = sql_list(&refs);
        self.chunks
            .delete(format!("{} IN ({list})", chunk_col::FILE_PATH).as_str())
            .await?;
        tracing::debug!(step = "chunks_deleted", files = paths.len(), "delete: chunks deleted");
        self.files
            .delete(format!("{} IN ({list})", file_col::PATH).as_str())
            .await?;
        tracing::debug!(
            step = "records_deleted",
            files = paths.len(),
            "delete: file records deleted"
        );
        Ok(())
    }

    /// Whether some chunks wait for their vectors (a two-phase run is in
    /// its second phase, or was interrupted there): vector and hybrid
    /// results are partial. One `stat`.
    pub fn vectors_pending(&self) -> bool {
        self.dir.join(PENDING_MARKER).exists()
    }

    /// Files with chunks whose vectors are pending, with how many of their
    /// chunks wait.
    pub async fn pending_files(&self) -> Result<BTreeMap<String, usize>> {
        if !self.vectors_pending() {
            return Ok(BTreeMap::new());
        }
        let query = self
            .chunks
            .query()
            .only_if(vector_pending_sql())
            .select(Select::Columns(vec![chunk_col::FILE_PATH.to_string()]));
        let batches: Vec<RecordBatch> = query.execute().await?.try_collect().await?;
        let mut chunks_per_file = BTreeMap::new();
        for path in batches.iter().flat_map(schema::file_paths_from_batch) {
            *chunks_per_file.entry(path).or_default() += 1;
        }
        Ok(chunks_per_file)
    }

    /// Clears the pending state once no chunk waits for its vector.
    pub async fn settle_pending(&self) -> Result<()> {
        if self.vectors_pending() && self.chunks.count_rows(Some(vector_pending_sql())).await? == 0 {
            self.set_pending_marker(false)?;
        }
        Ok(())
    }

    fn set_pending_marker(&self, pending: bool) -> Result<()> {
        let path = self.dir.join(PENDING_MARKER);
        let outcome = if pending {
            std::fs::write(&path, b"")
        } else {
            std::fs::remove_file(&path)
        };
        match outcome {
            Err(source) if source.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io { path, source }),
            _ => Ok(()),
        }
    }

    /// Every file record.
    pub async fn file_records(&self) -> Result<Vec<FileRecord>> {
        read_rows(self.files.query(), schema::files_from_batch).await
    }

    /// Keeps the index directory from growing with every edit: merges the
    /// small fragments that many commits leave behind (once there are
    /// [`COMPACT_AT_FRAGMENTS`] of them, or a tenth of the rows are deleted
    /// ones) and deletes table versions older than `keep`. Call it under the
    /// writer lock.
    /// Readers open the latest version for every query, so only a query
    /// running for longer than `keep` could still need a deleted version.
    pub async fn maintain(&self, keep: std::time::Duration) -> Result<()> {
        let keep = lancedb::table::optimize::Duration::from_std(keep)
            .map_err(|err| StoreError::Invalid(format!("bad retention: {err}")))?;
        for table in [&self.chunks, &self.files] {
            let stats = table.stats().await?;
            let fragments = stats.fragment_stats.num_small_fragments;
            let deleted = stats.num_deleted_rows.unwrap_or(0);
            if fragments >= COMPACT_AT_FRAGMENTS || deleted * 10 > stats.num_rows.max(1) {
                table
                    .optimize(OptimizeAction::Compact {
                        options: CompactionOptions::default(),
                        remap_options: None,
                    })
                    .await?;
            }
            table
                .optimize(OptimizeAction::Prune {
                    older_than: Some(keep),
                    delete_unverified: Some(false),
                    error_if_tagged_old_versions: Some(false),
                })
                .await?;
        }
        Ok(())
    }

    /// The chunk with this id and its stored vector, if the index has it.
    pub async fn chunk(&self, chunk_id: &str) -> Result<Option<(ChunkRecord, Vec<f32>)>> {
        let predicate = format!("{} = {}", chunk_col::ID, filter::quote(chunk_id));
        Ok(self.chunks_matching(&predicate, Some(1)).await?.into_iter().next())
    }

    /// The chunks of `file_path` (only those named `name`, by name or
    /// qualified name, when given) with their stored vectors.
    pub async fn file_chunks(&self, file_path: &str, name: Option<&str>) -> Result<Vec<(ChunkRecord, Vec<f32>)>> {
        let mut predicate = format!("{} = {}", chunk_col::FILE_PATH, filter::quote(file_path));
        if let Some(name) = name {
            predicate = format!("{predicate} AND {}", filter::name_clause(name));
        }
        self.chunks_matching(&predicate, None).await
    }

    /// Every chunk of `paths`, with its stored vector.
    pub async fn chunks_of_files(&self, paths: &[&str]) -> Result<Vec<(ChunkRecord, Vec<f32>)>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        self.chunks_matching(&filter::in_list(chunk_col::FILE_PATH, paths), None)
            .await
    }

    /// Rows matching a SQL predicate, with their vectors.
    async fn chunks_matching(&self, predicate: &str, limit: Option<usize>) -> Result<Vec<(ChunkRecord, Vec<f32>)>> {
        // A pending row's vector is a placeholder: never hand it out.
        let predicate = vector_ready_sql(Some(predicate));
        let query = self.chunks.query().only_if(predicate);
        let query = match limit {
            Some(limit) => query.limit(limit),
            None => query,
        };
        read_rows(query, |batch| {
            Ok(schema::chunks_from_batch(batch)?
                .into_iter()
                .zip(schema::vectors_from_batch(batch)?)
                .collect())
        })
        .await
    }

    /// The file records of `paths` (those the index has).
    ///
    /// Searches ask this for every answer (stale flags), so the records are
    /// kept in memory per files-table version: a version check instead of
    /// a query while nothing was indexed.
    pub async fn file_records_for(&self, paths: &[&str]) -> Result<Vec<FileRecord>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let version = self.files.version().await?;
        let cached = self.file_cache.lock().ok().and_then(|cache| {
            cache
                .as_ref()
                .filter(|(v, _)| *v == version)
                .map(|(_, map)| Arc::clone(map))
        });
        let records = match cached {
            Some(records) => records,
            None => {
                let records: Arc<HashMap<String, FileRecord>> = Arc::new(
                    self.file_records()
                        .await?
                        .into_iter()
                        .map(|record| (record.path.clone(), record))
                        .collect(),
                );
                if let Ok(mut cache) = self.file_cache.lock() {
                    *cache = Some((version, Arc::clone(&records)));
                }
                records
            }
        };
        Ok(paths.iter().filter_map(|path| records.get(*path).cloned()).collect())
    }

    /// Brings the search indices up to date: creates the full-text index,
    /// folds new rows into it (and into the ANN index) once more than
    /// [`UNINDEXED_ROWS_FOLDED`] (or 5% of the rows) are outside them, and
    /// builds the ANN index once [`ANN_MIN_ROWS`] chunks have their vectors.
    /// Rows not yet in an index are still searched (by a scan), so this only
    /// affects speed.
    pub async fn refresh_indices(&self) -> Result<()> {
        let rows = self.chunks.count_rows(None).await?;
        if rows == 0 {
            return Ok(());
        }
        let indices = self.index_coverage().await?;
        let keyword = indices.iter().find(|index| index.purpose == IndexPurpose::Keyword);
        let ann = indices.iter().find_map(|index| match index.purpose {
            IndexPurpose::Ann(kind) => Some((kind, index)),
            IndexPurpose::Keyword => None,
        });
        // Rows outside an index are scanned, so a few of them cost less than
        // folding them in, which rewrites index files: an edit stays fast,
        // and big changes are folded.
        let fold_above = UNINDEXED_ROWS_FOLDED.max(rows / 20);
        let mut fold = Vec::new();
        // Pending rows hold placeholder vectors: IVF partitions trained on
        // them would describe nothing, so the ANN index waits for the model.
        let vectors_ready = !self.vectors_pending();
        match ann {
            None if vectors_ready && rows >= ANN_MIN_ROWS => self.build_ann_index(AnnKind::default()).await?,
            // Partitions trained before most rows arrived describe the table
            // poorly: train them again rather than fold rows into them.
            Some((kind, index)) if vectors_ready && index.unindexed_rows > index.indexed_rows => {
                self.build_ann_index(kind).await?
            }
            Some((_, index)) if vectors_ready && index.unindexed_rows > fold_above => fold.push(index.name.clone()),
            _ => {}
        }
        match keyword {
            Some(index) if index.unindexed_rows > fold_above => fold.push(index.name.clone()),
            _ => {}
        }
        if !fold.is_empty() {
            let options = OptimizeOptions::default().index_names(fold);
            self.chunks.optimize(OptimizeAction::Index(options)).await?;
        }
        if keyword.is_none() {
            let analyzer = FtsIndexBuilder::code().split_identifiers(true);
            self.chunks
                .create_index(&[chunk_col::SEARCH_TEXT], Index::FTS(analyzer))
                .replace(true)
                .execute()
                .await?;
        }
        Ok(())
    }

    /// Builds (or rebuilds) the ANN index over the vectors. Searches keep
    /// working meanwhile, by exact scan.
    pub async fn build_ann_index(&self, kind: AnnKind) -> Result<()> {
        let started = std::time::Instant::now();
        let index = match kind {
            AnnKind::IvfHnswSq => {
                Index::IvfHnswSq(IvfHnswSqIndexBuilder::default().distance_type(DistanceType::Cosine))
            }
            AnnKind::IvfPq => Index::IvfPq(IvfPqIndexBuilder::default().distance_type(DistanceType::Cosine)),
        };
        self.chunks
            .create_index(&[chunk_col::VECTOR], index)
            .replace(true)
            .execute()
            .await?;
        tracing::info!(
            ?kind,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "ANN index built"
        );
        Ok(())
    }

    /// The ANN index over the vectors, if one exists.
    pub async fn ann_index(&self) -> Result<Option<AnnKind>> {
        Ok(self
            .index_coverage()
            .await?
            .into_iter()
            .find_map(|index| match index.purpose {
                IndexPurpose::Ann(kind) => Some(kind),
                IndexPurpose::Keyword => None,
            }))
    }

    /// The search indices over the chunks, with the rows each covers.
    pub async fn index_coverage(&self) -> Result<Vec<IndexCoverage>> {
        let mut coverage = Vec::new();
        for index in self.chunks.list_indices().await? {
            let purpose = if index.columns.iter().any(|c| c == chunk_col::SEARCH_TEXT) {
                IndexPurpose::Keyword
            } else if index.columns.iter().any(|c| c == chunk_col::VECTOR) {
                IndexPurpose::Ann(match index.index_type {
                    lancedb::index::IndexType::IvfPq => AnnKind::IvfPq,
                    _ => AnnKind::IvfHnswSq,
                })
            } else {
                continue;
            };
            if let Some(stats) = self.chunks.index_stats(&index.name).await? {
                coverage.push(IndexCoverage {
                    purpose,
                    name: index.name,
                    indexed_rows: stats.num_indexed_rows,
                    unindexed_rows: stats.num_unindexed_rows,
                    segments: stats.num_indices.map_or(1, |n| n as usize),
                });
            }
        }
        Ok(coverage)
    }

    /// Runs a search.
    pub async fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>> {
        self.search_while_embedding(request, std::future::ready(request.vector.clone()))
            .await
    }

    /// Runs a search whose query vector is still being computed: the keyword
    /// lane runs meanwhile, and the vector lane starts once `vector` yields
    /// (`None`: no vector, an error unless the mode is keyword).
    /// `request.vector` is ignored.
    pub async fn search_while_embedding(
        &self,
        request: &SearchRequest,
        vector: impl std::future::Future<Output = Option<Vec<f32>>>,
    ) -> Result<Vec<SearchHit>> {
        let limit = request.limit.max(1);
        // Each lane contributes more candidates than asked for, so fusion can
        // promote a result that only one lane ranks highly.
        let depth = (limit * 3).max(30);
        let predicate = request.filter.to_sql()?;
        let (want_vector, want_keyword) = match request.mode {
            SearchMode::Hybrid => (true, true),
            SearchMode::Vector => (true, false),
            SearchMode::Keyword => (false, true),
        };
        // The lanes run concurrently (the keyword lane also while the query
        // is embedded): a hybrid search costs the slower lane, not the sum.
        let (mut vector_rows, mut keyword_rows) = (HashMap::new(), HashMap::new());
        let vector_predicate = if self.vectors_pending() {
            Some(vector_ready_sql(predicate.as_deref()))
        } else {
            predicate.clone()
        };
        let vector_lane = async {
            if !want_vector {
                return Ok(Vec::new());
            }
            let vector = vector
                .await
                .ok_or_else(|| StoreError::Invalid("a vector or hybrid search needs the query embedding".into()))?;
            self.vector_lane(
                &vector,
                vector_predicate.as_deref(),
                depth,
                request.exact,
                &mut vector_rows,
            )
            .await
        };
        let keyword_lane = async {
            if !want_keyword || request.text.trim().is_empty() {
                return Ok(Vec::new());
            }
            self.keyword_lane(&request.text, predicate.as_deref(), depth, &mut keyword_rows)
                .await
        };
        let (vector_lane, keyword_lane) = futures::join!(vector_lane, keyword_lane);
        let vector_lane = vector_lane?;
        let keyword_lane = match keyword_lane {
            Ok(lane) => lane,
            // The keyword lane must not take the vector lane down with it
            // (e.g. an index created before the full-text index exists).
            Err(err) if want_vector => {
                tracing::warn!("keyword lane unavailable, using vectors only: {err}");
                Vec::new()
            }
            Err(err) => return Err(err),
        };
        let mut chunks_by_id: HashMap<String, ChunkRecord> = vector_rows;
        for (id, chunk) in keyword_rows {
            chunks_by_id.entry(id).or_insert(chunk);
        }
        let (vector_weight, keyword_weight) = match request.mode {
            SearchMode::Hybrid => fusion::hybrid_weights(&request.text),
            SearchMode::Vector => (1.0, 0.0),
            SearchMode::Keyword => (0.0, 1.0),
        };
        let mut fused = fusion::fuse(&vector_lane, &keyword_lane, vector_weight, keyword_weight);
        if request.mode != SearchMode::Vector && fusion::is_identifier_like(&request.text) {
            // Exact-symbol boost: the definition named like the query leads.
            let symbol = request.text.trim().trim_end_matches("()");
            let names = |id: &str| {
                chunks_by_id
                    .get(id)
                    .is_some_and(|c| c.name == symbol || c.qualified_name == symbol)
            };
            fused.sort_by_key(|f| !names(&f.id));
        }
        Ok(fused
            .into_iter()
            .take(limit)
            .filter_map(|f| {
                let chunk = chunks_by_id.remove(&f.id)?;
                Some(SearchHit {
                    chunk,
                    score: f.score,
                    vector_rank: f.vector.map(|h| h.rank),
                    vector_score: f.vector.map(|h| h.score),
                    keyword_rank: f.keyword.map(|h| h.rank),
                    keyword_score: f.keyword.map(|h| h.score),
                    stale: false,
                })
            })
            .collect())
    }

    async fn vector_lane(
        &self,
        vector: &[f32],
        predicate: Option<&str>,
        depth: usize,
        exact: bool,
        chunks_by_id: &mut HashMap<String, ChunkRecord>,
    ) -> Result<Vec<(String, f32)>> {
        // Without an ANN index these knobs are ignored and the scan is exact.
        let query = self
            .chunks
            .query()
            .nearest_to(vector)?
            .distance_type(DistanceType::Cosine)
            .minimum_nprobes(ANN_NPROBES)?
            // HNSW must keep at least the candidates the refine step re-ranks.
            .ef(ANN_EF.max(depth * ANN_REFINE_FACTOR as usize))
            .refine_factor(ANN_REFINE_FACTOR);
        let query = if exact { query.bypass_vector_index() } else { query };
        let batches = run_lane(query, predicate, DISTANCE_COLUMN, depth).await?;
        collect_lane(&batches, DISTANCE_COLUMN, |distance| 1.0 - distance, chunks_by_id)
    }

    async fn keyword_lane(
        &self,
        text: &str,
        predicate: Option<&str>,
        depth: usize,
        chunks_by_id: &mut HashMap<String, ChunkRecord>,
    ) -> Result<Vec<(String, f32)>> {
        let query = FullTextSearchQuery::new(text.to_string())
            .with_column(chunk_col::SEARCH_TEXT.to_string())
            .map_err(|err| StoreError::Invalid(format!("bad keyword query: {err}")))?;
        let batches = run_lane(
            self.chunks.query().full_text_search(query),
            predicate,
            BM25_COLUMN,
            depth,
        )
        .await?;
        let mut lane = collect_lane(&batches, BM25_COLUMN, |score| score, chunks_by_id)?;
        // LanceDB returns BM25 hits unordered across fragments.
        lane.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(lane)
    }

    /// Row counts, per language and per skip reason.
    pub async fn stats(&self) -> Result<IndexStats> {
        let mut stats = IndexStats {
            chunks: self.chunks.count_rows(None).await?,
            search_indices: self.index_coverage().await?,
            ..IndexStats::default()
        };
        stats.vectors = if self.vectors_pending() {
            self.chunks.count_rows(Some(vector_ready_sql(None))).await?
        } else {
            stats.chunks
        };
        for file in self.file_records().await? {
            stats.files += 1;
            match file.status {
                FileStatus::Indexed => {
                    stats.indexed_files += 1;
                    let language = file.language.unwrap_or_else(|| "unknown".into());
                    let entry = stats.languages.entry(language).or_default();
                    entry.0 += 1;
                    entry.1 += file.chunks as usize;
                }
                FileStatus::Skipped => {
                    let reason = file.reason.unwrap_or_else(|| "unknown".into());
                    *stats.skipped.entry(reason).or_default() += 1;
                }
            }
        }
        Ok(stats)
    }
}

/// Runs a query and converts every result batch with `read`.
async fn read_rows<T>(query: impl ExecutableQuery, read: impl Fn(&RecordBatch) -> Result<Vec<T>>) -> Result<Vec<T>> {
    let batches: Vec<RecordBatch> = query.execute().await?.try_collect().await?;
    let mut rows = Vec::new();
    for batch in &batches {
        rows.extend(read(batch)?);
    }
    Ok(rows)
}

/// Runs one lane's query for the result columns plus its score column,
/// prefiltered by `predicate`.
async fn run_lane<Q: ExecutableQuery + QueryBase>(
    query: Q,
    predicate: Option<&str>,
    score_column: &str,
    depth: usize,
) -> Result<Vec<RecordBatch>> {
    let columns = Select::Columns(schema::chunk_result_columns(score_column));
    let query = match predicate {
        Some(predicate) => query.only_if(predicate),
        None => query,
    };
    Ok(query
        .select(columns)
        .limit(depth)
        .execute()
        .await?
        .try_collect()
        .await?)
}

/// Turns result batches into `(id, score)` best-first and remembers the rows.
fn collect_lane(
    batches: &[RecordBatch],
    score_column: &str,
    to_score: impl Fn(f32) -> f32,
    chunks_by_id: &mut HashMap<String, ChunkRecord>,
) -> Result<Vec<(String, f32)>> {
    let mut lane = Vec::new();
    for batch in batches {
        let scores = schema::score_column(batch, score_column);
        for (chunk, score) in schema::chunks_from_batch(batch)?.into_iter().zip(scores) {
            lane.push((chunk.chunk_id.clone(), to_score(score.unwrap_or(0.0))));
            chunks_by_id.entry(chunk.chunk_id.clone()).or_insert(chunk);
        }
    }
    Ok(lane)
}

/// What a connection may keep in LanceDB's caches. The defaults (6 GiB of
/// index data, 1 GiB of metadata) let a long indexing run grow by hundreds of
/// megabytes of per-version file metadata it never reads again.
#[derive(Debug, Clone, Copy)]
enum CacheBudget {
    /// A writer reads little back: small caches keep its memory flat.
    Writer,
    /// A reader keeps search indices warm; metadata stays bounded.
    Reader,
}

impl CacheBudget {
    const MIB: usize = 1024 * 1024;

    fn session(self) -> Arc<lancedb::Session> {
        let (index_bytes, metadata_bytes) = match self {
            CacheBudget::Writer => (128 * Self::MIB, 64 * Self::MIB),
            // LanceDB's default: every index read stays warm (a million
            // chunks' indices take about 1 GB).
            CacheBudget::Reader => (6 * 1024 * Self::MIB, 256 * Self::MIB),
        };
        Arc::new(lancedb::Session::new(
            index_bytes,
            metadata_bytes,
            Arc::new(lancedb::ObjectStoreRegistry::default()),
        ))
    }
}

/// Connects to the tables of the index in `dir`, with strong read
/// consistency: a reader sees every commit of the writer (another process, or
/// a background job) for one manifest check per query on local disk.
async fn connect(dir: &Path, caches: CacheBudget) -> Result<Connection> {
    let uri = dir.join(TABLES_DIR).to_string_lossy().into_owned();
    Ok(lancedb::connect(&uri)
        .session(caches.session())
        .read_consistency_interval(std::time::Duration::ZERO)
        .execute()
        .await?)
}

/// Refuses an index written by a newer build: its layout is unknown here.
fn check_not_newer(dir: &Path, meta: &IndexMeta) -> Result<()> {
    if meta.schema_version > SCHEMA_VERSION {
        return Err(StoreError::Incompatible(format!(
            "the index in {} has schema version {}, newer than this build's {SCHEMA_VERSION}; \
             upgrade mcp-vector-search, or run `mcp-vector-search index --force` to rebuild it with this version",
            dir.display(),
            meta.schema_version
        )));
    }
    Ok(())
}

/// Refuses to mix vectors of another model (or dimension) into an index.
fn check_model(dir: &Path, meta: &IndexMeta, model_id: &str, dimension: usize) -> Result<()> {
    if meta.model_id != model_id || meta.dimension != dimension {
        return Err(StoreError::Incompatible(format!(
            "the index in {} was built with model {} ({}-d) but {model_id} ({dimension}-d) is configured; \
             run `mcp-vector-search index --force` to rebuild it with the new model",
            dir.display(),
            meta.model_id,
            meta.dimension
        )));
    }
    Ok(())
}

/// Brings an index of an older schema to [`SCHEMA_VERSION`] in place, one
/// version at a time. Each step is one LanceDB commit adding columns, and
/// `meta.json` records the version after it: a step interrupted before that
/// is simply redone (columns it already added are detected).
async fn migrate(dir: &Path, meta: &mut IndexMeta, chunks: &Table) -> Result<()> {
    while meta.schema_version < SCHEMA_VERSION {
        let from = meta.schema_version;
        let added = schema::chunk_columns_added_after(from, &meta.model_id).ok_or_else(|| {
            StoreError::Incompatible(format!(
                "the index in {} has schema version {from}, which this build cannot upgrade; \
                 run `mcp-vector-search index --force` to rebuild it",
                dir.display()
            ))
        })?;
        let present = chunks.schema().await?;
        let missing: Vec<(String, String)> = added
            .into_iter()
            .filter(|(name, _)| present.column_with_name(name).is_none())
            .collect();
        if !missing.is_empty() {
            chunks
                .add_columns()
                .transform(NewColumnTransform::SqlExpressions(missing))
                .execute()
                .await?;
        }
        meta.schema_version = from + 1;
        write_meta(dir, meta)?;
        tracing::info!(from, to = from + 1, "index schema upgraded in place");
    }
    Ok(())
}

/// Rows whose vector is still pending (two-phase indexing).
fn vector_pending_sql() -> String {
    format!("{} IS NULL", chunk_col::MODEL_ID)
}

/// Rows with a real vector (among those matching `predicate`, if given).
fn vector_ready_sql(predicate: Option<&str>) -> String {
    let ready = format!("{} IS NOT NULL", chunk_col::MODEL_ID);
    match predicate {
        Some(predicate) => format!("({predicate}) AND {ready}"),
        None => ready,
    }
}

fn meta_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(dir.join(META_FILE)).and_then(|m| m.modified()).ok()
}

fn read_meta(dir: &Path) -> Result<Option<IndexMeta>> {
    let path = dir.join(META_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|err| {
            StoreError::Incompatible(format!(
                "{} is unreadable ({err}); run `mcp-vector-search index --force` to rebuild the index",
                path.display()
            ))
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io { path, source }),
    }
}

/// Writes `meta.json` atomically (write, then rename).
fn write_meta(dir: &Path, meta: &IndexMeta) -> Result<()> {
    let path = dir.join(META_FILE);
    let staged = path.with_extension("tmp");
    let bytes = serde_json::to_vec_pretty(meta).expect("meta serialises");
    std::fs::write(&staged, bytes)
        .and_then(|()| std::fs::rename(&staged, &path))
        .map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })
}

async fn open_or_create(db: &Connection, name: &str, schema: arrow_schema::SchemaRef) -> Result<Table> {
    let names = db.table_names().execute().await?;
    if names.iter().any(|n| n == name) {
        Ok(db.open_table(name).execute().await?)
    } else {
        Ok(db.create_empty_table(name, schema).execute().await?)
    }
}

fn reader(batch: RecordBatch) -> Box<dyn arrow_array::RecordBatchReader + Send> {
    let schema = batch.schema();
    Box::new(RecordBatchIterator::new(vec![Ok(batch)], schema))
}

/// A SQL list of string literals, quotes escaped.
fn sql_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}
