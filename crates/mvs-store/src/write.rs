//! Writing an index: replacing and forgetting files, the pending-vectors
//! state of two-phase indexing, compaction and pruning, removal.

use std::collections::BTreeMap;
use std::path::Path;

use arrow_array::{RecordBatch, RecordBatchIterator};
use futures::TryStreamExt;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::table::{CompactionOptions, OptimizeAction};

use crate::open::{META_FILE, is_generation, remove_dir};
use crate::schema::{self, ChunkRecord, FileRecord, chunk_col, file_col};
use crate::{Result, Store, StoreError, sql};

/// Small fragments that trigger a compaction in [`Store::maintain`].
pub const COMPACT_AT_FRAGMENTS: usize = 8;

/// Present while chunks wait for their vectors (see [`Store::vectors_pending`]).
const PENDING_MARKER: &str = "vectors_pending";

impl Store {
    /// Deletes the index in `dir` (metadata first, so readers stop treating
    /// the directory as an index before the tables go), every generation of
    /// its tables included. Other files in `dir` are left alone; a missing
    /// index is not an error.
    pub fn remove(dir: &Path) -> Result<()> {
        let meta = dir.join(META_FILE);
        match std::fs::remove_file(&meta) {
            Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                return Err(StoreError::Io { path: meta, source });
            }
            _ => {}
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            if is_generation(&entry.file_name().to_string_lossy()) {
                remove_dir(&entry.path())?;
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
        let in_files = sql::in_list(chunk_col::FILE_PATH, &paths);
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
        self.chunks
            .delete(sql::in_list(chunk_col::FILE_PATH, paths).as_str())
            .await?;
        tracing::debug!(step = "chunks_deleted", files = paths.len(), "delete: chunks deleted");
        self.files.delete(sql::in_list(file_col::PATH, paths).as_str()).await?;
        tracing::debug!(
            step = "records_deleted",
            files = paths.len(),
            "delete: file records deleted"
        );
        Ok(())
    }

    /// Whether some chunks wait for their vectors (a two-phase run is in
    /// its second phase, or was interrupted there): vector and hybrid
    /// results are partial. One `stat` (the marker lives in the generation,
    /// so a rebuild's pending vectors never mark the live index).
    pub fn vectors_pending(&self) -> bool {
        self.tables_dir().join(PENDING_MARKER).exists()
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
            .only_if(sql::vector_pending())
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
        if self.vectors_pending() && self.chunks.count_rows(Some(sql::vector_pending())).await? == 0 {
            self.set_pending_marker(false)?;
        }
        Ok(())
    }

    fn set_pending_marker(&self, pending: bool) -> Result<()> {
        let path = self.tables_dir().join(PENDING_MARKER);
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
}

/// One batch as the reader LanceDB's writes consume.
fn reader(batch: RecordBatch) -> Box<dyn arrow_array::RecordBatchReader + Send> {
    let schema = batch.schema();
    Box::new(RecordBatchIterator::new(vec![Ok(batch)], schema))
}
