//! Single-file components (Vue, Svelte, Astro): a host file holding code in
//! other languages. Each format is a row of data ([`COMPONENT_FORMATS`]: the
//! host grammar and an injection query, `queries/<host>-injections.scm`),
//! never format-specific code. The query finds the embedded texts and their
//! languages; each is chunked with its own language's grammar (the usual
//! definitions, splits and windows) at the positions it has in the
//! component file, and what the host holds besides (a template, markup)
//! becomes windows. Every chunk carries the format's name (`vue`).

use std::ops::Range;
use std::sync::OnceLock;

use tree_sitter::{Parser, Query, QueryCursor, StreamingIterator};

use crate::chunk::Chunk;
use crate::chunker;
use crate::language::compiled_on_first_use;

/// One single-file component format.
pub struct ComponentFormat {
    /// Stable lower-case name every chunk of such a file carries (`vue`).
    pub name: &'static str,
    /// File extensions without the dot.
    pub extensions: &'static [&'static str],
    /// Other names people use for it, lower case.
    pub aliases: &'static [&'static str],
    host: fn() -> tree_sitter::Language,
    injections_source: &'static str,
}

/// Builds a [`ComponentFormat`] row: name, extensions, aliases, host grammar,
/// injection query (`queries/<query>-injections.scm`).
macro_rules! component {
    ($name:literal, [$($ext:literal),*], [$($alias:literal),*], $host:expr, $query:literal) => {
        ComponentFormat {
            name: $name,
            extensions: &[$($ext),*],
            aliases: &[$($alias),*],
            host: || $host.into(),
            injections_source: include_str!(concat!("../queries/", $query, "-injections.scm")),
        }
    };
}

/// Every single-file component format. tree-sitter-html parses all three
/// hosts well enough to find their `<script>` and `<style>` elements; the
/// rest of a component (template, markup, Astro's `---` frontmatter) is
/// windowed.
pub static COMPONENT_FORMATS: &[ComponentFormat] = &[
    component!("vue", ["vue"], [], tree_sitter_html::LANGUAGE, "html"),
    component!("svelte", ["svelte"], [], tree_sitter_html::LANGUAGE, "html"),
    component!("astro", ["astro"], [], tree_sitter_html::LANGUAGE, "html"),
];

/// The component format of a path, by its extension.
pub fn component_format_for_path(path: &str) -> Option<&'static ComponentFormat> {
    let ext = path.rsplit('/').next()?.rsplit_once('.')?.1;
    COMPONENT_FORMATS
        .iter()
        .find(|format| format.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// The compiled injection query of a format, built on its first use.
fn injection_query(format: &'static ComponentFormat) -> &'static Query {
    static QUERIES: OnceLock<Vec<OnceLock<Query>>> = OnceLock::new();
    compiled_on_first_use(&QUERIES, COMPONENT_FORMATS, format, || {
        Query::new(&(format.host)(), format.injections_source).unwrap_or_else(|err| {
            // Shipped inside the binary and compiled by the component tests.
            panic!("the injection query of {} does not compile: {err}", format.name)
        })
    })
}

/// Embedded text found by an injection query.
struct Injection {
    /// The element holding it, tags included (`<script ...>` to `</script>`).
    element: Range<usize>,
    /// The embedded text itself.
    content: Range<usize>,
    /// Its language as the file names it (`ts`, `scss`) or the query's default.
    language: String,
}

/// The embedded texts of a component, in file order, none overlapping.
fn injections(format: &'static ComponentFormat, source: &str) -> Vec<Injection> {
    let mut parser = Parser::new();
    let Some(tree) = parser
        .set_language(&(format.host)())
        .ok()
        .and_then(|()| parser.parse(source, None))
    else {
        return Vec::new();
    };
    let query = injection_query(format);
    let mut found = Vec::new();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(query, tree.root_node(), source.as_bytes());
    while let Some(found_match) = matches.next() {
        let capture = |wanted: &str| {
            found_match
                .captures()
                .iter()
                .find(|capture| query.capture_names()[capture.index as usize] == wanted)
                .map(|capture| capture.node)
        };
        let Some(content) = capture("injection.content") else {
            continue;
        };
        let named = capture("injection.language").map(|node| source[node.byte_range()].to_string());
        let default = query
            .property_settings(found_match.pattern_index)
            .iter()
            .find(|setting| &*setting.key == "injection.language")
            .and_then(|setting| setting.value.as_deref().map(str::to_string));
        let Some(language) = named.or(default) else {
            continue;
        };
        let element = content.parent().unwrap_or(content).byte_range();
        found.push(Injection {
            element,
            content: content.byte_range(),
            language,
        });
    }
    found.sort_by_key(|injection| injection.content.start);
    // A text two patterns match counts once; elements never nest in HTML.
    found.dedup_by_key(|injection| injection.content.start);
    found
}

/// Chunks a component file: each embedded text with its language (see
/// [`chunker::chunk_embedded`]) over the lines of its element, tags
/// included, so a `<script>` line opens its module header and a closing
/// tag ends its last chunk; then the host's other lines as windows. All
/// positions are the component file's, and the union of the chunks' lines
/// covers every non-blank line.
pub(crate) fn chunk_component(
    format: &'static ComponentFormat,
    rel_path: &str,
    source: &str,
    max_chunk_bytes: usize,
) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut covered = vec![false; source.split('\n').count()];
    let mut region_end = 0;
    for (index, injection) in injections(format, source).iter().enumerate() {
        // From the start of the element's line (unless an element before
        // ends on it) to the end of its closing tag.
        let start = source[..injection.element.start]
            .rfind('\n')
            .map_or(0, |newline| newline + 1)
            .max(region_end);
        if start > injection.content.start {
            // Overlaps the element before (only a damaged host does that):
            // its lines are windowed with the host's.
            continue;
        }
        let end = injection.element.end;
        region_end = end;
        let text = &source[start..end];
        // The grammar sees only the embedded text: tags become spaces, lines stay.
        let parsed: Vec<u8> = text
            .bytes()
            .enumerate()
            .map(|(at, byte)| {
                let inside = injection.content.contains(&(start + at));
                if inside || byte == b'\n' { byte } else { b' ' }
            })
            .collect();
        let mut embedded = chunker::chunk_embedded(
            &injection.language,
            format.name,
            rel_path,
            text,
            Some(&parsed[..]),
            max_chunk_bytes,
        );
        chunker::salt_ids(&mut embedded, &format!("{}#{index}", format.name));
        let first_line = source[..start].matches('\n').count();
        for chunk in &mut embedded {
            chunk.start_byte += start;
            chunk.end_byte += start;
            chunk.start_line += first_line as u32;
            chunk.end_line += first_line as u32;
            covered[chunk.start_line as usize - 1..chunk.end_line as usize]
                .iter_mut()
                .for_each(|line| *line = true);
        }
        chunks.extend(embedded);
    }
    chunks.extend(chunker::uncovered_windows(format.name, rel_path, source, &covered));
    chunks.sort_by_key(|chunk| chunk.start_byte);
    chunks
}
