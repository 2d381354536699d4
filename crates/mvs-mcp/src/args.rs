//! The tools' arguments: their JSON schemas (from the doc comments) and
//! lenient parsing of values some clients send as text.

use schemars::JsonSchema;
use serde::Deserialize;

/// Arguments of `search_code`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchCodeArgs {
    /// What to find: a description of behaviour or an identifier.
    pub query: String,
    /// Maximum results (default 10, at most 50).
    #[serde(default, deserialize_with = "lenient::number")]
    pub limit: Option<usize>,
    /// `hybrid` (default), `vector` or `keyword` (`bm25` is accepted too).
    pub search_mode: Option<String>,
    /// Only these languages (`rust`, `python`, ...).
    #[serde(default, deserialize_with = "lenient::list")]
    pub language: Option<Vec<String>>,
    /// Only files with these extensions (`.rs`, `py`).
    #[serde(default, deserialize_with = "lenient::list")]
    pub file_extensions: Option<Vec<String>>,
    /// Only paths matching these globs (`src/**/*.rs`, `*.py`).
    #[serde(default, deserialize_with = "lenient::list")]
    pub files: Option<Vec<String>>,
    /// Leave out paths matching these globs.
    #[serde(default, deserialize_with = "lenient::list")]
    pub exclude: Option<Vec<String>>,
    /// Only these chunk kinds (`function`, `method`, `class`, `struct`, ...).
    #[serde(default, deserialize_with = "lenient::list")]
    pub kind: Option<Vec<String>>,
    /// Only the definition with this name (or qualified name).
    pub function_name: Option<String>,
    /// Only this class/type and what it contains.
    pub class_name: Option<String>,
    /// Only test files.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub tests_only: Option<bool>,
    /// Leave out test files.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub exclude_tests: Option<bool>,
    /// Per result: `signatures` (no code), `snippets` (default, first 20
    /// lines) or `full`.
    pub detail: Option<String>,
    /// Budget of the whole answer in tokens (default 4000, at most 20000);
    /// results beyond it are left out and counted.
    #[serde(default, deserialize_with = "lenient::number")]
    pub max_tokens: Option<usize>,
    /// Drop results scoring below this (0 to 1; scores mean the same in
    /// every mode).
    #[serde(default, deserialize_with = "lenient::float")]
    pub similarity_threshold: Option<f32>,
}

/// Arguments of `index_project`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct IndexProjectArgs {
    /// Re-index every file, ignoring change detection.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub force: Option<bool>,
    /// Only these files or directories (relative to the project root);
    /// deleted ones are dropped from the index.
    #[serde(default, deserialize_with = "lenient::list")]
    pub paths: Option<Vec<String>>,
    /// Report what a run would do (files and chunks per language, skips,
    /// largest directories, estimated seconds) without indexing.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub dry_run: Option<bool>,
    /// Answer when the job ends instead of at once (cancelling the request
    /// cancels the job).
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub wait: Option<bool>,
    /// Stop the running job (files done so far stay indexed).
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub cancel: Option<bool>,
}

/// Arguments of `search_context`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SearchContextArgs {
    /// The task or feature to gather code for, in words.
    pub description: String,
    /// Aspects to cover too (`error handling`, `tests`, `config`): each
    /// adds its own search, so every aspect is represented.
    #[serde(default, deserialize_with = "lenient::list")]
    pub focus_areas: Option<Vec<String>>,
    /// Maximum results (default 10, at most 50).
    #[serde(default, deserialize_with = "lenient::number")]
    pub limit: Option<usize>,
    /// `signatures`, `snippets` (default) or `full`.
    pub detail: Option<String>,
    /// Budget of the answer in tokens (default 4000, at most 20000).
    #[serde(default, deserialize_with = "lenient::number")]
    pub max_tokens: Option<usize>,
}

/// Arguments of `search_similar`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SearchSimilarArgs {
    /// The file whose code to match (relative to the project root).
    pub file_path: Option<String>,
    /// Only this definition of the file (name or qualified name).
    pub function_name: Option<String>,
    /// A chunk id from a search result (instead of `file_path`).
    pub chunk_id: Option<String>,
    /// Maximum results (default 10, at most 50).
    #[serde(default, deserialize_with = "lenient::number")]
    pub limit: Option<usize>,
    /// Only these languages.
    #[serde(default, deserialize_with = "lenient::list")]
    pub language: Option<Vec<String>>,
    /// `signatures`, `snippets` (default) or `full`.
    pub detail: Option<String>,
    /// Budget of the answer in tokens (default 4000, at most 20000).
    #[serde(default, deserialize_with = "lenient::number")]
    pub max_tokens: Option<usize>,
}

/// Arguments of `get_chunk`: a `chunk_id`, or a `file_path` and lines.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct GetChunkArgs {
    /// A chunk id from a search result.
    pub chunk_id: Option<String>,
    /// A file, relative to the project root (instead of `chunk_id`).
    pub file_path: Option<String>,
    /// First line (1-based) with `file_path`; default 1.
    #[serde(default, deserialize_with = "lenient::number")]
    pub start_line: Option<usize>,
    /// Last line (inclusive) with `file_path`; default `start_line` + 99.
    #[serde(default, deserialize_with = "lenient::number")]
    pub end_line: Option<usize>,
    /// Lines of surrounding code to add before and after (default 0, at most 200).
    #[serde(default, deserialize_with = "lenient::number")]
    pub context_lines: Option<usize>,
}

/// Arguments of `get_project_status` (none).
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct StatusArgs {}

/// Some clients (the MCP inspector's `--tool-arg k=v`, several agents) send
/// numbers, booleans and lists as strings; accept both spellings (a list as
/// text is comma-separated).
mod lenient {
    use serde::{Deserialize, Deserializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose<T> {
        Typed(T),
        Text(String),
    }

    /// `expected` completes "... is not {expected}" in the error, which
    /// rmcp returns as a tool error the model can correct (MCP's advice for
    /// argument validation).
    fn parse<'de, D, T>(deserializer: D, expected: &str) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + std::str::FromStr,
    {
        match Option::<Loose<T>>::deserialize(deserializer)? {
            None => Ok(None),
            Some(Loose::Typed(value)) => Ok(Some(value)),
            Some(Loose::Text(text)) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| D::Error::custom(format!("`{text}` is not {expected}"))),
        }
    }

    pub fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
        parse(deserializer, "a whole number (limit, max_tokens, lines)")
    }

    pub fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
        parse(deserializer, "true or false")
    }

    pub fn float<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f32>, D::Error> {
        parse(deserializer, "a number between 0 and 1 (similarity_threshold)")
    }

    pub fn list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
        Ok(match Option::<Loose<Vec<String>>>::deserialize(deserializer)? {
            None => None,
            Some(Loose::Typed(items)) => Some(items),
            Some(Loose::Text(text)) => Some(
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
        })
    }
}
