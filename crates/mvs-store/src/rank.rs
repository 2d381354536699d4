//! Ranking: every rule that orders search results lives here.
//!
//! * Lane weights ([`hybrid_weights`]): identifier-like queries lean on the
//!   keyword lane, descriptions of behaviour on the vector lane.
//! * Fusion ([`fuse`]): a weighted sum of each lane's scores normalised over
//!   its candidates (cosine min-max, BM25 over its maximum).
//! * Exact-symbol boost: for an identifier-like query, the definitions named
//!   exactly so lead.
//! * Code-aware priors ([`priors`]): tests, examples, docs, vendored code,
//!   re-export and declaration files weigh less unless asked for; query
//!   words in a chunk's name or file name raise it; a file with several
//!   candidates gains; each further chunk of a file counts less, so a page
//!   covers more files.
//! * One result per definition: the parts of a definition split into
//!   several chunks collapse to the best-ranked one ([`definition_key`]),
//!   and the page fills up from further candidates.
//! * Similarity threshold ([`crate::SearchRequest::min_score`]): applied
//!   last, to the fused scores of the hits kept.
//! * Merging the answers of several searches ([`merge`]).
//!
//! Fusion was measured against weighted reciprocal rank fusion on the dev
//! sets (docs/benchmarks.md): RRF with k = 60 makes neighbouring vector ranks
//! nearly equal, so even a tiny keyword weight reorders the vector lane's
//! confident top hits; score fusion keeps that confidence and is the only
//! variant that beat both lanes on both sets. LanceDB's own `RRFReranker`
//! also lacks lane weights and per-lane ranks, which callers need.

mod priors;

use std::collections::{HashMap, HashSet};

use crate::TestFilter;
use crate::schema::ChunkRecord;
use crate::search::{SearchHit, SearchMode, SearchRequest};

/// Keyword-lane weight of a natural-language query in hybrid mode (the
/// vector lane weighs 1): tuned on the docstring-to-function dev sets
/// (docs/benchmarks.md). [`crate::SearchRequest::keyword_weight`] overrides
/// it, for tuning.
pub const NATURAL_LANGUAGE_KEYWORD_WEIGHT: f32 = 0.3;

/// (vector, keyword) lane weights for a hybrid query: identifier-like
/// queries (`parse_config`, `HttpClient.send`, `foo::bar`, `parseConfig`)
/// lean on the keyword lane, descriptions of behaviour on the vector lane.
/// `keyword_weight` replaces a description's keyword weight (the vector
/// lane weighs 1); `None`, or a weight that is negative or not finite,
/// means [`NATURAL_LANGUAGE_KEYWORD_WEIGHT`].
pub fn hybrid_weights(query: &str, keyword_weight: Option<f32>) -> (f32, f32) {
    if is_identifier_like(query) {
        return (0.5, 1.0);
    }
    let keyword = keyword_weight
        .filter(|w| w.is_finite() && *w >= 0.0)
        .unwrap_or(NATURAL_LANGUAGE_KEYWORD_WEIGHT);
    (1.0, keyword)
}

/// One token made of identifier characters and path separators, shaped like
/// code: snake_case, camelCase/PascalCase with an inner capital, or a
/// `.`/`::` path.
pub fn is_identifier_like(query: &str) -> bool {
    let query = query.trim().trim_end_matches("()");
    if query.is_empty() || query.contains(char::is_whitespace) {
        return false;
    }
    let code_chars = query
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '$'));
    let shaped = query.contains('_')
        || query.contains("::")
        || (query.contains('.') && !query.ends_with('.'))
        || query.chars().skip(1).any(char::is_uppercase);
    code_chars && shaped
}

/// One candidate's standing in one lane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneHit {
    /// 1-based rank in the lane.
    pub rank: u32,
    /// The lane's own score (cosine similarity, BM25).
    pub score: f32,
}

/// A fused candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Fused {
    /// Chunk id.
    pub id: String,
    /// Fused score in [0, 1]: the weighted sum of normalised lane scores
    /// divided by its maximum.
    pub score: f32,
    /// Standing in the vector lane, if it was there.
    pub vector: Option<LaneHit>,
    /// Standing in the keyword lane, if it was there.
    pub keyword: Option<LaneHit>,
}

/// Fuses two ranked id lists (best first) with weights, best first.
pub fn fuse(
    vector: &[(String, f32)],
    keyword: &[(String, f32)],
    vector_weight: f32,
    keyword_weight: f32,
) -> Vec<Fused> {
    let mut by_id: HashMap<&str, Fused> = HashMap::new();
    for (lane, is_vector) in [(vector, true), (keyword, false)] {
        for (index, (id, score)) in lane.iter().enumerate() {
            let hit = LaneHit {
                rank: index as u32 + 1,
                score: *score,
            };
            let entry = by_id.entry(id.as_str()).or_insert_with(|| Fused {
                id: id.clone(),
                score: 0.0,
                vector: None,
                keyword: None,
            });
            let slot = if is_vector {
                &mut entry.vector
            } else {
                &mut entry.keyword
            };
            slot.get_or_insert(hit);
        }
    }
    let (cosine_min, cosine_max) = vector
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), (_, s)| (lo.min(*s), hi.max(*s)));
    let bm25_max = keyword.iter().map(|(_, s)| *s).fold(0.0, f32::max);
    let normalised_cosine = |score: f32| {
        if cosine_max > cosine_min {
            (score - cosine_min) / (cosine_max - cosine_min)
        } else {
            1.0
        }
    };
    let normalised_bm25 = |score: f32| if bm25_max > 0.0 { score / bm25_max } else { 0.0 };
    let best_possible = (vector_weight + keyword_weight).max(f32::MIN_POSITIVE);
    let mut fused: Vec<Fused> = by_id
        .into_values()
        .map(|mut candidate| {
            let raw = candidate
                .vector
                .map_or(0.0, |h| vector_weight * normalised_cosine(h.score))
                + candidate
                    .keyword
                    .map_or(0.0, |h| keyword_weight * normalised_bm25(h.score));
            candidate.score = raw / best_possible;
            candidate
        })
        .collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    fused
}

/// What search returns once: the definition a chunk is part of (its
/// [`crate::ChunkPart::definition_id`]), else the chunk itself.
pub fn definition_key(chunk: &ChunkRecord) -> &str {
    chunk
        .part
        .as_ref()
        .map_or(chunk.chunk_id.as_str(), |part| part.definition_id.as_str())
}

/// Ranks the lanes' candidates (`(chunk id, lane score)`, best first) for
/// `request`: lane weights by mode, fusion, the exact-symbol boost, one
/// candidate per definition (its best-ranked part), the best `limit`, then
/// those at or above `request.min_score`. `chunks_by_id` holds the rows the
/// lanes returned.
pub(crate) fn hits(
    request: &SearchRequest,
    limit: usize,
    vector_lane: &[(String, f32)],
    keyword_lane: &[(String, f32)],
    mut chunks_by_id: HashMap<String, ChunkRecord>,
) -> Vec<SearchHit> {
    let (vector_weight, keyword_weight) = match request.mode {
        SearchMode::Hybrid => hybrid_weights(&request.text, request.keyword_weight),
        SearchMode::Vector => (1.0, 0.0),
        SearchMode::Keyword => (0.0, 1.0),
    };
    let fused = fuse(vector_lane, keyword_lane, vector_weight, keyword_weight);
    let mut definitions = HashSet::new();
    let candidates: Vec<(Fused, ChunkRecord)> = fused
        .into_iter()
        .filter_map(|f| {
            let chunk = chunks_by_id.remove(&f.id)?;
            definitions
                .insert(definition_key(&chunk).to_string())
                .then_some((f, chunk))
        })
        .collect();
    let mut ranked = code_aware(request, candidates);
    if request.mode != SearchMode::Vector {
        exact_symbol_first(&request.text, &mut ranked);
    }
    ranked
        .into_iter()
        .take(limit)
        .map(|(f, chunk)| SearchHit {
            chunk,
            score: f.score.min(1.0),
            vector_rank: f.vector.map(|h| h.rank),
            vector_score: f.vector.map(|h| h.score),
            keyword_rank: f.keyword.map(|h| h.rank),
            keyword_score: f.keyword.map(|h| h.score),
            stale: false,
        })
        .filter(|hit| hit.score >= request.min_score)
        .collect()
}

/// The candidates (one per definition) rescored by what their paths, names
/// and files say (see [`priors`]), best first: the fused score times the
/// path prior and the identifier-stem gain, then spread over files (file
/// evidence, saturation). A score may pass 1 here; hits report at most 1.
fn code_aware(request: &SearchRequest, candidates: Vec<(Fused, ChunkRecord)>) -> Vec<(Fused, ChunkRecord)> {
    let stems = priors::query_stems(&request.text);
    let tests_wanted = request.filter.tests == TestFilter::Only || stems.iter().any(|w| w.starts_with("test"));
    let scored: Vec<(&str, f32)> = candidates
        .iter()
        .map(|(f, chunk)| {
            let prior = priors::path_prior(&chunk.file_path, &stems, tests_wanted);
            let gain = 1.0 + priors::stem_gain(chunk, &stems);
            (chunk.file_path.as_str(), f.score * prior * gain)
        })
        .collect();
    let adjusted = priors::spread_over_files(&scored);
    let mut ranked: Vec<(Fused, ChunkRecord)> = candidates
        .into_iter()
        .zip(adjusted)
        .map(|((mut f, chunk), score)| {
            f.score = score;
            (f, chunk)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.score.total_cmp(&a.0.score).then_with(|| a.0.id.cmp(&b.0.id)));
    ranked
}

/// Exact-symbol boost: when `query` is identifier-like, moves the
/// candidates whose chunk is named exactly so (name or qualified name,
/// without a trailing `()`) to the front, keeping the order within both
/// groups. Scores are left as they are.
fn exact_symbol_first(query: &str, ranked: &mut [(Fused, ChunkRecord)]) {
    if !is_identifier_like(query) {
        return;
    }
    let symbol = query.trim().trim_end_matches("()");
    ranked.sort_by_key(|(_, c)| !(c.name == symbol || c.qualified_name == symbol));
}

/// Merges the answers of several searches (say, one per aspect of a task)
/// into one: each definition once (see [`definition_key`]), with its
/// best-scoring hit (the earlier one on a tie), best first (in order of
/// first appearance on a tie), at most `limit`.
pub fn merge(lists: impl IntoIterator<Item = Vec<SearchHit>>, limit: usize) -> Vec<SearchHit> {
    let mut merged: Vec<SearchHit> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for hit in lists.into_iter().flatten() {
        match position.get(definition_key(&hit.chunk)) {
            Some(&at) if hit.score > merged[at].score => merged[at] = hit,
            Some(_) => {}
            None => {
                position.insert(definition_key(&hit.chunk).to_string(), merged.len());
                merged.push(hit);
            }
        }
    }
    // Stable: ties keep the order they were first seen in.
    merged.sort_by(|a, b| b.score.total_cmp(&a.score));
    merged.truncate(limit);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_queries_are_told_from_descriptions() {
        for query in [
            "parse_config",
            "HttpClient.send",
            "foo::bar",
            "parseConfig",
            "compute_total()",
        ] {
            assert!(is_identifier_like(query), "{query}");
        }
        for query in [
            "parse the config file",
            "config",
            "Config",
            "retry with backoff",
            "e.g.",
        ] {
            assert!(!is_identifier_like(query), "{query}");
        }
    }

    #[test]
    fn the_keyword_weight_of_descriptions_can_be_tuned() {
        assert_eq!(hybrid_weights("parse_config", Some(0.9)), (0.5, 1.0));
        assert_eq!(
            hybrid_weights("parse the config file", None),
            (1.0, NATURAL_LANGUAGE_KEYWORD_WEIGHT)
        );
        assert_eq!(hybrid_weights("parse the config file", Some(0.7)), (1.0, 0.7));
        for unusable in [-1.0, f32::NAN, f32::INFINITY] {
            assert_eq!(
                hybrid_weights("parse the config file", Some(unusable)),
                (1.0, NATURAL_LANGUAGE_KEYWORD_WEIGHT)
            );
        }
    }

    /// A lane best first, scores falling by 0.1 per rank.
    fn lane(ids: &[&str]) -> Vec<(String, f32)> {
        ids.iter()
            .enumerate()
            .map(|(rank, id)| (id.to_string(), 1.0 - rank as f32 / 10.0))
            .collect()
    }

    #[test]
    fn agreement_between_lanes_wins() {
        let fused = fuse(&lane(&["a", "b", "c"]), &lane(&["b", "d", "e"]), 1.0, 1.0);
        assert_eq!(fused[0].id, "b");
        assert_eq!(fused[0].vector.unwrap().rank, 2);
        assert_eq!(fused[0].keyword.unwrap().rank, 1);
        assert_eq!(fused.len(), 5);
        assert!(fused.iter().all(|f| f.score >= 0.0 && f.score <= 1.0));
    }

    #[test]
    fn weights_tilt_the_order() {
        let fused = fuse(&lane(&["a"]), &lane(&["k"]), 1.0, 3.0);
        assert_eq!(fused[0].id, "k");
        assert!(fused[1].keyword.is_none());
    }

    fn hit(id: &str, score: f32) -> SearchHit {
        SearchHit {
            chunk: ChunkRecord {
                chunk_id: id.into(),
                file_path: "src/lib.rs".into(),
                language: "rust".into(),
                kind: "function".into(),
                name: id.into(),
                qualified_name: id.into(),
                signature: String::new(),
                doc: None,
                parent_id: None,
                start_line: 1,
                end_line: 1,
                start_byte: 0,
                end_byte: 0,
                content: String::new(),
                content_hash: String::new(),
                embedding_hash: None,
                part: None,
                cell: None,
            },
            score,
            vector_rank: None,
            vector_score: None,
            keyword_rank: None,
            keyword_score: None,
            stale: false,
        }
    }

    fn ids_and_scores(hits: &[SearchHit]) -> Vec<(&str, f32)> {
        hits.iter().map(|h| (h.chunk.chunk_id.as_str(), h.score)).collect()
    }

    /// `hit(id)` as part `index` of `count` of the definition `definition`.
    fn part(id: &str, definition: &str, index: u32, count: u32) -> ChunkRecord {
        let mut chunk = hit(id, 0.0).chunk;
        chunk.part = Some(crate::ChunkPart {
            index,
            count,
            definition_id: definition.into(),
        });
        chunk
    }

    /// The case: parts of one long function filled the page. Each
    /// definition comes back once, as its best part, and further candidates
    /// fill the page.
    #[test]
    fn a_split_definition_is_one_result_at_its_best_part() {
        let chunks = [
            part("retry#2", "retry", 2, 4),
            part("retry#1", "retry", 1, 4),
            part("retry#3", "retry", 3, 4),
            hit("backoff_delay", 0.0).chunk,
            part("retry#4", "retry", 4, 4),
            hit("jitter", 0.0).chunk,
            hit("sleep", 0.0).chunk,
        ];
        let ids: Vec<&str> = chunks.iter().map(|c| c.chunk_id.as_str()).collect();
        let request = SearchRequest {
            text: "retry with exponential backoff".into(),
            vector: None,
            mode: SearchMode::Vector,
            limit: 3,
            filter: crate::SearchFilter::default(),
            exact: false,
            keyword_weight: None,
            min_score: 0.0,
        };
        let by_id = || chunks.iter().map(|c| (c.chunk_id.clone(), c.clone())).collect();
        let found = hits(&request, 3, &lane(&ids), &[], by_id());
        let found: Vec<&str> = found.iter().map(|h| h.chunk.chunk_id.as_str()).collect();
        assert_eq!(found, ["retry#2", "backoff_delay", "jitter"]);

        let merged = merge(
            [
                hits(&request, 7, &lane(&ids), &[], by_id()),
                hits(&request, 7, &lane(&ids[2..]), &[], by_id()),
            ],
            10,
        );
        let merged: Vec<&str> = merged.iter().map(|h| definition_key(&h.chunk)).collect();
        assert_eq!(merged, ["retry", "backoff_delay", "jitter", "sleep"]);
    }

    #[test]
    fn merging_keeps_each_chunk_once_at_its_best() {
        let merged = merge(
            [
                vec![hit("a", 0.9), hit("b", 0.5)],
                vec![hit("b", 0.8), hit("c", 0.9), hit("a", 0.1)],
            ],
            10,
        );
        assert_eq!(ids_and_scores(&merged), [("a", 0.9), ("c", 0.9), ("b", 0.8)]);
        let merged = merge([vec![hit("a", 0.9), hit("b", 0.5)], vec![hit("c", 0.7)]], 2);
        assert_eq!(ids_and_scores(&merged), [("a", 0.9), ("c", 0.7)]);
    }
}
