//! Code-aware adjustments of fused scores: what a chunk's path, its name
//! and its file's other candidates say about it beyond the two lanes.
//!
//! * Path priors: tests, examples, benchmarks, docs, vendored and legacy
//!   code, older version directories (`v3/` beside `v4/`), re-export files
//!   and type declarations rarely answer a question about how the code
//!   works; a query that asks for them (or a test-only search) keeps them
//!   whole.
//! * Identifier stems: query words (4+ letters) found among the parts of
//!   the chunk's name or its file's name (`handleRequest`, `handle_request`,
//!   `request_handler.go`) raise it.
//! * File names: a file whose name the query spells out (`Transaction.kt`
//!   for "Transaction", `InsertStatement.kt` for "insert statements") is
//!   the likely home of what is asked; the share of the name's parts found
//!   among the query's words raises its chunks.
//! * Module roots: the file that roots a module among the candidates
//!   (`gson/Gson.java`, `ecto/query.ex` beside `ecto/query/`, Rust's
//!   `de.rs` or `de/mod.rs`) holds the module's public types, traits and
//!   docs, where questions about the module's area land.
//! * Definition names: a definition whose own name the query spells out
//!   (`fuse` for "fuse vector and keyword results") is likely what a
//!   description of one function describes.
//! * File evidence: a file with several candidates is a likelier answer,
//!   the more of its chunks are candidates the likelier.
//! * Saturation: each further chunk of a file already ranked counts less,
//!   so a page covers more files.
//!
//! The path priors, stems and saturation follow the published design of
//! semble's ranker (reciprocal ranks aside); file and definition names,
//! module roots and graded file evidence are ours. Values were tuned on
//! the semble-dev set and checked on the CSN dev sets (docs/benchmarks.md
//! has the ablation).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::schema::ChunkRecord;

/// A kind of file that rarely answers a question about how the code works,
/// and its weight (see [`PathKind::weight`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// Test code (see [`is_test_path`] and [`in_test_module`]).
    Test,
    /// An example, sample or demo.
    Example,
    /// A benchmark.
    Benchmark,
    /// Vendored, compatibility, legacy or deprecated code.
    Vendored,
    /// An older version directory beside a newer one among the candidates
    /// (`v3/` when `v4/` is there too), unless the query names it.
    Superseded,
    /// Documentation (Markdown, reStructuredText, text).
    Documentation,
    /// A re-export file (`__init__.py`, `package-info.java`).
    ReExport,
    /// A TypeScript declaration file (`.d.ts`).
    Declarations,
}

impl PathKind {
    /// The factor applied to a chunk of such a file: 0.3 for tests,
    /// examples, benchmarks, vendored and superseded code, 0.5 for
    /// documentation and re-exports, 0.7 for declarations.
    pub fn weight(self) -> f32 {
        match self {
            PathKind::Test | PathKind::Example | PathKind::Benchmark | PathKind::Vendored | PathKind::Superseded => 0.3,
            PathKind::Documentation | PathKind::ReExport => 0.5,
            PathKind::Declarations => 0.7,
        }
    }
}

/// Most a chunk gains when every query stem is in its name or file name.
const STEM_GAIN: f32 = 0.3;
/// Most a chunk gains when every part of its file's name is a query word.
const FILE_NAME_GAIN: f32 = 0.4;
/// What a chunk of a module's root file gains (see [`module_root_gain`]).
const MODULE_ROOT_GAIN: f32 = 0.2;
/// Most a definition gains when every part of its own name is a query word.
const NAME_SPELLED_GAIN: f32 = 0.3;
/// Most distinct definition names among a search's candidates the query may
/// spell out in full for those names to count as evidence.
const NAME_SPELLED_MAX_NAMES: usize = 3;
/// Most gain of every candidate of a file with several candidates, reached
/// at [`FILE_EVIDENCE_COUNT`] further candidates.
const FILE_EVIDENCE_GAIN: f32 = 0.8;
/// Further candidates of a file after which its evidence stops growing.
const FILE_EVIDENCE_COUNT: usize = 4;
/// Factor of each further chunk of a file already ranked.
const SATURATION: f32 = 0.7;

/// Words of a question that say nothing about the code.
const STOPWORDS: &[&str] = &[
    "all", "and", "any", "are", "can", "for", "has", "how", "its", "not", "one", "the", "use", "via", "was", "who",
    "why", "about", "after", "also", "does", "done", "each", "from", "have", "into", "make", "more", "only", "other",
    "over", "same", "some", "such", "than", "that", "them", "then", "there", "these", "they", "this", "what", "when",
    "where", "which", "while", "will", "with", "work", "works", "would", "your",
];

/// The kind of file `path` is, if it is one that rarely answers (see the
/// module docs) and the query does not ask for it: `query_words` naming
/// examples, benchmarks or docs, or `tests_wanted` (a test-only search, or
/// a query about tests), keep those whole. `None`: ordinary source.
pub(crate) fn path_kind(path: &str, query_words: &[String], tests_wanted: bool) -> Option<PathKind> {
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split('/').collect();
    let file = segments.last().copied().unwrap_or_default();
    let dirs = &segments[..segments.len().saturating_sub(1)];
    let in_dir = |names: &[&str]| dirs.iter().any(|d| names.contains(d));
    let asked = |words: &[&str]| query_words.iter().any(|w| words.iter().any(|x| w.starts_with(x)));
    if is_test_path(path) && !tests_wanted {
        return Some(PathKind::Test);
    }
    if in_dir(&["examples", "example", "samples", "sample", "demo", "demos"]) && !asked(&["example", "sample", "demo"])
    {
        return Some(PathKind::Example);
    }
    if in_dir(&["benches", "benchmarks", "benchmark", "bench"]) && !asked(&["bench"]) {
        return Some(PathKind::Benchmark);
    }
    if in_dir(&["vendor", "third_party", "thirdparty", "compat", "legacy", "deprecated"]) {
        return Some(PathKind::Vendored);
    }
    if [".md", ".mdx", ".rst", ".txt", ".adoc"]
        .iter()
        .any(|ext| file.ends_with(ext))
        && !asked(&["doc", "readme"])
    {
        return Some(PathKind::Documentation);
    }
    if file == "__init__.py" || file == "package-info.java" {
        return Some(PathKind::ReExport);
    }
    file.ends_with(".d.ts").then_some(PathKind::Declarations)
}

/// The newest version directory (`v4`) under each parent directory among
/// `paths`, keyed by the parent (`""` at the root): what makes an older
/// sibling ([`is_superseded`]) older.
pub(crate) fn newest_versions<'a>(paths: impl Iterator<Item = &'a str>) -> HashMap<String, u32> {
    let mut newest: HashMap<String, u32> = HashMap::new();
    for path in paths {
        for (parent, version) in version_dirs(path) {
            let entry = newest.entry(parent.to_string()).or_insert(version);
            *entry = (*entry).max(version);
        }
    }
    newest
}

/// Whether `path` lies in a version directory older than the newest one
/// beside it ([`newest_versions`]), and `query` does not name that version
/// (`v3` in "v3 compatibility errors").
pub(crate) fn is_superseded(path: &str, newest: &HashMap<String, u32>, query: &str) -> bool {
    version_dirs(path).any(|(parent, version)| {
        newest.get(parent).is_some_and(|&n| version < n) && {
            let named = format!("v{version}");
            !query
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|word| word.eq_ignore_ascii_case(&named))
        }
    })
}

/// The version directories (`v<digits>`) on `path`, each with its parent
/// (the path before it).
fn version_dirs(path: &str) -> impl Iterator<Item = (&str, u32)> {
    // Each `/` ends a directory name.
    path.match_indices('/').filter_map(move |(end, _)| {
        let start = path[..end].rfind('/').map_or(0, |slash| slash + 1);
        let digits = path[start..end].strip_prefix('v')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((&path[..start.saturating_sub(1)], digits.parse().ok()?))
    })
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
    let stem = file_stem(file);
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

/// Whether a chunk sits in an inline test module: a `tests` or `test`
/// scope in its qualified name (Rust's `#[cfg(test)] mod tests` beside the
/// code it tests), the test filter's rule for chunks (`filter.rs`).
pub(crate) fn in_test_module(qualified_name: &str) -> bool {
    let mut scopes: Vec<&str> = qualified_name.split("::").collect();
    scopes.pop();
    scopes.iter().any(|scope| matches!(*scope, "tests" | "test"))
}

/// The words of a query worth matching against identifiers: lower case,
/// 4 letters or more, not a stopword.
pub(crate) fn query_stems(query: &str) -> Vec<String> {
    query_words(query, 4)
}

/// The query's words of `min_len` letters or more, lower case, without
/// stopwords, sorted and deduplicated.
fn query_words(query: &str, min_len: usize) -> Vec<String> {
    let mut words: Vec<String> = identifier_parts(query)
        .into_iter()
        .filter(|w| w.len() >= min_len && !STOPWORDS.contains(&w.as_str()))
        .collect();
    words.sort();
    words.dedup();
    words
}

/// The query's words a file name is matched against (see
/// [`file_name_gain`]): 3+ letters, lower case, no stopwords. Computed once
/// per search, not per candidate.
pub(crate) fn file_name_words(query: &str) -> Vec<String> {
    query_words(query, 3)
}

/// The gain of a chunk whose file name the query spells out: up to
/// [`FILE_NAME_GAIN`] when every part of the name (before its first `.`) is
/// one of `words` (the query's, from [`file_name_words`]; matched as
/// [`share_spelled`] does: `api.ts` for "public API", `statement` for
/// "statements").
pub(crate) fn file_name_gain(path: &str, words: &[String]) -> f32 {
    FILE_NAME_GAIN * share_spelled(file_stem(path), words)
}

/// The name of the file at `path` up to its first `.` (`client_ws` for
/// `aiohttp/client_ws.py`, `index` for `src/index.test.ts`; empty for a
/// dotfile): what the file-name rules match.
fn file_stem(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.split('.').next().unwrap_or(file)
}

/// The directories holding `paths`, every ancestor of each, in ASCII lower
/// case and without a trailing `/` (`a/b/c.rs` gives `a` and `a/b`): what
/// [`module_root_gain`] looks for a file's module directory in. Computed once
/// per search over its candidates' paths.
pub(crate) fn candidate_dirs<'a>(paths: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
    let mut dirs = HashSet::new();
    for path in paths {
        let lower = path.to_ascii_lowercase();
        for (end, _) in lower.match_indices('/') {
            dirs.insert(lower[..end].to_string());
        }
    }
    dirs
}

/// The gain of a chunk whose file roots a module among the candidates
/// ([`MODULE_ROOT_GAIN`], else 0): a file named after its directory
/// (`gson/Gson.java`, `cobra/cobra.go`), a file beside a directory of its
/// name that holds other candidates (`ecto/query.ex` and `ecto/query/`,
/// `src/de.rs` and `src/de/`; `dirs` from [`candidate_dirs`]), or a Rust
/// `mod.rs`. Names compare without ASCII case and up to the file name's
/// first `.` (`webpack/webpack.config.js` roots `webpack/`; a dotfile's
/// empty stem names nothing).
pub(crate) fn module_root_gain(path: &str, dirs: &HashSet<String>) -> f32 {
    let lower = path.to_ascii_lowercase();
    let (parent, file) = match lower.rsplit_once('/') {
        Some((parent, file)) => (Some(parent), file),
        None => (None, lower.as_str()),
    };
    let stem = file_stem(file);
    if stem.is_empty() {
        return 0.0;
    }
    let own_dir = parent.is_some_and(|parent| parent.rsplit('/').next() == Some(stem));
    let beside_dir = match parent {
        Some(parent) => dirs.contains(&format!("{parent}/{stem}")),
        None => dirs.contains(stem),
    };
    if own_dir || beside_dir || file == "mod.rs" {
        MODULE_ROOT_GAIN
    } else {
        0.0
    }
}

/// The gain of a definition whose own name the query spells out, from the
/// `share` of the name's parts that are query words ([`share_spelled`] over
/// [`file_name_words`]): up to [`NAME_SPELLED_GAIN`] when all are: `fuse`
/// for "fuse vector and keyword results", `flatten` for "Flatten nested
/// iterables". Where
/// [`stem_gain`] asks how much of the query a name holds, this asks how
/// much of the name the query holds, which is what a description of one
/// function does (on the CSN sets, MRR@10 0.321 -> 0.355 and 0.537 -> 0.591).
/// Applied only where [`spelled_names_are_evidence`].
pub(crate) fn name_spelled_gain(share: f32) -> f32 {
    NAME_SPELLED_GAIN * share
}

/// Whether definition names the query spells out are evidence in this
/// search, given the candidate definitions' names it spells out in full
/// ([`share_spelled`] 1): a description of
/// one function ("Flatten nested iterables") spells out the names of a few
/// definitions; a question about an area ("database connection
/// configuration and dialect selection") spells out many generic ones
/// (`Database`, `connect`, `config`, `dialect`), none of them distinctive.
/// True when they are at most [`NAME_SPELLED_MAX_NAMES`] distinct names
/// (case aside). Gated this way, the factor keeps two
/// thirds of its gain on the CSN sets and costs semble-dev nothing overall
/// on freshly built indexes, where it cost 0.006 ungated (docs/benchmarks.md,
/// session 13). The candidates are the lanes' (deeper for pages over 30
/// hits), so like file evidence the gate sees more names on larger pages.
pub(crate) fn spelled_names_are_evidence<'a>(spelled_in_full: impl IntoIterator<Item = &'a str>) -> bool {
    let mut distinct = std::collections::HashSet::new();
    for name in spelled_in_full {
        if distinct.insert(name.to_lowercase()) && distinct.len() > NAME_SPELLED_MAX_NAMES {
            return false;
        }
    }
    true
}

/// The share (0-1) of the identifier parts of `name` (2+ characters) that
/// are among `words` (matched as [`same_word`] does: `impls` for
/// "implementations"). 0 for a name without parts.
pub(crate) fn share_spelled(name: &str, words: &[String]) -> f32 {
    let parts: Vec<String> = identifier_parts(name)
        .into_iter()
        .filter(|part| part.len() >= 2)
        .collect();
    if parts.is_empty() {
        return 0.0;
    }
    let spelled = |part: &String| words.iter().any(|word| same_word(part, word));
    parts.iter().filter(|part| spelled(part)).count() as f32 / parts.len() as f32
}

/// Whether an identifier part and a query word (both lower case) name the
/// same thing: equal, or the shorter has 4+ letters and starts the longer
/// (`handle` and `handler`, `config` and `configuration`), once a plural `s`
/// is dropped from either (`impls` and `implementations`, `utils` and
/// `utility`).
fn same_word(a: &str, b: &str) -> bool {
    let (a, b) = (singular(a), singular(b));
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short == long || (short.len() >= 4 && long.starts_with(short))
}

/// `word` without a plural `s` (`impls` -> `impl`); words under 5 letters
/// and those ending in `ss`, `us` or `is` (`class`, `status`, `analysis`)
/// unchanged.
fn singular(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(stem) if stem.len() >= 4 && !stem.ends_with(['s', 'u', 'i']) => stem,
        _ => word,
    }
}

/// Lower-cased parts of identifiers in `text`: split on anything that is
/// not a letter or digit, and on camelCase humps (`parseHTTPRequest` ->
/// parse, http, request).
pub(crate) fn identifier_parts(text: &str) -> Vec<String> {
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
/// [`STEM_GAIN`] when all of them are there (matched as [`share_found`] does).
pub(crate) fn stem_gain(chunk: &ChunkRecord, stems: &[String]) -> f32 {
    if stems.is_empty() {
        return 0.0;
    }
    let mut parts = identifier_parts(&chunk.qualified_name);
    parts.extend(identifier_parts(file_stem(&chunk.file_path)));
    STEM_GAIN * share_found(stems, &parts)
}

/// The share of `stems` (0-1) found among identifier `parts` (matched as
/// [`same_word`] does: `handler` for "handle", `utils` for "utility").
/// 0 when there are no stems.
pub(crate) fn share_found(stems: &[String], parts: &[String]) -> f32 {
    if stems.is_empty() {
        return 0.0;
    }
    let matched = stems
        .iter()
        .filter(|stem| parts.iter().any(|part| same_word(part, stem)))
        .count();
    matched as f32 / stems.len() as f32
}

/// File evidence and saturation for `scored` (chunk file path, whether it
/// leads the page, score; in any order): a file with n candidates gains
/// [`FILE_EVIDENCE_GAIN`] times min(n - 1, [`FILE_EVIDENCE_COUNT`]) /
/// [`FILE_EVIDENCE_COUNT`] on each, and the k-th chunk of a file (0-based,
/// leading chunks first, then by score) counts [`SATURATION`]^k. Returns
/// each chunk's (evidence, saturation) factors, in `scored`'s order; the
/// adjusted score is their product with the score.
pub(crate) fn spread_over_files(scored: &[(&str, bool, f32)]) -> Vec<(f32, f32)> {
    let mut per_file: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, (file, ..)) in scored.iter().enumerate() {
        per_file.entry(file).or_default().push(index);
    }
    let mut factors = vec![(1.0, 1.0); scored.len()];
    for indices in per_file.values_mut() {
        let further = (indices.len() - 1).min(FILE_EVIDENCE_COUNT);
        let evidence = 1.0 + FILE_EVIDENCE_GAIN * further as f32 / FILE_EVIDENCE_COUNT as f32;
        indices.sort_by(|&a, &b| {
            let (_, a_leads, a_score) = scored[a];
            let (_, b_leads, b_score) = scored[b];
            b_leads.cmp(&a_leads).then_with(|| b_score.total_cmp(&a_score))
        });
        for (k, &index) in indices.iter().enumerate() {
            factors[index] = (evidence, SATURATION.powi(k as i32));
        }
    }
    factors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_examples_docs_and_re_exports_weigh_less_unless_asked_for() {
        let words = |q: &str| query_stems(q);
        let route = words("route a request");
        assert_eq!(path_kind("src/router.rs", &route, false), None);
        for path in [
            "tests/router.rs",
            "pkg/router_test.go",
            "web/a.test.ts",
            "src/test/java/RouterTest.java",
        ] {
            assert_eq!(path_kind(path, &route, false), Some(PathKind::Test), "{path}");
            assert_eq!(path_kind(path, &route, true), None, "{path}");
        }
        assert_eq!(path_kind("examples/basic.py", &route, false), Some(PathKind::Example));
        assert_eq!(
            path_kind("examples/basic.py", &words("an example of routing"), false),
            None
        );
        assert_eq!(path_kind("benches/search.rs", &route, false), Some(PathKind::Benchmark));
        assert_eq!(path_kind("third_party/zlib.c", &route, false), Some(PathKind::Vendored));
        assert_eq!(path_kind("docs/guide.md", &route, false), Some(PathKind::Documentation));
        assert_eq!(path_kind("docs/guide.md", &words("the readme"), false), None);
        assert_eq!(path_kind("pkg/__init__.py", &route, false), Some(PathKind::ReExport));
        assert_eq!(
            path_kind("types/index.d.ts", &route, false),
            Some(PathKind::Declarations)
        );
        assert!(PathKind::Test.weight() < PathKind::Documentation.weight());

        // An older version directory counts less only beside a newer one,
        // and not when the query names it.
        let paths = [
            "v3/types.ts",
            "v4/core/schemas.ts",
            "api/v1/user.go",
            "lib/v2/a/v1/x.rs",
            "lib/v2/a/v7/x.rs",
        ];
        let newest = newest_versions(paths.iter().copied());
        assert!(is_superseded("v3/types.ts", &newest, "ZodType"));
        assert!(!is_superseded("v3/types.ts", &newest, "v3 compatibility errors"));
        assert!(!is_superseded("v4/core/schemas.ts", &newest, "ZodType"));
        assert!(!is_superseded("api/v1/user.go", &newest, "user"), "no v2 beside it");
        assert!(is_superseded("lib/v2/a/v1/x.rs", &newest, "x"));
        assert!(!is_superseded("lib/v2/a/v7/x.rs", &newest, "x"));
        assert!(!is_superseded(
            "v10/x.rs",
            &newest_versions(["v9/x.rs", "v10/x.rs"].into_iter()),
            "x"
        ));
        assert!(!is_superseded("src/vector.rs", &newest, "x"));
        assert!(PathKind::Documentation.weight() < PathKind::Declarations.weight());
        assert!(!is_test_path("src/latest.rs") && !is_test_path("src/contest.rs"));
        assert!(is_test_path("Tests/AlamofireTests/SessionTests.swift") && is_test_path("FooTests.cs"));

        // Inline test modules, wherever the file is.
        assert!(in_test_module("tests::a_definition_name_the_query_spells_out_gains"));
        assert!(in_test_module("rank::priors::tests::helper") && in_test_module("test::fixture"));
        assert!(
            !in_test_module("tests") && !in_test_module("priors::tests"),
            "the module itself"
        );
        assert!(!in_test_module("attests::verify") && !in_test_module("TestCase.run"));
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

    /// The dev set's misses: "Transaction" ranked Transaction.kt behind
    /// TransactionScope.kt; "insert ... statements" missed InsertStatement.kt.
    #[test]
    fn a_file_name_the_query_spells_out_gains() {
        let file_name_gain = |path: &str, query: &str| file_name_gain(path, &file_name_words(query));
        let full = file_name_gain("core/Transaction.kt", "Transaction");
        let half = file_name_gain("core/TransactionScope.kt", "Transaction");
        assert_eq!(full, FILE_NAME_GAIN);
        assert_eq!(half, FILE_NAME_GAIN / 2.0);
        assert_eq!(
            file_name_gain("statements/InsertStatement.kt", "insert and batch insert statements"),
            FILE_NAME_GAIN
        );
        assert_eq!(
            file_name_gain("src/api.ts", "core public API functions"),
            FILE_NAME_GAIN
        );
        // Three letters match only whole: "app" is no prefix of "apply".
        assert_eq!(file_name_gain("src/apply.rs", "the app"), 0.0);
        assert_eq!(
            file_name_gain("src/the.rs", "how the parser works"),
            0.0,
            "stopwords match nothing"
        );
        assert_eq!(file_name_gain("Makefile", "build"), 0.0);
        // A plural names what its singular starts: `impls` for
        // "implementations", `utils` for "utility", `types` for "typed".
        assert_eq!(
            file_name_gain("serde/src/ser/impls.rs", "Serialize implementations for std types"),
            FILE_NAME_GAIN
        );
        assert_eq!(file_name_gain("src/utils.py", "utility helpers"), FILE_NAME_GAIN);
        assert_eq!(file_name_gain("src/types.ts", "typed values"), FILE_NAME_GAIN);
        // Only a plural `s` goes: `status` keeps its own (no prefix of
        // "statue"), and 3 letters stay whole (`bus` is no prefix of
        // "business").
        assert_eq!(file_name_gain("src/status.rs", "statue"), 0.0);
        assert_eq!(file_name_gain("src/bus.rs", "business"), 0.0);
    }

    #[test]
    fn query_stems_match_identifier_parts_in_either_number() {
        let parts = identifier_parts("HttpHandlers::register_utils");
        let share = |query: &str| share_found(&query_stems(query), &parts);
        assert_eq!(share("handle requests"), 0.5, "handle starts handlers");
        assert_eq!(share("registering utility"), 1.0);
        assert_eq!(share("register utilities"), 1.0, "util starts utilitie");
        assert_eq!(share("sessions"), 0.0);
    }

    #[test]
    fn the_file_that_roots_a_module_gains() {
        let candidates = [
            "gson/src/main/java/com/google/gson/Gson.java",
            "gson/src/main/java/com/google/gson/JsonElement.java",
            "lib/ecto/query.ex",
            "lib/ecto/query/builder.ex",
            "lib/ecto/queryable.ex",
            "serde_derive/src/de.rs",
            "serde_derive/src/de/struct_.rs",
            "serde_core/src/ser/mod.rs",
            "cobra.go",
            "cobra/doc.go",
            "command.go",
        ];
        let dirs = candidate_dirs(candidates);
        let gain = |path: &str| module_root_gain(path, &dirs);
        // Named after its directory, whatever the case.
        assert_eq!(gain("gson/src/main/java/com/google/gson/Gson.java"), MODULE_ROOT_GAIN);
        // Beside a directory of its name that holds other candidates, also
        // at the top of the tree.
        assert_eq!(gain("lib/ecto/query.ex"), MODULE_ROOT_GAIN);
        assert_eq!(gain("serde_derive/src/de.rs"), MODULE_ROOT_GAIN);
        assert_eq!(gain("cobra.go"), MODULE_ROOT_GAIN);
        // A Rust `mod.rs`.
        assert_eq!(gain("serde_core/src/ser/mod.rs"), MODULE_ROOT_GAIN);
        // A module's other files, a name that only starts like a directory's,
        // a file with no directory of its name among the candidates.
        assert_eq!(gain("gson/src/main/java/com/google/gson/JsonElement.java"), 0.0);
        assert_eq!(gain("lib/ecto/query/builder.ex"), 0.0);
        assert_eq!(gain("lib/ecto/queryable.ex"), 0.0);
        assert_eq!(gain("command.go"), 0.0);
        assert_eq!(gain("serde_core/src/de.rs"), 0.0);
        // A dotfile's empty stem names no directory.
        assert_eq!(gain("cobra/.golangci.yml"), 0.0);
    }

    /// This repository's demo query, "fuse vector and keyword search
    /// results", ranked `rank::fuse` 16th: one query stem of five is in its
    /// name, but its whole name is in the query.
    #[test]
    fn a_definition_name_the_query_spells_out_gains() {
        let gain = |name: &str, query: &str| name_spelled_gain(share_spelled(name, &file_name_words(query)));
        let query = "fuse vector and keyword search results";
        assert_eq!(gain("fuse", query), NAME_SPELLED_GAIN);
        assert_eq!(gain("keyword_weight", query), NAME_SPELLED_GAIN / 2.0);
        assert_eq!(gain("fuseResults", query), NAME_SPELLED_GAIN);
        assert_eq!(gain("embed", query), 0.0);
        assert_eq!(gain("", query), 0.0);
    }

    /// On freshly built indexes the factor cost architecture questions 0.010
    /// (semble-dev): their many words spell out many generic names.
    #[test]
    fn names_a_question_about_an_area_spells_out_are_not_evidence() {
        let evidence = |names: &[&str], query: &str| {
            let words = file_name_words(query);
            spelled_names_are_evidence(names.iter().copied().filter(|name| share_spelled(name, &words) == 1.0))
        };
        let query = "fuse vector and keyword search results";
        // Several definitions of one name count once; partly spelled names
        // do not count.
        assert!(evidence(
            &["fuse", "fuse", "Fuse", "keyword_weight", "search", "embed"],
            query
        ));
        let query = "Database connection configuration and dialect selection";
        assert!(!evidence(
            &["Database", "connect", "DatabaseConfig", "dialect", "DatabaseDialect"],
            query
        ));
        assert!(evidence(
            &["DatabaseConfig", "DatabaseDialect", "currentDialect"],
            query
        ));
        assert!(evidence(&[], query));
    }

    #[test]
    fn a_file_is_spread_over_the_page() {
        let scored = [
            ("a.rs", false, 1.0),
            ("a.rs", false, 0.7),
            ("b.rs", false, 0.8),
            ("a.rs", false, 0.6),
        ];
        let adjusted: Vec<f32> = spread_over_files(&scored)
            .iter()
            .zip(scored)
            .map(|((evidence, saturation), (.., score))| score * evidence * saturation)
            .collect();
        assert!(
            adjusted[2] > adjusted[1],
            "b's only chunk beats a's second: {adjusted:?}"
        );
        assert!(adjusted[0] > 1.0, "a has several candidates: {adjusted:?}");
        let evidence = |n: usize| spread_over_files(&vec![("a.rs", false, 1.0); n])[0].0;
        assert!(evidence(1) == 1.0 && evidence(2) < evidence(3), "graded by count");
        assert_eq!(
            evidence(FILE_EVIDENCE_COUNT + 1),
            evidence(FILE_EVIDENCE_COUNT + 9),
            "capped"
        );
        // A chunk that leads the page (it defines the symbol asked for)
        // comes first in its file, whatever the file's other chunks score.
        let factors = spread_over_files(&[("a.rs", false, 1.0), ("a.rs", true, 0.5)]);
        assert_eq!((factors[1].1, factors[0].1), (1.0, SATURATION));
    }
}
