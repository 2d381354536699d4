//! Code-aware adjustments of fused scores: what a chunk's path, its name
//! and its file's other candidates say about it beyond the two lanes.
//!
//! * Path priors: tests, examples, benchmarks, docs, vendored and legacy
//!   code, re-export files and type declarations rarely answer a question
//!   about how the code works; a query that asks for them (or a test-only
//!   search) keeps them whole.
//! * Identifier stems: query words (4+ letters) found among the parts of
//!   the chunk's name or its file's name (`handleRequest`, `handle_request`,
//!   `request_handler.go`) raise it.
//! * File evidence: a file with several candidates is a likelier answer.
//! * Saturation: each further chunk of a file already ranked counts half,
//!   so a page covers more files.
//!
//! The factors follow the published design of semble's ranker (reciprocal
//! ranks aside); their values were checked on the semble-dev set and the
//! CSN dev sets (docs/benchmarks.md). Saturation is milder than semble's
//! 0.5: at 0.5 the docstring-to-function sets lost a tenth of their MRR
//! (the answer is often a second function of the top hit's file).

use std::collections::HashMap;

use crate::schema::ChunkRecord;

/// Weight of a test, example, benchmark, vendored or legacy file.
const AUXILIARY_PATH: f32 = 0.3;
/// Weight of documentation (Markdown, reStructuredText, text).
const DOCUMENTATION: f32 = 0.5;
/// Weight of a re-export file (`__init__.py`, `package-info.java`).
const RE_EXPORT: f32 = 0.5;
/// Weight of a TypeScript declaration file (`.d.ts`).
const DECLARATIONS: f32 = 0.7;
/// Most a chunk gains when every query stem is in its name or file name.
const STEM_GAIN: f32 = 0.3;
/// Gain of every candidate of a file with several candidates.
const FILE_EVIDENCE_GAIN: f32 = 0.2;
/// Factor of each further chunk of a file already ranked.
const SATURATION: f32 = 0.8;

/// Words of a question that say nothing about the code.
const STOPWORDS: &[&str] = &[
    "about", "after", "also", "does", "done", "each", "from", "have", "into", "make", "more", "only", "other", "over",
    "same", "some", "such", "than", "that", "them", "then", "there", "these", "they", "this", "what", "when", "where",
    "which", "while", "will", "with", "work", "works", "would", "your",
];

/// The weight of a chunk of `path` for `query`: 1 for ordinary source,
/// less for the kinds of files that rarely answer (see the module docs);
/// `tests_wanted` (a test-only search, or a query about tests) keeps tests
/// whole.
pub(crate) fn path_prior(path: &str, query_words: &[String], tests_wanted: bool) -> f32 {
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split('/').collect();
    let file = segments.last().copied().unwrap_or_default();
    let dirs = &segments[..segments.len().saturating_sub(1)];
    let in_dir = |names: &[&str]| dirs.iter().any(|d| names.contains(d));
    let asked = |words: &[&str]| query_words.iter().any(|w| words.iter().any(|x| w.starts_with(x)));
    if is_test_path(path) && !tests_wanted {
        return AUXILIARY_PATH;
    }
    if in_dir(&["examples", "example", "samples", "sample", "demo", "demos"]) && !asked(&["example", "sample", "demo"])
    {
        return AUXILIARY_PATH;
    }
    if in_dir(&["benches", "benchmarks", "benchmark", "bench"]) && !asked(&["bench"]) {
        return AUXILIARY_PATH;
    }
    if in_dir(&["vendor", "third_party", "thirdparty", "compat", "legacy", "deprecated"]) {
        return AUXILIARY_PATH;
    }
    if [".md", ".mdx", ".rst", ".txt", ".adoc"]
        .iter()
        .any(|ext| file.ends_with(ext))
        && !asked(&["doc", "readme"])
    {
        return DOCUMENTATION;
    }
    if file == "__init__.py" || file == "package-info.java" {
        return RE_EXPORT;
    }
    if file.ends_with(".d.ts") {
        return DECLARATIONS;
    }
    1.0
}

/// Whether a path looks like test code: a `test`/`tests`/`__tests__`/
/// `spec` directory, or a test file name (`test_x.py`, `x_test.go`,
/// `x.test.ts`, `x.spec.js`, `x_spec.rb`, `XTest.java`, `XTests.cs`).
/// The same rule as the `tests_only` filter's SQL (`filter.rs`).
pub(crate) fn is_test_path(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    let Some((file, dirs)) = segments.split_last() else {
        return false;
    };
    let stem = file.split('.').next().unwrap_or(file);
    dirs.iter().any(|d| {
        matches!(
            d.to_ascii_lowercase().as_str(),
            "test" | "tests" | "__tests__" | "spec" | "specs"
        )
    }) || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_spec")
        || (stem.len() > 4 && (stem.ends_with("Test") || stem.ends_with("Tests")))
        || file.contains(".test.")
        || file.contains(".spec.")
}

/// The words of a query worth matching against identifiers: lower case,
/// 4 letters or more, not a stopword.
pub(crate) fn query_stems(query: &str) -> Vec<String> {
    let mut words: Vec<String> = identifier_parts(query)
        .into_iter()
        .filter(|w| w.len() >= 4 && !STOPWORDS.contains(&w.as_str()))
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Lower-cased parts of identifiers in `text`: split on anything that is
/// not a letter or digit, and on camelCase humps (`parseHTTPRequest` ->
/// parse, http, request).
fn identifier_parts(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for token in text.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<char> = token.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let hump = chars[i].is_uppercase()
                && (chars[i - 1].is_lowercase() || chars.get(i + 1).is_some_and(|c| c.is_lowercase()));
            if hump && i > start {
                parts.push(chars[start..i].iter().collect::<String>().to_lowercase());
                start = i;
            }
        }
        if start < chars.len() {
            parts.push(chars[start..].iter().collect::<String>().to_lowercase());
        }
    }
    parts
}

/// The gain of a chunk whose name or file name holds query stems: up to
/// [`STEM_GAIN`] when all of them are there. A stem matches a part that
/// starts with it or that it starts with (both 4+ letters): `handler`
/// matches `handle`, `requests` matches `request`.
pub(crate) fn stem_gain(chunk: &ChunkRecord, stems: &[String]) -> f32 {
    if stems.is_empty() {
        return 0.0;
    }
    let file = chunk.file_path.rsplit('/').next().unwrap_or_default();
    let mut parts = identifier_parts(&chunk.qualified_name);
    parts.extend(identifier_parts(file.split('.').next().unwrap_or(file)));
    let matched = stems
        .iter()
        .filter(|stem| {
            parts
                .iter()
                .any(|part| part.len() >= 4 && (part.starts_with(stem.as_str()) || stem.starts_with(part.as_str())))
        })
        .count();
    STEM_GAIN * matched as f32 / stems.len() as f32
}

/// Applies file evidence and saturation to `scored` (chunk file path and
/// score, in any order): a file with several candidates gains
/// [`FILE_EVIDENCE_GAIN`] on each, and the k-th best chunk of a file counts
/// [`SATURATION`]^k. Returns the adjusted scores, in `scored`'s order.
pub(crate) fn spread_over_files(scored: &[(&str, f32)]) -> Vec<f32> {
    let mut per_file: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, (file, _)) in scored.iter().enumerate() {
        per_file.entry(file).or_default().push(index);
    }
    let mut adjusted: Vec<f32> = scored.iter().map(|(_, score)| *score).collect();
    for indices in per_file.values_mut() {
        let evidence = if indices.len() > 1 {
            1.0 + FILE_EVIDENCE_GAIN
        } else {
            1.0
        };
        indices.sort_by(|&a, &b| scored[b].1.total_cmp(&scored[a].1));
        for (k, &index) in indices.iter().enumerate() {
            adjusted[index] = scored[index].1 * evidence * SATURATION.powi(k as i32);
        }
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_examples_docs_and_re_exports_weigh_less_unless_asked_for() {
        let words = |q: &str| query_stems(q);
        assert_eq!(path_prior("src/router.rs", &words("route a request"), false), 1.0);
        for path in [
            "tests/router.rs",
            "pkg/router_test.go",
            "web/a.test.ts",
            "src/test/java/RouterTest.java",
        ] {
            assert_eq!(
                path_prior(path, &words("route a request"), false),
                AUXILIARY_PATH,
                "{path}"
            );
            assert_eq!(path_prior(path, &words("route a request"), true), 1.0, "{path}");
        }
        assert_eq!(
            path_prior("examples/basic.py", &words("route a request"), false),
            AUXILIARY_PATH
        );
        assert_eq!(
            path_prior("examples/basic.py", &words("an example of routing"), false),
            1.0
        );
        assert_eq!(
            path_prior("docs/guide.md", &words("route a request"), false),
            DOCUMENTATION
        );
        assert_eq!(
            path_prior("pkg/__init__.py", &words("route a request"), false),
            RE_EXPORT
        );
        assert_eq!(
            path_prior("types/index.d.ts", &words("route a request"), false),
            DECLARATIONS
        );
        assert!(!is_test_path("src/latest.rs") && !is_test_path("src/contest.rs"));
        assert!(is_test_path("Tests/AlamofireTests/SessionTests.swift") && is_test_path("FooTests.cs"));
    }

    #[test]
    fn identifiers_split_on_case_and_separators() {
        assert_eq!(identifier_parts("parseHTTPRequest"), ["parse", "http", "request"]);
        assert_eq!(identifier_parts("request_handler.go"), ["request", "handler", "go"]);
        assert_eq!(
            query_stems("How does the router handle middleware?"),
            ["handle", "middleware", "router"]
        );
    }

    #[test]
    fn a_file_is_spread_over_the_page() {
        let adjusted = spread_over_files(&[("a.rs", 1.0), ("a.rs", 0.7), ("b.rs", 0.8), ("a.rs", 0.6)]);
        assert!(
            adjusted[2] > adjusted[1],
            "b's only chunk beats a's second: {adjusted:?}"
        );
        assert!(adjusted[0] > 1.0, "a has several candidates: {adjusted:?}");
    }
}
