//! One search request for every caller: the CLI's `search` and the MCP
//! tools fill the same [`SearchArgs`] (names of the `search_code` tool), and
//! [`Query::from_args`] validates them once, with the same limits and
//! messages everywhere: numbers in range, known modes, languages and kinds
//! (any case, common aliases), path filters inside the project.

use std::path::{Component, Path};

use mvs_parse::ChunkKind;
use mvs_store::{SearchFilter, SearchMode, Store, StoreError, TestFilter};

/// Results a search returns when the caller does not say.
pub const DEFAULT_LIMIT: usize = 10;
/// Most results one search returns.
pub const MAX_LIMIT: usize = 50;
/// The `limit` of every search tool and of the CLI's `search`.
pub const LIMIT: WholeNumber = WholeNumber {
    field: "limit",
    min: 1,
    max: MAX_LIMIT,
    default: DEFAULT_LIMIT,
};
/// Search modes by their `search_mode` names (`semantic` and `bm25` are
/// accepted as aliases of `vector` and `keyword`).
pub const SEARCH_MODES: [&str; 3] = ["hybrid", "vector", "keyword"];

/// A whole-number argument: its name, range and default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WholeNumber {
    /// The argument's name.
    pub field: &'static str,
    /// Smallest value accepted.
    pub min: usize,
    /// Largest value accepted.
    pub max: usize,
    /// The value when none is given.
    pub default: usize,
}

impl WholeNumber {
    /// `value` (the default when `None`) if within range; otherwise an
    /// error naming the field, the range and the value.
    pub fn check(self, value: Option<usize>) -> Result<usize, InvalidArgument> {
        let value = value.unwrap_or(self.default);
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(self.invalid(value))
        }
    }

    /// A value given as text (command-line flags, clients that send every
    /// value as a string): a whole number, written `5` or `5.0`, blanks
    /// around it ignored, within range. `2.7`, `-3` and `ten` are errors
    /// naming the field, the range and the text.
    pub fn parse(self, text: &str) -> Result<usize, InvalidArgument> {
        match whole_number(text.trim().parse::<f64>().ok()) {
            Some(value) => self.check(Some(value)),
            None => Err(self.invalid(text)),
        }
    }

    /// What the argument takes, as error messages say it.
    pub fn expected(self) -> String {
        format!("a whole number from {} to {}", self.min, self.max)
    }

    fn invalid(self, received: impl std::fmt::Display) -> InvalidArgument {
        InvalidArgument::new(self.field, self.expected(), received)
    }
}

/// `number` as a count when it is a whole number of 0 or more (`5.0`
/// counts; `2.7`, `-3`, NaN and infinities do not).
pub fn whole_number(number: Option<f64>) -> Option<usize> {
    number
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= usize::MAX as f64)
        .map(|n| n as usize)
}

/// A search as a caller gives it, before validation. Empty lists and `None`
/// mean "not given".
#[derive(Debug, Clone, Default)]
pub struct SearchArgs {
    /// What to find: a description of behaviour or an identifier.
    pub query: String,
    /// `hybrid` (default), `vector` (or `semantic`) or `keyword` (or `bm25`),
    /// any case.
    pub mode: Option<String>,
    /// Results wanted, 1 to [`MAX_LIMIT`] (default [`DEFAULT_LIMIT`]).
    pub limit: Option<usize>,
    /// Drop results scoring below this, 0 to 1 (default 0: keep all).
    pub similarity_threshold: Option<f32>,
    /// Keyword-lane weight of a hybrid natural-language query against the
    /// vector lane's 1, at least 0 (default: the store's tuned weight).
    pub keyword_weight: Option<f32>,
    /// Only these languages (`rust`, `python`, ...).
    pub language: Vec<String>,
    /// Only files with these extensions (`.rs`, `py`).
    pub file_extensions: Vec<String>,
    /// Only paths matching these globs (`src/**/*.rs`, `*.py`).
    pub files: Vec<String>,
    /// Leave out paths matching these globs.
    pub exclude: Vec<String>,
    /// Only these chunk kinds (`function`, `method`, `class`, ...).
    pub kind: Vec<String>,
    /// Only the definition with this name (or qualified name).
    pub function_name: Option<String>,
    /// Only this class or type and what it contains.
    pub class_name: Option<String>,
    /// Only test code: test files and inline test modules (wins over
    /// `exclude_tests`).
    pub tests_only: bool,
    /// Leave out test code: test files and inline test modules.
    pub exclude_tests: bool,
}

/// A search argument out of range or unknown, for the caller to correct.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: expected {expected}, received {received}")]
pub struct InvalidArgument {
    /// The argument's name, as in [`SearchArgs`].
    pub field: &'static str,
    /// What would be accepted.
    pub expected: String,
    /// What was given.
    pub received: String,
}

impl InvalidArgument {
    fn new(field: &'static str, expected: impl Into<String>, received: impl std::fmt::Display) -> Self {
        Self {
            field,
            expected: expected.into(),
            received: received.to_string(),
        }
    }
}

/// A validated query against a project's index.
#[derive(Debug, Clone)]
pub struct Query {
    /// The query text (not blank).
    pub text: String,
    /// Lanes to use.
    pub mode: SearchMode,
    /// Results wanted.
    pub limit: usize,
    /// Which chunks may be returned.
    pub filter: SearchFilter,
    /// Keyword-lane weight of a hybrid natural-language query; `None`: the
    /// store's default.
    pub keyword_weight: Option<f32>,
    /// Results scoring below this (0 to 1) are dropped.
    pub min_score: f32,
}

impl Query {
    /// Validates a caller's arguments: a query that is not blank, a limit
    /// of 1 to [`MAX_LIMIT`], a known mode, a threshold of 0 to 1, a
    /// keyword weight of at least 0, known languages and kinds (kept under
    /// their stored names), path filters inside `root` (the project root;
    /// absolute ones under it are made relative to it). Errors: the first
    /// argument that is not acceptable.
    pub fn from_args(args: SearchArgs, root: &Path) -> Result<Query, InvalidArgument> {
        if args.query.trim().is_empty() {
            return Err(InvalidArgument::new(
                "query",
                "a text to search for",
                format!("{:?}", args.query),
            ));
        }
        let limit = LIMIT.check(args.limit)?;
        let mode = parse_mode(args.mode.as_deref())?;
        let min_score = args.similarity_threshold.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&min_score) {
            return Err(InvalidArgument::new(
                "similarity_threshold",
                "a number from 0 to 1",
                min_score,
            ));
        }
        if let Some(weight) = args.keyword_weight.filter(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(InvalidArgument::new("keyword_weight", "a number of 0 or more", weight));
        }
        Ok(Query {
            mode,
            filter: SearchFilter {
                languages: checked_languages(args.language)?,
                kinds: checked_kinds(args.kind)?,
                include_globs: relative_paths("files", args.files, root)?,
                exclude_globs: relative_paths("exclude", args.exclude, root)?,
                extensions: args.file_extensions,
                name: args.function_name,
                container: args.class_name,
                tests: TestFilter::from_flags(args.tests_only, args.exclude_tests),
            },
            text: args.query,
            limit,
            keyword_weight: args.keyword_weight,
            min_score,
        })
    }

    /// Whether answering needs the embedding model (every mode but keyword).
    pub fn needs_embedder(&self) -> bool {
        self.mode != SearchMode::Keyword
    }

    /// Why a search with this query found nothing, when its filters explain
    /// it: no indexed file passes the file filters (language, paths,
    /// extensions, tests), or no chunk of those files passes the rest
    /// (kind, names). `None` when the filters let chunks through.
    pub async fn why_empty(&self, store: &Store) -> Result<Option<String>, StoreError> {
        if self.filter.is_empty() {
            return Ok(None);
        }
        let files = self.filter.file_part();
        if !files.is_empty() && store.count_chunks(&files).await? == 0 {
            return Ok(Some(format!("no indexed file matches {}", describe(&files))));
        }
        if store.count_chunks(&self.filter).await? == 0 {
            return Ok(Some(format!("no indexed chunk matches {}", describe(&self.filter))));
        }
        Ok(None)
    }
}

/// The filters under the names callers give them (`search_code`'s).
fn describe(filter: &SearchFilter) -> String {
    let mut parts = Vec::new();
    for (name, values) in [
        ("language", &filter.languages),
        ("kind", &filter.kinds),
        ("files", &filter.include_globs),
        ("exclude", &filter.exclude_globs),
        ("file_extensions", &filter.extensions),
    ] {
        if !values.is_empty() {
            parts.push(format!("{name}=[{}]", values.join(", ")));
        }
    }
    for (name, value) in [("function_name", &filter.name), ("class_name", &filter.container)] {
        if let Some(value) = value {
            parts.push(format!("{name}={value}"));
        }
    }
    match filter.tests {
        TestFilter::Any => {}
        TestFilter::Only => parts.push("tests_only".into()),
        TestFilter::Exclude => parts.push("exclude_tests".into()),
    }
    parts.join(", ")
}

/// Every language name the `language` filter takes as stored (registry
/// order); extensions and aliases of them are accepted too.
pub fn known_languages() -> Vec<&'static str> {
    mvs_parse::language_names().collect()
}

/// Every chunk kind name the `kind` filter takes as stored.
pub fn known_kinds() -> Vec<&'static str> {
    ChunkKind::ALL.iter().map(|kind| kind.as_str()).collect()
}

/// Language names as callers write them (`Python`, `py`, `golang`, `c++`),
/// as the index stores them (`python`, `go`, `cpp`). An unknown name is an
/// error listing the known ones.
pub fn checked_languages(names: Vec<String>) -> Result<Vec<String>, InvalidArgument> {
    names
        .iter()
        .map(|name| {
            mvs_parse::canonical_language(name).map(str::to_string).ok_or_else(|| {
                InvalidArgument::new(
                    "language",
                    format!(
                        "one of {} (or an extension or alias such as py, ts, golang, c++)",
                        known_languages().join(", ")
                    ),
                    name,
                )
            })
        })
        .collect()
}

/// Chunk kind names as callers write them: any case, plural (`functions`),
/// `_` for `-`, and a few aliases (`fn`, `interface`, `const`, `header`).
/// An unknown name is an error listing the kinds.
fn checked_kinds(names: Vec<String>) -> Result<Vec<String>, InvalidArgument> {
    names
        .iter()
        .map(|name| {
            kind_named(name)
                .map(str::to_string)
                .ok_or_else(|| InvalidArgument::new("kind", format!("one of {}", known_kinds().join(", ")), name))
        })
        .collect()
}

/// The stored kind name `name` means, if any.
fn kind_named(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_lowercase().replace('_', "-");
    let spellings = [Some(name.as_str()), name.strip_suffix('s'), name.strip_suffix("es")];
    spellings.into_iter().flatten().find_map(|spelling| {
        let spelling = match spelling {
            "fn" | "func" | "def" => "function",
            "interface" | "protocol" => "trait",
            "const" | "static" => "constant",
            "header" => "module-header",
            "heading" => "section",
            "namespace" => "module",
            other => other,
        };
        known_kinds().into_iter().find(|kind| *kind == spelling)
    })
}

/// Path filters relative to the project root `root`: an absolute path
/// under it is made relative (the root itself is `.`, the whole project);
/// an absolute path elsewhere that exists on this machine is an error. One
/// that does not exist keeps its leading `/`, which anchors a glob at the
/// root as in `.gitignore`.
fn relative_paths(field: &'static str, paths: Vec<String>, root: &Path) -> Result<Vec<String>, InvalidArgument> {
    let under_root = |path: &Path| {
        path.strip_prefix(root).ok().map(|rest| {
            let parts: Vec<_> = rest.components().map(|c| c.as_os_str().to_string_lossy()).collect();
            if parts.is_empty() {
                ".".to_string()
            } else {
                parts.join("/")
            }
        })
    };
    paths
        .into_iter()
        .map(|raw| {
            let path = Path::new(raw.trim());
            if !path.is_absolute() {
                return Ok(raw);
            }
            // Through a symlink the path may spell the root differently.
            let canonical = || path.canonicalize().ok().and_then(|real| under_root(&real));
            if let Some(relative) = under_root(path).or_else(canonical) {
                return Ok(relative);
            }
            let top = path.components().nth(1).filter(|c| matches!(c, Component::Normal(_)));
            if top.is_some_and(|top| Path::new("/").join(top).exists()) {
                return Err(InvalidArgument::new(
                    field,
                    format!("a path inside the project root {}, or relative to it", root.display()),
                    raw,
                ));
            }
            Ok(raw)
        })
        .collect()
}

/// A mode name as callers spell it; `None` is hybrid.
fn parse_mode(raw: Option<&str>) -> Result<SearchMode, InvalidArgument> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("hybrid") => Ok(SearchMode::Hybrid),
        Some("vector" | "semantic") => Ok(SearchMode::Vector),
        Some("keyword" | "bm25") => Ok(SearchMode::Keyword),
        Some(_) => Err(InvalidArgument::new(
            "mode",
            "one of hybrid, vector, keyword (bm25)",
            raw.unwrap_or_default(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project root for path filters (nothing is read there).
    const ROOT: &str = "/nonexistent-project-root";

    fn args(query: &str) -> SearchArgs {
        SearchArgs {
            query: query.into(),
            ..SearchArgs::default()
        }
    }

    fn rejected(args: SearchArgs) -> String {
        Query::from_args(args, Path::new(ROOT)).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_a_hybrid_search_for_ten_unfiltered_results() {
        let query = Query::from_args(args("parse config"), Path::new(ROOT)).unwrap();
        assert_eq!(
            (query.mode, query.limit, query.min_score),
            (SearchMode::Hybrid, 10, 0.0)
        );
        assert!(query.filter.is_empty() && query.keyword_weight.is_none());
        assert!(query.needs_embedder());
    }

    #[test]
    fn mode_names_and_aliases_in_any_case() {
        for (name, mode) in [
            ("HYBRID", SearchMode::Hybrid),
            ("semantic", SearchMode::Vector),
            ("Vector", SearchMode::Vector),
            ("bm25", SearchMode::Keyword),
            ("keyword", SearchMode::Keyword),
        ] {
            let query = Query::from_args(
                SearchArgs {
                    mode: Some(name.into()),
                    ..args("x")
                },
                Path::new(ROOT),
            )
            .unwrap();
            assert_eq!(query.mode, mode, "{name}");
        }
        let keyword = Query::from_args(
            SearchArgs {
                mode: Some("keyword".into()),
                ..args("x")
            },
            Path::new(ROOT),
        );
        assert!(!keyword.unwrap().needs_embedder());
    }

    #[test]
    fn each_invalid_argument_is_named_with_what_would_do() {
        assert_eq!(
            rejected(args("  ")),
            r#"query: expected a text to search for, received "  ""#
        );
        assert_eq!(
            rejected(SearchArgs {
                limit: Some(0),
                ..args("x")
            }),
            "limit: expected a whole number from 1 to 50, received 0"
        );
        assert!(
            rejected(SearchArgs {
                limit: Some(51),
                ..args("x")
            })
            .starts_with("limit:")
        );
        assert_eq!(
            rejected(SearchArgs {
                mode: Some("fuzzy".into()),
                ..args("x")
            }),
            "mode: expected one of hybrid, vector, keyword (bm25), received fuzzy"
        );
        assert_eq!(
            rejected(SearchArgs {
                similarity_threshold: Some(1.5),
                ..args("x")
            }),
            "similarity_threshold: expected a number from 0 to 1, received 1.5"
        );
        let nan = Query::from_args(
            SearchArgs {
                similarity_threshold: Some(f32::NAN),
                ..args("x")
            },
            Path::new(ROOT),
        );
        assert_eq!(nan.unwrap_err().field, "similarity_threshold");
        let negative = Query::from_args(
            SearchArgs {
                keyword_weight: Some(-0.5),
                ..args("x")
            },
            Path::new(ROOT),
        );
        assert_eq!(negative.unwrap_err().field, "keyword_weight");
    }

    #[test]
    fn filters_keep_the_tool_names_meaning() {
        let query = Query::from_args(
            SearchArgs {
                language: vec!["RS".into()],
                file_extensions: vec![".rs".into()],
                files: vec!["src/**".into()],
                exclude: vec!["*_test.rs".into()],
                kind: vec!["Functions".into()],
                function_name: Some("parse".into()),
                class_name: Some("Config".into()),
                tests_only: true,
                exclude_tests: true,
                similarity_threshold: Some(0.4),
                keyword_weight: Some(2.0),
                limit: Some(50),
                ..args("parse")
            },
            Path::new(ROOT),
        )
        .unwrap();
        let filter = &query.filter;
        assert_eq!(
            (filter.languages.as_slice(), filter.extensions.as_slice()),
            (["rust".to_string()].as_slice(), [".rs".to_string()].as_slice())
        );
        assert_eq!(
            (&filter.include_globs[0], &filter.exclude_globs[0]),
            (&"src/**".to_string(), &"*_test.rs".to_string())
        );
        assert_eq!(filter.kinds, ["function"]);
        assert_eq!(
            (filter.name.as_deref(), filter.container.as_deref()),
            (Some("parse"), Some("Config"))
        );
        assert_eq!(filter.tests, TestFilter::Only, "tests_only wins");
        assert_eq!(
            (query.min_score, query.keyword_weight, query.limit),
            (0.4, Some(2.0), 50)
        );
    }

    #[test]
    fn whole_numbers_as_numbers_or_text() {
        assert_eq!(LIMIT.parse("5"), Ok(5));
        assert_eq!(LIMIT.parse(" 5.0 "), Ok(5));
        assert_eq!(LIMIT.check(None), Ok(DEFAULT_LIMIT));
        for (text, received) in [
            ("2.7", "2.7"),
            ("-3", "-3"),
            ("1e12", "1000000000000"),
            ("ten", "ten"),
            ("", ""),
        ] {
            let err = LIMIT.parse(text).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("limit: expected a whole number from 1 to 50, received {received}")
            );
        }
        assert_eq!(whole_number(Some(5.0)), Some(5));
        for number in [2.7, -3.0, f64::NAN, f64::INFINITY] {
            assert_eq!(whole_number(Some(number)), None, "{number}");
        }
    }

    #[test]
    fn languages_and_kinds_by_any_common_name() {
        let query = Query::from_args(
            SearchArgs {
                language: vec!["Python".into(), "py".into(), "golang".into(), "C++".into()],
                kind: vec![
                    "METHOD".into(),
                    "classes".into(),
                    "interface".into(),
                    "module_header".into(),
                ],
                ..args("x")
            },
            Path::new(ROOT),
        )
        .unwrap();
        assert_eq!(query.filter.languages, ["python", "python", "go", "cpp"]);
        assert_eq!(query.filter.kinds, ["method", "class", "trait", "module-header"]);
    }

    #[test]
    fn unknown_languages_and_kinds_list_the_valid_ones() {
        let err = Query::from_args(
            SearchArgs {
                language: vec!["klingon".into()],
                ..args("x")
            },
            Path::new(ROOT),
        )
        .unwrap_err();
        assert_eq!((err.field, err.received.as_str()), ("language", "klingon"));
        assert!(
            err.expected.contains("python, javascript") && err.expected.contains("yaml"),
            "{err}"
        );
        let err = Query::from_args(
            SearchArgs {
                kind: vec!["widget".into()],
                ..args("x")
            },
            Path::new(ROOT),
        )
        .unwrap_err();
        assert_eq!(err.field, "kind");
        assert!(err.expected.contains("function, method, class"), "{err}");
    }

    #[test]
    fn absolute_path_filters_are_made_relative_to_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let under = |path: &str| {
            Query::from_args(
                SearchArgs {
                    files: vec![path.into()],
                    exclude: vec![format!("{}/vendor", root.display())],
                    ..args("x")
                },
                &root,
            )
        };
        let query = under(&format!("{}/src/api/", root.display())).unwrap();
        assert_eq!(
            (
                query.filter.include_globs[0].as_str(),
                query.filter.exclude_globs[0].as_str()
            ),
            ("src/api", "vendor")
        );
        assert_eq!(under(&root.display().to_string()).unwrap().filter.include_globs, ["."]);
        assert_eq!(under("src/api/").unwrap().filter.include_globs, ["src/api/"]);
        assert_eq!(
            under("/src/*.rs").unwrap().filter.include_globs,
            ["/src/*.rs"],
            "anchored glob"
        );
        let outside = under("/etc/passwd").unwrap_err();
        assert_eq!((outside.field, outside.received.as_str()), ("files", "/etc/passwd"));
    }
}
