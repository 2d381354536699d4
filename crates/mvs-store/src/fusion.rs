//! Fusion of the vector and keyword lanes: a weighted sum of each lane's
//! scores normalised over its candidates (cosine min-max, BM25 over its
//! maximum).
//!
//! Measured against weighted reciprocal rank fusion on the dev sets
//! (docs/benchmarks.md): RRF with k = 60 makes neighbouring vector ranks
//! nearly equal, so even a tiny keyword weight reorders the vector lane's
//! confident top hits; score fusion keeps that confidence and is the only
//! variant that beat both lanes on both sets. LanceDB's own `RRFReranker`
//! also lacks lane weights and per-lane ranks, which callers need.

use std::collections::HashMap;

/// Keyword-lane weight of a natural-language query in hybrid mode (the
/// vector lane weighs 1): tuned on the docstring-to-function dev sets
/// (docs/benchmarks.md). `MCP_VECTOR_SEARCH_KEYWORD_WEIGHT` overrides it,
/// for tuning.
pub const NATURAL_LANGUAGE_KEYWORD_WEIGHT: f32 = 0.3;

/// (vector, keyword) lane weights for a hybrid query: identifier-like
/// queries (`parse_config`, `HttpClient.send`, `foo::bar`, `parseConfig`)
/// lean on the keyword lane, descriptions of behaviour on the vector lane.
pub fn hybrid_weights(query: &str) -> (f32, f32) {
    if is_identifier_like(query) {
        return (0.5, 1.0);
    }
    let keyword = std::env::var("MCP_VECTOR_SEARCH_KEYWORD_WEIGHT")
        .ok()
        .and_then(|v| v.trim().parse::<f32>().ok())
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
        assert_eq!(hybrid_weights("parse_config"), (0.5, 1.0));
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
}
