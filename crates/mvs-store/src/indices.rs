//! The search indices over the chunks: the keyword lane's full-text index
//! and the vector lane's ANN index, when to build them, when to fold new
//! rows in, and how much of the table each covers.

use lancedb::DistanceType;
use lancedb::index::Index;
use lancedb::index::scalar::FtsIndexBuilder;
use lancedb::index::vector::{IvfHnswSqIndexBuilder, IvfPqIndexBuilder};
use lancedb::table::{OptimizeAction, OptimizeOptions};
use serde::{Deserialize, Serialize};

use crate::schema::chunk_col;
use crate::{Result, Store};

/// Chunks from which [`Store::refresh_indices`] builds an ANN index; below
/// it an exact scan is fast enough (docs/benchmarks.md) and exact.
pub const ANN_MIN_ROWS: usize = 5_000;
/// Rows outside the indices that [`Store::refresh_indices`] leaves to be
/// scanned rather than folded in.
pub const UNINDEXED_ROWS_FOLDED: usize = 2_000;
/// IVF partitions searched per query.
pub(crate) const ANN_NPROBES: usize = 20;
/// HNSW candidate list per partition.
pub(crate) const ANN_EF: usize = 100;
/// PQ candidates re-ranked with the full vectors, as a multiple of the limit.
pub(crate) const ANN_REFINE_FACTOR: u32 = 2;

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

impl Store {
    /// Brings the search indices up to date: creates the full-text index,
    /// folds new rows into it (and into the ANN index) once more than
    /// [`UNINDEXED_ROWS_FOLDED`] (or 5% of the rows) are outside them, and
    /// builds the ANN index once [`ANN_MIN_ROWS`] chunks have their vectors.
    /// Rows not yet in an index are still searched (by a scan), so this only
    /// affects speed.
    pub async fn refresh_indices(&self) -> Result<()> {
        let rows = self.chunks.count_rows(None).await?;
        // Rows outside an index are scanned, so a few of them cost less than
        // folding them in, which rewrites index files: an edit stays fast,
        // and big changes are folded.
        self.update_indices(rows, UNINDEXED_ROWS_FOLDED.max(rows / 20)).await
    }

    /// [`Store::refresh_indices`] with nothing left outside an existing
    /// index: every unindexed row is folded in. For an index many read and
    /// nobody edits (a published generation, read over the network, where
    /// every scanned row is a read). Below [`ANN_MIN_ROWS`] there is still
    /// no ANN index: vector searches scan, as on local disk.
    pub async fn complete_indices(&self) -> Result<()> {
        let rows = self.chunks.count_rows(None).await?;
        self.update_indices(rows, 0).await
    }

    /// Builds missing indices and folds in the unindexed rows of any index
    /// with more than `fold_above` of them.
    async fn update_indices(&self, rows: usize, fold_above: usize) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let indices = self.index_coverage().await?;
        let keyword = indices.iter().find(|index| index.purpose == IndexPurpose::Keyword);
        let ann = indices.iter().find_map(|index| match index.purpose {
            IndexPurpose::Ann(kind) => Some((kind, index)),
            IndexPurpose::Keyword => None,
        });
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
}
