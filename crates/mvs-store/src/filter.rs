//! Search filters, compiled to one SQL predicate that both lanes apply
//! before ranking (LanceDB prefilters), so a filtered search returns the top
//! k of the filtered set, never the top k of everything minus what the filter
//! drops.

use serde::{Deserialize, Serialize};

use crate::schema::chunk_col;
use crate::sql::{escape_like, in_list, name_clause, quote};
use crate::{Result, Store, StoreError};

/// Which chunks a search may return. Empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFilter {
    /// Languages (`rust`, `python`, ...), any of.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Chunk kinds (`function`, `method`, `class`, ...), any of.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Path globs relative to the project root, any of (`src/**/*.rs`; a glob
    /// without `/` matches at any depth, like `*.py`).
    #[serde(default)]
    pub include_globs: Vec<String>,
    /// Path globs to leave out.
    #[serde(default)]
    pub exclude_globs: Vec<String>,
    /// File extensions, with or without the dot (`.rs`, `py`), any of.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// A definition name: matches the chunk's name or qualified name exactly.
    #[serde(default)]
    pub name: Option<String>,
    /// A containing type or module: the chunk named so and everything
    /// qualified under it (`Class.method`, `Type::method`).
    #[serde(default)]
    pub container: Option<String>,
    /// Test code only, or no test code.
    #[serde(default)]
    pub tests: TestFilter,
}

/// Whether test code is wanted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestFilter {
    /// Test and non-test code.
    #[default]
    Any,
    /// Only test code: files that look like tests, and inline test modules
    /// (a `tests` or `test` scope, Rust's `#[cfg(test)] mod tests`).
    Only,
    /// No test code (as [`TestFilter::Only`] tells it).
    Exclude,
}

impl TestFilter {
    /// From a pair of "tests only" / "exclude tests" switches; "only" wins.
    pub fn from_flags(only: bool, exclude: bool) -> Self {
        match (only, exclude) {
            (true, _) => Self::Only,
            (_, true) => Self::Exclude,
            _ => Self::Any,
        }
    }
}

/// Paths that are test code in the usual layouts: `tests/`, `test/`,
/// `__tests__/`, `spec/` directories, `test_*.py`, `*_test.go`, `*.test.ts`,
/// `*.spec.js`, `*_spec.rb`, `FooTest.java`, `FooTests.cs`.
const TEST_PATH_REGEX: &str = r"(^|/)(tests?|__tests__|specs?)/|(^|/)test_[^/]*$|_test\.[^/.]+$|\.(test|spec)\.[^/]+$|_spec\.[^/.]+$|Tests?\.(java|kt|cs|swift|scala|php)$";

/// Chunks in an inline test module: a `tests` or `test` scope in the
/// qualified name (`tests::parses_empty_input`, `parser::tests::fixture`),
/// as `rank::priors::in_test_module` tells it.
fn test_module_clause() -> String {
    let like = |pattern: &str| format!("{} LIKE {}", chunk_col::QUALIFIED_NAME, quote(pattern));
    let scopes: Vec<String> = ["tests::%", "%::tests::%", "test::%", "%::test::%"]
        .into_iter()
        .map(like)
        .collect();
    format!("({})", scopes.join(" OR "))
}

impl SearchFilter {
    /// Whether the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The conditions on whole files (languages, path globs, extensions,
    /// test code), without those on chunks (kinds, names): what decides
    /// whether any indexed file is searched at all.
    pub fn file_part(&self) -> SearchFilter {
        SearchFilter {
            kinds: Vec::new(),
            name: None,
            container: None,
            ..self.clone()
        }
    }

    /// The SQL predicate over the chunks table, or `None` when unfiltered.
    /// Fails on a glob that does not parse, naming it.
    pub fn to_sql(&self) -> Result<Option<String>> {
        let mut clauses: Vec<String> = Vec::new();
        if !self.languages.is_empty() {
            clauses.push(in_list(chunk_col::LANGUAGE, &trimmed(&self.languages)));
        }
        if !self.kinds.is_empty() {
            clauses.push(in_list(chunk_col::KIND, &trimmed(&self.kinds)));
        }
        if !self.extensions.is_empty() {
            let any: Vec<String> = self
                .extensions
                .iter()
                .map(|ext| {
                    let ext = ext.trim().trim_start_matches('.');
                    format!(
                        "{} LIKE {}",
                        chunk_col::FILE_PATH,
                        quote(&format!("%.{}", escape_like(ext)))
                    )
                })
                .collect();
            clauses.push(format!("({})", any.join(" OR ")));
        }
        if !self.include_globs.is_empty() {
            clauses.push(regex_clause(&globs_regex(&self.include_globs)?));
        }
        if !self.exclude_globs.is_empty() {
            clauses.push(format!("NOT {}", regex_clause(&globs_regex(&self.exclude_globs)?)));
        }
        if let Some(name) = self.name.as_deref().filter(|n| !n.trim().is_empty()) {
            clauses.push(name_clause(name.trim()));
        }
        if let Some(container) = self.container.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            let like = |pattern: String| format!("{} LIKE {}", chunk_col::QUALIFIED_NAME, quote(&pattern));
            let escaped = escape_like(container);
            clauses.push(format!(
                "({} = {} OR {} OR {} OR {} OR {})",
                chunk_col::NAME,
                quote(container),
                like(format!("{escaped}.%")),
                like(format!("{escaped}::%")),
                like(format!("%.{escaped}.%")),
                like(format!("%::{escaped}::%")),
            ));
        }
        let test_code = || format!("({} OR {})", regex_clause(TEST_PATH_REGEX), test_module_clause());
        match self.tests {
            TestFilter::Any => {}
            TestFilter::Only => clauses.push(test_code()),
            TestFilter::Exclude => clauses.push(format!("NOT {}", test_code())),
        }
        Ok((!clauses.is_empty()).then(|| clauses.join(" AND ")))
    }
}

impl Store {
    /// Chunks that `filter` lets through, pending ones included (what a
    /// search could find once every vector is there). Fails on a glob that
    /// does not parse, naming it.
    pub async fn count_chunks(&self, filter: &SearchFilter) -> Result<usize> {
        Ok(self.chunks.count_rows(filter.to_sql()?).await?)
    }
}

/// One regular expression matching any of `globs` against a whole relative
/// path; `*` stays within a directory, `**` crosses them. A pattern that
/// names a directory matches everything under it (`src`, `src/api/`), as in
/// `.gitignore`; a leading `./` is dropped, and `.` is the whole project.
fn globs_regex(globs: &[String]) -> Result<String> {
    let mut alternatives = Vec::new();
    for glob in globs {
        let trimmed = glob.trim().trim_start_matches("./").trim_end_matches('/');
        let anchored = match trimmed {
            "" | "." => "**".to_string(),
            relative if relative.contains('/') => relative.trim_start_matches('/').to_string(),
            name => format!("**/{name}"),
        };
        for pattern in [anchored.clone(), format!("{anchored}/**")] {
            let compiled = globset::GlobBuilder::new(&pattern)
                .literal_separator(true)
                .build()
                .map_err(|err| StoreError::Invalid(format!("bad path glob `{glob}`: {err}")))?;
            // globset writes byte-oriented regexes (`(?-u)`); the SQL engine's
            // regexes match text, where ASCII mode is not allowed.
            alternatives.push(compiled.regex().trim_start_matches("(?-u)").to_string());
        }
    }
    Ok(format!("(?:{})", alternatives.join("|")))
}

fn regex_clause(regex: &str) -> String {
    format!("regexp_match({}, {}) IS NOT NULL", chunk_col::FILE_PATH, quote(regex))
}

fn trimmed(values: &[String]) -> Vec<&str> {
    values.iter().map(|v| v.trim()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_filter_is_no_predicate() {
        assert_eq!(SearchFilter::default().to_sql().unwrap(), None);
    }

    #[test]
    fn globs_follow_gitignore_like_rules() {
        let regex = regex_lite(&globs_regex(&["*.py".into(), "src/*.rs".into()]).unwrap());
        assert!(regex("app/auth.py"));
        assert!(regex("auth.py"));
        assert!(regex("src/lib.rs"));
        assert!(!regex("src/deep/lib.rs"), "`*` stays within a directory");
        assert!(!regex("app/auth.pyc"));
        let error = globs_regex(&["src/[".into()]).unwrap_err().to_string();
        assert!(error.contains("src/["), "{error}");
    }

    #[test]
    fn a_directory_means_its_subtree() {
        for given in ["src", "src/", "./src", "src/api", "src/api/", "/src/api"] {
            let regex = regex_lite(&globs_regex(&[given.into()]).unwrap());
            assert!(regex("src/api/handlers.py"), "{given}");
            assert!(!regex("lib/api/handlers.py"), "{given}");
        }
        let anywhere = regex_lite(&globs_regex(&["api".into()]).unwrap());
        assert!(anywhere("src/api/handlers.py") && anywhere("api/x.py"));
        assert!(!anywhere("src/apis/x.py"));
        let file = regex_lite(&globs_regex(&["src/lib.rs".into()]).unwrap());
        assert!(file("src/lib.rs") && !file("src/lib.rs.bak"));
        let everything = regex_lite(&globs_regex(&[".".into()]).unwrap());
        assert!(everything("a/b.rs") && everything("c.rs"));
    }

    #[test]
    fn test_paths_are_recognised() {
        let is_test = regex_lite(TEST_PATH_REGEX);
        for path in [
            "tests/e2e.rs",
            "crates/x/tests/a.rs",
            "pkg/server_test.go",
            "app/test_auth.py",
            "web/button.test.tsx",
            "web/__tests__/a.js",
            "spec/models/user_spec.rb",
            "src/test/java/FooTest.java",
        ] {
            assert!(is_test(path), "{path}");
        }
        for path in ["src/lib.rs", "app/auth.py", "src/contest.rs", "docs/testing.md"] {
            assert!(!is_test(path), "{path}");
        }
    }

    #[test]
    fn literals_are_quoted() {
        let filter = SearchFilter {
            name: Some("o'brien".into()),
            ..SearchFilter::default()
        };
        assert_eq!(
            filter.to_sql().unwrap().unwrap(),
            "(name = 'o''brien' OR qualified_name = 'o''brien')"
        );
    }

    /// The SQL engine's regex semantics (Rust `regex`), for checking patterns.
    fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool + use<> {
        let regex = regex::Regex::new(pattern).unwrap();
        move |text| regex.is_match(text)
    }
}
