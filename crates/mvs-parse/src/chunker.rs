//! Turns one parsed file into chunks: definitions from the language's query,
//! nested into a hierarchy, plus a module-header chunk for what precedes them
//! and window chunks for whatever else no definition covers.
//!
//! Nothing is lost to a syntax error: tree-sitter recovers, but an error can
//! swallow the definitions after it (an unclosed bracket turns the rest of
//! the file into one ERROR node or one unterminated block). The regions an
//! error damaged are parsed again from their next line that is indented no
//! deeper than the damage, so definitions there are found; a broken
//! definition then ends where such a clean one begins.

use std::collections::{HashMap, HashSet, VecDeque};

use tree_sitter::{Node, Parser, Point, QueryCursor, Range, StreamingIterator, Tree};

use crate::chunk::{Chunk, ChunkKind, ChunkPart};
use crate::language::{LANGUAGES, LanguageSpec, canonical_language, definition_query};

/// Signatures longer than this are cut (generated code has huge ones).
const MAX_SIGNATURE_CHARS: usize = 240;
/// Doc summaries longer than this are cut.
const MAX_DOC_CHARS: usize = 300;
/// At most this many extra parses per file look for definitions that syntax
/// errors swallowed.
const MAX_RECOVERY_PARSES: usize = 16;
/// ... and together they parse at most this many times the file's bytes, so
/// a badly broken large file costs a few parses of itself, not dozens.
const RECOVERY_BYTES_PER_FILE_BYTE: usize = 4;

/// A definition found by the query, before it becomes a chunk.
struct Definition<'tree> {
    kind: ChunkKind,
    name: String,
    /// Enclosing type named in the definition itself (`Foo::bar`, Go receivers).
    scope: Option<String>,
    /// The definition node itself (its body field gives the signature).
    node: Node<'tree>,
    /// First byte including leading doc comments, attributes and decorators.
    start_byte: usize,
    end_byte: usize,
    parent: Option<usize>,
    /// Whether it becomes a chunk (definitions inside functions do not).
    emitted: bool,
    /// Index of its first emitted child, if any.
    first_child: Option<usize>,
}

/// Chunks `source` (already decoded) of the file at `rel_path` with `spec`'s
/// grammar; the chunks carry the language name `label` (`spec.name`, or the
/// host format's for embedded code: `vue`). The grammar reads `parsed`
/// when given (the same length and lines as `source`, with what is not in
/// `spec`'s language blanked out: a component's `<script>` tags), else
/// `source`; chunk text always comes from `source`. The union of the
/// chunks' line ranges covers every non-blank line of `source`.
pub(crate) fn chunk_source(
    spec: &'static LanguageSpec,
    label: &'static str,
    rel_path: &str,
    source: &str,
    parsed: Option<&[u8]>,
    max_chunk_bytes: usize,
) -> Vec<Chunk> {
    let mut parser = Parser::new();
    if parser.set_language(&spec.grammar()).is_err() {
        return window_chunks(label, rel_path, source);
    }
    let bytes = source.as_bytes();
    let parsed = parsed.unwrap_or(bytes);
    let masked: Vec<u8>;
    let parsed_bytes = if spec.ascii_only_scanner && !parsed.is_ascii() {
        masked = parsed.iter().map(|&b| if b.is_ascii() { b } else { b'x' }).collect();
        &masked[..]
    } else {
        parsed
    };
    let trees = parse_with_recovery(&mut parser, parsed_bytes);
    let found = trees
        .iter()
        .flat_map(|tree| collect_definitions(spec, tree.root_node(), bytes))
        .collect();
    let mut definitions = reconcile(found, bytes);
    link_hierarchy(&mut definitions);

    let mut builder = ChunkBuilder::new(label, spec.scope_separator, rel_path, source);
    // Each emitted definition's chunk: up to its first emitted child, else
    // all of it.
    let mut chunk_ends: Vec<usize> = definitions
        .iter()
        .map(|d| match d.first_child {
            Some(child) => builder.trim_end(d.start_byte, definitions[child].start_byte),
            None => builder.trim_end(d.start_byte, d.end_byte),
        })
        .collect();
    let first_top_level = definitions
        .iter()
        .filter(|d| d.emitted)
        .map(|d| d.start_byte)
        .min()
        .unwrap_or(bytes.len());
    let mut header_end = builder.trim_end(0, first_top_level);
    let windows = cover_gaps(&builder, &definitions, &mut chunk_ends, &mut header_end);

    let mut chunks = Vec::new();
    if builder.trim_end(0, header_end) > max_chunk_bytes {
        // A file of statements, or a data file whose units the query does
        // not name, would otherwise be one chunk of any size: windows, like
        // code between definitions.
        let end_line = builder.line_of(builder.trim_end(0, header_end).saturating_sub(1)) as usize;
        chunks.extend(builder.windows(0, end_line, None));
    } else if let Some(header) = builder.module_header(header_end) {
        chunks.push(header);
    }
    // (chunk id, qualified name) of every emitted definition, by index;
    // parents precede their children in `definitions`.
    let mut emitted: Vec<Option<(String, String)>> = vec![None; definitions.len()];
    for (index, definition) in definitions.iter().enumerate() {
        if !definition.emitted {
            continue;
        }
        let parent = definition.parent.and_then(|p| emitted[p].clone());
        let chunk = builder.definition(definition, chunk_ends[index], parent);
        emitted[index] = Some((chunk.id.clone(), chunk.qualified_name.clone()));
        if chunk.content.len() > max_chunk_bytes && definition.first_child.is_none() {
            let statements = statement_starts(definition.node, bytes);
            chunks.extend(builder.split(chunk, &statements, max_chunk_bytes));
        } else {
            chunks.push(chunk);
        }
    }
    for gap in windows {
        let parent_id = gap
            .container
            .and_then(|c| emitted[c].as_ref().map(|(id, _)| id.clone()));
        chunks.extend(builder.windows(gap.first_line, gap.last_line + 1, parent_id));
    }
    // File order (stable: a parent stays before a child starting with it).
    chunks.sort_by_key(|chunk| chunk.start_byte);
    builder.merge_constant_runs(chunks, max_chunk_bytes)
}

/// Lines per window (files without a grammar, and code no definition covers).
const WINDOW_LINES: usize = 40;
/// Lines shared by consecutive windows, so text spanning a boundary is whole
/// in one of them.
const WINDOW_OVERLAP: usize = 5;

/// Constants at most this long are "small": a run of them (one-line
/// `const`s, `#define`s, settings) is one chunk instead of many that each
/// carry too little text to embed well.
const SMALL_CONSTANT_BYTES: usize = 200;

/// Chunks a file without a grammar into overlapping windows of lines,
/// labelled with its real language.
pub(crate) fn window_chunks(language: &'static str, rel_path: &str, source: &str) -> Vec<Chunk> {
    let mut builder = ChunkBuilder::new(language, "", rel_path, source);
    let line_count = builder.line_starts.len();
    builder.windows(0, line_count, None)
}

/// Chunks text embedded in another file (a component's script, a
/// notebook's cell) in the language `language` names (a name, alias or
/// extension, as [`canonical_language`] reads it: `ts`, `Python`), with its
/// grammar when it has one, else in windows; every chunk carries `label`.
/// `parsed` is as in [`chunk_source`].
pub(crate) fn chunk_embedded(
    language: &str,
    label: &'static str,
    rel_path: &str,
    source: &str,
    parsed: Option<&[u8]>,
    max_chunk_bytes: usize,
) -> Vec<Chunk> {
    let spec = canonical_language(language).and_then(|name| LANGUAGES.iter().find(|spec| spec.name == name));
    match spec {
        Some(spec) => chunk_source(spec, label, rel_path, source, parsed, max_chunk_bytes),
        None => window_chunks(label, rel_path, source),
    }
}

/// Window chunks of `source` over the lines that `covered` (one flag per
/// 0-based line) leaves out: each run of uncovered lines, from a non-blank
/// line to the last non-blank line before a covered one, is windowed on its
/// own. Used for what a host file holds besides its embedded code.
pub(crate) fn uncovered_windows(language: &'static str, rel_path: &str, source: &str, covered: &[bool]) -> Vec<Chunk> {
    let mut builder = ChunkBuilder::new(language, "", rel_path, source);
    let line_count = builder.line_starts.len();
    let mut chunks = Vec::new();
    let mut line = 0;
    while line < line_count {
        if covered.get(line).copied().unwrap_or(false) || builder.is_blank_line(line) {
            line += 1;
            continue;
        }
        let first = line;
        let mut last = line;
        while line < line_count && !covered.get(line).copied().unwrap_or(false) {
            if !builder.is_blank_line(line) {
                last = line;
            }
            line += 1;
        }
        chunks.extend(builder.windows(first, last + 1, None));
    }
    chunks
}

/// Rewrites the ids of `chunks` (their own, their parents' and their
/// definitions') as hashes of the id and `salt`, consistently, so chunks of
/// several texts chunked apart and stored under one path (a component's
/// script and style blocks) never share an id.
pub(crate) fn salt_ids(chunks: &mut [Chunk], salt: &str) {
    let salted = |id: &str| {
        let mut hasher = blake3::Hasher::new();
        hasher.update(id.as_bytes());
        hasher.update(&[0]);
        hasher.update(salt.as_bytes());
        hasher.finalize().to_hex()[..16].to_string()
    };
    for chunk in chunks {
        chunk.id = salted(&chunk.id);
        chunk.parent_id = chunk.parent_id.as_deref().map(salted);
        if let Some(part) = chunk.part.as_mut() {
            part.definition_id = salted(&part.definition_id);
        }
    }
}

/// Uncovered lines that become windows: 0-based, inclusive, each first and
/// last line non-blank.
struct Gap {
    first_line: usize,
    last_line: usize,
    /// The innermost emitted container definition around the gap.
    container: Option<usize>,
}

/// Finds the non-blank lines that neither the module header (ending at
/// `header_end`) nor a definition chunk (`chunk_ends`, by definition)
/// covers. A run of them that only closes brackets or blocks (`}`, `end`)
/// joins the chunk just before it (whose end moves); any other run is
/// returned, to become windows.
fn cover_gaps(
    builder: &ChunkBuilder,
    definitions: &[Definition],
    chunk_ends: &mut [usize],
    header_end: &mut usize,
) -> Vec<Gap> {
    let line_count = builder.line_starts.len();
    let mut covered = vec![false; line_count];
    let mut cover = |start: usize, end: usize| {
        let (first, last) = builder.line_span(start, end);
        covered[first..=last].iter_mut().for_each(|line| *line = true);
    };
    if *header_end > 0 {
        cover(0, *header_end);
    }
    for (index, definition) in definitions.iter().enumerate().filter(|(_, d)| d.emitted) {
        cover(definition.start_byte, chunk_ends[index]);
    }
    let mut gaps = Vec::new();
    let mut line = 0;
    while line < line_count {
        if covered[line] || builder.is_blank_line(line) {
            line += 1;
            continue;
        }
        let first_line = line;
        let mut last_line = line;
        while line < line_count && !covered[line] {
            if !builder.is_blank_line(line) {
                last_line = line;
            }
            line += 1;
        }
        let start = builder.line_starts[first_line];
        let end = builder.line_end(last_line);
        let closes_only = (first_line..=last_line).all(|l| builder.is_blank_line(l) || closes_only(builder.line(l)));
        // The chunk ending last before the gap: a definition's (by index) or
        // the header's (`None`).
        let definition_before = definitions
            .iter()
            .enumerate()
            .filter(|(index, d)| d.emitted && chunk_ends[*index] <= start)
            .map(|(index, _)| (chunk_ends[index], Some(index)));
        let header_before = (*header_end > 0 && *header_end <= start).then_some((*header_end, None));
        match definition_before.chain(header_before).max_by_key(|(end, _)| *end) {
            Some((_, Some(index))) if closes_only => chunk_ends[index] = end,
            Some((_, None)) if closes_only => *header_end = end,
            _ => gaps.push(Gap {
                first_line,
                last_line,
                container: definitions
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.emitted && d.kind.is_container() && d.start_byte <= start && end <= d.end_byte)
                    .max_by_key(|(_, d)| d.start_byte)
                    .map(|(index, _)| index),
            }),
        }
    }
    gaps
}

/// Whether a line only closes what earlier lines opened (`}`, `});`, `end`,
/// `fi`, `#endif`, a closing tag such as a component's `</script>`): such
/// lines join the chunk before them rather than making a window of their own.
fn closes_only(line: &str) -> bool {
    let line = line.trim();
    let keyword = line.trim_end_matches([';', ',', '.']);
    matches!(keyword, "end" | "fi" | "done" | "esac" | "?>")
        || line.starts_with("#endif")
        || (line.starts_with("</") && line.ends_with('>') && !line[2..line.len() - 1].contains(['<', '>']))
        || line
            .chars()
            .all(|c| matches!(c, '}' | ')' | ']' | ';' | ',' | ' ' | '\t'))
}

/// Parses `bytes`, then parses again each region a syntax error damaged
/// (see [`damaged_regions`]) from its restart line (see [`restart_point`])
/// to its end, and so on for errors in those parses, within a budget.
/// Every tree's positions are positions in `bytes`.
fn parse_with_recovery(parser: &mut Parser, bytes: &[u8]) -> Vec<Tree> {
    // tree-sitter recovers from syntax errors, so a tree comes back for any
    // input; `None` only follows a cancellation we never request.
    let Some(tree) = parser.parse(bytes, None) else {
        return Vec::new();
    };
    let mut damaged: VecDeque<Damage> = damaged_regions(tree.root_node(), bytes).into();
    let mut trees = vec![tree];
    let mut tried = HashSet::new();
    let mut budget = bytes.len().saturating_mul(RECOVERY_BYTES_PER_FILE_BYTE);
    while trees.len() <= MAX_RECOVERY_PARSES
        && let Some(damage) = damaged.pop_front()
    {
        let Some(restart) = restart_point(bytes, damage.start, damage.end) else {
            continue;
        };
        let end = damage.parse_end;
        if end - restart > budget || !tried.insert((restart, end)) {
            continue;
        }
        budget -= end - restart;
        let range = Range {
            start_byte: restart,
            end_byte: end,
            start_point: point_at(bytes, restart),
            end_point: point_at(bytes, end),
        };
        if parser.set_included_ranges(&[range]).is_err() {
            continue;
        }
        let Some(tree) = parser.parse(bytes, None) else {
            continue;
        };
        damaged.extend(damaged_regions(tree.root_node(), bytes));
        trees.push(tree);
    }
    trees
}

/// Bytes where a syntax error may have swallowed definitions.
struct Damage {
    start: usize,
    end: usize,
    /// How far a parse restarted inside the damage goes: to the end of the
    /// syntax around it, since what the error swallowed can reach past it.
    parse_end: usize,
}

/// Where syntax errors may have swallowed definitions: in an ERROR node,
/// each run of children that are not whole lines of clean syntax (clean
/// children are parsed right, and the query finds definitions among them);
/// a node holding a MISSING token (an unclosed bracket is closed where the
/// parser gave up, after everything it swallowed), whole.
fn damaged_regions(root: Node, bytes: &[u8]) -> Vec<Damage> {
    let mut regions = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        if node.is_error() {
            let parse_end = node.parent().unwrap_or(node).end_byte();
            let mut run: Option<Damage> = None;
            for child in node.children(&mut cursor) {
                if stands_alone(child, bytes) {
                    regions.extend(run.take());
                } else {
                    let start = run.as_ref().map_or(child.start_byte(), |damage| damage.start);
                    run = Some(Damage {
                        start,
                        end: child.end_byte(),
                        parse_end,
                    });
                }
            }
            regions.extend(run);
            continue;
        }
        let mut holds_missing = false;
        for child in node.children(&mut cursor) {
            if child.is_missing() {
                holds_missing = true;
            } else if child.has_error() {
                stack.push(child);
            }
        }
        if holds_missing {
            regions.push(Damage {
                start: node.start_byte(),
                end: node.end_byte(),
                parse_end: node.end_byte(),
            });
        }
    }
    regions
}

/// Whether `node` is clean syntax on lines of its own (nothing else on its
/// first and last line).
fn stands_alone(node: Node, bytes: &[u8]) -> bool {
    let (start, end) = (node.start_byte(), node.end_byte());
    let after = bytes[end..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| end + i);
    node.is_named()
        && !node.has_error()
        && bytes[line_begin(bytes, start)..start]
            .iter()
            .all(u8::is_ascii_whitespace)
        && bytes[end..after].iter().all(u8::is_ascii_whitespace)
}

/// Where to parse a damaged region (`start..end`) again: the first line
/// after the one holding `start`, before `end`, that is indented no deeper
/// than that line and does not open with a closing bracket. A definition
/// the damage swallowed starts on such a line.
fn restart_point(bytes: &[u8], start: usize, end: usize) -> Option<usize> {
    let limit = indentation(bytes, start);
    let mut at = next_line(bytes, start)?;
    while at < end {
        let indent = indentation(bytes, at);
        let opens = bytes.get(at + indent).is_some_and(|b| !b" \t\r\n})]".contains(b));
        if opens && indent <= limit {
            return Some(at);
        }
        at = next_line(bytes, at)?;
    }
    None
}

/// Start of the line after the one holding `at`, if there is one.
fn next_line(bytes: &[u8], at: usize) -> Option<usize> {
    let newline = bytes[at..].iter().position(|&b| b == b'\n')?;
    Some(at + newline + 1).filter(|&next| next < bytes.len())
}

/// Start of the line holding `at`.
fn line_begin(bytes: &[u8], at: usize) -> usize {
    bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

/// Leading spaces and tabs of the line holding `at`.
fn indentation(bytes: &[u8], at: usize) -> usize {
    bytes[line_begin(bytes, at)..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

/// tree-sitter's (row, byte column) of a byte offset.
fn point_at(bytes: &[u8], at: usize) -> Point {
    let row = bytes[..at].iter().filter(|&&b| b == b'\n').count();
    Point::new(row, at - line_begin(bytes, at))
}

/// Merges the definitions of every parse into one list in file order
/// (outer before inner). A definition with a syntax error inside ends where
/// a clean definition indented no deeper starts within it (the error made
/// the parser swallow that one); one found by several parses counts once;
/// one that would straddle another's end (possible only across parses) is
/// dropped, and its lines are covered by windows instead.
fn reconcile<'tree>(mut definitions: Vec<Definition<'tree>>, bytes: &[u8]) -> Vec<Definition<'tree>> {
    let clean: Vec<(usize, usize)> = definitions
        .iter()
        .filter(|d| !d.node.has_error())
        .map(|d| (d.start_byte, indentation(bytes, d.start_byte)))
        .collect();
    for definition in definitions.iter_mut().filter(|d| d.node.has_error()) {
        let indent = indentation(bytes, definition.start_byte);
        let swallowed = clean
            .iter()
            .filter(|&&(start, depth)| start > definition.start_byte && start < definition.end_byte && depth <= indent)
            .map(|&(start, _)| start)
            .min();
        if let Some(start) = swallowed {
            definition.end_byte = start;
        }
    }
    definitions.sort_by_key(|d| (d.start_byte, std::cmp::Reverse(d.end_byte)));
    let mut seen = HashSet::new();
    let mut open_ends: Vec<usize> = Vec::new();
    definitions.retain(|d| {
        if !seen.insert((d.start_byte, d.end_byte, d.kind, d.name.clone())) {
            return false;
        }
        while open_ends.last().is_some_and(|&end| end <= d.start_byte) {
            open_ends.pop();
        }
        if open_ends.last().is_some_and(|&end| d.end_byte > end) {
            return false;
        }
        open_ends.push(d.end_byte);
        true
    });
    definitions
}

fn collect_definitions<'tree>(spec: &'static LanguageSpec, root: Node<'tree>, bytes: &[u8]) -> Vec<Definition<'tree>> {
    let query = definition_query(spec);
    let capture_names = query.capture_names();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(query, root, bytes);
    let mut definitions: Vec<Definition> = Vec::new();
    while let Some(found) = matches.next() {
        let mut kind_node = None;
        let mut name = String::new();
        let mut scope = None;
        for capture in found.captures() {
            let capture_name = capture_names[capture.index as usize];
            if capture_name == "name" {
                name = node_text(capture.node, bytes);
            } else if capture_name == "scope" {
                scope = Some(simple_name(&node_text(capture.node, bytes)));
            } else if let Some(kind) = ChunkKind::from_capture(capture_name) {
                kind_node = Some((kind, capture.node));
            }
        }
        let Some((kind, node)) = kind_node else {
            continue;
        };
        if definitions.iter().any(|d| d.node.id() == node.id()) {
            continue;
        }
        let range_node = match node.parent() {
            Some(parent) if spec.wrapper_kinds.contains(&parent.kind()) => parent,
            _ => node,
        };
        // A tree of masked text (`ascii_only_scanner`) could in theory end a
        // node inside a multi-byte character of the real text.
        let body_start = node.child_by_field_name("body").map(|b| b.start_byte());
        if [range_node.start_byte(), range_node.end_byte(), node.start_byte()]
            .into_iter()
            .chain(body_start)
            .any(|at| !is_char_boundary(bytes, at))
        {
            continue;
        }
        definitions.push(Definition {
            kind,
            // Headings are prose; only code names are reduced to their last segment.
            name: if kind == ChunkKind::Section {
                name.trim().to_string()
            } else {
                simple_name(&name)
            },
            scope,
            node,
            start_byte: line_start(bytes, leading_start(range_node)),
            end_byte: range_node.end_byte(),
            parent: None,
            emitted: false,
            first_child: None,
        });
    }
    definitions
}

/// Nests definitions by containment and decides which become chunks.
fn link_hierarchy(definitions: &mut [Definition]) {
    let mut stack: Vec<usize> = Vec::new();
    for index in 0..definitions.len() {
        while let Some(&top) = stack.last() {
            if definitions[top].end_byte <= definitions[index].start_byte {
                stack.pop();
            } else {
                break;
            }
        }
        let parent = stack.last().copied();
        definitions[index].parent = parent;
        definitions[index].emitted = match parent {
            None => true,
            Some(p) => definitions[p].emitted && definitions[p].kind.is_container(),
        };
        if let Some(p) = parent.filter(|_| definitions[index].emitted) {
            if definitions[index].kind == ChunkKind::Function && definitions[p].kind != ChunkKind::Module {
                definitions[index].kind = ChunkKind::Method;
            }
            definitions[p].first_child.get_or_insert(index);
        }
        stack.push(index);
    }
}

/// Line starts of the statements in a definition's body: the preferred
/// places to split it.
fn statement_starts(node: Node, bytes: &[u8]) -> Vec<usize> {
    let Some(body) = node.child_by_field_name("body") else {
        return Vec::new();
    };
    let mut cursor = body.walk();
    body.named_children(&mut cursor)
        .map(|statement| line_start(bytes, statement.start_byte()))
        .collect()
}

/// Start of a definition including the doc comments, attributes,
/// decorators and type signatures directly above it (no blank line in
/// between): Haskell's `total :: Invoice -> Double` and Elm's type
/// annotation are nodes of their own before the function they type. The
/// first definition of a block may have them before the block (Haskell puts
/// the first `haddock` before `declarations`): a node that starts its parent
/// looks at the parent's siblings too.
fn leading_start(node: Node) -> usize {
    const LEADING: [&str; 5] = ["comment", "haddock", "attribute", "signature", "type_annotation"];
    let mut start = node;
    let mut cursor = node;
    loop {
        let Some(previous) = cursor.prev_sibling() else {
            match cursor.parent() {
                Some(parent) if parent.start_byte() == cursor.start_byte() => {
                    cursor = parent;
                    continue;
                }
                _ => break,
            }
        };
        let attached = previous.end_position().row + 1 >= start.start_position().row;
        if attached && LEADING.iter().any(|leading| previous.kind().contains(leading)) {
            start = previous;
            cursor = previous;
        } else {
            break;
        }
    }
    start.start_byte()
}

/// Moves `start` back to the beginning of its line when only indentation
/// precedes it, so a chunk's first line reads like the file's.
fn line_start(bytes: &[u8], start: usize) -> usize {
    let begin = line_begin(bytes, start);
    if bytes[begin..start].iter().all(|&b| b == b' ' || b == b'\t') {
        begin
    } else {
        start
    }
}

/// Whether `at` starts a character (or is the end) of UTF-8 `bytes`.
fn is_char_boundary(bytes: &[u8], at: usize) -> bool {
    // Continuation bytes are 0b10xx_xxxx.
    at >= bytes.len() || (bytes[at] & 0xC0) != 0x80
}

fn node_text(node: Node, bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[node.byte_range()]).into_owned()
}

/// `Foo<T>` -> `Foo`, `crate::a::Foo` -> `Foo`: the name a user searches for.
fn simple_name(raw: &str) -> String {
    let base = raw.split('<').next().unwrap_or(raw).trim();
    let base = base.rsplit("::").next().unwrap_or(base);
    base.trim_start_matches('&').trim().to_string()
}

/// Assembles chunks of one file and keeps the sibling ordinals that make ids
/// unique.
struct ChunkBuilder<'a> {
    language: &'static str,
    scope_separator: &'static str,
    rel_path: &'a str,
    source: &'a str,
    /// Line starts, for byte -> line conversion.
    line_starts: Vec<usize>,
    ordinals: HashMap<(String, ChunkKind), u32>,
}

impl<'a> ChunkBuilder<'a> {
    fn new(language: &'static str, scope_separator: &'static str, rel_path: &'a str, source: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            language,
            scope_separator,
            rel_path,
            source,
            line_starts,
            ordinals: HashMap::new(),
        }
    }

    /// The text before the first definition (imports, module docs), if any.
    fn module_header(&mut self, end_byte: usize) -> Option<Chunk> {
        let end_byte = self.trim_end(0, end_byte);
        if self.source[..end_byte].trim().is_empty() {
            return None;
        }
        Some(self.make_chunk(ChunkDraft {
            kind: ChunkKind::ModuleHeader,
            name: String::new(),
            qualified_name: String::new(),
            signature: String::new(),
            doc: None,
            parent_id: None,
            start_byte: 0,
            end_byte,
        }))
    }

    fn definition(&mut self, definition: &Definition, end_byte: usize, parent: Option<(String, String)>) -> Chunk {
        let (parent_id, parent_qualified) = match parent {
            Some((id, qualified)) => (Some(id), qualified),
            None => (None, String::new()),
        };
        let qualified_name = [
            parent_qualified.as_str(),
            definition.scope.as_deref().unwrap_or_default(),
            &definition.name,
        ]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(self.scope_separator);
        let end_byte = self.trim_end(definition.start_byte, end_byte);
        self.make_chunk(ChunkDraft {
            kind: definition.kind,
            name: definition.name.clone(),
            qualified_name,
            signature: self.signature(definition.node),
            doc: self.doc(definition),
            parent_id,
            start_byte: definition.start_byte,
            end_byte,
        })
    }

    /// Splits an oversized chunk into parts of at most `max_bytes` where
    /// possible: at statements that begin a line first, else at any line
    /// start, never inside a line. Parts are contiguous (each ends where the
    /// next begins, on a line boundary; together they are the chunk) and
    /// carry [`ChunkPart`]; they keep the chunk's names, kind, doc and
    /// parent; ids derive from the whole chunk's id and the part number; each
    /// later part's embedding text repeats the signature so the model sees
    /// what it belongs to.
    fn split(&self, whole: Chunk, statements: &[usize], max_bytes: usize) -> Vec<Chunk> {
        let (start, end) = (whole.start_byte, whole.end_byte);
        let lines: Vec<usize> = self
            .line_starts
            .iter()
            .copied()
            .filter(|&line| line > start && line < end)
            .collect();
        // A statement sharing its line with code before it is no place to cut.
        let statements: Vec<usize> = statements
            .iter()
            .copied()
            .filter(|statement| lines.binary_search(statement).is_ok())
            .collect();
        let mut bounds = vec![start];
        let mut part_start = start;
        while end - part_start > max_bytes {
            let furthest = |cuts: &[usize]| {
                cuts.iter()
                    .copied()
                    .filter(|&c| c > part_start && c - part_start <= max_bytes)
                    .max()
            };
            let next_line = lines.iter().copied().find(|&c| c > part_start);
            let Some(cut) = furthest(&statements).or_else(|| furthest(&lines)).or(next_line) else {
                break;
            };
            bounds.push(cut);
            part_start = cut;
        }
        bounds.push(end);
        // A part of blank lines only joins the part before it.
        let mut at = 1;
        while at + 1 < bounds.len() {
            if self.source[bounds[at]..bounds[at + 1]].trim().is_empty() {
                bounds.remove(at);
            } else {
                at += 1;
            }
        }
        let count = bounds.len() - 1;
        if count == 1 {
            return vec![whole];
        }
        bounds
            .windows(2)
            .enumerate()
            .map(|(index, range)| {
                let (start_byte, end_byte) = (range[0], range[1]);
                let content = self.source[start_byte..end_byte].to_string();
                let header = if index == 0 {
                    String::new()
                } else {
                    format!("{}\n", whole.signature)
                };
                Chunk {
                    id: part_id(&whole.id, index as u32),
                    embedding_text: format!(
                        "{} · {} · {} (part {}/{count})\n{header}{}",
                        self.rel_path,
                        self.language,
                        whole.qualified_name,
                        index + 1,
                        content.trim_end()
                    ),
                    start_line: self.line_of(start_byte),
                    end_line: self.line_of(end_byte - 1),
                    start_byte,
                    end_byte,
                    content_hash: blake3::hash(content.as_bytes()).to_hex().to_string(),
                    content,
                    part: Some(ChunkPart {
                        index: index as u32 + 1,
                        count: count as u32,
                        definition_id: whole.id.clone(),
                    }),
                    ..whole.clone()
                }
            })
            .collect()
    }

    /// Window chunks over lines `first..end` (0-based, `end` exclusive):
    /// [`WINDOW_LINES`] lines each, consecutive ones sharing
    /// [`WINDOW_OVERLAP`]; windows of blank lines only are left out.
    fn windows(&mut self, first: usize, end: usize, parent_id: Option<String>) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        let mut first = first;
        while first < end {
            let last = (first + WINDOW_LINES).min(end);
            let start_byte = self.line_starts[first];
            let end_byte = self.trim_end(start_byte, self.line_end(last - 1));
            if !self.source[start_byte..end_byte].trim().is_empty() {
                chunks.push(self.make_chunk(ChunkDraft {
                    kind: ChunkKind::Window,
                    name: String::new(),
                    qualified_name: String::new(),
                    signature: String::new(),
                    doc: None,
                    parent_id: parent_id.clone(),
                    start_byte,
                    end_byte,
                }));
            }
            if last == end {
                break;
            }
            first = last - WINDOW_OVERLAP;
        }
        chunks
    }

    /// Merges each run of small constants that are siblings (same parent)
    /// with only blank space between them into one chunk, up to `max_bytes`.
    /// The merged chunk keeps its first member's id (stable while that
    /// constant exists) and names every member.
    fn merge_constant_runs(&self, chunks: Vec<Chunk>, max_bytes: usize) -> Vec<Chunk> {
        let mut merged: Vec<Chunk> = Vec::with_capacity(chunks.len());
        let mut run: Vec<Chunk> = Vec::new();
        for chunk in chunks {
            let joins = run.last().is_some_and(|last: &Chunk| {
                chunk.kind == ChunkKind::Constant
                    && chunk.content.len() <= SMALL_CONSTANT_BYTES
                    && chunk.parent_id == last.parent_id
                    && self.source[last.end_byte..chunk.start_byte].trim().is_empty()
                    && chunk.end_byte - run[0].start_byte <= max_bytes
            });
            if !joins {
                merged.extend(self.merge_run(std::mem::take(&mut run)));
            }
            if chunk.kind == ChunkKind::Constant && chunk.content.len() <= SMALL_CONSTANT_BYTES {
                run.push(chunk);
            } else {
                merged.push(chunk);
            }
        }
        merged.extend(self.merge_run(run));
        merged
    }

    fn merge_run(&self, run: Vec<Chunk>) -> Vec<Chunk> {
        if run.len() < 2 {
            return run;
        }
        let (first, last) = (&run[0], &run[run.len() - 1]);
        let names = truncate_chars(
            &run.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "),
            MAX_SIGNATURE_CHARS,
        );
        let content = self.source[first.start_byte..last.end_byte].to_string();
        vec![Chunk {
            name: names.clone(),
            signature: truncate_chars(
                &run.iter().map(|c| c.signature.as_str()).collect::<Vec<_>>().join("; "),
                MAX_SIGNATURE_CHARS,
            ),
            doc: run.iter().find_map(|c| c.doc.clone()),
            end_line: last.end_line,
            end_byte: last.end_byte,
            content_hash: blake3::hash(content.as_bytes()).to_hex().to_string(),
            embedding_text: format!("{} · {} · {names}\n{content}", self.rel_path, self.language),
            content,
            ..first.clone()
        }]
    }

    fn make_chunk(&mut self, draft: ChunkDraft) -> Chunk {
        let ordinal_key = (draft.qualified_name.clone(), draft.kind);
        let ordinal = self.ordinals.entry(ordinal_key).or_insert(0);
        let id = chunk_id(self.rel_path, &draft.qualified_name, draft.kind, *ordinal);
        *ordinal += 1;
        let content = self.source[draft.start_byte..draft.end_byte].to_string();
        let breadcrumb = if draft.qualified_name.is_empty() {
            draft.kind.as_str()
        } else {
            &draft.qualified_name
        };
        let embedding_text = format!("{} · {} · {}\n{}", self.rel_path, self.language, breadcrumb, content);
        Chunk {
            id,
            kind: draft.kind,
            name: draft.name,
            qualified_name: draft.qualified_name,
            signature: draft.signature,
            doc: draft.doc,
            parent_id: draft.parent_id,
            start_line: self.line_of(draft.start_byte),
            end_line: self.line_of(draft.end_byte.saturating_sub(1).max(draft.start_byte)),
            start_byte: draft.start_byte,
            end_byte: draft.end_byte,
            language: self.language,
            content_hash: blake3::hash(content.as_bytes()).to_hex().to_string(),
            content,
            embedding_text,
            part: None,
            cell: None,
        }
    }

    /// 1-based line of a byte offset.
    fn line_of(&self, byte: usize) -> u32 {
        let index = self.line_starts.partition_point(|&start| start <= byte);
        index.max(1) as u32
    }

    /// The 0-based first and last line of the bytes `start..end` (the line
    /// of `start` when the range is empty).
    fn line_span(&self, start: usize, end: usize) -> (usize, usize) {
        let first = self.line_of(start) as usize - 1;
        (first, self.line_of(end.saturating_sub(1).max(start)) as usize - 1)
    }

    /// End of the text of 0-based line `line` (before its line break).
    fn line_end(&self, line: usize) -> usize {
        self.line_starts
            .get(line + 1)
            .map_or(self.source.len(), |&next| next - 1)
    }

    /// The text of 0-based line `line`.
    fn line(&self, line: usize) -> &str {
        &self.source[self.line_starts[line]..self.line_end(line)]
    }

    fn is_blank_line(&self, line: usize) -> bool {
        self.line(line).trim().is_empty()
    }

    /// Moves `end` back over trailing whitespace, never before `start`.
    fn trim_end(&self, start: usize, end: usize) -> usize {
        start + self.source[start..end].trim_end().len()
    }

    /// Declaration text up to the body, whitespace collapsed.
    fn signature(&self, node: Node) -> String {
        let end = node
            .child_by_field_name("body")
            .map(|body| body.start_byte())
            .unwrap_or_else(|| {
                let text = &self.source[node.start_byte()..node.end_byte()];
                node.start_byte() + text.find('\n').unwrap_or(text.len())
            });
        let raw = &self.source[node.start_byte()..end.max(node.start_byte())];
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let collapsed = collapsed.trim_end_matches(['{', ':']).trim_end();
        truncate_chars(collapsed, MAX_SIGNATURE_CHARS)
    }

    /// First paragraph of the doc comments above, or of a leading docstring.
    fn doc(&self, definition: &Definition) -> Option<String> {
        let above = &self.source[definition.start_byte..definition.node.start_byte()];
        let from_comments: Vec<&str> = above
            .lines()
            .map(str::trim)
            .filter(|line| is_doc_comment(line))
            .map(strip_comment_markers)
            .collect();
        let text = if from_comments.iter().any(|line| !line.is_empty()) {
            from_comments.join("\n")
        } else {
            self.docstring(definition.node)?
        };
        let paragraph: Vec<&str> = text
            .trim()
            .lines()
            .map(str::trim)
            .take_while(|line| !line.is_empty())
            .collect();
        let summary = paragraph.join(" ");
        (!summary.is_empty()).then(|| truncate_chars(&summary, MAX_DOC_CHARS))
    }

    /// A string literal that is the first statement of the body (Python style).
    fn docstring(&self, node: Node) -> Option<String> {
        let body = node.child_by_field_name("body")?;
        let first = body.named_child(0)?;
        let literal = if first.kind() == "expression_statement" {
            first.named_child(0)?
        } else {
            first
        };
        if literal.kind() != "string" {
            return None;
        }
        let text = &self.source[literal.byte_range()];
        let text = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        Some(text.trim_matches(|c| c == '"' || c == '\'').to_string())
    }
}

/// The fields of a chunk known before its id, lines and text are derived.
struct ChunkDraft {
    kind: ChunkKind,
    name: String,
    qualified_name: String,
    signature: String,
    doc: Option<String>,
    parent_id: Option<String>,
    start_byte: usize,
    end_byte: usize,
}

fn is_doc_comment(line: &str) -> bool {
    ["///", "//!", "/**", "/*!", "*", "#"]
        .iter()
        .any(|marker| line.starts_with(marker))
        && !line.starts_with("#[")
        && !line.starts_with("#!")
}

fn strip_comment_markers(line: &str) -> &str {
    line.trim_start_matches(['/', '*', '!', '#'])
        .trim_end_matches("*/")
        .trim()
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Id of part `index` of the chunk `whole_id` (stable while the chunk's
/// identity is).
fn part_id(whole_id: &str, index: u32) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(whole_id.as_bytes());
    hasher.update(b"\0part\0");
    hasher.update(&index.to_le_bytes());
    hasher.finalize().to_hex()[..16].to_string()
}

/// Stable chunk id: path, qualified name, kind and ordinal among siblings of
/// the same name; line numbers never enter it.
fn chunk_id(rel_path: &str, qualified_name: &str, kind: ChunkKind, ordinal: u32) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in [rel_path, qualified_name, kind.as_str()] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    hasher.update(&ordinal.to_le_bytes());
    hasher.finalize().to_hex()[..16].to_string()
}
