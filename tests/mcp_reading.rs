//! What an agent reads over MCP is right, fresh and bounded, with the real
//! binary and the real model:
//! * `get_chunk` by id never shows other code under a chunk's name: a
//!   definition that moved is found again (`relocated`), one that changed or
//!   whose file is gone is the stored text marked `stale`; `stale` shows in
//!   the text of search answers and of the CLI's `search`, not only in
//!   `structuredContent`;
//! * every answer stays within `max_tokens` (long lines cut, the rest named
//!   by `next_start_line`), and no answer exceeds about 80 KB whatever the
//!   arguments;
//! * files the index would not hold (secrets, dependencies, ignored files)
//!   are neither indexed nor served.

//! * notebooks and single-file components: a function in a notebook cell is
//!   found with its cell and the lines inside the cell, `get_chunk` answers
//!   that cell's lines (not the JSON file's), the CLI prints
//!   `path#cellN:lines`; a Vue component's script is searchable under
//!   `language: vue`, and status counts both formats.
use std::path::Path;
use std::process::Command;

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-vector-search");

/// The most an answer may weigh, serialised: "about 80 KB" (20,000 tokens
/// of about 4 bytes, and the JSON around them).
const MAX_ANSWER_BYTES: usize = 84_000;

type Client = RunningService<RoleClient, ()>;

const SHAPES: &str = "\
def area_of_circle(radius):
    \"\"\"Area of a circle of the given radius.\"\"\"
    return 3.14159 * radius * radius


def perimeter_of_square(side):
    \"\"\"Perimeter of a square.\"\"\"
    return 4 * side
";

fn write(root: &Path, path: &str, text: impl AsRef<[u8]>) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs the CLI in `root`; it must succeed. Returns its stdout.
fn cli(args: &[&str], root: &Path) -> String {
    let output = Command::new(BIN).args(args).current_dir(root).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `mcp` serving `root` without its file watcher (what it reads must be
/// right even while the index lags behind the files).
async fn serve(root: &Path) -> Client {
    let transport = TokioChildProcess::new(tokio::process::Command::new(BIN).configure(|cmd| {
        cmd.arg("mcp")
            .env("MCP_PROJECT_ROOT", root)
            .env("MCP_ENABLE_FILE_WATCHING", "0");
    }))
    .unwrap();
    ().serve(transport).await.expect("initialize")
}

/// Calls `tool` with `args` (any JSON object), errors included.
async fn call_raw(client: &Client, tool: &str, args: &Value) -> Result<CallToolResult, ServiceError> {
    let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args.as_object().unwrap().clone());
    client.call_tool(params).await
}

/// Calls `tool`, which must succeed; returns its structured answer and text.
async fn call(client: &Client, tool: &str, args: Value) -> (Value, String) {
    let result = call_raw(client, tool, &args).await.expect("a tool result");
    assert_ne!(result.is_error, Some(true), "{tool} {args}: {result:?}");
    (
        result.structured_content.clone().expect("structured content"),
        text_of(&result),
    )
}

/// Calls `tool`, which must answer `isError`; returns the text.
async fn call_refused(client: &Client, tool: &str, args: Value) -> String {
    let result = call_raw(client, tool, &args).await.expect("a tool result");
    assert_eq!(result.is_error, Some(true), "{tool} {args}: {result:?}");
    text_of(&result)
}

/// The text content of a result.
fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|text| text.text.clone()))
        .collect()
}

/// The result named `name` in a search answer.
fn hit<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|hit| hit["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {answer:#}"))
}

/// The example and its kind: with the watcher off, 5 lines inserted
/// at the top of an indexed file made `get_chunk(id)` return the next
/// function's lines under the old name. A moved definition is found again
/// and said so; an edited one, or one whose file is gone, is its stored
/// text marked stale; search answers and the CLI's text say `stale` too.
#[tokio::test]
async fn get_chunk_by_id_never_shows_other_code_under_the_old_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "geometry/shapes.py", SHAPES);
    cli(&["index"], root);
    let client = serve(root).await;
    let (found, _) = call(
        &client,
        "search_code",
        json!({"query": "perimeter_of_square area_of_circle", "search_mode": "keyword"}),
    )
    .await;
    let (area, square) = (hit(&found, "area_of_circle"), hit(&found, "perimeter_of_square"));
    assert_eq!(
        (square["start_line"].as_u64(), square["stale"].as_bool()),
        (Some(6), Some(false))
    );
    let (area_id, square_id) = (area["chunk_id"].clone(), square["chunk_id"].clone());

    // Five lines at the top: both definitions move down, unchanged.
    write(
        root,
        "geometry/shapes.py",
        format!("# one\n# two\n# three\n# four\n# five\n{SHAPES}"),
    );
    let (moved, text) = call(&client, "get_chunk", json!({"chunk_id": square_id})).await;
    assert_eq!(moved["relocated"], true, "{moved:#}");
    assert_eq!(moved["stale"], false, "{moved:#}");
    assert_eq!(
        (moved["start_line"].as_u64(), moved["end_line"].as_u64()),
        (Some(11), Some(13))
    );
    assert_eq!(moved["indexed_lines"], json!([6, 8]), "{moved:#}");
    let content = moved["content"].as_str().unwrap();
    assert!(content.starts_with("def perimeter_of_square(side):") && content.ends_with("return 4 * side"));
    assert!(
        text.contains("relocated") && text.contains("   11  def perimeter_of_square"),
        "{text}"
    );
    // With context, around the new place.
    let (around, _) = call(&client, "get_chunk", json!({"chunk_id": area_id, "context_lines": 2})).await;
    assert_eq!(
        (around["start_line"].as_u64(), around["end_line"].as_u64()),
        (Some(4), Some(10))
    );
    assert!(around["content"].as_str().unwrap().contains("def area_of_circle"));

    // Search answers flag the changed file in their text, not only in
    // structuredContent; so does the CLI's text output.
    for tool in ["search_code", "search_context"] {
        let key = if tool == "search_code" { "query" } else { "description" };
        let (answer, text) = call(&client, tool, json!({key: "perimeter of a square", "limit": 5})).await;
        assert_eq!(hit(&answer, "perimeter_of_square")["stale"], true, "{answer:#}");
        assert!(text.contains("stale: file changed since indexing"), "{tool}: {text}");
    }
    let (similar, text) = call(&client, "search_similar", json!({"chunk_id": area_id})).await;
    assert_eq!(hit(&similar, "perimeter_of_square")["stale"], true, "{similar:#}");
    assert!(text.contains("stale"), "{text}");
    let printed = cli(&["search", "perimeter_of_square", "--mode", "keyword"], root);
    assert!(printed.contains("stale: file changed since indexing"), "{printed}");

    // The definition itself edited: the stored text, marked stale, never
    // what the file holds at the old lines.
    write(
        root,
        "geometry/shapes.py",
        SHAPES.replace("return 4 * side", "return side + side + side + side"),
    );
    let (edited, text) = call(&client, "get_chunk", json!({"chunk_id": square_id})).await;
    assert_eq!(edited["stale"], true, "{edited:#}");
    assert!(
        edited["note"].as_str().unwrap().contains("no longer holds this code"),
        "{edited:#}"
    );
    assert_eq!(
        edited["content"].as_str().unwrap(),
        "def perimeter_of_square(side):\n    \"\"\"Perimeter of a square.\"\"\"\n    return 4 * side"
    );
    assert!(
        text.starts_with("(stale:") && text.contains("    6  def perimeter_of_square"),
        "{text}"
    );
    // The unedited neighbour is still current, in place.
    let (neighbour, _) = call(&client, "get_chunk", json!({"chunk_id": area_id})).await;
    assert_eq!(
        (neighbour["stale"].as_bool(), neighbour.get("relocated")),
        (Some(false), None)
    );

    // The file gone: the stored text, marked stale.
    std::fs::remove_file(root.join("geometry/shapes.py")).unwrap();
    let (gone, text) = call(&client, "get_chunk", json!({"chunk_id": area_id})).await;
    assert_eq!(gone["stale"], true, "{gone:#}");
    assert!(gone["content"].as_str().unwrap().starts_with("def area_of_circle"));
    assert!(text.contains("cannot be read now"), "{text}");
    client.cancel().await.unwrap();
}

/// Files with a byte-order mark (UTF-8, UTF-16) are read as the indexer
/// decodes them: a chunk is found in place, not reported stale or moved.
#[tokio::test]
async fn get_chunk_reads_encoded_files_as_the_indexer_decodes_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "bom/shapes.py",
        [b"\xEF\xBB\xBF".as_slice(), SHAPES.as_bytes()].concat(),
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(SHAPES.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    write(root, "wide/shapes.py", utf16);
    cli(&["index"], root);
    let client = serve(root).await;
    let (found, _) = call(
        &client,
        "search_code",
        json!({"query": "perimeter_of_square", "search_mode": "keyword", "limit": 10}),
    )
    .await;
    for path in ["bom/shapes.py", "wide/shapes.py"] {
        let square = found["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|hit| hit["file_path"] == path && hit["name"] == "perimeter_of_square")
            .unwrap_or_else(|| panic!("{path} not found: {found:#}"));
        let (read, _) = call(&client, "get_chunk", json!({"chunk_id": square["chunk_id"]})).await;
        assert_eq!(
            (read["stale"].as_bool(), read.get("relocated")),
            (Some(false), None),
            "{path}: {read:#}"
        );
        assert_eq!(read["start_line"], 6, "{path}: {read:#}");
        assert!(
            read["content"].as_str().unwrap().starts_with("def perimeter_of_square"),
            "{read:#}"
        );
        let (lines, _) = call(&client, "get_chunk", json!({"file_path": path, "end_line": 1})).await;
        assert_eq!(
            lines["content"], "def area_of_circle(radius):",
            "{path}: the mark is not text"
        );
    }
    client.cancel().await.unwrap();
}

/// The examples: `get_chunk {"file_path": "web/app.min.js"}` sent
/// 1.4 MB and a line range with context over 4 KB lines 5.6 MB. Reads obey
/// `max_tokens` (default 4,000, at most 20,000), cut long lines, and say
/// where to read on; the caller can page to the end.
#[tokio::test]
async fn get_chunk_obeys_max_tokens_and_says_how_to_read_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bundle = "var a=1;".repeat(180_000);
    write(root, "web/app.min.js", &bundle);
    write(root, "web/bundle.js", &bundle);
    let wide: String = (1..=1000)
        .map(|n| format!("x_{n} = '{}'\n", "w".repeat(4096)))
        .collect();
    write(root, "data/wide.py", &wide);
    let tall: String = (1..=50_000).map(|n| format!("y_{n} = {n}\n")).collect();
    write(root, "data/tall.py", &tall);
    // Control characters are escaped six-fold in JSON.
    write(root, "data/controls.txt", vec![1u8; 200_000]);
    let client = serve(root).await;
    let size = |result: &CallToolResult| serde_json::to_string(result).unwrap().len();

    // Minified bundles are not indexed, so not served.
    let refused = call_refused(&client, "get_chunk", json!({"file_path": "web/app.min.js"})).await;
    assert!(
        refused.contains("not served") && refused.contains("excluded by default"),
        "{refused}"
    );

    let read = |args: Value| {
        let client = &client;
        async move {
            let result = call_raw(client, "get_chunk", &args).await.expect("a tool result");
            assert_ne!(result.is_error, Some(true), "{args}: {result:?}");
            (
                size(&result),
                result.structured_content.clone().unwrap(),
                text_of(&result),
            )
        }
    };
    let (bytes, one_line, text) = read(json!({"file_path": "web/bundle.js"})).await;
    assert!(bytes < 4_000 * 4 + 2_000, "{bytes} bytes");
    assert_eq!(one_line["lines_cut"], 1, "{one_line:#}");
    assert!(one_line["content"].as_str().unwrap().ends_with('…'));
    assert!(text.contains("cut, marked …"), "{text}");

    let (bytes, range, text) = read(json!({"file_path": "data/wide.py", "start_line": 201, "end_line": 600,
        "context_lines": 200}))
    .await;
    assert!(bytes < 4_000 * 4 + 2_000, "{bytes} bytes");
    assert_eq!(range["start_line"], 1);
    assert_eq!(range["truncated"], true, "{range:#}");
    let next = range["next_start_line"].as_u64().unwrap();
    assert_eq!(next, range["end_line"].as_u64().unwrap() + 1);
    assert!(text.contains(&format!("start_line {next} for the rest")), "{text}");
    // The note's advice works: the next page starts there.
    let (_, page, _) = read(json!({"file_path": "data/wide.py", "start_line": next, "end_line": 800})).await;
    assert_eq!(page["start_line"].as_u64(), Some(next));

    // A larger budget reads more, never past the cap.
    let (bytes, big, _) = read(json!({"file_path": "data/tall.py", "end_line": 50_000, "max_tokens": 20_000})).await;
    assert!(bytes <= MAX_ANSWER_BYTES, "{bytes} bytes");
    let (_, small, _) = read(json!({"file_path": "data/tall.py", "end_line": 50_000})).await;
    assert!(big["end_line"].as_u64() > small["end_line"].as_u64().map(|n| n * 4));
    let (bytes, _, _) = read(json!({"file_path": "data/controls.txt", "max_tokens": 20_000})).await;
    assert!(bytes <= MAX_ANSWER_BYTES, "{bytes} bytes");

    // Out-of-range budgets and lines are invalid arguments naming the field.
    for (args, field) in [
        (json!({"file_path": "data/tall.py", "max_tokens": 20_001}), "max_tokens"),
        (json!({"file_path": "data/tall.py", "max_tokens": 10}), "max_tokens"),
        (json!({"file_path": "data/tall.py", "start_line": 60_000}), "start_line"),
        (
            json!({"file_path": "data/tall.py", "context_lines": 201}),
            "context_lines",
        ),
    ] {
        let err = call_raw(&client, "get_chunk", &args).await.unwrap_err().to_string();
        assert!(err.contains(field), "{args}: {err}");
    }
    client.cancel().await.unwrap();
}

/// The example: `get_chunk` served `.env` and files under
/// `node_modules`. What the index would not hold is refused with the
/// reason, and secret-looking files are never indexed either.
#[tokio::test]
async fn secrets_and_ignored_files_are_neither_indexed_nor_served() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let secret = "hunter2_cobalt_marmot";
    let refused = [
        (".env", "secret"),
        (".env.production", "secret"),
        ("certs/server.pem", "secret"),
        ("certs/tls.key", "secret"),
        ("home/.ssh/id_rsa", "secret"),
        ("keys/id_ed25519", "secret"),
        ("config/credentials.json", "secret"),
        ("config/secrets.yaml", "secret"),
        ("node_modules/left-pad/index.js", "excluded by default"),
        ("generated/out.py", "ignored"),
    ];
    for (path, _) in refused {
        write(root, path, format!("TOKEN = '{secret}'\n"));
    }
    write(root, ".gitignore", "generated/\n");
    write(root, "keys/id_ed25519.pub", "ssh-ed25519 AAAA public\n");
    write(root, "src/app.py", "def serve_app():\n    return 'ok'\n");
    cli(&["index"], root);
    let client = serve(root).await;
    for (path, reason) in refused {
        for spelling in [path.to_string(), root.join(path).to_string_lossy().into_owned()] {
            let text = call_refused(&client, "get_chunk", json!({"file_path": spelling})).await;
            assert!(text.contains("not served") && text.contains(reason), "{path}: {text}");
            assert!(!text.contains(secret), "{path} leaked: {text}");
        }
    }
    // Nor is the index itself.
    let text = call_refused(
        &client,
        "get_chunk",
        json!({"file_path": ".mcp-vector-search/meta.json"}),
    )
    .await;
    assert!(text.contains("not served"), "{text}");
    for path in ["src/app.py", "keys/id_ed25519.pub"] {
        call(&client, "get_chunk", json!({"file_path": path})).await;
    }
    // Never indexed: no search finds their text, in any mode.
    for mode in ["keyword", "hybrid"] {
        let (answer, _) = call(&client, "search_code", json!({"query": secret, "search_mode": mode})).await;
        let paths: Vec<&str> = answer["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|hit| hit["file_path"].as_str())
            .collect();
        assert!(paths.iter().all(|path| *path == "src/app.py"), "{mode}: {paths:?}");
    }
    let (status, _) = call(&client, "get_project_status", json!({})).await;
    assert_eq!(status["files"], 2, "app.py and the public key only: {status:#}");
    client.cancel().await.unwrap();
}

/// A small deterministic generator (xorshift), so a failing case can be
/// replayed from its printed seed and index.
struct Cases(u64);

impl Cases {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

/// Values no tool expects: huge and escape-heavy text, numbers out of
/// every range, the wrong types, deep and wide structures.
fn hostile_values() -> Vec<Value> {
    let huge = "a".repeat(1 << 20);
    let escapes = "\"\\\n\u{1}".repeat(50_000);
    vec![
        json!(huge),
        json!(escapes),
        json!(format!("src/{}", "../".repeat(20_000))),
        json!("/etc/passwd"),
        json!(""),
        json!(-1),
        json!(0),
        json!(1e12),
        json!(2.7),
        json!(u64::MAX),
        json!(i64::MIN),
        json!("5"),
        json!(true),
        json!(null),
        json!([]),
        json!(vec![huge.clone(); 4]),
        json!(vec!["x"; 200]),
        json!({"nested": {"deeper": [1, 2, {"k": huge}]}}),
        json!(20_000),
        json!(50),
        json!("full"),
    ]
}

/// Every tool, fed hostile values for every argument (and valid but
/// maximal ones), answers within about 80 KB: results, tool errors and
/// protocol errors alike, measured as serialised.
#[tokio::test]
async fn no_answer_exceeds_80_kb_under_hostile_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "geometry/shapes.py", SHAPES);
    let long_function: String = std::iter::once("def long_report(rows):\n".to_string())
        .chain((0..600).map(|n| format!("    total_{n} = rows[{n}] * {n} + len('{}')\n", "q".repeat(120))))
        .chain(std::iter::once("    return rows\n".to_string()))
        .collect();
    write(root, "reports/long.py", long_function);
    write(
        root,
        "web/bundle.js",
        format!("function bundle(){{return [{}];}}\n", "7,".repeat(60_000)),
    );
    cli(&["index"], root);
    let client = serve(root).await;
    let (found, _) = call(
        &client,
        "search_code",
        json!({"query": "long_report", "search_mode": "keyword"}),
    )
    .await;
    let id = hit(&found, "long_report")["chunk_id"].clone();

    let tools: &[(&str, &[&str])] = &[
        (
            "search_code",
            &[
                "query",
                "limit",
                "search_mode",
                "language",
                "file_extensions",
                "files",
                "exclude",
                "kind",
                "function_name",
                "class_name",
                "tests_only",
                "exclude_tests",
                "detail",
                "max_tokens",
                "similarity_threshold",
            ],
        ),
        (
            "search_context",
            &["description", "focus_areas", "limit", "detail", "max_tokens"],
        ),
        (
            "search_similar",
            &[
                "file_path",
                "function_name",
                "chunk_id",
                "limit",
                "language",
                "detail",
                "max_tokens",
            ],
        ),
        (
            "get_chunk",
            &[
                "chunk_id",
                "file_path",
                "start_line",
                "end_line",
                "context_lines",
                "max_tokens",
            ],
        ),
        ("get_project_status", &["verbose"]),
        ("index_project", &["paths", "dry_run"]),
    ];
    // Valid but as large as allowed.
    let mut cases: Vec<(&str, Value)> = vec![
        (
            "search_code",
            json!({"query": "rows total", "limit": 50, "detail": "full", "max_tokens": 20_000}),
        ),
        (
            "search_code",
            json!({"query": "bundle", "detail": "full", "max_tokens": 20_000}),
        ),
        (
            "search_code",
            json!({"query": "bundle", "detail": "signatures", "limit": 50}),
        ),
        (
            "search_context",
            json!({"description": "rows", "focus_areas": ["total", "report"], "limit": 50,
            "detail": "full", "max_tokens": 20_000}),
        ),
        (
            "search_similar",
            json!({"chunk_id": id, "limit": 50, "detail": "full", "max_tokens": 20_000}),
        ),
        (
            "get_chunk",
            json!({"chunk_id": id, "context_lines": 200, "max_tokens": 20_000}),
        ),
        ("get_chunk", json!({"file_path": "web/bundle.js", "max_tokens": 20_000})),
        (
            "get_chunk",
            json!({"file_path": "reports/long.py", "start_line": 1, "end_line": 100_000,
            "context_lines": 200, "max_tokens": 20_000}),
        ),
    ];
    // Paths that no file has, in every tool that takes one: errors that
    // quote them must not grow with them.
    let values = hostile_values();
    for path in &values[..3] {
        cases.push(("search_similar", json!({"file_path": path})));
        cases.push(("get_chunk", json!({"file_path": path})));
        cases.push(("index_project", json!({"paths": [path], "dry_run": true})));
    }
    // Each tool with 1-3 arguments drawn at random from the hostile values;
    // the required text arguments stay valid in half the cases, so the
    // hostile values reach the search itself too.
    let seed = 0x5eed_u64;
    let mut draw = Cases(seed);
    for _ in 0..50 {
        for (tool, fields) in tools {
            let mut args = serde_json::Map::new();
            if draw.next(2) == 0 {
                match *tool {
                    "search_code" => args.insert("query".into(), json!("total rows")),
                    "search_context" => args.insert("description".into(), json!("total rows")),
                    "search_similar" => args.insert("chunk_id".into(), id.clone()),
                    _ => None,
                };
            }
            for _ in 0..=draw.next(3) {
                let field = fields[draw.next(fields.len())];
                args.insert(field.into(), values[draw.next(values.len())].clone());
            }
            cases.push((tool, Value::Object(args)));
        }
    }
    let mut oversized = Vec::new();
    for (index, (tool, args)) in cases.iter().enumerate() {
        let sent = match call_raw(&client, tool, args).await {
            Ok(result) => serde_json::to_string(&result).unwrap(),
            Err(ServiceError::McpError(error)) => serde_json::to_string(&error).unwrap(),
            Err(other) => panic!("case {index} (seed {seed}): {tool} broke the connection: {other}"),
        };
        if sent.len() > MAX_ANSWER_BYTES {
            let shown = |text: &str| text.chars().take(200).collect::<String>();
            oversized.push(format!(
                "case {index}: {tool} {} answered {} bytes: {}",
                shown(&args.to_string()),
                sent.len(),
                shown(&sent)
            ));
        }
    }
    assert!(oversized.is_empty(), "seed {seed}:\n{}", oversized.join("\n"));
    // Still serving.
    assert_eq!(client.list_all_tools().await.unwrap().len(), 6);
    client.cancel().await.unwrap();
}

/// A definition split into parts is one search result (its best part,
/// marked `[part i/n]` in the text), and `get_chunk` of that part says
/// where the whole definition is; reading those lines returns all of it.
#[tokio::test]
async fn a_split_definition_is_one_hit_and_get_chunk_names_its_whole_range() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let steps: String = (0..144)
        .map(|i| format!("    attempt_{i} = schedule(delay, attempt={i})  # back off before retrying\n"))
        .collect();
    write(
        root,
        "net/retry.py",
        format!(
            "def retry_with_backoff(call, delay=0.5):\n    \"\"\"Retry a call with exponential backoff.\"\"\"\n\
             {steps}    return call()\n\n\ndef parse_config(path):\n    return open(path).read()\n"
        ),
    );
    let client = serve(root).await;
    call(&client, "index_project", json!({"wait": true})).await;

    let (found, text) = call(
        &client,
        "search_code",
        json!({"query": "retry with exponential backoff", "detail": "signatures"}),
    )
    .await;
    let retries: Vec<&Value> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|hit| hit["name"] == "retry_with_backoff")
        .collect();
    assert_eq!(retries.len(), 1, "one result per definition: {found:#}");
    let part = &retries[0]["part"];
    assert!(part["count"].as_u64().unwrap() > 1, "{found:#}");
    assert!(
        text.contains(&format!("[part {}/{}]", part["index"], part["count"])),
        "{text}"
    );

    let id = retries[0]["chunk_id"].as_str().unwrap();
    let (chunk, text) = call(&client, "get_chunk", json!({"chunk_id": id})).await;
    assert_eq!(chunk["definition"]["start_line"], 1, "{chunk:#}");
    assert_eq!(chunk["definition"]["end_line"], 147, "{chunk:#}");
    assert_eq!(chunk["definition"]["parts"], part["count"], "{chunk:#}");
    assert!(text.contains("spans lines 1-147"), "{text}");
    let (whole, _) = call(
        &client,
        "get_chunk",
        json!({"file_path": "net/retry.py", "start_line": 1, "end_line": 147, "max_tokens": 20000}),
    )
    .await;
    assert!(whole["content"].as_str().unwrap().contains("attempt_143"), "{whole:#}");
    client.cancel().await.unwrap();
}

const COUNTER_VUE: &str = "\
<template>
  <button @click=\"increment\">{{ count }}</button>
</template>

<script setup lang=\"ts\">
import { ref } from 'vue'
const count = ref(0)

function increment(): void {
  count.value += 1
}
</script>
";

/// A notebook: a markdown cell, an import cell, a cell defining
/// `load_sales` (lines 1-4 of cell 3) with an image output, a call cell.
fn notebook() -> Value {
    json!({
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Sales\n", "\n", "Trend of the sales.\n"]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
             "source": ["import pandas as pd\n"]},
            {"cell_type": "code", "metadata": {}, "execution_count": 2,
             "outputs": [{"output_type": "display_data", "metadata": {},
                          "data": {"image/png": "iVBORw0KGgo".repeat(50), "text/plain": ["<Figure>"]}}],
             "source": [
                "def load_sales(path):\n",
                "    \"\"\"Reads the quarterly sales ledger.\"\"\"\n",
                "    frame = pd.read_csv(path)\n",
                "    return frame.dropna(subset=[\"region\"])\n"
             ]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 3,
             "source": "sales = load_sales(\"sales.csv\")"}
        ],
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5
    })
}

#[tokio::test]
async fn a_function_in_a_notebook_cell_is_found_and_read_with_its_cell_lines() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "notebooks/sales.ipynb",
        serde_json::to_string_pretty(&notebook()).unwrap(),
    );
    write(root, "web/Counter.vue", COUNTER_VUE);
    cli(&["index"], root);
    let client = serve(root).await;

    let (found, text) = call(
        &client,
        "search_code",
        json!({"query": "read the quarterly sales ledger", "limit": 5}),
    )
    .await;
    let load = hit(&found, "load_sales");
    assert_eq!(load["file_path"], "notebooks/sales.ipynb", "{load:#}");
    assert_eq!(load["language"], "jupyter");
    assert_eq!(
        (
            load["cell"].as_u64(),
            load["start_line"].as_u64(),
            load["end_line"].as_u64()
        ),
        (Some(3), Some(1), Some(4)),
        "{load:#}"
    );
    assert!(
        text.contains("notebooks/sales.ipynb#cell3:1-4 function load_sales"),
        "{text}"
    );

    // get_chunk answers the cell's lines, not the JSON file's.
    let (read, text) = call(&client, "get_chunk", json!({"chunk_id": load["chunk_id"]})).await;
    assert_eq!(
        (
            read["cell"].as_u64(),
            read["start_line"].as_u64(),
            read["end_line"].as_u64()
        ),
        (Some(3), Some(1), Some(4)),
        "{read:#}"
    );
    assert_eq!(read["file_path"], "notebooks/sales.ipynb");
    assert_eq!(read["stale"], false, "{read:#}");
    assert_eq!(
        read["content"].as_str().unwrap(),
        "def load_sales(path):\n    \"\"\"Reads the quarterly sales ledger.\"\"\"\n    \
         frame = pd.read_csv(path)\n    return frame.dropna(subset=[\"region\"])"
    );
    assert!(
        text.starts_with("notebooks/sales.ipynb#cell3:1-4\n    1  def load_sales(path):"),
        "{text}"
    );

    // A line added above the function in its cell: found again, relocated.
    let mut edited = notebook();
    edited["cells"][2]["source"]
        .as_array_mut()
        .unwrap()
        .insert(0, json!("# helpers\n"));
    write(
        root,
        "notebooks/sales.ipynb",
        serde_json::to_string_pretty(&edited).unwrap(),
    );
    let (moved, _) = call(&client, "get_chunk", json!({"chunk_id": load["chunk_id"]})).await;
    assert_eq!(moved["relocated"], true, "{moved:#}");
    assert_eq!(
        (moved["start_line"].as_u64(), moved["end_line"].as_u64()),
        (Some(2), Some(5))
    );

    // The component's script, under its component language.
    let (vue, text) = call(
        &client,
        "search_code",
        json!({"query": "increment", "language": "vue", "search_mode": "keyword"}),
    )
    .await;
    // The closing `</script>` line joins the script's last chunk.
    let increment = hit(&vue, "increment");
    assert_eq!(
        (
            increment["kind"].as_str(),
            increment["start_line"].as_u64(),
            increment["end_line"].as_u64()
        ),
        (Some("function"), Some(9), Some(12)),
        "{increment:#}"
    );
    assert!(increment.get("cell").is_none(), "{increment:#}");
    assert!(text.contains("web/Counter.vue:9-12 function increment"), "{text}");
    drop(client);

    // The CLI prints the cell too, and status counts both formats.
    let printed = cli(&["search", "load_sales", "--mode", "keyword"], root);
    assert!(printed.contains("notebooks/sales.ipynb#cell3:1-4"), "{printed}");
    let status: Value = serde_json::from_str(&cli(&["status", "--json"], root)).unwrap();
    for language in ["jupyter", "vue"] {
        assert!(status["languages"].get(language).is_some(), "{language}: {status:#}");
    }
}
