//! File-level vector evidence: how close the query is to what a whole file
//! is about, beyond the one chunk a lane found.
//!
//! Questions about an area ("how are database dialects chosen") ask for a
//! file, while the lanes rank chunks: a helper that happens to share the
//! question's words can outrank the file that is about the subject. A
//! file's centroid (the normalised mean of all its chunk vectors) says
//! what the file is about as a whole. Each candidate on the top of the
//! page is weighed by its file's centroid cosine, standardised over those
//! candidates (`z`): multiplied by `exp(STRENGTH * z)`, so a file that is
//! about the query more than its neighbours on the page gains a little
//! and one that is about it less loses a little, whatever the query's
//! cosine scale. Measured on semble-dev and the CSN sets
//! (docs/benchmarks.md, "Ranking: a file-level vector"): stronger
//! settings lose, because a large file's centroid blurs what it is about.

use std::collections::HashMap;

use crate::search::SearchHit;

use super::Factor;

/// How many of the best candidates the factor reorders (and standardises
/// over): deep enough to lift a file from below the first page, shallow
/// enough that the few files it reads vectors for stay cheap to read.
pub(crate) const POOL: usize = 50;

/// `b` in the factor `exp(b * z)`: 0.05-0.1 gained on every index build
/// measured, 0.2 lost.
const STRENGTH: f32 = 0.1;

/// Each file's centroid, the normalised mean of its chunk vectors, from
/// `(file path, chunk vector)` pairs. A file whose vectors sum to zero gets
/// none.
pub(crate) fn centroids<'a>(
    chunk_vectors: impl IntoIterator<Item = (&'a str, &'a [f32])>,
) -> HashMap<String, Vec<f32>> {
    let mut sums: HashMap<&str, Vec<f32>> = HashMap::new();
    for (path, vector) in chunk_vectors {
        let sum = sums.entry(path).or_insert_with(|| vec![0.0; vector.len()]);
        for (total, value) in sum.iter_mut().zip(vector) {
            *total += value;
        }
    }
    sums.into_iter()
        .filter_map(|(path, mut sum)| {
            let length = norm(&sum);
            (length > 0.0).then(|| {
                sum.iter_mut().for_each(|value| *value /= length);
                (path.to_string(), sum)
            })
        })
        .collect()
}

/// The cosine of `query` and a (normalised) `centroid`; 0 for a zero query.
pub(crate) fn cosine(query: &[f32], centroid: &[f32]) -> f32 {
    let length = norm(query);
    if length == 0.0 {
        return 0.0;
    }
    query.iter().zip(centroid).map(|(a, b)| a * b).sum::<f32>() / length
}

fn norm(vector: &[f32]) -> f32 {
    vector.iter().map(|v| v * v).sum::<f32>().sqrt()
}

/// Weighs the first [`POOL`] hits of `page` (in rank order) by their
/// files' centroid cosines (`cosines`, see [`centroids`], [`cosine`]) and
/// re-sorts them: the definitions of a queried symbol stay in front, in
/// their order, the rest by the new rank score. The mean and spread are
/// taken over the pool's hits whose file has a centroid (a file with
/// several hits counts once per hit); hits whose file has none keep their
/// score. Records [`Factor::FileVector`] on each hit it weighs.
pub(crate) fn weigh(page: &mut [SearchHit], cosines: &HashMap<String, f32>) {
    let pool = page.len().min(POOL);
    let page = &mut page[..pool];
    let known: Vec<f32> = page
        .iter()
        .filter_map(|hit| cosines.get(&hit.chunk.file_path).copied())
        .collect();
    if known.len() < 2 {
        return;
    }
    let mean = known.iter().sum::<f32>() / known.len() as f32;
    let spread = (known.iter().map(|c| (c - mean).powi(2)).sum::<f32>() / known.len() as f32).sqrt();
    if spread <= f32::EPSILON {
        return;
    }
    for hit in page.iter_mut() {
        if let Some(&cosine) = cosines.get(&hit.chunk.file_path) {
            let factor = (STRENGTH * (cosine - mean) / spread).exp();
            hit.why.factors.push(Factor::FileVector { cosine, factor });
            hit.why.rank_score *= factor;
        }
    }
    let leading = page
        .iter()
        .take_while(|hit| hit.why.factors.contains(&Factor::ExactSymbol))
        .count();
    page[leading..].sort_by(|a, b| b.why.rank_score.total_cmp(&a.why.rank_score));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::Why;
    use crate::schema::ChunkRecord;

    fn hit(path: &str, rank_score: f32, exact: bool) -> SearchHit {
        let mut hit = SearchHit::unranked(ChunkRecord {
            chunk_id: format!("{path}:{rank_score}"),
            file_path: path.into(),
            ..ChunkRecord::default()
        });
        hit.why = Why {
            rank_score,
            factors: if exact { vec![Factor::ExactSymbol] } else { Vec::new() },
            ..Why::default()
        };
        hit
    }

    fn order(page: &[SearchHit]) -> Vec<&str> {
        page.iter().map(|hit| hit.chunk.chunk_id.as_str()).collect()
    }

    #[test]
    fn a_centroid_is_the_normalised_mean_of_all_a_files_vectors() {
        let vectors = [
            ("a.rs", [1.0, 0.0]),
            ("a.rs", [0.0, 1.0]),
            ("b.rs", [0.0, 2.0]),
            ("z.rs", [0.0, 0.0]),
        ];
        let centroids = centroids(vectors.iter().map(|(p, v)| (*p, v.as_slice())));
        let half = std::f32::consts::FRAC_1_SQRT_2;
        assert_eq!(centroids["b.rs"], [0.0, 1.0]);
        assert!((cosine(&[0.0, 3.0], &centroids["a.rs"]) - half).abs() < 1e-6);
        assert!((cosine(&[0.0, 3.0], &centroids["b.rs"]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &centroids["b.rs"]), 0.0);
        assert!(!centroids.contains_key("z.rs"), "a zero centroid says nothing");
    }

    #[test]
    fn a_file_about_the_query_overtakes_a_near_tie_and_not_a_clear_lead() {
        let cosines = HashMap::from([("about.rs".to_string(), 0.6), ("helper.rs".to_string(), 0.2)]);
        let mut page = vec![hit("helper.rs", 1.0, false), hit("about.rs", 0.95, false)];
        weigh(&mut page, &cosines);
        assert_eq!(order(&page), ["about.rs:0.95", "helper.rs:1"]);
        assert!(matches!(page[0].why.factors[..], [Factor::FileVector { factor, .. }] if factor > 1.0));

        let mut page = vec![hit("helper.rs", 1.0, false), hit("about.rs", 0.5, false)];
        weigh(&mut page, &cosines);
        assert_eq!(order(&page), ["helper.rs:1", "about.rs:0.5"], "a nudge, not a verdict");
    }

    #[test]
    fn definitions_of_the_queried_symbol_stay_in_front() {
        let cosines = HashMap::from([("def.rs".to_string(), 0.1), ("about.rs".to_string(), 0.9)]);
        let mut page = vec![hit("def.rs", 0.2, true), hit("about.rs", 1.0, false)];
        weigh(&mut page, &cosines);
        assert_eq!(order(&page), ["def.rs:0.2", "about.rs:1"]);
    }

    #[test]
    fn files_without_vectors_and_pages_without_spread_keep_their_scores() {
        let cosines = HashMap::from([("a.rs".to_string(), 0.5), ("b.rs".to_string(), 0.5)]);
        let mut page = vec![
            hit("pending.rs", 1.0, false),
            hit("a.rs", 0.9, false),
            hit("b.rs", 0.8, false),
        ];
        weigh(&mut page, &cosines);
        assert_eq!(order(&page), ["pending.rs:1", "a.rs:0.9", "b.rs:0.8"]);
        assert!(
            page.iter().all(|hit| hit.why.factors.is_empty()),
            "equal centroids: no evidence"
        );

        let cosines = HashMap::from([("a.rs".to_string(), 0.1), ("b.rs".to_string(), 0.9)]);
        let mut page = vec![
            hit("pending.rs", 1.0, false),
            hit("a.rs", 0.9, false),
            hit("b.rs", 0.85, false),
        ];
        weigh(&mut page, &cosines);
        assert_eq!(order(&page), ["pending.rs:1", "b.rs:0.85", "a.rs:0.9"]);
        assert!(page[0].why.factors.is_empty());
    }

    #[test]
    fn only_the_pool_is_reordered() {
        let cosines: HashMap<String, f32> = (0..=POOL)
            .map(|i| (format!("{i}.rs"), i as f32 / POOL as f32))
            .collect();
        let mut page: Vec<SearchHit> = (0..=POOL)
            .map(|i| hit(&format!("{i}.rs"), 1.0 - i as f32 * 1e-4, false))
            .collect();
        weigh(&mut page, &cosines);
        assert_eq!(
            page[0].chunk.file_path,
            format!("{}.rs", POOL - 1),
            "the pool's best centroid leads"
        );
        assert_eq!(
            page[POOL].chunk.file_path,
            format!("{POOL}.rs"),
            "beyond the pool: untouched"
        );
        assert!(page[POOL].why.factors.is_empty());
    }
}
