//! File bytes to code chunks.
//!
//! [`chunk_file`] classifies a file (binary, too large, unsupported language),
//! decodes it (lossily when it is not UTF-8), parses it with the language's
//! tree-sitter grammar and turns the definitions its query file captures
//! (`queries/<language>.scm`) into [`Chunk`]s with a stable id, a hierarchy
//! (class -> methods) and an embedding text carrying a context header.
//!
//! Adding a language is a grammar dependency, a query file and one row in
//! [`LANGUAGES`]; no chunking code changes. Text formats without a grammar
//! ([`TEXT_LANGUAGES`]: YAML, TOML, SQL, Dockerfile ...) are chunked in
//! overlapping line windows that keep their real language name.

mod chunk;
mod chunker;
mod language;

pub use chunk::{Chunk, ChunkKind};
pub use language::{LANGUAGES, LanguageSpec, TEXT_LANGUAGES, language_for_path, text_language_for_path};
use serde::{Deserialize, Serialize};

/// Limits applied before parsing.
#[derive(Debug, Clone)]
pub struct ChunkOptions {
    /// Files larger than this are skipped (default 1 MiB).
    pub max_file_bytes: u64,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            max_file_bytes: 1024 * 1024,
        }
    }
}

/// Why a file produced no chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Contains NUL bytes: not text.
    Binary,
    /// Larger than [`ChunkOptions::max_file_bytes`].
    TooLarge,
    /// Empty or only whitespace.
    Empty,
    /// Neither a grammar nor a known text format for its name.
    UnsupportedLanguage,
}

impl SkipReason {
    /// The stable name used in status output.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too_large",
            SkipReason::Empty => "empty",
            SkipReason::UnsupportedLanguage => "unsupported_language",
        }
    }
}

/// The result of chunking one file.
#[derive(Debug, Clone)]
pub enum FileChunks {
    /// The file was parsed.
    Parsed {
        /// The language from the registry.
        language: &'static str,
        /// Chunks in file order; parents precede their children.
        chunks: Vec<Chunk>,
        /// The file was not valid UTF-8 and was decoded lossily.
        lossy: bool,
    },
    /// The file was not parsed, for this reason.
    Skipped(SkipReason),
}

/// How a file is chunked.
enum Format {
    /// By its tree-sitter grammar and query.
    Grammar(&'static LanguageSpec),
    /// In line windows, under this language name.
    Text(&'static str),
}

/// How many leading bytes are checked for NUL to call a file binary (as git does).
const BINARY_SNIFF_BYTES: usize = 8000;

/// Chunks one file. `rel_path` (relative to the project root, `/`-separated)
/// picks the language and enters chunk ids; `bytes` is the file content.
pub fn chunk_file(rel_path: &str, bytes: &[u8], options: &ChunkOptions) -> FileChunks {
    let format = match (language_for_path(rel_path), text_language_for_path(rel_path)) {
        (Some(spec), _) => Format::Grammar(spec),
        (None, Some(language)) => Format::Text(language),
        (None, None) => return FileChunks::Skipped(SkipReason::UnsupportedLanguage),
    };
    if bytes.len() as u64 > options.max_file_bytes {
        return FileChunks::Skipped(SkipReason::TooLarge);
    }
    if bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
        return FileChunks::Skipped(SkipReason::Binary);
    }
    let (source, lossy) = match std::str::from_utf8(bytes) {
        Ok(text) => (std::borrow::Cow::Borrowed(text), false),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    };
    if source.trim().is_empty() {
        return FileChunks::Skipped(SkipReason::Empty);
    }
    let (language, chunks) = match format {
        Format::Grammar(spec) => (spec.name, chunker::chunk_source(spec, rel_path, &source)),
        Format::Text(language) => (language, chunker::window_chunks(language, rel_path, &source)),
    };
    FileChunks::Parsed {
        language,
        chunks,
        lossy,
    }
}
