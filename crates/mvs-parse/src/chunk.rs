//! The chunk: the unit that is embedded, stored and returned by search.

use serde::{Deserialize, Serialize};

/// What a chunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChunkKind {
    /// A free function.
    Function,
    /// A function defined inside a type, impl or trait.
    Method,
    /// A class (its header: declaration, docstring, attributes).
    Class,
    /// A struct or union.
    Struct,
    /// An enum.
    Enum,
    /// A trait or interface.
    Trait,
    /// An impl block (its header when it holds methods).
    Impl,
    /// An inline module (its header when it holds definitions).
    Module,
    /// A macro definition.
    Macro,
    /// A constant, static or top-level variable; a run of small ones
    /// becomes one chunk.
    Constant,
    /// Imports and top-level docs before the first definition of a file.
    ModuleHeader,
    /// A document section under a heading (its text before subsections).
    Section,
    /// A window of lines of a file without a grammar.
    Window,
}

impl ChunkKind {
    /// The stable name stored in the index and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkKind::Function => "function",
            ChunkKind::Method => "method",
            ChunkKind::Class => "class",
            ChunkKind::Struct => "struct",
            ChunkKind::Enum => "enum",
            ChunkKind::Trait => "trait",
            ChunkKind::Impl => "impl",
            ChunkKind::Module => "module",
            ChunkKind::Macro => "macro",
            ChunkKind::Constant => "constant",
            ChunkKind::ModuleHeader => "module-header",
            ChunkKind::Section => "section",
            ChunkKind::Window => "window",
        }
    }

    /// Parses a capture name of a query file (`@function`, `@struct`, ...).
    pub fn from_capture(name: &str) -> Option<Self> {
        Some(match name {
            "function" => ChunkKind::Function,
            "method" => ChunkKind::Method,
            "class" => ChunkKind::Class,
            "struct" => ChunkKind::Struct,
            "enum" => ChunkKind::Enum,
            "trait" | "interface" => ChunkKind::Trait,
            "impl" => ChunkKind::Impl,
            "module" => ChunkKind::Module,
            "macro" => ChunkKind::Macro,
            "constant" => ChunkKind::Constant,
            "section" => ChunkKind::Section,
            _ => return None,
        })
    }

    /// Whether definitions nested inside become chunks of their own
    /// (classes, impls) rather than part of this chunk (closures in functions).
    pub fn is_container(self) -> bool {
        matches!(
            self,
            ChunkKind::Class | ChunkKind::Impl | ChunkKind::Trait | ChunkKind::Module | ChunkKind::Section
        )
    }
}

impl std::fmt::Display for ChunkKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A piece of a source file worth retrieving on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Stable id: a hash of path, qualified name, kind and sibling ordinal,
    /// never of line numbers, so edits above a definition keep its id.
    pub id: String,
    /// What the chunk is.
    pub kind: ChunkKind,
    /// The definition's own name (empty for module headers).
    pub name: String,
    /// Scope path with the language's separator (`Store::open`, `Client.send`).
    pub qualified_name: String,
    /// Declaration line(s) up to the body, whitespace collapsed.
    pub signature: String,
    /// First paragraph of the doc comment or docstring, if any.
    pub doc: Option<String>,
    /// Id of the enclosing definition's chunk (class -> method).
    pub parent_id: Option<String>,
    /// 1-based first line.
    pub start_line: u32,
    /// 1-based last line, inclusive.
    pub end_line: u32,
    /// Byte offset of the first byte.
    pub start_byte: usize,
    /// Byte offset one past the last byte.
    pub end_byte: usize,
    /// The language name from the registry.
    pub language: &'static str,
    /// The raw source text, exactly as in the file.
    pub content: String,
    /// blake3 of `content` (hex), for change detection.
    pub content_hash: String,
    /// What the embedding model sees: a compact context header plus the body.
    pub embedding_text: String,
}
