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
    /// A window of lines: of a file without a grammar, or of code no
    /// definition covers (statements between definitions, what a syntax
    /// error left unparsed); under the enclosing container, if any.
    Window,
}

impl ChunkKind {
    /// Every kind, in declaration order (search filters list them).
    pub const ALL: [ChunkKind; 13] = [
        ChunkKind::Function,
        ChunkKind::Method,
        ChunkKind::Class,
        ChunkKind::Struct,
        ChunkKind::Enum,
        ChunkKind::Trait,
        ChunkKind::Impl,
        ChunkKind::Module,
        ChunkKind::Macro,
        ChunkKind::Constant,
        ChunkKind::ModuleHeader,
        ChunkKind::Section,
        ChunkKind::Window,
    ];

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
    /// Offset of the first byte in the decoded text ([`crate::SourceText`]:
    /// the file's UTF-8 text after any byte-order mark).
    pub start_byte: usize,
    /// Offset one past the last byte, in the same text.
    pub end_byte: usize,
    /// The language name from the registry.
    pub language: &'static str,
    /// The raw source text, exactly as in the file.
    pub content: String,
    /// blake3 of `content` (hex), for change detection.
    pub content_hash: String,
    /// What the embedding model sees: a compact context header plus the body.
    pub embedding_text: String,
    /// Where this chunk sits in a definition split into parts (`None`: the
    /// chunk is whole). Parts keep the definition's name, qualified name,
    /// kind, signature and doc.
    pub part: Option<ChunkPart>,
    /// In a notebook, the 1-based position of the cell holding the chunk
    /// among the notebook's cells; its lines and bytes then index that
    /// cell's source (see [`crate::notebook_cell`]), not the JSON file.
    /// `None` in every other file.
    pub cell: Option<u32>,
}

/// One part of a definition too long for one chunk: parts cover the
/// definition's bytes contiguously, in order, each ending on a line boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkPart {
    /// 1-based position among the parts.
    pub index: u32,
    /// How many parts the definition has.
    pub count: u32,
    /// Stable id of the whole definition (what its id would be unsplit):
    /// the parts of one definition share it.
    pub definition_id: String,
}
