//! Answering queries from an open index: [`search`] (both lanes, the query
//! embedded while the keyword lane runs), [`search_similar`] (from stored
//! vectors) and the `stale` flag on hits whose file changed since indexing.

use std::collections::HashSet;
use std::sync::Arc;

use mvs_store::{SearchFilter, SearchHit, SearchMode, SearchRequest, Store};
use serde::Serialize;

use crate::embedder::TextEmbedder;
use crate::project::Project;
use crate::query::Query;
use crate::{IndexError, discovery};

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
/// themselves are left out. A damaged index is
/// [`mvs_store::StoreError::Damaged`], with its fix.
pub async fn search_similar(
    project: &Project,
    store: &Store,
    source: &SimilarTo,
    limit: usize,
    filter: SearchFilter,
) -> Result<Vec<SearchHit>, IndexError> {
    explained(store, similar_in(project, store, source, limit, filter).await).await
}

async fn similar_in(
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
    let excluded: HashSet<&str> = sources.iter().map(|(c, _)| c.chunk_id.as_str()).collect();
    let hits = store
        .search(&SearchRequest {
            text: String::new(),
            vector: Some(mean),
            mode: SearchMode::Vector,
            limit: limit + excluded.len(),
            filter,
            exact: false,
            keyword_weight: None,
            min_score: 0.0,
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

/// Searches an open store, best first; embeds the query unless the search
/// is keyword-only (`embedder` may then be `None`). Errors:
/// [`IndexError::ModelMismatch`] when `embedder` is not the index's model,
/// [`IndexError::Task`] when a vector or hybrid search has no embedder.
/// A damaged index is [`mvs_store::StoreError::Damaged`], with its fix.
pub async fn search<E: TextEmbedder + ?Sized + 'static>(
    project: &Project,
    store: &Store,
    embedder: Option<Arc<E>>,
    query: &Query,
) -> Result<Vec<SearchHit>, IndexError> {
    explained(store, search_in(project, store, embedder, query).await).await
}

/// `result`, from reading `store`, with a storage failure explained (see
/// [`Store::diagnose`]): a damaged index says so, with its fix. Every reader
/// of an open store (searches here, the MCP tools) answers through it.
pub async fn explained<T>(store: &Store, result: Result<T, IndexError>) -> Result<T, IndexError> {
    match result {
        Err(IndexError::Store(err)) => Err(store.diagnose(err).await.into()),
        other => other,
    }
}

async fn search_in<E: TextEmbedder + ?Sized + 'static>(
    project: &Project,
    store: &Store,
    embedder: Option<Arc<E>>,
    query: &Query,
) -> Result<Vec<SearchHit>, IndexError> {
    let started = std::time::Instant::now();
    let embedding = match (query.mode, embedder) {
        (SearchMode::Keyword, _) => None,
        (_, Some(embedder)) => {
            // Vectors of different models live in different spaces.
            let meta = store.meta();
            if meta.model_id != embedder.model_id() || meta.dimension != embedder.dimension() {
                return Err(IndexError::ModelMismatch {
                    index_model: format!("{} ({}-d)", meta.model_id, meta.dimension),
                    loaded_model: format!("{} ({}-d)", embedder.model_id(), embedder.dimension()),
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
        keyword_weight: query.keyword_weight,
        min_score: query.min_score,
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

/// [`search`], answered as callers show it: the hits with the query text,
/// marked partial while the index's vectors are.
pub async fn search_response<E: TextEmbedder + ?Sized + 'static>(
    project: &Project,
    store: &Store,
    embedder: Option<Arc<E>>,
    query: &Query,
) -> Result<SearchResponse, IndexError> {
    let results = search(project, store, embedder, query).await?;
    Ok(SearchResponse::new(store, query.text.clone(), results))
}

/// Flags hits whose file changed on disk since it was indexed: for a local
/// index a `stat` per distinct file (size or modification time differ), no
/// reading; for a shared index, built on another machine where times
/// differ, the content of files of the same size is hashed.
async fn mark_stale(project: &Project, store: &Store, hits: &mut [SearchHit]) -> Result<(), IndexError> {
    let mut paths: Vec<&str> = hits.iter().map(|h| h.chunk.file_path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    let records = store.file_records_for(&paths).await?;
    let changed: HashSet<String> = records
        .into_iter()
        .filter(|record| {
            let path = project.root().join(&record.path);
            match std::fs::metadata(&path) {
                Ok(metadata) if metadata.len() != record.size => true,
                Ok(_) if store.is_shared() => {
                    std::fs::read(&path).map_or(true, |bytes| discovery::content_hash(&bytes) != record.content_hash)
                }
                Ok(metadata) => discovery::mtime_ns(&metadata) != record.mtime_ns,
                Err(_) => true,
            }
        })
        .map(|record| record.path)
        .collect();
    for hit in hits {
        hit.stale = changed.contains(&hit.chunk.file_path);
    }
    Ok(())
}
