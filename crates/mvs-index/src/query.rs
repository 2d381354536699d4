//! One search request for every caller: the CLI's `search` and the MCP
//! tools fill the same [`SearchArgs`] (names of the `search_code` tool), and
//! [`Query::from_args`] validates them once, with the same limits and
//! messages everywhere.

use mvs_store::{SearchFilter, SearchMode, TestFilter};

/// Results a search returns when the caller does not say.
pub const DEFAULT_LIMIT: usize = 10;
/// Most results one search returns.
pub const MAX_LIMIT: usize = 50;

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
    /// Only test files (wins over `exclude_tests`).
    pub tests_only: bool,
    /// Leave out test files.
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
    /// keyword weight of at least 0. Errors: the first argument that is not
    /// acceptable.
    pub fn from_args(args: SearchArgs) -> Result<Query, InvalidArgument> {
        if args.query.trim().is_empty() {
            return Err(InvalidArgument::new(
                "query",
                "a text to search for",
                format!("{:?}", args.query),
            ));
        }
        let limit = checked_limit(args.limit)?;
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
                languages: args.language,
                kinds: args.kind,
                include_globs: args.files,
                exclude_globs: args.exclude,
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
}

/// A result count as callers give it: 1 to [`MAX_LIMIT`], `None` is
/// [`DEFAULT_LIMIT`]. Every tool that takes a `limit` checks it here.
pub fn checked_limit(limit: Option<usize>) -> Result<usize, InvalidArgument> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(InvalidArgument::new(
            "limit",
            format!("a whole number from 1 to {MAX_LIMIT}"),
            limit,
        ));
    }
    Ok(limit)
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

    fn args(query: &str) -> SearchArgs {
        SearchArgs {
            query: query.into(),
            ..SearchArgs::default()
        }
    }

    fn rejected(args: SearchArgs) -> String {
        Query::from_args(args).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_a_hybrid_search_for_ten_unfiltered_results() {
        let query = Query::from_args(args("parse config")).unwrap();
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
            let query = Query::from_args(SearchArgs {
                mode: Some(name.into()),
                ..args("x")
            })
            .unwrap();
            assert_eq!(query.mode, mode, "{name}");
        }
        let keyword = Query::from_args(SearchArgs {
            mode: Some("keyword".into()),
            ..args("x")
        });
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
        let nan = Query::from_args(SearchArgs {
            similarity_threshold: Some(f32::NAN),
            ..args("x")
        });
        assert_eq!(nan.unwrap_err().field, "similarity_threshold");
        let negative = Query::from_args(SearchArgs {
            keyword_weight: Some(-0.5),
            ..args("x")
        });
        assert_eq!(negative.unwrap_err().field, "keyword_weight");
    }

    #[test]
    fn filters_keep_the_tool_names_meaning() {
        let query = Query::from_args(SearchArgs {
            language: vec!["rust".into()],
            file_extensions: vec![".rs".into()],
            files: vec!["src/**".into()],
            exclude: vec!["*_test.rs".into()],
            kind: vec!["function".into()],
            function_name: Some("parse".into()),
            class_name: Some("Config".into()),
            tests_only: true,
            exclude_tests: true,
            similarity_threshold: Some(0.4),
            keyword_weight: Some(2.0),
            limit: Some(50),
            ..args("parse")
        })
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
}
