//! Jupyter notebooks (`.ipynb`, nbformat 4): code cells are chunked in the
//! notebook's language (`metadata.kernelspec.language`, else
//! `metadata.language_info.name`, else Python), markdown cells as heading
//! sections, raw cells in windows; outputs are ignored. A notebook chunk's
//! lines and bytes index its cell's source ([`Chunk::cell`] names the cell),
//! so what a result shows is what the notebook's editor shows. The JSON is
//! read with tree-sitter-json, which recovers the cells of damaged JSON;
//! string values are decoded by serde_json.

use tree_sitter::{Node, Parser};

use crate::chunk::Chunk;
use crate::chunker;

/// The language name every notebook chunk carries.
pub const NOTEBOOK_LANGUAGE: &str = "jupyter";
/// Notebook file extensions, without the dot.
pub(crate) const NOTEBOOK_EXTENSIONS: &[&str] = &["ipynb"];
/// Other names people use for notebooks, lower case.
pub(crate) const NOTEBOOK_ALIASES: &[&str] = &["notebook", "ipython"];

/// Whether a path names a notebook, by its extension.
pub(crate) fn is_notebook_path(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .is_some_and(|(_, ext)| NOTEBOOK_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// What a cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Code in the notebook's language.
    Code,
    /// Markdown text.
    Markdown,
    /// Anything else (`raw` cells): text passed through as is.
    Raw,
}

/// One cell of a notebook: its kind and source text (outputs left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotebookCell {
    /// What the cell holds.
    pub kind: CellKind,
    /// The cell's source, its lines joined as the notebook stores them.
    pub source: String,
}

/// The parts of a notebook that are indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notebook {
    /// The code cells' language as the metadata names it (`python`, `R`).
    pub language: String,
    /// Every cell, in notebook order (cell `n` of a chunk is `cells[n - 1]`).
    pub cells: Vec<NotebookCell>,
}

/// Reads a notebook's cells and language from its JSON text. `None` when the
/// text has no `cells` array (not nbformat 4 JSON): the caller then treats
/// it as plain text. Damaged JSON yields the cells that still parse.
pub fn read_notebook(text: &str) -> Option<Notebook> {
    let mut parser = Parser::new();
    parser.set_language(&tree_sitter_json::LANGUAGE.into()).ok()?;
    let tree = parser.parse(text, None)?;
    let json = Json { text };
    let root = tree.root_node().named_child(0)?;
    let metadata = json.field(root, "metadata");
    let language = metadata
        .and_then(|meta| json.field(meta, "kernelspec"))
        .and_then(|kernel| json.field(kernel, "language"))
        .or_else(|| {
            metadata
                .and_then(|meta| json.field(meta, "language_info"))
                .and_then(|info| json.field(info, "name"))
        })
        .and_then(|name| json.string(name))
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "python".to_string());
    let cells = json.field(root, "cells").filter(|cells| cells.kind() == "array")?;
    let mut cursor = cells.walk();
    let cells = cells
        .named_children(&mut cursor)
        .filter(|cell| cell.kind() == "object")
        .map(|cell| {
            let kind = match json
                .field(cell, "cell_type")
                .and_then(|kind| json.string(kind))
                .as_deref()
            {
                Some("code") => CellKind::Code,
                Some("markdown") => CellKind::Markdown,
                _ => CellKind::Raw,
            };
            let source = json
                .field(cell, "source")
                .map(|source| json.text(source))
                .unwrap_or_default();
            NotebookCell { kind, source }
        })
        .collect();
    Some(Notebook { language, cells })
}

/// The source of cell `cell` (1-based, as [`Chunk::cell`]) of the notebook
/// whose JSON text is `text`; `None` when there is no such cell.
pub fn notebook_cell(text: &str, cell: u32) -> Option<String> {
    let index = usize::try_from(cell).ok()?.checked_sub(1)?;
    read_notebook(text)?
        .cells
        .into_iter()
        .nth(index)
        .map(|cell| cell.source)
}

/// Chunks a notebook's cells: each in its language (markdown cells as
/// markdown, raw cells as text), positions within the cell, ids made
/// distinct per cell by chunking it as `<rel_path>#cell<n>` (which also
/// tells the embedding model where it is).
pub(crate) fn chunk_notebook(rel_path: &str, notebook: &Notebook, max_chunk_bytes: usize) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    for (index, cell) in notebook.cells.iter().enumerate() {
        if cell.source.trim().is_empty() {
            continue;
        }
        let number = index as u32 + 1;
        let language = match cell.kind {
            CellKind::Code => notebook.language.as_str(),
            CellKind::Markdown => "markdown",
            CellKind::Raw => "text",
        };
        let cell_path = format!("{rel_path}#cell{number}");
        let mut cell_chunks = chunker::chunk_embedded(
            language,
            NOTEBOOK_LANGUAGE,
            &cell_path,
            &cell.source,
            None,
            max_chunk_bytes,
        );
        for chunk in &mut cell_chunks {
            chunk.cell = Some(number);
        }
        chunks.extend(cell_chunks);
    }
    chunks
}

/// Reading values out of a tree-sitter-json tree.
struct Json<'a> {
    text: &'a str,
}

impl Json<'_> {
    /// The value of `key` in `object`, if it is an object holding that key.
    fn field<'tree>(&self, object: Node<'tree>, key: &str) -> Option<Node<'tree>> {
        if object.kind() != "object" {
            return None;
        }
        let mut cursor = object.walk();
        object
            .named_children(&mut cursor)
            .filter(|pair| pair.kind() == "pair")
            .find(|pair| {
                pair.child_by_field_name("key")
                    .and_then(|name| self.string(name))
                    .is_some_and(|name| name == key)
            })
            .and_then(|pair| pair.child_by_field_name("value"))
    }

    /// A string's value, its escapes decoded by serde_json; `None` for other
    /// values. A string serde_json refuses (unterminated in damaged JSON, a
    /// lone surrogate) keeps its text between the quotes as written.
    fn string(&self, node: Node) -> Option<String> {
        if node.kind() != "string" {
            return None;
        }
        let literal = &self.text[node.byte_range()];
        Some(serde_json::from_str(literal).unwrap_or_else(|_| {
            let raw = literal.strip_prefix('"').unwrap_or(literal);
            raw.strip_suffix('"').unwrap_or(raw).to_string()
        }))
    }

    /// A string's value, or the strings of an array joined (how notebooks
    /// store multi-line sources); empty for anything else.
    fn text(&self, node: Node) -> String {
        if node.kind() != "array" {
            return self.string(node).unwrap_or_default();
        }
        let mut cursor = node.walk();
        node.named_children(&mut cursor)
            .filter_map(|item| self.string(item))
            .collect()
    }
}
