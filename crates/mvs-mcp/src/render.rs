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
                format!("detail `{other}` is not one of signatures, snippets, full"),
            )),
        }
    }
}

/// Lines of code per result at [`Detail::Snippets`].
pub const SNIPPET_LINES: usize = 20;
/// Default budget of a `search_code` answer, in estimated tokens.
pub const DEFAULT_MAX_TOKENS: usize = 4_000;
/// The most a caller may ask for: well under the 25,000-token tool-output
/// cap of common agents.
pub const MAX_TOKENS_CAP: usize = 20_000;

/// `detail` and `max_tokens` of a search tool, validated; `max_tokens`
/// defaults to [`DEFAULT_MAX_TOKENS`] and may be 100 to [`MAX_TOKENS_CAP`].
pub fn output_controls(detail: Option<&str>, max_tokens: Option<usize>) -> Result<(Detail, usize), ToolError> {
    let detail = Detail::parse(detail)?;
    let max_tokens = max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    if !(100..=MAX_TOKENS_CAP).contains(&max_tokens) {
        return Err(ToolError::invalid(
            "max_tokens",
            format!("max_tokens must be between 100 and {MAX_TOKENS_CAP}"),
        ));
    }
    Ok((detail, max_tokens))
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
/// location, kind, name, score and the first [`SNIPPET_LINES`] lines of each
/// chunk, with no budget.
pub fn render_results(response: &SearchResponse) -> String {
    shape(response, Detail::Snippets, usize::MAX).1
}

/// Estimated tokens of text: about 4 characters per token for code and JSON.
fn tokens(text: &str) -> usize {
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
            let cost = tokens(&value.to_string()) + tokens(&rendered);
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
    if response.results.is_empty() {
        text = format!("No results for {:?}.\n", response.query);
    }
    if omitted > 0 {
        text.push_str(&format!(
            "… {omitted} more results left out to stay within max_tokens={max_tokens}; ask with detail=signatures, \
             a smaller limit or a larger max_tokens\n"
        ));
    }
    let mut value = json!({ "query": response.query, "results": results });
    if response.partial {
        value["partial"] = json!(true);
        text.push_str("(partial: indexing is still computing vectors; some code is found by keywords only)\n");
    }
    if omitted > 0 {
        value["omitted"] = json!(omitted);
    }
    (value, text)
}

/// One result as JSON (the `search --json` fields, content per `detail`) and
/// as text.
fn render_hit(index: usize, hit: &mvs_store::SearchHit, detail: Detail) -> (Value, String) {
    let chunk = &hit.chunk;
    let mut value = serde_json::to_value(hit).unwrap_or_default();
    let lines: Vec<&str> = chunk.content.lines().collect();
    let shown = match detail {
        Detail::Signatures => 0,
        Detail::Snippets => SNIPPET_LINES.min(lines.len()),
        Detail::Full => lines.len(),
    };
    match detail {
        Detail::Signatures => {
            value.as_object_mut().map(|o| o.remove("content"));
        }
        Detail::Snippets if shown < lines.len() => {
            value["content"] = json!(lines[..shown].join("\n"));
            value["content_truncated"] = json!(true);
        }
        _ => {}
    }
    let name = if chunk.qualified_name.is_empty() {
        String::new()
    } else {
        format!("{} ", chunk.qualified_name)
    };
    let mut text = format!(
        "{}. {}:{}-{} {} {name}(score {:.2}, id {})\n",
        index + 1,
        chunk.file_path,
        chunk.start_line,
        chunk.end_line,
        chunk.kind,
        hit.score,
        chunk.chunk_id
    );
    if detail == Detail::Signatures && !chunk.signature.is_empty() {
        text.push_str(&format!("    {}\n", chunk.signature));
    }
    for line in &lines[..shown] {
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
}
