//! Ranking: every rule that orders search results lives here.
//!
//! * Lane weights ([`hybrid_weights`]): identifier-like queries lean on the
//!   keyword lane, descriptions of behaviour on the vector lane.
//! * Fusion ([`fuse`]): a weighted sum of each lane's scores normalised over
//!   its candidates (cosine from a floor under the lane's last candidate to
//!   its best, BM25 over its maximum).
//! * Exact-symbol boost: for an identifier-like query, the definitions named
//!   exactly so lead, unless they sit in tests, examples, old versions or
//!   other files the path priors weigh down.
//! * Code-aware priors ([`priors`]): tests, examples, docs, vendored code,
//!   re-export and declaration files weigh less unless asked for; query
//!   words in a chunk's name or file name raise it, and so does a file
//!   name or a definition's name the query spells out, and the file that
//!   roots a module among the candidates; a file with several candidates
//!   gains; each further chunk of a file counts less, so a page covers more
//!   files.
//! * File vectors ([`file_vector`]): the top of the page is weighed by how
//!   close the query is to each candidate's whole file (the centroid of
//!   its chunk vectors), so a file about the question gains on one that
//!   merely mentions it.
//! * One result per definition: the parts of a definition split into
//!   several chunks collapse to the best-ranked one ([`definition_key`]),
//!   and the page fills up from further candidates.
//! * Calibrated scores ([`calibration`]): the `score` of a hit estimates
//!   the chance that its file answers the query, from absolute evidence
//!   (cosine similarity, share of query words found), so it means the same
//!   in every query; the page keeps the ranker's order.
//! * Similarity threshold ([`crate::SearchRequest::min_score`]): applied
//!   last, to the calibrated scores of the hits kept.
//! * Every hit says why it ranks where it does ([`Why`]).
//! * Merging the answers of several searches ([`merge`]).
//!
//! Fusion was measured against weighted reciprocal rank fusion on the dev
//! sets (docs/benchmarks.md): RRF with k = 60 makes neighbouring vector ranks
//! nearly equal, so even a tiny keyword weight reorders the vector lane's
//! confident top hits; score fusion keeps that confidence and is the only
//! variant that beat both lanes on both sets. LanceDB's own `RRFReranker`
//! also lacks lane weights and per-lane ranks, which callers need.

mod calibration;
pub(crate) mod file_vector;
mod priors;

use std::collections::{HashMap, HashSet};

pub use priors::PathKind;
use serde::Serialize;

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

/// The name to look a definition up by when `query` names a symbol: one
/// token of identifier characters and scope separators (`Transaction`,
/// `parse_config`, `HttpClient.send`, `fmt::format`, `compute()`), whose
/// last segment is the name. `None` for anything else (several words, a
/// sentence, punctuation).
pub fn symbol_name(query: &str) -> Option<&str> {
    let symbol = query.trim().trim_end_matches("()");
    let code_chars = symbol
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '$' | '#'));
    if symbol.is_empty() || !code_chars {
        return None;
    }
    let name = symbol.rsplit(['.', ':', '#']).next().unwrap_or(symbol);
    (!name.is_empty() && name.chars().any(char::is_alphabetic)).then_some(name)
}

/// Whether `chunk` defines the symbol `query` names (see [`symbol_name`]):
/// a definition (not an impl block, window, header or section) named so,
/// or whose qualified name is, or ends with, the query's path.
fn defines_symbol(chunk: &ChunkRecord, query: &str) -> bool {
    let Some(name) = symbol_name(query) else {
        return false;
    };
    let path = query.trim().trim_end_matches("()");
    let defining = names_a_definition(chunk);
    let qualified = &chunk.qualified_name;
    let path_matches = path == name
        || qualified == path
        || qualified
            .strip_suffix(path)
            .is_some_and(|scope| scope.ends_with(['.', ':', '#']));
    defining && chunk.name == name && path_matches
}

/// Whether `chunk`'s name is that of a definition: not an impl block (it
/// names the type it extends), a line window, a file's header or a section.
fn names_a_definition(chunk: &ChunkRecord) -> bool {
    !matches!(chunk.kind.as_str(), "impl" | "window" | "module-header" | "section")
}

/// The ranked lists search hands to [`page`].
pub(crate) struct Lanes<'a> {
    /// Vector lane: `(chunk id, cosine similarity)`, best first.
    pub vector: &'a [(String, f32)],
    /// Keyword lane: `(chunk id, BM25)`, best first.
    pub keyword: &'a [(String, f32)],
    /// Chunks named as the symbol query names (see [`symbol_name`]).
    pub definitions: &'a [String],
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

/// How far below the vector lane's last candidate [`fuse`] puts the zero
/// of its normalised cosines, as a share of the lane's range (best minus
/// last cosine): the last candidate keeps 0.3 / 1.3 = 23% of the best's
/// normalised score. Being among a lane's nearest few hundred chunks is
/// itself evidence, and BM25, normalised by its maximum, already leaves its
/// last candidate a share; with plain min-max the vector lane's last
/// candidate scored 0, as if the lane had not found it, and the lane's
/// spread outweighed keyword and path evidence. Measured on semble-dev and
/// the CSN sets (docs/benchmarks.md, "Ranking: the vector lane's floor"):
/// 0.3 gains 0.004-0.010 file NDCG@10 on three index builds for 0.003-0.006
/// CSN MRR@10; larger stretches gain little more there and cost CSN more.
const COSINE_FLOOR_STRETCH: f32 = 0.3;

/// Fuses two ranked id lists (best first) with weights, best first: each
/// lane's scores normalised over its candidates (cosine from a floor under
/// the last one, see [`COSINE_FLOOR_STRETCH`], to the best; BM25 over its
/// maximum), then weighed and summed.
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
    let cosine_floor = cosine_min - COSINE_FLOOR_STRETCH * (cosine_max - cosine_min);
    let bm25_max = keyword.iter().map(|(_, s)| *s).fold(0.0, f32::max);
    let normalised_cosine = |score: f32| {
        if cosine_max > cosine_min {
            (score - cosine_floor) / (cosine_max - cosine_floor)
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

/// Serialises a score rounded to 3 decimals: further digits mean nothing
/// and cost an agent tokens.
pub(crate) fn rounded<S: serde::Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((f64::from(*value) * 1000.0).round() / 1000.0)
}

/// [`rounded`], for an optional score.
pub(crate) fn rounded_option<S: serde::Serializer>(value: &Option<f32>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => rounded(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// Why a hit ranks where it does: the fused score of the lanes (the hit's
/// `vector_rank`/`keyword_rank` say which lanes found it), each code-aware
/// factor applied to it, and the evidence behind its calibrated `score`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Why {
    /// Fused score of the lanes (0-1), before the code-aware factors.
    #[serde(serialize_with = "rounded")]
    pub fused: f32,
    /// The score the page is ordered by: `fused` times every factor (may
    /// pass 1; relative to this query's candidates only).
    #[serde(serialize_with = "rounded")]
    pub rank_score: f32,
    /// Share (0-1) of the query's words (4+ letters) found in the chunk's
    /// code, name or path: one input of the calibrated `score`.
    #[serde(serialize_with = "rounded")]
    pub query_coverage: f32,
    /// The code-aware factors applied, in the order they were.
    pub factors: Vec<Factor>,
}

impl Why {
    /// Raises the rank score by `gain` (a share: 0.2 is +20%) and records
    /// it as `factor(1 + gain)`; no gain, no factor.
    fn gain(&mut self, gain: f32, factor: impl FnOnce(f32) -> Factor) {
        if gain > 0.0 {
            self.factors.push(factor(1.0 + gain));
            self.rank_score *= 1.0 + gain;
        }
    }
}

/// One code-aware adjustment of a hit's rank.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum Factor {
    /// A kind of file that rarely answers (test, example, docs ...):
    /// multiplied by `factor` (< 1).
    PathPrior {
        /// The kind of file.
        kind: PathKind,
        /// Its weight.
        #[serde(serialize_with = "rounded")]
        factor: f32,
    },
    /// Query words in the chunk's name or file name: multiplied by
    /// `factor` (> 1).
    NameMatch {
        /// 1 plus the gain.
        #[serde(serialize_with = "rounded")]
        factor: f32,
    },
    /// The query spells out the chunk's file name: multiplied by `factor`
    /// (> 1).
    FileName {
        /// 1 plus the gain.
        #[serde(serialize_with = "rounded")]
        factor: f32,
    },
    /// The chunk's file roots a module among the candidates (named after its
    /// directory, beside a directory of its name, a Rust `mod.rs`):
    /// multiplied by `factor` (> 1).
    ModuleRoot {
        /// 1 plus the gain.
        #[serde(serialize_with = "rounded")]
        factor: f32,
    },
    /// The query spells out the name of the definition, and the names of
    /// few other candidate definitions: multiplied by `factor` (> 1).
    NameSpelled {
        /// 1 plus the gain.
        #[serde(serialize_with = "rounded")]
        factor: f32,
    },
    /// Several candidates in the chunk's file: multiplied by `factor` (> 1).
    FileEvidence {
        /// 1 plus the gain.
        #[serde(serialize_with = "rounded")]
        factor: f32,
    },
    /// A further chunk of a file ranked higher already: multiplied by
    /// `factor` (< 1), so a page covers more files.
    Saturation {
        /// The decay for this chunk's place in its file.
        #[serde(serialize_with = "rounded")]
        factor: f32,
    },
    /// The chunk defines the symbol the query names: moved to the front.
    ExactSymbol,
    /// How close the query is to the chunk's whole file (the centroid of
    /// its chunk vectors) compared with the page's other candidates:
    /// multiplied by `factor` (around 1).
    FileVector {
        /// Cosine similarity of the query and the file's centroid.
        #[serde(serialize_with = "rounded")]
        cosine: f32,
        /// `exp(0.1 z)`, `z` the cosine standardised over the page's top.
        #[serde(serialize_with = "rounded")]
        factor: f32,
    },
}

/// A candidate on its way to the page.
struct Ranked {
    fused: Fused,
    chunk: ChunkRecord,
    why: Why,
}

/// Ranks the lanes' candidates for `request`: lane weights by mode, fusion
/// (definitions found by name alone join with a fused score of 0), one
/// candidate per definition (its best-ranked part), the code-aware factors,
/// the exact-symbol boost, then the best `limit` in rank order.
/// `chunks_by_id` holds the candidates the lanes returned (the ranking
/// columns suffice); [`calibrate`] scores the page once its rows are whole.
pub(crate) fn page(
    request: &SearchRequest,
    limit: usize,
    lanes: Lanes<'_>,
    mut chunks_by_id: HashMap<String, ChunkRecord>,
) -> Vec<SearchHit> {
    let (vector_weight, keyword_weight) = match request.mode {
        SearchMode::Hybrid => hybrid_weights(&request.text, request.keyword_weight),
        SearchMode::Vector => (1.0, 0.0),
        SearchMode::Keyword => (0.0, 1.0),
    };
    let mut fused = fuse(lanes.vector, lanes.keyword, vector_weight, keyword_weight);
    let found: HashSet<String> = fused.iter().map(|f| f.id.clone()).collect();
    fused.extend(
        lanes
            .definitions
            .iter()
            .filter(|id| !found.contains(*id))
            .map(|id| Fused {
                id: id.clone(),
                score: 0.0,
                vector: None,
                keyword: None,
            }),
    );
    let mut definitions = HashSet::new();
    let candidates: Vec<Ranked> = fused
        .into_iter()
        .filter_map(|fused| {
            let chunk = chunks_by_id.remove(&fused.id)?;
            let why = Why {
                fused: fused.score,
                rank_score: fused.score,
                ..Why::default()
            };
            definitions
                .insert(definition_key(&chunk).to_string())
                .then_some(Ranked { fused, chunk, why })
        })
        .collect();
    let stems = priors::query_stems(&request.text);
    code_aware(request, &stems, candidates)
        .into_iter()
        .take(limit)
        .map(|Ranked { fused, chunk, why }| SearchHit {
            score: 0.0,
            chunk,
            vector_rank: fused.vector.map(|h| h.rank),
            vector_score: fused.vector.map(|h| h.score),
            keyword_rank: fused.keyword.map(|h| h.rank),
            keyword_score: fused.keyword.map(|h| h.score),
            stale: false,
            why,
        })
        .collect()
}

/// Gives each hit of a [`page`] (its whole row read) its calibrated score
/// from its cosine and the share of query words in its code, name and path,
/// then keeps those at or above `request.min_score`, in page order.
pub(crate) fn calibrate(request: &SearchRequest, page: Vec<SearchHit>) -> Vec<SearchHit> {
    let stems = priors::query_stems(&request.text);
    let vector_lane_ran = request.mode != SearchMode::Keyword;
    page.into_iter()
        .map(|mut hit| {
            hit.why.query_coverage = calibration::query_coverage(&stems, &hit.chunk);
            hit.score = calibration::relevance(hit.why.query_coverage, hit.vector_score, vector_lane_ran);
            hit
        })
        .filter(|hit| hit.score >= request.min_score)
        .collect()
}

/// The candidates (one per definition) rescored by what their paths, names
/// and files say (see [`priors`]), best first: the fused score times the
/// path prior and the gains of identifier stems, file names, module roots
/// and definition names, then spread over files (file evidence,
/// saturation); each factor applied is recorded in the
/// candidate's [`Why`]. Outside vector mode, the definitions of the symbol
/// the query names lead (see [`defines_symbol`]) unless a path prior weighs
/// their file down (a test's mock of the trait, an old version's copy), and
/// a file's further chunks saturate in that order: a file's other chunks,
/// moved behind every definition, do not push its definitions down.
fn code_aware(request: &SearchRequest, stems: &[String], mut candidates: Vec<Ranked>) -> Vec<Ranked> {
    let tests_wanted = request.filter.tests == TestFilter::Only || stems.iter().any(|w| w.starts_with("test"));
    let file_name_words = priors::file_name_words(&request.text);
    let newest_versions = priors::newest_versions(candidates.iter().map(|c| c.chunk.file_path.as_str()));
    let candidate_dirs = priors::candidate_dirs(candidates.iter().map(|c| c.chunk.file_path.as_str()));
    // The share of each candidate definition's name the query spells out
    // (0 for other chunks): read by the gate, then as each one's gain.
    let name_shares: Vec<f32> = candidates
        .iter()
        .map(|c| {
            if names_a_definition(&c.chunk) {
                priors::share_spelled(&c.chunk.name, &file_name_words)
            } else {
                0.0
            }
        })
        .collect();
    let spelled_names_tell = priors::spelled_names_are_evidence(
        candidates
            .iter()
            .zip(&name_shares)
            .filter(|(_, share)| **share == 1.0)
            .map(|(c, _)| c.chunk.name.as_str()),
    );
    for (candidate, &name_share) in candidates.iter_mut().zip(&name_shares) {
        let why = &mut candidate.why;
        let path = candidate.chunk.file_path.as_str();
        let kind = priors::path_kind(path, stems, tests_wanted)
            .or_else(|| {
                (!tests_wanted && priors::in_test_module(&candidate.chunk.qualified_name)).then_some(PathKind::Test)
            })
            .or_else(|| priors::is_superseded(path, &newest_versions, &request.text).then_some(PathKind::Superseded));
        if let Some(kind) = kind {
            why.factors.push(Factor::PathPrior {
                kind,
                factor: kind.weight(),
            });
            why.rank_score *= kind.weight();
        }
        why.gain(priors::stem_gain(&candidate.chunk, stems), |factor| Factor::NameMatch {
            factor,
        });
        why.gain(priors::file_name_gain(path, &file_name_words), |factor| {
            Factor::FileName { factor }
        });
        // A file a path prior weighs down (a test or an example named after
        // its directory, say) roots nothing.
        if kind.is_none() {
            why.gain(priors::module_root_gain(path, &candidate_dirs), |factor| {
                Factor::ModuleRoot { factor }
            });
        }
        if spelled_names_tell {
            why.gain(priors::name_spelled_gain(name_share), |factor| Factor::NameSpelled {
                factor,
            });
        }
        // A test's stand-in or an old version's copy of the symbol does not
        // lead; it keeps its (weighed down) place.
        if request.mode != SearchMode::Vector && kind.is_none() && defines_symbol(&candidate.chunk, &request.text) {
            why.factors.push(Factor::ExactSymbol);
        }
    }
    let scored: Vec<(&str, bool, f32)> = candidates
        .iter()
        .map(|c| (c.chunk.file_path.as_str(), c.is_exact_symbol(), c.why.rank_score))
        .collect();
    let spread = priors::spread_over_files(&scored);
    for (candidate, (evidence, saturation)) in candidates.iter_mut().zip(spread) {
        let why = &mut candidate.why;
        if evidence != 1.0 {
            why.factors.push(Factor::FileEvidence { factor: evidence });
        }
        if saturation != 1.0 {
            why.factors.push(Factor::Saturation { factor: saturation });
        }
        why.rank_score *= evidence * saturation;
    }
    candidates.sort_by(|a, b| {
        b.is_exact_symbol()
            .cmp(&a.is_exact_symbol())
            .then_with(|| b.why.rank_score.total_cmp(&a.why.rank_score))
            .then_with(|| a.fused.id.cmp(&b.fused.id))
    });
    candidates
}

impl Ranked {
    /// Whether the candidate defines the symbol the query names (marked by
    /// [`code_aware`] with [`Factor::ExactSymbol`]).
    fn is_exact_symbol(&self) -> bool {
        self.why.factors.contains(&Factor::ExactSymbol)
    }
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

    /// A search for `text` with no filter, vector or threshold.
    fn request(text: &str, mode: SearchMode, limit: usize) -> SearchRequest {
        SearchRequest {
            text: text.into(),
            vector: None,
            mode,
            limit,
            filter: crate::SearchFilter::default(),
            exact: false,
            keyword_weight: None,
            min_score: 0.0,
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
    fn symbol_queries_name_what_to_look_up() {
        for (query, name) in [
            ("Transaction", "Transaction"),
            ("parse_config", "parse_config"),
            ("HttpClient.send", "send"),
            ("fmt::format", "format"),
            ("compute_total()", "compute_total"),
        ] {
            assert_eq!(symbol_name(query), Some(name), "{query}");
        }
        for query in ["parse the config", "a-b", "", "::", "42", "e.g. this"] {
            assert_eq!(symbol_name(query), None, "{query}");
        }
    }

    /// The dev set's miss: "Transaction" ranked the class four files down,
    /// behind `transactionScope` and `TransactionManagersContainer`.
    #[test]
    fn the_definition_a_symbol_query_names_leads() {
        let mut class = hit("Transaction", 0.0).chunk;
        class.kind = "class".into();
        let mut user = hit("transactionScope", 0.0).chunk;
        user.file_path = "src/TransactionScope.kt".into();
        let mut impl_block = hit("Transaction", 0.0).chunk;
        impl_block.chunk_id = "impl".into();
        impl_block.kind = "impl".into();
        let mut method = hit("send", 0.0).chunk;
        method.qualified_name = "net::HttpClient.send".into();
        assert!(defines_symbol(&class, "Transaction") && !defines_symbol(&class, "transaction"));
        assert!(
            !defines_symbol(&impl_block, "Transaction"),
            "an impl block uses the name"
        );
        assert!(defines_symbol(&method, "HttpClient.send") && defines_symbol(&method, "send"));
        assert!(!defines_symbol(&method, "Client.send"), "segments match whole");

        let request = request("Transaction", SearchMode::Keyword, 2);
        let chunks: HashMap<String, ChunkRecord> = [class, user, impl_block]
            .into_iter()
            .map(|c| (c.chunk_id.clone(), c))
            .collect();
        let keyword = lane(&["transactionScope", "impl"]);
        let lanes = Lanes {
            vector: &[],
            keyword: &keyword,
            definitions: &["Transaction".to_string(), "impl".to_string()],
        };
        let found = page(&request, 2, lanes, chunks);
        assert_eq!(found[0].chunk.chunk_id, "Transaction", "found by name alone, first");
        assert!(found[0].why.factors.contains(&Factor::ExactSymbol));
    }

    /// fmtlib's "formatter": `format.h` holds a window that mentions the
    /// name and, further down, a `struct formatter`; `std.h` holds another.
    /// Saturation used to count the window first, so `format.h`'s
    /// definition, moved behind no window but saturated by it, lost to
    /// `std.h`'s; a file's definitions now saturate before its other chunks.
    #[test]
    fn a_files_other_chunks_do_not_saturate_its_definitions() {
        let chunk = |id: &str, file: &str, kind: &str, name: &str| {
            let mut chunk = hit(id, 0.0).chunk;
            (chunk.file_path, chunk.kind, chunk.name, chunk.qualified_name) =
                (file.into(), kind.into(), name.into(), name.into());
            chunk
        };
        let chunks: HashMap<String, ChunkRecord> = [
            chunk("window", "include/format.h", "window", ""),
            chunk("format_def", "include/format.h", "struct", "formatter"),
            chunk("std_def", "include/std.h", "struct", "formatter"),
        ]
        .into_iter()
        .map(|c| (c.chunk_id.clone(), c))
        .collect();
        let request = request("formatter", SearchMode::Keyword, 3);
        // Ids missing from `chunks` stand for candidates of other files.
        let keyword = lane(&["window", "std_def", "other1", "other2", "format_def"]);
        let lanes = Lanes {
            vector: &[],
            keyword: &keyword,
            definitions: &[],
        };
        let found = page(&request, 3, lanes, chunks);
        let found: Vec<&str> = found.iter().map(|h| h.chunk.chunk_id.as_str()).collect();
        assert_eq!(found, ["format_def", "std_def", "window"]);
    }

    /// A description of one function lifts the definition it names; a
    /// question about an area spells out many generic names and lifts none
    /// (on freshly built semble-dev indexes that lift cost architecture
    /// questions 0.010).
    #[test]
    fn names_spelled_out_count_only_when_few_are() {
        let spelled = |query: &str, names: &[&str]| -> Vec<String> {
            let chunks: HashMap<String, ChunkRecord> = names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let mut chunk = hit(name, 0.0).chunk;
                    chunk.file_path = format!("src/file{i}.kt");
                    (chunk.chunk_id.clone(), chunk)
                })
                .collect();
            let keyword = lane(names);
            let lanes = Lanes {
                vector: &[],
                keyword: &keyword,
                definitions: &[],
            };
            page(
                &request(query, SearchMode::Hybrid, names.len()),
                names.len(),
                lanes,
                chunks,
            )
            .into_iter()
            .filter(|h| h.why.factors.iter().any(|f| matches!(f, Factor::NameSpelled { .. })))
            .map(|h| h.chunk.chunk_id)
            .collect()
        };
        assert_eq!(
            spelled("flatten nested iterables", &["chain", "flatten", "repeat"]),
            ["flatten"]
        );
        let area = "database connection configuration and dialect selection";
        let generic = ["Database", "connect", "DatabaseConfig", "dialect", "selectAll"];
        assert!(spelled(area, &generic).is_empty());
    }

    /// serde's "Serialize": the trait, found by name alone (no lane score),
    /// ranked behind a test's stand-in `trait Serialize {}` because both
    /// led and the stand-in had a lane score. A definition in a file the
    /// path priors weigh down does not lead.
    #[test]
    fn a_tests_stand_in_does_not_lead() {
        let chunk = |id: &str, file: &str| {
            let mut chunk = hit(id, 0.0).chunk;
            (chunk.file_path, chunk.kind, chunk.name, chunk.qualified_name) =
                (file.into(), "trait".into(), "Serialize".into(), "Serialize".into());
            chunk
        };
        let chunks: HashMap<String, ChunkRecord> = [
            chunk("stand_in", "test_suite/tests/test_serde_path.rs"),
            chunk("trait", "serde_core/src/ser/mod.rs"),
        ]
        .into_iter()
        .map(|c| (c.chunk_id.clone(), c))
        .collect();
        let request = request("Serialize", SearchMode::Hybrid, 2);
        let keyword = lane(&["stand_in"]);
        let lanes = Lanes {
            vector: &[],
            keyword: &keyword,
            definitions: &["trait".to_string(), "stand_in".to_string()],
        };
        let found = page(&request, 2, lanes, chunks);
        let found: Vec<(&str, bool)> = found
            .iter()
            .map(|h| (h.chunk.chunk_id.as_str(), h.why.factors.contains(&Factor::ExactSymbol)))
            .collect();
        assert_eq!(found, [("trait", true), ("stand_in", false)]);

        // Asked for tests, the stand-in leads again.
        let chunks: HashMap<String, ChunkRecord> = [chunk("stand_in", "test_suite/tests/test_serde_path.rs")]
            .into_iter()
            .map(|c| (c.chunk_id.clone(), c))
            .collect();
        let tests_only = SearchRequest {
            filter: crate::SearchFilter {
                tests: TestFilter::Only,
                ..crate::SearchFilter::default()
            },
            ..request
        };
        let lanes = Lanes {
            vector: &[],
            keyword: &keyword,
            definitions: &[],
        };
        assert!(
            page(&tests_only, 1, lanes, chunks)[0]
                .why
                .factors
                .contains(&Factor::ExactSymbol)
        );
    }

    #[test]
    fn a_module_root_gains_unless_a_path_prior_weighs_it_down() {
        let files = [
            ("root", "src/engine.rs"),
            ("part", "src/engine/part.rs"),
            ("tests", "tests/tests.rs"),
            ("helper", "tests/helper.rs"),
        ];
        let chunks = || -> HashMap<String, ChunkRecord> {
            files
                .iter()
                .map(|(id, file)| {
                    let mut chunk = hit(id, 0.0).chunk;
                    chunk.file_path = file.to_string();
                    (chunk.chunk_id.clone(), chunk)
                })
                .collect()
        };
        let keyword = lane(&["root", "part", "tests", "helper"]);
        let lanes = || Lanes {
            vector: &[],
            keyword: &keyword,
            definitions: &[],
        };
        let roots = |request: &SearchRequest| -> Vec<String> {
            let mut roots: Vec<String> = page(request, 4, lanes(), chunks())
                .into_iter()
                .filter(|h| h.why.factors.iter().any(|f| matches!(f, Factor::ModuleRoot { .. })))
                .map(|h| h.chunk.chunk_id)
                .collect();
            roots.sort();
            roots
        };
        let request = request("engine", SearchMode::Hybrid, 4);
        assert_eq!(
            roots(&request),
            ["root"],
            "a test named after its directory roots nothing"
        );
        // Asked for tests, the test directory's root is one too.
        let tests_only = SearchRequest {
            filter: crate::SearchFilter {
                tests: TestFilter::Only,
                ..crate::SearchFilter::default()
            },
            ..request
        };
        assert_eq!(roots(&tests_only), ["root", "tests"]);
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

    /// With plain min-max the vector lane's last candidate scored 0, the
    /// same as a chunk the lane never found; it keeps a share now, as the
    /// keyword lane's last candidate always did (BM25 over its maximum).
    #[test]
    fn the_vector_lanes_last_candidate_keeps_a_share() {
        let vector = vec![("a".to_string(), 0.8), ("b".to_string(), 0.6), ("c".to_string(), 0.4)];
        let keyword = vec![("b".to_string(), 2.0), ("k".to_string(), 1.0), ("c".to_string(), 1.0)];
        let fused = fuse(&vector, &keyword, 1.0, 1.0);
        let score = |id: &str| fused.iter().find(|f| f.id == id).unwrap().score;
        let share = COSINE_FLOOR_STRETCH / (1.0 + COSINE_FLOOR_STRETCH);
        assert!((score("c") - (share + 0.5) / 2.0).abs() < 1e-6, "{fused:?}");
        // Equal keyword evidence: the chunk the vector lane also found,
        // though last there, leads the one it did not find (a tie before).
        assert!(score("c") > score("k"), "{fused:?}");
        // The lane's order and its best candidate's score are as before.
        assert_eq!(score("a"), 0.5);
        assert!(score("b") > score("c"));
        // One vector candidate (no range) counts in full.
        let single = fuse(&vector[..1], &[], 1.0, 0.0);
        assert_eq!(single[0].score, 1.0);
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
            why: Why::default(),
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
        let request = request("retry with exponential backoff", SearchMode::Vector, 3);
        let by_id = || chunks.iter().map(|c| (c.chunk_id.clone(), c.clone())).collect();
        let vector_only = |ids: &[&str]| (lane(ids), Vec::new());
        let run = |lane: &(Vec<(String, f32)>, Vec<String>), limit| {
            let lanes = Lanes {
                vector: &lane.0,
                keyword: &[],
                definitions: &lane.1,
            };
            page(&request, limit, lanes, by_id())
        };
        let found = run(&vector_only(&ids), 3);
        let found: Vec<&str> = found.iter().map(|h| h.chunk.chunk_id.as_str()).collect();
        assert_eq!(found, ["retry#2", "backoff_delay", "jitter"]);

        let merged = merge([run(&vector_only(&ids), 7), run(&vector_only(&ids[2..]), 7)], 10);
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
