//! Search: the vector lane and the keyword lane, run concurrently over the
//! chunks with the filter as a prefilter, then ranked by [`crate::rank`].

use std::collections::HashMap;

use arrow_array::RecordBatch;
use futures::TryStreamExt;
use lancedb::DistanceType;
use lancedb::index::scalar::FullTextSearchQuery;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use serde::{Deserialize, Serialize};

use crate::filter::SearchFilter;
use crate::indices::{ANN_EF, ANN_NPROBES, ANN_REFINE_FACTOR};
use crate::rank::file_vector;
use crate::schema::{self, ChunkRecord, chunk_col};
use crate::{Result, Store, StoreError, rank, read, sql};

/// Column LanceDB adds to vector results.
pub(crate) const DISTANCE_COLUMN: &str = "_distance";
/// Column LanceDB adds to full-text results.
pub(crate) const BM25_COLUMN: &str = "_score";
/// A lane's candidates by chunk id: the ranking columns and the row id.
type Candidates = HashMap<String, (ChunkRecord, u64)>;

/// Most chunks the definition lane reads for a symbol query: a name
/// defined more often than this is common enough for the lanes to find.
const DEFINITION_LANE_DEPTH: usize = 20;

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
    /// Keyword-lane weight of a natural-language query in hybrid mode, for
    /// tuning (the vector lane weighs 1); `None`: the tuned
    /// [`rank::NATURAL_LANGUAGE_KEYWORD_WEIGHT`]. See [`rank::hybrid_weights`].
    pub keyword_weight: Option<f32>,
    /// Similarity threshold on the calibrated score ([`SearchHit::score`]),
    /// in [0, 1]: hits below it are dropped after ranking, so fewer than
    /// `limit` may come back (0: keep all).
    pub min_score: f32,
}

/// One result with its fused score and per-lane standing.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// The chunk.
    #[serde(flatten)]
    pub chunk: ChunkRecord,
    /// Calibrated score in [0, 1]: the estimated chance that this hit's
    /// file answers the query, from the hit's cosine similarity and the
    /// share of query words it contains (see `rank::calibration`), so a
    /// threshold means the same in every query and mode. Not sorted: the
    /// page is in rank order ([`rank::Why::rank_score`]).
    #[serde(serialize_with = "rank::rounded")]
    pub score: f32,
    /// 1-based rank in the vector lane.
    pub vector_rank: Option<u32>,
    /// Cosine similarity to the query.
    #[serde(serialize_with = "rank::rounded_option")]
    pub vector_score: Option<f32>,
    /// 1-based rank in the keyword lane.
    pub keyword_rank: Option<u32>,
    /// BM25 score.
    #[serde(serialize_with = "rank::rounded_option")]
    pub keyword_score: Option<f32>,
    /// The file changed on disk after this chunk was indexed, so the
    /// content may be out of date (set by callers that see the files; the
    /// store alone always says `false`).
    pub stale: bool,
    /// Why it ranks where it does: fused score, factors applied, evidence.
    pub why: rank::Why,
}

#[cfg(test)]
impl SearchHit {
    /// `chunk` as a hit no lane or rule has scored yet (tests).
    pub(crate) fn unranked(chunk: ChunkRecord) -> Self {
        Self {
            chunk,
            score: 0.0,
            vector_rank: None,
            vector_score: None,
            keyword_rank: None,
            keyword_score: None,
            stale: false,
            why: rank::Why::default(),
        }
    }
}

impl Store {
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
        // promote a result that only one lane ranks highly, and a file's
        // evidence (how many of its chunks are candidates) counts: 50 -> 150
        // gained 0.008 NDCG@10 on semble-dev. The keyword lane goes 250 deep,
        // which gives the file-vector factor a better pool (+0.001-0.003) and
        // costs little, as it runs while the query is embedded. A 250-deep
        // vector lane would add 0.004-0.007 more (with the cosine floor of
        // `rank::fuse`) at 2-3 ms per search, which issue 16's latency bound
        // has no room for (docs/benchmarks.md, "Ranking: the vector lane's
        // floor").
        let depth = (limit * 5).max(150);
        let keyword_depth = depth.max(250);
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
            Some(sql::vector_ready(predicate.as_deref()))
        } else {
            predicate.clone()
        };
        let vector_lane = async {
            if !want_vector {
                return Ok((Vec::new(), None));
            }
            let vector = vector
                .await
                .ok_or_else(|| StoreError::Invalid("a vector or hybrid search needs the query embedding".into()))?;
            let lane = self
                .vector_lane(
                    &vector,
                    vector_predicate.as_deref(),
                    depth,
                    request.exact,
                    &mut vector_rows,
                )
                .await?;
            Result::Ok((lane, Some(vector)))
        };
        let keyword_lane = async {
            if !want_keyword || request.text.trim().is_empty() {
                return Ok(Vec::new());
            }
            self.keyword_lane(&request.text, predicate.as_deref(), keyword_depth, &mut keyword_rows)
                .await
        };
        // A query naming a symbol also looks the definition up by name: in a
        // large project neither lane need rank the one chunk that defines a
        // common word (`Transaction`) among the many that use it.
        let symbol = match request.mode {
            SearchMode::Vector => None,
            _ => rank::symbol_name(&request.text),
        };
        let mut definition_rows = HashMap::new();
        let definition_lane = async {
            match symbol {
                Some(name) => {
                    self.definition_lane(name, predicate.as_deref(), &mut definition_rows)
                        .await
                }
                None => Ok(Vec::new()),
            }
        };
        let (vector_lane, keyword_lane, definitions) = futures::join!(vector_lane, keyword_lane, definition_lane);
        let (vector_lane, query_vector) = vector_lane?;
        let keyword_lane = match keyword_lane {
            Ok(lane) => lane,
            // The keyword lane must not take the vector lane down with it
            // (e.g. an index created before the full-text index exists),
            // unless its index is damaged: that is said, with the fix.
            Err(err) if want_vector => match self.diagnose(err).await {
                damaged @ StoreError::Damaged { .. } => return Err(damaged),
                err => {
                    tracing::warn!("keyword lane unavailable, using vectors only: {err}");
                    Vec::new()
                }
            },
            Err(err) => return Err(err),
        };
        let definitions = definitions?;
        let mut row_ids = HashMap::new();
        let mut chunks_by_id = HashMap::new();
        for (id, (chunk, row_id)) in vector_rows.into_iter().chain(keyword_rows).chain(definition_rows) {
            row_ids.entry(id.clone()).or_insert(row_id);
            chunks_by_id.entry(id).or_insert(chunk);
        }
        let lanes = rank::Lanes {
            vector: &vector_lane,
            keyword: &keyword_lane,
            definitions: &definitions,
        };
        let mut page = rank::page(request, limit.max(file_vector::POOL), lanes, chunks_by_id);
        if let Some(query) = &query_vector {
            match self.file_centroid_cosines(query, &page).await {
                Ok(cosines) => file_vector::weigh(&mut page, &cosines),
                // A nudge to the order must not cost the answer.
                Err(err) => tracing::warn!("file vectors unavailable, ranking without them: {err}"),
            }
        }
        page.truncate(limit);
        self.read_page_rows(&mut page, &row_ids, predicate.as_deref()).await?;
        Ok(rank::calibrate(request, page))
    }

    /// Replaces the candidate rows of `page` (ranking columns only) by the
    /// whole rows, read by the row ids the lanes returned. A row moved since
    /// (a commit replaced its file's rows or compacted the table) is looked
    /// up by chunk id among the rows `predicate` (the search's filter)
    /// admits; one gone since leaves the page.
    async fn read_page_rows(
        &self,
        page: &mut Vec<SearchHit>,
        row_ids: &HashMap<String, u64>,
        predicate: Option<&str>,
    ) -> Result<()> {
        if page.is_empty() {
            return Ok(());
        }
        let wanted: Vec<u64> = page
            .iter()
            .filter_map(|hit| row_ids.get(&hit.chunk.chunk_id).copied())
            .collect();
        let mut rows = read_chunks(
            self.chunks
                .take_row_ids(wanted)
                .select(Select::Columns(schema::chunk_result_columns())),
        )
        .await?;
        let moved: Vec<&str> = page
            .iter()
            .map(|hit| hit.chunk.chunk_id.as_str())
            .filter(|id| !rows.contains_key(*id))
            .collect();
        if !moved.is_empty() {
            // The new row must still pass the search's filter.
            let ids = sql::in_list(chunk_col::ID, &moved);
            let predicate = match predicate {
                Some(predicate) => format!("({ids}) AND ({predicate})"),
                None => ids,
            };
            let query = self
                .chunks
                .query()
                .only_if(predicate)
                .select(Select::Columns(schema::chunk_result_columns()));
            rows.extend(read_chunks(query).await?);
        }
        page.retain_mut(|hit| match rows.remove(&hit.chunk.chunk_id) {
            Some(chunk) => {
                hit.chunk = chunk;
                true
            }
            None => false,
        });
        Ok(())
    }

    /// The cosine between `query` and the centroid of each file of the
    /// first [`file_vector::POOL`] hits of `page`, from all of the file's
    /// chunks whose vectors are ready (see [`file_vector::centroids`]).
    /// Centroids are kept per chunks-table version: a warm search reads the
    /// vectors only of files it has not weighed since the last write.
    async fn file_centroid_cosines(&self, query: &[f32], page: &[SearchHit]) -> Result<HashMap<String, f32>> {
        let mut paths: Vec<&str> = page
            .iter()
            .take(file_vector::POOL)
            .map(|hit| hit.chunk.file_path.as_str())
            .collect();
        paths.sort_unstable();
        paths.dedup();
        if paths.len() < 2 {
            // One file has nothing to be compared with.
            return Ok(HashMap::new());
        }
        let version = self.chunks.version().await?;
        let mut cosines = HashMap::new();
        let mut unread = Vec::new();
        if let Ok(mut cache) = self.centroid_cache.lock() {
            let (_, centroids) = match &mut *cache {
                Some(cached) if cached.0 == version => cached,
                stale => stale.insert((version, HashMap::new())),
            };
            for path in paths {
                match centroids.get(path) {
                    Some(Some(centroid)) => {
                        cosines.insert(path.to_string(), file_vector::cosine(query, centroid));
                    }
                    Some(None) => {}
                    None => unread.push(path),
                }
            }
        }
        if unread.is_empty() {
            return Ok(cosines);
        }
        let files = sql::in_list(chunk_col::FILE_PATH, &unread);
        let vectors_of_files = self
            .chunks
            .query()
            .only_if(sql::vector_ready(Some(&files)))
            .select(Select::Columns(vec![
                chunk_col::FILE_PATH.to_string(),
                chunk_col::VECTOR.to_string(),
            ]));
        let chunk_vectors = read::read_rows(vectors_of_files, |batch| {
            Ok(schema::file_paths_from_batch(batch)
                .into_iter()
                .zip(schema::vectors_from_batch(batch)?)
                .collect())
        })
        .await?;
        let mut centroids_read = file_vector::centroids(
            chunk_vectors
                .iter()
                .map(|(path, vector)| (path.as_str(), vector.as_slice())),
        );
        let mut cache = self.centroid_cache.lock().ok();
        for path in unread {
            let centroid = centroids_read.remove(path);
            if let Some(centroid) = &centroid {
                cosines.insert(path.to_string(), file_vector::cosine(query, centroid));
            }
            // Unless a newer search moved the cache to a newer version.
            if let Some(Some((cached_at, centroids))) = cache.as_deref_mut()
                && *cached_at == version
            {
                centroids.insert(path.to_string(), centroid);
            }
        }
        Ok(cosines)
    }

    async fn vector_lane(
        &self,
        vector: &[f32],
        predicate: Option<&str>,
        depth: usize,
        exact: bool,
        candidates: &mut Candidates,
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
        collect_lane(&batches, DISTANCE_COLUMN, |distance| 1.0 - distance, candidates)
    }

    /// Chunks named `name` (the last segment of a symbol query), at most
    /// [`DEFINITION_LANE_DEPTH`], by id.
    async fn definition_lane(
        &self,
        name: &str,
        predicate: Option<&str>,
        candidates: &mut Candidates,
    ) -> Result<Vec<String>> {
        let named = sql::equals(chunk_col::NAME, name);
        let predicate = match predicate {
            Some(predicate) => format!("({named}) AND ({predicate})"),
            None => named,
        };
        let batches: Vec<RecordBatch> = self
            .chunks
            .query()
            .only_if(predicate)
            .select(Select::Columns(schema::chunk_rank_columns(None)))
            .with_row_id()
            .limit(DEFINITION_LANE_DEPTH)
            .execute()
            .await?
            .try_collect()
            .await?;
        let mut ids = Vec::new();
        for batch in &batches {
            for (chunk, row_id) in schema::chunk_candidates_from_batch(batch)? {
                ids.push(chunk.chunk_id.clone());
                candidates.entry(chunk.chunk_id.clone()).or_insert((chunk, row_id));
            }
        }
        Ok(ids)
    }

    async fn keyword_lane(
        &self,
        text: &str,
        predicate: Option<&str>,
        depth: usize,
        candidates: &mut Candidates,
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
        let mut lane = collect_lane(&batches, BM25_COLUMN, |score| score, candidates)?;
        // LanceDB returns BM25 hits unordered across fragments.
        lane.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(lane)
    }
}

/// Runs one lane's query for the ranking columns, the row id and its score
/// column, prefiltered by `predicate`.
async fn run_lane<Q: ExecutableQuery + QueryBase>(
    query: Q,
    predicate: Option<&str>,
    score_column: &str,
    depth: usize,
) -> Result<Vec<RecordBatch>> {
    let columns = Select::Columns(schema::chunk_rank_columns(Some(score_column)));
    let query = match predicate {
        Some(predicate) => query.only_if(predicate),
        None => query,
    };
    Ok(query
        .select(columns)
        .with_row_id()
        .limit(depth)
        .execute()
        .await?
        .try_collect()
        .await?)
}

/// Turns result batches into `(id, score)` best-first and remembers the
/// candidates.
fn collect_lane(
    batches: &[RecordBatch],
    score_column: &str,
    to_score: impl Fn(f32) -> f32,
    candidates: &mut Candidates,
) -> Result<Vec<(String, f32)>> {
    let mut lane = Vec::new();
    for batch in batches {
        let scores = schema::score_column(batch, score_column);
        for ((chunk, row_id), score) in schema::chunk_candidates_from_batch(batch)?.into_iter().zip(scores) {
            lane.push((chunk.chunk_id.clone(), to_score(score.unwrap_or(0.0))));
            candidates.entry(chunk.chunk_id.clone()).or_insert((chunk, row_id));
        }
    }
    Ok(lane)
}

/// Whole chunk rows by id.
async fn read_chunks(query: impl ExecutableQuery) -> Result<HashMap<String, ChunkRecord>> {
    let chunks = read::read_rows(query, schema::chunks_from_batch).await?;
    Ok(chunks
        .into_iter()
        .map(|chunk| (chunk.chunk_id.clone(), chunk))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FileRecord, FileStatus};

    fn chunk(file: &str, content: &str) -> ChunkRecord {
        ChunkRecord {
            chunk_id: format!("{file}#f"),
            file_path: file.into(),
            kind: "function".into(),
            name: "f".into(),
            qualified_name: "f".into(),
            content: content.into(),
            start_line: 1,
            end_line: 1,
            ..ChunkRecord::default()
        }
    }

    fn file(path: &str) -> FileRecord {
        FileRecord {
            path: path.into(),
            size: 1,
            mtime_ns: 1,
            content_hash: "h".into(),
            language: None,
            status: FileStatus::Indexed,
            reason: None,
            chunks: 1,
            indexed_at_ms: 0,
        }
    }

    /// A page entry as ranking leaves it: the chunk id, nothing read yet.
    fn candidate(chunk_id: &str) -> SearchHit {
        SearchHit::unranked(ChunkRecord {
            chunk_id: chunk_id.into(),
            ..ChunkRecord::default()
        })
    }

    async fn put(store: &Store, path: &str, content: &str) {
        store
            .replace_files(&[file(path)], &[chunk(path, content)], &[vec![1.0, 0.0]])
            .await
            .unwrap();
    }

    /// The row ids a lane sees now, by chunk id.
    async fn row_ids(store: &Store) -> HashMap<String, u64> {
        let batches: Vec<RecordBatch> = store
            .chunks
            .query()
            .select(Select::Columns(schema::chunk_rank_columns(None)))
            .with_row_id()
            .execute()
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut ids = HashMap::new();
        for batch in &batches {
            for (chunk, row_id) in schema::chunk_candidates_from_batch(batch).unwrap() {
                ids.insert(chunk.chunk_id, row_id);
            }
        }
        ids
    }

    /// Between a search's lanes and the reading of its page, a commit may
    /// replace or delete the rows the lanes saw: a replaced row is found by
    /// chunk id (if the filter still admits it), a deleted one leaves the page.
    #[tokio::test]
    async fn page_rows_that_moved_are_found_by_id_and_deleted_ones_leave() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "test-model", 2).await.unwrap();
        for path in ["a.rs", "b.rs", "c.rs"] {
            put(&store, path, &format!("fn f() {{ {path} }}")).await;
        }
        let seen = row_ids(&store).await;
        put(&store, "a.rs", "fn f() { edited }").await;
        store.delete_files(&["b.rs".to_string()]).await.unwrap();

        let mut page: Vec<SearchHit> = ["a.rs#f", "b.rs#f", "c.rs#f"].into_iter().map(candidate).collect();
        store.read_page_rows(&mut page, &seen, None).await.unwrap();
        let read: Vec<(&str, &str)> = page
            .iter()
            .map(|hit| (hit.chunk.chunk_id.as_str(), hit.chunk.content.as_str()))
            .collect();
        assert_eq!(read, [("a.rs#f", "fn f() { edited }"), ("c.rs#f", "fn f() { c.rs }")]);

        let mut page = vec![candidate("a.rs#f")];
        let not_a = sql::in_list(chunk_col::FILE_PATH, &["c.rs"]);
        store.read_page_rows(&mut page, &seen, Some(&not_a)).await.unwrap();
        assert!(page.is_empty(), "the moved row no longer passes the filter: {page:?}");
    }
}
