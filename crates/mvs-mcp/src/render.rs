//! How answers look: search results fitted into an agent's context (a
//! detail level per result and a token budget for the whole answer; agents
//! cap tool output, e.g. at 25,000 tokens), and every tool's answer as
//! structured JSON plus a text rendering.

use mvs_index::SearchResponse;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};

use crate::ToolError;

/// How much of each result to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Location, kind, name, signature and doc line; no code.
    Signatures,
    /// The first [`SNIPPET_LINES`] lines of code.
    Snippets,
    /// The whole chunk.
    Full,
}

impl Detail {
    /// Parses `signatures`, `snippets` (the default) or `full`.
    pub fn parse(raw: Option<&str>) -> Result<Self, ToolError> {
        match raw.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("snippets") | Some("snippet") => Ok(Self::Snippets),
            Some("signatures") | Some("signature") => Ok(Self::Signatures),
            Some("full") => Ok(Self::Full),
            Some(other) => Err(ToolError::invalid(
                "detail",
                format!(
                    "detail `{}` is not one of signatures, snippets, full",
                    clip(other, ECHO_BYTES)
                ),
            )),
        }
    }
}

/// Lines of code per result at [`Detail::Snippets`].
pub const SNIPPET_LINES: usize = 20;
/// Longest line an answer shows whole, in bytes: longer ones (minified or
/// generated code) are cut and marked `…`.
pub const MAX_LINE_BYTES: usize = 1_000;
/// Default budget of a `search_code` answer, in estimated tokens.
pub const DEFAULT_MAX_TOKENS: usize = 4_000;
/// The most a caller may ask for: well under the 25,000-token tool-output
/// cap of common agents.
pub const MAX_TOKENS_CAP: usize = 20_000;

/// `detail` and `max_tokens` of a search tool, validated; `max_tokens`
/// defaults to [`DEFAULT_MAX_TOKENS`] and may be 100 to [`MAX_TOKENS_CAP`].
pub fn output_controls(detail: Option<&str>, max_tokens: Option<usize>) -> Result<(Detail, usize), ToolError> {
    Ok((Detail::parse(detail)?, token_budget(max_tokens)?))
}

/// A tool's `max_tokens`, validated: [`DEFAULT_MAX_TOKENS`] when absent,
/// else 100 to [`MAX_TOKENS_CAP`].
pub fn token_budget(max_tokens: Option<usize>) -> Result<usize, ToolError> {
    Ok(crate::args::MAX_TOKENS.check(max_tokens)?)
}

/// Most bytes of a caller's own text (a query, a bad value) repeated in an
/// answer: an answer's size depends on the budget, never on its input.
pub const ECHO_BYTES: usize = 200;

/// `text` cut to at most `max_bytes` (on a character boundary), with `…`
/// where it was cut.
pub fn clip(text: &str, max_bytes: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max_bytes {
        return text.into();
    }
    let end = (0..=max_bytes).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    format!("{}…", &text[..end]).into()
}

/// A search answer within the caller's detail level and token budget.
pub fn shaped(response: &SearchResponse, detail: Detail, max_tokens: usize) -> CallToolResult {
    let (value, text) = shape(response, detail, max_tokens);
    structured(value, text)
}

/// A tool's answer: `value` as structured content, `text` as what a
/// client without structured output shows.
pub fn structured(value: Value, text: String) -> CallToolResult {
    let mut result = CallToolResult::structured(value);
    result.content = vec![ContentBlock::text(text)];
    result
}

/// A compact text rendering of results (the CLI's `search` output):
/// location, kind, name, score, `stale` for a file changed since indexing,
/// and the first [`SNIPPET_LINES`] lines of each chunk, with no budget.
pub fn render_results(response: &SearchResponse) -> String {
    shape(response, Detail::Snippets, usize::MAX).1
}

/// Estimated tokens of text: about 4 characters per token for code and JSON.
pub(crate) fn tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

/// The structured answer and its text rendering, both within `max_tokens`
/// together: results are added best first at `detail`; a result that would
/// overflow the budget ends the list (the first one is shown as a signature
/// instead), and the answer says how many were left out.
pub fn shape(response: &SearchResponse, detail: Detail, max_tokens: usize) -> (Value, String) {
    let mut results = Vec::new();
    let mut text = String::new();
    let mut used = 0usize;
    let mut omitted = 0usize;
    for (index, hit) in response.results.iter().enumerate() {
        let mut shaped = None;
        for level in [detail, Detail::Signatures] {
            let (value, rendered) = render_hit(index, hit, level);
            let cost = tokens(&value.to_string()) + sent_bytes(&rendered).div_ceil(4);
            if used + cost <= max_tokens || (results.is_empty() && level == Detail::Signatures) {
                shaped = Some((value, rendered, cost));
                break;
            }
            if !results.is_empty() {
                break;
            }
        }
        let Some((value, rendered, cost)) = shaped else {
            omitted = response.results.len() - index;
            break;
        };
        used += cost;
        results.push(value);
        text.push_str(&rendered);
    }
    let query = clip(&response.query, ECHO_BYTES);
    if response.results.is_empty() {
        text = format!("No results for {query:?}.\n");
    }
    if omitted > 0 {
        text.push_str(&format!(
            "… {omitted} more results left out to stay within max_tokens={max_tokens}; ask with detail=signatures, \
             a smaller limit or a larger max_tokens\n"
        ));
    }
    let stale = response.results.iter().filter(|hit| hit.stale).count();
    if stale > 0 {
        text.push_str(&format!(
            "(stale: {stale} of these results come from files changed since indexing, so their lines may have \
             moved; get_chunk by id re-reads the file, re-indexing refreshes them)\n"
        ));
    }
    let mut value = json!({ "query": query, "results": results });
    if response.partial {
        value["partial"] = json!(true);
        text.push_str("(partial: indexing is still computing vectors; some code is found by keywords only)\n");
    }
    if omitted > 0 {
        value["omitted"] = json!(omitted);
    }
    (value, text)
}

/// `lines` of `file_path`, the first of them numbered `first` (1-based), as
/// `get_chunk` answers them: structured `{file_path, start_line, end_line,
/// content}` and a numbered text rendering, together within `max_tokens`.
/// Lines are added in order until the budget is spent (the first is always
/// shown); lines longer than [`MAX_LINE_BYTES`] are cut and marked `…`
/// (`lines_cut` counts them). When lines are left out, `truncated`,
/// `next_start_line` and a note in the text say how to read on.
pub fn excerpt(file_path: &str, lines: &[&str], first: usize, max_tokens: usize) -> (Value, String) {
    // What the fields around the lines cost, JSON and text together.
    const FRAME_BYTES: usize = 600;
    let budget = max_tokens.saturating_mul(4).saturating_sub(FRAME_BYTES);
    let mut content = Vec::new();
    let mut numbered = String::new();
    let (mut used, mut cut) = (0usize, 0usize);
    for (offset, line) in lines.iter().enumerate() {
        let line = clip(line, MAX_LINE_BYTES);
        // Both copies are sent as JSON strings: count them escaped, plus the
        // line number and the two escaped line breaks.
        let cost = 2 * sent_bytes(&line) + 16;
        if used + cost > budget && offset > 0 {
            break;
        }
        used += cost;
        cut += usize::from(matches!(line, std::borrow::Cow::Owned(_)));
        numbered.push_str(&format!("{:>5}  {line}\n", first + offset));
        content.push(line);
    }
    let last = first + lines.len().max(1) - 1;
    let shown_last = first + content.len().max(1) - 1;
    let mut value = json!({
        "file_path": file_path,
        "start_line": first,
        "end_line": shown_last,
        "content": content.join("\n"),
    });
    let mut text = format!("{file_path}:{first}-{shown_last}\n{numbered}");
    if cut > 0 {
        value["lines_cut"] = json!(cut);
        text.push_str(&format!(
            "({cut} lines longer than {MAX_LINE_BYTES} bytes were cut, marked …)\n"
        ));
    }
    if content.len() < lines.len() {
        let next = shown_last + 1;
        value["truncated"] = json!(true);
        value["next_start_line"] = json!(next);
        text.push_str(&format!(
            "(lines {next}-{last} left out to stay within max_tokens={max_tokens}; call get_chunk with \
             file_path {file_path:?}, start_line {next} for the rest)\n"
        ));
    }
    (value, text)
}

/// Where a chunk's lines count, as text shows it: its path, and in a
/// notebook the cell (`nb.ipynb#cell3`: lines 2-7 are that cell's).
pub fn location(file_path: &str, cell: Option<u32>) -> String {
    match cell {
        Some(cell) => format!("{file_path}#cell{cell}"),
        None => file_path.to_string(),
    }
}

/// Bytes of `text` once sent as a JSON string (escapes included).
fn sent_bytes(text: &str) -> usize {
    serde_json::to_string(text).map_or(text.len(), |sent| sent.len())
}

/// One result as JSON (the `search --json` fields, content per `detail`) and
/// as text. Long lines, signatures and doc lines are cut (see
/// [`MAX_LINE_BYTES`]), so one minified chunk cannot fill an answer.
fn render_hit(index: usize, hit: &mvs_store::SearchHit, detail: Detail) -> (Value, String) {
    let chunk = &hit.chunk;
    let mut value = serde_json::to_value(hit).unwrap_or_default();
    let lines: Vec<&str> = chunk.content.lines().collect();
    let shown = match detail {
        Detail::Signatures => 0,
        Detail::Snippets => SNIPPET_LINES.min(lines.len()),
        Detail::Full => lines.len(),
    };
    let cut_lines: Vec<std::borrow::Cow<str>> = lines[..shown].iter().map(|l| clip(l, MAX_LINE_BYTES)).collect();
    let any_cut = cut_lines.iter().any(|l| matches!(l, std::borrow::Cow::Owned(_)));
    if detail == Detail::Signatures {
        value.as_object_mut().map(|o| o.remove("content"));
    } else if shown < lines.len() || any_cut {
        value["content"] = json!(cut_lines.join("\n"));
        value["content_truncated"] = json!(true);
    }
    value["signature"] = json!(clip(&chunk.signature, MAX_LINE_BYTES));
    if let Some(doc) = &chunk.doc {
        value["doc"] = json!(clip(doc, MAX_LINE_BYTES));
    }
    let name = if chunk.qualified_name.is_empty() {
        String::new()
    } else {
        format!("{} ", clip(&chunk.qualified_name, ECHO_BYTES))
    };
    // The best part of a split definition stands for all of it.
    let name = match &chunk.part {
        Some(part) => format!("{name}[part {}/{}] ", part.index, part.count),
        None => name,
    };
    // Stale shows in the text too: many clients show only the text.
    let stale = if hit.stale {
        ", stale: file changed since indexing"
    } else {
        ""
    };
    let mut text = format!(
        "{}. {}:{}-{} {} {name}(score {:.2}, id {}{stale})\n",
        index + 1,
        location(&chunk.file_path, chunk.cell),
        chunk.start_line,
        chunk.end_line,
        chunk.kind,
        hit.score,
        chunk.chunk_id
    );
    if detail == Detail::Signatures && !chunk.signature.is_empty() {
        text.push_str(&format!("    {}\n", clip(&chunk.signature, MAX_LINE_BYTES)));
    }
    for line in &cut_lines {
        text.push_str("    ");
        text.push_str(line);
        text.push('\n');
    }
    if shown > 0 && shown < lines.len() {
        text.push_str(&format!(
            "    … {} more lines (get_chunk for all)\n",
            lines.len() - shown
        ));
    }
    (value, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mvs_store::{ChunkRecord, SearchHit};

    fn hit(name: &str, lines: usize) -> SearchHit {
        let content: Vec<String> = (0..lines).map(|i| format!("    let line_{i} = {i};")).collect();
        let chunk: ChunkRecord = serde_json::from_value(json!({
            "chunk_id": format!("id-{name}"), "file_path": "src/lib.rs", "language": "rust",
            "kind": "function", "name": name, "qualified_name": name, "signature": format!("fn {name}()"),
            "doc": null, "parent_id": null, "start_line": 1, "end_line": lines, "start_byte": 0,
            "end_byte": 0, "content": content.join("\n"), "content_hash": "",
        }))
        .unwrap();
        SearchHit {
            chunk,
            score: 1.0,
            vector_rank: Some(1),
            vector_score: Some(0.5),
            keyword_rank: None,
            keyword_score: None,
            stale: false,
            why: Default::default(),
        }
    }

    fn response(hits: Vec<SearchHit>) -> SearchResponse {
        SearchResponse {
            partial: false,
            query: "q".into(),
            results: hits,
        }
    }

    #[test]
    fn detail_levels_shape_content() {
        let answer = response(vec![hit("a", 50)]);
        let (full, _) = shape(&answer, Detail::Full, MAX_TOKENS_CAP);
        assert_eq!(full["results"][0]["content"].as_str().unwrap().lines().count(), 50);
        let (snippet, text) = shape(&answer, Detail::Snippets, MAX_TOKENS_CAP);
        assert_eq!(
            snippet["results"][0]["content"].as_str().unwrap().lines().count(),
            SNIPPET_LINES
        );
        assert_eq!(snippet["results"][0]["content_truncated"], true);
        assert!(text.contains("30 more lines"));
        let (signature, text) = shape(&answer, Detail::Signatures, MAX_TOKENS_CAP);
        assert!(signature["results"][0].get("content").is_none());
        assert_eq!(signature["results"][0]["signature"], "fn a()");
        assert!(text.contains("fn a()"));
        assert!(Detail::parse(Some("everything")).is_err());
    }

    #[test]
    fn the_budget_bounds_the_answer_and_says_what_was_left_out() {
        let answer = response((0..50).map(|i| hit(&format!("f{i}"), 40)).collect());
        for max_tokens in [300, DEFAULT_MAX_TOKENS, MAX_TOKENS_CAP] {
            let (value, text) = shape(&answer, Detail::Full, max_tokens);
            let spent = tokens(&value.to_string()) + tokens(&text);
            // The footer is outside the per-result accounting; allow for it.
            assert!(spent <= max_tokens + 80, "{spent} > {max_tokens}");
            let shown = value["results"].as_array().unwrap().len();
            assert!(shown >= 1);
            assert_eq!(value["omitted"].as_u64().unwrap_or(0) as usize, 50 - shown);
        }
        // A budget too small for one full result still shows its signature.
        let (value, _) = shape(&answer, Detail::Full, 50);
        assert_eq!(value["results"].as_array().unwrap().len(), 1);
        assert!(value["results"][0].get("content").is_none());
    }

    #[test]
    fn stale_hits_say_so_in_the_text_and_long_input_is_not_echoed() {
        let mut stale = hit("moved", 3);
        stale.stale = true;
        let mut answer = response(vec![hit("fresh", 3), stale]);
        answer.query = "q".repeat(1 << 20);
        let (value, text) = shape(&answer, Detail::Snippets, DEFAULT_MAX_TOKENS);
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("(score")).collect();
        assert!(!lines[0].contains("stale") && lines[1].contains("stale: file changed since indexing"));
        assert!(text.contains("(stale: 1 of these results"), "{text}");
        assert!(value["query"].as_str().unwrap().len() <= ECHO_BYTES + '…'.len_utf8());
        assert!(render_results(&answer).contains("stale: file changed since indexing"));
        let detail = Detail::parse(Some(&"x".repeat(1 << 20))).unwrap_err().to_string();
        assert!(detail.len() < 400, "{} bytes", detail.len());
    }

    #[test]
    fn one_huge_line_cannot_fill_a_search_answer() {
        let mut minified = hit("bundle", 1);
        minified.chunk.content = "var a=1;".repeat(100_000);
        minified.chunk.signature = minified.chunk.content.clone();
        for detail in [Detail::Signatures, Detail::Snippets, Detail::Full] {
            let (value, text) = shape(&response(vec![minified.clone()]), detail, DEFAULT_MAX_TOKENS);
            assert!(value.to_string().len() + text.len() < 8 * MAX_LINE_BYTES, "{detail:?}");
        }
    }

    #[test]
    fn excerpts_fit_the_budget_cut_long_lines_and_name_the_next_line() {
        let long = "z".repeat(5 * MAX_LINE_BYTES);
        let lines: Vec<&str> = (0..400).map(|_| long.as_str()).collect();
        for max_tokens in [100, DEFAULT_MAX_TOKENS, MAX_TOKENS_CAP] {
            let (value, text) = excerpt("big.py", &lines, 201, max_tokens);
            let sent = value.to_string().len() + sent_bytes(&text);
            assert!(
                sent <= max_tokens * 4 + 2 * MAX_LINE_BYTES,
                "{sent} > {max_tokens} tokens"
            );
            let shown = value["content"].as_str().unwrap().lines().count();
            assert!(shown >= 1);
            assert_eq!(value["end_line"].as_u64().unwrap() as usize, 200 + shown);
            assert_eq!(value["next_start_line"].as_u64().unwrap() as usize, 201 + shown);
            assert_eq!(value["lines_cut"].as_u64().unwrap() as usize, shown);
            assert!(
                text.contains(&format!("start_line {} for the rest", 201 + shown)),
                "{text}"
            );
        }
        // Everything fits: no truncation marks.
        let (value, text) = excerpt("small.py", &["a", "b"], 7, DEFAULT_MAX_TOKENS);
        assert_eq!(
            (value["start_line"].as_u64(), value["end_line"].as_u64()),
            (Some(7), Some(8))
        );
        assert!(value.get("truncated").is_none() && value.get("lines_cut").is_none());
        assert_eq!(text, "small.py:7-8\n    7  a\n    8  b\n");
        // A cut lands on a character boundary.
        assert_eq!(clip("ééé", 3), "é…");
    }
}
