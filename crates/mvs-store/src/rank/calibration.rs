//! Calibrated scores: a hit's `score` estimates the chance (0-1) that its
//! file answers the query, from signals that mean the same in every query,
//! so one threshold works for every query and mode.
//!
//! The ranking itself (fusion and the code-aware factors) is relative to the
//! query's candidates: its best hit scores high even when nothing matches,
//! as "xyzzy quantum banana smoothie" did (0.77). The calibrated score uses
//! only absolute evidence of the hit: the cosine similarity of the chunk to
//! the query (when the vector lane ran) and the share of the query's words
//! found in the chunk's code, name or path. A logistic model of the two was
//! fitted on the semble-dev set (223 queries, 12 repositories, every hit of
//! the first page in each mode labelled by whether its file is a target;
//! `scripts/calibrate-scores.py` reproduces it). On that set a score in
//! [0, 0.2) was right 9% of the time, [0.2, 0.4) 31%, [0.4, 0.6) 46%,
//! [0.6, 0.8) 88%; the top hits of nonsense queries score under 0.2.
//!
//! Scores are not sorted: the page keeps the ranker's order (ranking by this
//! score lost 0.03 NDCG@10 on the same set), so a hit can score above the
//! one before it.

use super::priors::{identifier_parts, share_found};
use crate::schema::ChunkRecord;

/// Logistic-regression coefficients of one model.
struct Model {
    /// Weight of the share of query words found in the chunk (0-1).
    coverage: f32,
    /// Weight of the cosine similarity to the query.
    cosine: f32,
    /// Added when the vector lane ran but did not reach the chunk.
    no_cosine: f32,
    /// Intercept.
    bias: f32,
}

/// Hybrid and vector searches (the vector lane ran).
const WITH_VECTORS: Model = Model {
    coverage: 1.84,
    cosine: 2.61,
    no_cosine: 0.08,
    bias: -3.20,
};

/// Keyword searches: no cosine similarity is computed.
const KEYWORDS_ONLY: Model = Model {
    coverage: 1.51,
    cosine: 0.0,
    no_cosine: 0.0,
    bias: -1.79,
};

/// The share (0-1) of `stems` (the query's words, see
/// [`super::priors::query_stems`]) found among the identifier parts of the
/// chunk's code, qualified name and path.
pub(crate) fn query_coverage(stems: &[String], chunk: &ChunkRecord) -> f32 {
    if stems.is_empty() {
        return 0.0;
    }
    let mut parts = identifier_parts(&chunk.content);
    parts.extend(identifier_parts(&chunk.qualified_name));
    parts.extend(identifier_parts(&chunk.file_path));
    parts.sort_unstable();
    parts.dedup();
    share_found(stems, &parts)
}

/// The calibrated score (0-1) of a hit with `coverage` (see
/// [`query_coverage`]) and, when `vector_lane_ran`, its `cosine` similarity
/// to the query (`None`: the lane did not reach it).
pub(crate) fn relevance(coverage: f32, cosine: Option<f32>, vector_lane_ran: bool) -> f32 {
    let model = if vector_lane_ran { &WITH_VECTORS } else { &KEYWORDS_ONLY };
    let vector = match cosine {
        Some(cosine) if vector_lane_ran => model.cosine * cosine,
        _ if vector_lane_ran => model.no_cosine,
        _ => 0.0,
    };
    let logit = model.bias + model.coverage * coverage + vector;
    1.0 / (1.0 + (-logit).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_rise_with_absolute_evidence_and_stay_in_range() {
        let nonsense = relevance(0.0, Some(0.18), true);
        let good = relevance(1.0, Some(0.75), true);
        assert!(nonsense < 0.2, "{nonsense}");
        assert!(good > 0.6, "{good}");
        assert!(relevance(0.5, Some(0.1), true) < relevance(0.5, Some(0.5), true));
        assert!(relevance(1.0, None, false) > relevance(0.0, None, false));
        for coverage in [0.0, 0.5, 1.0] {
            for cosine in [None, Some(-1.0), Some(0.0), Some(1.0)] {
                for lane in [true, false] {
                    let score = relevance(coverage, cosine, lane);
                    assert!((0.0..=1.0).contains(&score), "{score}");
                }
            }
        }
    }
}
