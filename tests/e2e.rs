//! End-to-end: the real binary indexes a fixture project with the real model
//! and LanceDB, answers `search --json` and `status --json`, and serves the
//! same over MCP stdio to a real rmcp client.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-vector-search");

/// A small polyglot project: the functions under test, an ignored directory,
/// a file of an unknown format and a binary file.
fn fixture_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, content: &[u8]| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    write(
        "src/billing.rs",
        br#"use crate::model::LineItem;

/// Sums the net price of every line item and applies the tax rate.
pub fn compute_invoice_total(items: &[LineItem], tax_rate: f64) -> f64 {
    let net: f64 = items.iter().map(|item| item.unit_price * item.quantity as f64).sum();
    net * (1.0 + tax_rate)
}

pub struct Ledger {
    entries: Vec<f64>,
}

impl Ledger {
    pub fn record(&mut self, amount: f64) {
        self.entries.push(amount);
    }
}
"#,
    );
    write(
        "app/auth.py",
        br#"import hashlib


class SessionStore:
    """Keeps logged-in sessions in memory."""

    def __init__(self):
        self.sessions = {}

    def expire_idle_sessions(self, now, max_idle):
        for key, last_seen in list(self.sessions.items()):
            if now - last_seen > max_idle:
                del self.sessions[key]


def verify_password(password, salt, expected_digest):
    digest = hashlib.sha256(salt + password.encode()).hexdigest()
    return digest == expected_digest
"#,
    );
    write("notes.xyz", b"a format nobody knows\n");
    write("blob.rs", b"\x00\x01\x02binary");
    write(".gitignore", b"ignored/\n");
    write(".gitattributes", b"*_pb2.py linguist-generated\n");
    write("app/auth_pb2.py", b"def verify_password_generated(): pass\n");
    write("ignored/secret.rs", b"pub fn compute_invoice_total_secret() {}\n");
    dir
}

fn run(args: &[&str], project: &Path) -> Output {
    let output = Command::new(BIN)
        .args(args)
        .current_dir(project)
        .output()
        .expect("binary runs");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn run_json(args: &[&str], project: &Path) -> Value {
    let output = run(args, project);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "{args:?} printed no JSON ({err}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn cli_indexes_searches_and_reports_status() {
    let project = fixture_project();
    let root = project.path();
    // A dry run reports what indexing would do and writes nothing.
    let survey = run_json(&["index", "--dry-run", "--json"], root);
    assert_eq!(survey["languages"]["rust"], json!([1, 5]), "{survey:#}");
    assert_eq!(survey["languages"]["python"][0], 1, "{survey:#}");
    assert_eq!(survey["skipped"]["linguist_generated"], 1);
    assert_eq!(survey["skipped"]["binary"], 1);
    assert!(survey["estimated_seconds"].as_f64().unwrap() > 0.0);
    assert!(!root.join(".mcp-vector-search").exists(), "a dry run creates no index");
    let report = run_json(&["index", "--json", root.to_str().unwrap()], root);
    assert_eq!(report["files_parsed"], 2, "{report}");
    assert_eq!(
        std::fs::read_to_string(root.join(".mcp-vector-search/.gitignore")).unwrap(),
        "*\n"
    );

    let response = run_json(
        &[
            "search",
            "add up the prices of invoice lines including tax",
            "--json",
            "--limit",
            "3",
            "--project-root",
            root.to_str().unwrap(),
        ],
        root,
    );
    assert_eq!(response["query"], "add up the prices of invoice lines including tax");
    let top = &response["results"][0];
    assert_eq!(top["file_path"], "src/billing.rs", "{response:#}");
    assert_eq!(top["name"], "compute_invoice_total");
    assert_eq!(top["kind"], "function");
    assert_eq!(top["language"], "rust");
    assert_eq!(
        (top["start_line"].as_u64(), top["end_line"].as_u64()),
        (Some(3), Some(7))
    );
    assert!(top["content"].as_str().unwrap().contains("tax_rate"));
    assert!(top["chunk_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(top["score"].as_f64().unwrap() > 0.0);
    let results = response["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .all(|r| !r["file_path"].as_str().unwrap().starts_with("ignored/"))
    );

    // An identifier query works through the keyword lane.
    let response = run_json(&["search", "verify_password", "--json", "--mode", "keyword"], root);
    assert_eq!(response["results"][0]["name"], "verify_password");
    // Filters from the command line, repeatable.
    let response = run_json(
        &[
            "search",
            "password",
            "--json",
            "--language",
            "rust",
            "--language",
            "python",
            "--files",
            "app/*.py",
            "--kind",
            "function",
            "--name",
            "verify_password",
        ],
        root,
    );
    let results = response["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{response:#}");
    assert_eq!(results[0]["name"], "verify_password");

    let status = run_json(&["status", "--json"], root);
    assert_eq!(status["state"], "ready");
    assert_eq!(status["model"], "all-minilm-l6-v2");
    // Device, provider and runtime version of the run that built the index.
    let device = status["device"].as_str().unwrap();
    assert!(
        device.starts_with("cpu (CPUExecutionProvider, onnxruntime 1.31.1"),
        "{device}"
    );
    assert_eq!(status["languages"]["rust"]["files"], 1);
    assert_eq!(status["languages"]["python"]["files"], 1);
    assert_eq!(status["skipped"]["unsupported_language"], 1);
    assert_eq!(status["skipped"]["binary"], 1);
    assert_eq!(status["skipped"]["linguist_generated"], 1);
    assert_eq!(status["chunks"], status["vectors"]);

    // doctor checks every layer and finds nothing wrong.
    let checks = run_json(&["doctor", "--json"], root);
    let checks = checks.as_array().unwrap();
    assert!(checks.iter().all(|c| c["ok"] == true), "{checks:#?}");
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["python", "model", "device", "inference", "vector cache", "index"]
    );

    // A second run parses nothing; an edit re-parses just that file.
    let again = run_json(&["index", "--json"], root);
    assert_eq!(again["files_parsed"], 0, "{again}");
    assert_eq!(again["files_unchanged"], again["files_seen"]);
    // Chunks made by older chunking rules are redone even for unchanged files.
    let meta_path = root.join(".mcp-vector-search/meta.json");
    let mut meta: Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["chunker_version"] = json!(0);
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let rechunked = run_json(&["index", "--json"], root);
    assert_eq!(rechunked["files_parsed"], 2, "{rechunked}");
    assert_eq!(run_json(&["index", "--json"], root)["files_parsed"], 0);

    // A moved file keeps its vectors: no inference (the shared vector cache
    // is off here, so only the index's own rows can supply them).
    std::fs::create_dir_all(root.join("lib")).unwrap();
    std::fs::rename(root.join("src/billing.rs"), root.join("lib/billing.rs")).unwrap();
    let output = Command::new(BIN)
        .args(["index", "--json"])
        .current_dir(root)
        .env("MCP_VECTOR_SEARCH_CACHE_MB", "0")
        .output()
        .unwrap();
    let moved: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(moved["files_deleted"], 1, "{moved}");
    assert_eq!(moved["files_parsed"], 1, "{moved}");
    assert_eq!(moved["vectors_reused"], moved["chunks_written"], "{moved}");
    let found = run_json(
        &["search", "add up the prices of invoice lines including tax", "--json"],
        root,
    );
    assert_eq!(found["results"][0]["file_path"], "lib/billing.rs", "{found:#}");

    std::fs::write(root.join("app/auth.py"), "def renamed_helper():\n    return 1\n").unwrap();
    std::fs::remove_file(root.join("notes.xyz")).unwrap();
    // Before re-indexing, hits in the edited file are flagged stale.
    let stale = run_json(&["search", "password session", "--json", "--mode", "keyword"], root);
    let flags: Vec<(String, bool)> = stale["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["file_path"].as_str().unwrap().to_string(),
                r["stale"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        flags.iter().any(|(path, stale)| path == "app/auth.py" && *stale),
        "{flags:?}"
    );
    assert!(
        flags.iter().all(|(path, stale)| path == "app/auth.py" || !*stale),
        "{flags:?}"
    );
    let edited = run_json(&["index", "--json"], root);
    assert_eq!(
        (edited["files_parsed"].as_u64(), edited["files_deleted"].as_u64()),
        (Some(1), Some(1))
    );
    let response = run_json(&["search", "verify_password", "--json", "--mode", "keyword"], root);
    assert!(
        response["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"] != "verify_password"),
        "stale chunk survived: {response:#}"
    );
}

/// Searches during an index run, then `kill -9` in the middle of it (in
/// the keywords phase, and in the vectors phase), then `index` again: the
/// searches succeed, the second run does only the unfinished work and the
/// index ends consistent (one row per chunk, a vector for each, every file
/// recorded).
/// The issue's case: a nonsense query's best hit scored 0.77, as high as a
/// good query's second hit, so no threshold could drop junk. Scores are
/// calibrated: in every mode a nonsense query scores low, a good one high,
/// one threshold separates them, and each hit says why it ranks there.
#[test]
fn scores_mean_the_same_across_queries_and_modes() {
    let project = fixture_project();
    let root = project.path();
    run(&["index", root.to_str().unwrap()], root);
    let search = |query: &str, mode: &str, threshold: &str| {
        let args = [
            "search",
            query,
            "--json",
            "--mode",
            mode,
            "--similarity-threshold",
            threshold,
        ];
        let response = run_json(&args, root);
        response["results"].as_array().cloned().unwrap_or_default()
    };
    for mode in ["hybrid", "vector", "keyword"] {
        for nonsense in ["xyzzy quantum banana smoothie", "purple elephant violin glacier"] {
            let hits = search(nonsense, mode, "0");
            let top = hits.first().map_or(0.0, |hit| hit["score"].as_f64().unwrap());
            assert!(top < 0.25, "{mode} {nonsense:?} scores {top}: {hits:#?}");
            assert!(search(nonsense, mode, "0.3").is_empty(), "{mode} {nonsense:?}");
        }
        let good = search("verify a password against its salted digest", mode, "0.3");
        assert!(
            good.iter().any(|hit| hit["name"] == "verify_password"),
            "{mode}: {good:#?}"
        );
        for hit in &good {
            let score = hit["score"].as_f64().unwrap();
            assert!((0.3..=1.0).contains(&score), "{mode}: {hit:#}");
            let why = &hit["why"];
            assert!(why["fused"].as_f64().is_some() && why["factors"].is_array(), "{hit:#}");
            assert!(why["query_coverage"].as_f64().unwrap() > 0.0, "{hit:#}");
        }
    }
    // A symbol query says that the definition was moved to the front.
    let symbol = search("verify_password", "hybrid", "0");
    assert_eq!(symbol[0]["name"], "verify_password", "{symbol:#?}");
    assert!(
        symbol[0]["why"]["factors"]
            .as_array()
            .unwrap()
            .contains(&json!({"signal": "exact_symbol"})),
        "{:#}",
        symbol[0]
    );
}

#[test]
fn a_killed_index_run_resumes_and_stays_consistent() {
    // Killed at the first commit: in the keywords phase.
    killed_run_resumes(|status| status["indexed_files"].as_u64().unwrap_or(0) > 0);
    // Killed once some vectors are in: in the vectors phase.
    killed_run_resumes(|status| status["vectors"].as_u64().unwrap_or(0) > 0);
}

fn killed_run_resumes(kill_when: impl Fn(&Value) -> bool) {
    const FILES: usize = 1500;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..FILES {
        let path = dir.path().join(format!("src/m{:02}/f{i}.rs", i % 30));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("pub fn handler_{i}(x: u64) -> u64 {{ x * {i} + 7 }}\n")).unwrap();
    }
    let root = dir.path();
    // Vectors from the shared cache would make the run too quick to interrupt.
    let mut child = Command::new(BIN)
        .args(["index", "--force"])
        .current_dir(root)
        .env("MCP_VECTOR_SEARCH_CACHE_MB", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill as soon as the moment comes (readers never wait).
    let deadline = Instant::now() + Duration::from_secs(120);
    let killed_mid_run = loop {
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        let status = Command::new(BIN)
            .args(["status", "--json"])
            .current_dir(root)
            .output()
            .unwrap();
        let status = serde_json::from_slice::<Value>(&status.stdout).unwrap_or(Value::Null);
        if kill_when(&status) {
            // Readers are never blocked by the writer: 10 searches at once
            // while the run goes on.
            let searches: Vec<_> = (0..10)
                .map(|i| {
                    let mode = ["hybrid", "keyword"][i % 2];
                    Command::new(BIN)
                        .args(["search", &format!("handler {i}"), "--json", "--mode", mode])
                        .current_dir(root)
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for search in searches {
                let output = search.wait_with_output().unwrap();
                assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
                let found: Value = serde_json::from_slice(&output.stdout).unwrap();
                assert!(!found["results"].as_array().unwrap().is_empty());
            }
            let still_running = child.try_wait().unwrap().is_none();
            child.kill().unwrap(); // SIGKILL on Unix
            child.wait().unwrap();
            break still_running;
        }
        assert!(Instant::now() < deadline, "no commit within two minutes");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        killed_mid_run,
        "the run finished before it could be killed; grow the fixture"
    );

    // What the killed run finished: files parsed and written, vectors.
    let before = run_json(&["status", "--json"], root);
    let (files_before, vectors_before) = (
        before["indexed_files"].as_u64().unwrap(),
        before["vectors"].as_u64().unwrap(),
    );
    let resumed = run_json(&["index", "--json"], root);
    eprintln!("killed with {files_before} files and {vectors_before} vectors done; resumed: {resumed}");
    // Only the rest is done: the files not yet written (keywords phase) and
    // the vectors not yet computed (vectors phase).
    assert_eq!(
        resumed["files_parsed"].as_u64().unwrap(),
        FILES as u64 - files_before,
        "{resumed}"
    );
    assert_eq!(
        resumed["chunks_written"].as_u64().unwrap(),
        FILES as u64 - vectors_before,
        "{resumed}"
    );
    assert!(files_before > 0 || vectors_before > 0);
    let status = run_json(&["status", "--json"], root);
    assert_eq!(status["indexed_files"], FILES as u64, "{status:#}");
    assert_eq!(
        status["chunks"], FILES as u64,
        "one chunk per file, no duplicates: {status:#}"
    );
    assert_eq!(status["vectors"], status["chunks"]);
    // And a third run has nothing left to do.
    let again = run_json(&["index", "--json"], root);
    assert_eq!(again["files_parsed"], 0, "{again}");
}

#[test]
fn search_without_an_index_says_what_to_do() {
    let project = fixture_project();
    let output = Command::new(BIN)
        .args(["search", "anything", "--project-root"])
        .arg(project.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("mcp-vector-search index"));
}

/// `--model-dir` and `ORT_DYLIB_PATH` replace the defaults; the index records
/// the model, and searching it with another model is refused.
#[test]
fn model_dir_and_runtime_overrides_are_honoured() {
    let home = mcp_vector_search::Settings::from_env().home().unwrap();
    let default_model = home.ensure_default_model(mvs_embed::Verify::Size).unwrap();
    let runtime = home.ensure_runtime(mvs_embed::Verify::Size).unwrap();
    let model_dir = tempfile::tempdir().unwrap();
    for file in ["model.onnx", "tokenizer.json"] {
        std::fs::copy(default_model.dir.join(file), model_dir.path().join(file)).unwrap();
    }
    std::fs::write(
        model_dir.path().join("model.json"),
        r#"{"id": "minilm-local", "dimension": 384, "max_tokens": 128, "pooling": "mean"}"#,
    )
    .unwrap();
    let project = fixture_project();
    let root = project.path();
    let with_overrides = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .arg("--model-dir")
            .arg(model_dir.path())
            .env("ORT_DYLIB_PATH", &runtime)
            .current_dir(root)
            .output()
            .unwrap()
    };
    assert!(with_overrides(&["index"]).status.success());
    let status = run_json(&["status", "--json"], root);
    assert_eq!(status["model"], "minilm-local");
    let found = with_overrides(&["search", "invoice total with tax", "--json"]);
    let found: Value = serde_json::from_slice(&found.stdout).unwrap();
    assert_eq!(found["results"][0]["name"], "compute_invoice_total");

    // The default model must not query vectors of another model.
    let mixed = Command::new(BIN)
        .args(["search", "invoice"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(!mixed.status.success());
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("minilm-local"));

    // A runtime path that does not exist is a clear error.
    let broken = Command::new(BIN)
        .args(["search", "invoice", "--model-dir"])
        .arg(model_dir.path())
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&broken.stderr).contains("ORT_DYLIB_PATH"));
}

async fn call<H: rmcp::ClientHandler>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, H>,
    tool: &str,
    args: Value,
) -> Value {
    let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args.as_object().unwrap().clone());
    let result = client.call_tool(params).await.expect("tool call succeeds");
    assert_ne!(result.is_error, Some(true), "{tool} failed: {result:?}");
    result.structured_content.expect("structured content")
}

/// The results of a search answer.
fn results(found: &Value) -> Vec<Value> {
    found["results"].as_array().cloned().unwrap_or_default()
}

/// A filtered search found something, and every result passes `check`.
fn assert_some_and_all(found: &Value, check: impl Fn(&Value) -> bool) {
    let results = results(found);
    assert!(!results.is_empty(), "{found:#}");
    assert!(results.iter().all(check), "{found:#}");
}

#[tokio::test]
async fn mcp_stdio_handshake_index_and_search() {
    let project = fixture_project();
    let root = project.path().to_path_buf();
    let transport = TokioChildProcess::new(tokio::process::Command::new(BIN).configure(|cmd| {
        cmd.arg("mcp").env("MCP_PROJECT_ROOT", &root);
    }))
    .unwrap();
    let client = ().serve(transport).await.expect("initialize");
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("mcp-vector-search")
    );
    assert!(info.instructions.as_deref().unwrap_or_default().contains("search_code"));

    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "get_chunk",
            "get_project_status",
            "index_project",
            "search_code",
            "search_context",
            "search_similar"
        ]
    );

    // Not indexed yet: a clear tool error, not a crash.
    let params =
        CallToolRequestParams::new("search_code").with_arguments(json!({"query": "x"}).as_object().unwrap().clone());
    let result = client.call_tool(params).await.unwrap();
    assert_eq!(result.is_error, Some(true));

    // index_project returns at once with a job; status reports it.
    let started = Instant::now();
    let job = call(&client, "index_project", json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(2), "index_project blocked");
    assert!(job["job_id"].as_str().is_some());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = call(&client, "get_project_status", json!({})).await;
        if status["state"] == "ready" {
            assert_eq!(status["languages"]["python"]["files"], 1);
            break;
        }
        assert!(status["job"]["state"] != "failed", "{status:#}");
        assert!(Instant::now() < deadline, "indexing did not finish: {status:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // `limit` as a string, as some clients send it.
    let found = call(
        &client,
        "search_code",
        json!({"query": "remove sessions that have been idle too long", "limit": "3"}),
    )
    .await;
    assert!(found["results"].as_array().unwrap().len() <= 3);
    let top = &found["results"][0];
    assert_eq!(top["file_path"], "app/auth.py", "{found:#}");
    assert_eq!(top["name"], "expire_idle_sessions");
    assert_eq!(top["kind"], "method");

    // Filters narrow both lanes before ranking; lists may come as arrays or
    // comma-separated text.
    let rust_only = call(
        &client,
        "search_code",
        json!({"query": "remove sessions that have been idle too long", "language": ["rust"]}),
    )
    .await;
    assert_some_and_all(&rust_only, |r| r["language"] == "rust");
    let scoped = call(
        &client,
        "search_code",
        json!({"query": "sessions", "file_extensions": ".py", "kind": "method,class",
               "class_name": "SessionStore", "exclude": "src/**", "exclude_tests": "true"}),
    )
    .await;
    let names: Vec<String> = results(&scoped)
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "expire_idle_sessions"), "{scoped:#}");
    assert!(
        results(&scoped)
            .iter()
            .all(|r| r["file_path"] == "app/auth.py" && r["kind"] != "function"),
        "{scoped:#}"
    );
    let tests_only = call(&client, "search_code", json!({"query": "sessions", "tests_only": true})).await;
    assert!(
        results(&tests_only).is_empty(),
        "the fixture has no tests: {tests_only:#}"
    );

    // Output control: signatures carry no code; a tight budget keeps the
    // best result (as a signature) and counts the rest.
    let cheap = call(
        &client,
        "search_code",
        json!({"query": "sessions", "detail": "signatures", "limit": 5}),
    )
    .await;
    assert!(
        results(&cheap)
            .iter()
            .all(|r| r.get("content").is_none() && r["signature"].is_string())
    );
    let tight = call(
        &client,
        "search_code",
        json!({"query": "sessions", "detail": "full", "max_tokens": "100", "limit": 5}),
    )
    .await;
    assert_eq!(results(&tight).len(), 1, "{tight:#}");
    assert!(tight["omitted"].as_u64().unwrap() >= 1, "{tight:#}");

    // get_chunk expands a hit by id, with context, and reads file lines.
    let id = top["chunk_id"].as_str().unwrap();
    let chunk = call(&client, "get_chunk", json!({"chunk_id": id, "context_lines": 2})).await;
    assert_eq!(chunk["file_path"], "app/auth.py");
    assert_eq!(chunk["stale"], false);
    assert!(chunk["content"].as_str().unwrap().contains("def expire_idle_sessions"));
    assert!(chunk["start_line"].as_u64() < top["start_line"].as_u64());
    let lines = call(
        &client,
        "get_chunk",
        json!({"file_path": "src/billing.rs", "start_line": 3, "end_line": 4}),
    )
    .await;
    assert_eq!(
        lines["content"],
        "/// Sums the net price of every line item and applies the tax rate.\npub fn compute_invoice_total(items: &[LineItem], tax_rate: f64) -> f64 {"
    );
    // search_similar starts from stored vectors and leaves the source out.
    let similar = call(
        &client,
        "search_similar",
        json!({"file_path": "./app/auth.py", "function_name": "expire_idle_sessions", "limit": 3}),
    )
    .await;
    assert!(!results(&similar).is_empty(), "{similar:#}");
    assert!(results(&similar).iter().all(|r| r["name"] != "expire_idle_sessions"));
    let by_id = call(
        &client,
        "search_similar",
        json!({"chunk_id": id, "detail": "signatures"}),
    )
    .await;
    assert!(results(&by_id).iter().all(|r| r["chunk_id"] != id));
    let params = CallToolRequestParams::new("search_similar").with_arguments(
        json!({"file_path": "app/auth.py", "function_name": "no_such_fn"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let missing = client.call_tool(params).await.unwrap();
    assert_eq!(missing.is_error, Some(true), "{missing:?}");

    // Paths outside the project are refused, whatever their spelling.
    for escape in ["../../../../etc/passwd", "/etc/passwd", "app/../../outside.txt"] {
        let params = CallToolRequestParams::new("get_chunk")
            .with_arguments(json!({"file_path": escape}).as_object().unwrap().clone());
        let result = client.call_tool(params).await.unwrap();
        assert_eq!(result.is_error, Some(true), "{escape}: {result:?}");
    }

    // Invalid arguments are a protocol error naming the problem.
    let params = CallToolRequestParams::new("search_code")
        .with_arguments(json!({"query": "x", "limit": 500}).as_object().unwrap().clone());
    let err = client.call_tool(params).await.unwrap_err().to_string();
    assert!(err.contains("limit"), "{err}");

    client.cancel().await.unwrap();
}

/// A client that records the progress notifications it receives.
#[derive(Clone, Default)]
struct ProgressLog(std::sync::Arc<std::sync::Mutex<Vec<rmcp::model::ProgressNotificationParam>>>);

impl rmcp::ClientHandler for ProgressLog {
    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        self.0.lock().unwrap().push(params);
    }
}

/// `mcp` serving `root`, with or without its file watcher.
async fn serve_fixture(root: &Path, watching: bool) -> rmcp::service::RunningService<rmcp::RoleClient, ProgressLog> {
    let transport = TokioChildProcess::new(tokio::process::Command::new(BIN).configure(|cmd| {
        cmd.arg("mcp").env("MCP_PROJECT_ROOT", root);
        if !watching {
            cmd.env("MCP_ENABLE_FILE_WATCHING", "0");
        }
    }))
    .unwrap();
    ProgressLog::default().serve(transport).await.expect("initialize")
}

/// Writes `count` one-function Python files `app/{name}_{i}.py` whose text
/// no earlier run embedded (so the vector cache cannot answer for them).
fn write_unseen_python(root: &Path, name: &str, count: usize) {
    let nonce = format!("{:?}", Instant::now()).replace(|c: char| !c.is_ascii_alphanumeric(), "");
    for i in 0..count {
        std::fs::write(
            root.join(format!("app/{name}_{i}.py")),
            format!("def {name}_{nonce}_{i}(value):\n    return value * {i} + len('{nonce}')\n"),
        )
        .unwrap();
    }
}

/// index_project's modes (dry run, wait with progress in order, paths,
/// cancel), search_context, similarity_threshold, and the watcher keeping
/// results fresh after an edit.
#[tokio::test]
async fn mcp_jobs_progress_context_and_freshness() {
    let project = fixture_project();
    let root = project.path().to_path_buf();
    let client = serve_fixture(&root, true).await;

    let dry = call(&client, "index_project", json!({"dry_run": true})).await;
    assert_eq!(dry["languages"]["python"][0], 1, "{dry:#}");
    assert!(dry["estimated_seconds"].as_f64().unwrap() >= 0.0);
    let status = call(&client, "get_project_status", json!({})).await;
    assert_eq!(status["state"], "not_indexed", "a dry run writes nothing");

    // wait=true answers when the job ends; progress arrives in order.
    let done = call(&client, "index_project", json!({"wait": true})).await;
    assert_eq!(done["state"], "done", "{done:#}");
    let seen = client.service().0.lock().unwrap().clone();
    assert!(!seen.is_empty(), "no progress notification");
    // The MCP spec: progress strictly increases; every message has a phase.
    assert!(seen.windows(2).all(|w| w[0].progress < w[1].progress), "{seen:?}");
    assert!(
        seen.iter()
            .all(|p| !p.message.as_deref().unwrap_or_default().contains(" : ")),
        "{seen:?}"
    );
    assert!(
        seen.last()
            .unwrap()
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("done"),
        "{seen:?}"
    );
    // Each message says what search can do at that point.
    assert!(
        seen.last()
            .unwrap()
            .message
            .as_deref()
            .is_some_and(|m| m.ends_with("; keyword and vector search ready")),
        "{seen:?}"
    );
    let status = call(&client, "get_project_status", json!({})).await;
    assert_eq!(
        status["job"]["summary"], "keyword and vector search ready",
        "{status:#}"
    );

    // similarity_threshold drops weak hits; 1.0 keeps at most the best.
    let all = call(&client, "search_code", json!({"query": "password digest", "limit": 10})).await;
    let strict = call(
        &client,
        "search_code",
        json!({"query": "password digest", "limit": 10, "similarity_threshold": 0.99}),
    )
    .await;
    assert!(results(&strict).len() < results(&all).len(), "{strict:#}");
    assert!(results(&strict).iter().all(|r| r["score"].as_f64().unwrap() >= 0.99));

    // search_context covers the description and each focus area.
    let context = call(
        &client,
        "search_context",
        json!({"description": "user login", "focus_areas": ["password hashing", "invoice totals"], "limit": 5}),
    )
    .await;
    let files: Vec<String> = results(&context)
        .iter()
        .filter_map(|r| r["file_path"].as_str().map(str::to_string))
        .collect();
    assert!(
        files.iter().any(|f| f == "app/auth.py") && files.iter().any(|f| f == "src/billing.rs"),
        "{context:#}"
    );

    // paths: only the named file is looked at; outside paths are refused.
    // (A watcher job that is already running is returned instead: retry.)
    let mut scoped = Value::Null;
    for _ in 0..5 {
        scoped = call(
            &client,
            "index_project",
            json!({"paths": ["src/billing.rs"], "wait": true}),
        )
        .await;
        if scoped["report"]["scoped"] == true && scoped["report"]["files_seen"] == 1 {
            break;
        }
    }
    assert_eq!(scoped["report"]["files_seen"], 1, "{scoped:#}");
    let params = CallToolRequestParams::new("index_project")
        .with_arguments(json!({"paths": ["../outside"]}).as_object().unwrap().clone());
    // A path outside the root is a bad argument: invalid params naming it.
    match client.call_tool(params).await {
        Err(rmcp::ServiceError::McpError(error)) => assert_eq!(error.code.0, -32602, "{error:?}"),
        other => panic!("paths outside the root accepted: {other:?}"),
    }

    // The watcher indexes an edit without being asked.
    let started = Instant::now();
    std::fs::write(
        root.join("app/refunds.py"),
        "def refund_overcharged_customer(order):\n    return order.total - order.paid\n",
    )
    .unwrap();
    loop {
        let found = call(
            &client,
            "search_code",
            json!({"query": "refund_overcharged_customer", "search_mode": "keyword"}),
        )
        .await;
        if results(&found)
            .iter()
            .any(|r| r["name"] == "refund_overcharged_customer")
        {
            eprintln!("edit searchable after {:?}", started.elapsed());
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the edit never became searchable"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // search_code's remaining filters: include globs and function_name.
    let globbed = call(
        &client,
        "search_code",
        json!({"query": "sessions", "files": ["app/**"]}),
    )
    .await;
    assert_some_and_all(&globbed, |r| r["file_path"].as_str().unwrap().starts_with("app/"));
    let named = call(
        &client,
        "search_code",
        json!({"query": "check a password", "function_name": "verify_password"}),
    )
    .await;
    assert_eq!(results(&named).len(), 1, "{named:#}");

    // cancel with no job running says so; with a job running, stops it.
    let idle = call(&client, "index_project", json!({"cancel": true})).await;
    assert!(idle["job"].is_null(), "{idle:#}");
    client.cancel().await.unwrap();
}

/// Hostile and broken input over raw stdio: malformed JSON, an unknown
/// method and tool, invalid and huge arguments, path escapes through a
/// symlink; the server answers each with an error and keeps serving, and a
/// client that hangs up mid-call ends it cleanly.
#[test]
fn mcp_survives_attack_inputs() {
    use std::io::{BufRead, BufReader, Write};
    let project = fixture_project();
    let root = project.path();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("linkdir")).unwrap();
    let mut server = Command::new(BIN)
        .arg("mcp")
        .env("MCP_PROJECT_ROOT", root)
        .env("MCP_ENABLE_FILE_WATCHING", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = server.stdin.take().unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut send = |line: &str| {
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    };
    let mut answer = |id: u64| -> Value {
        loop {
            let mut line = String::new();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "server closed stdout");
            let message: Value = serde_json::from_str(&line).expect("only JSON-RPC on stdout");
            if message["id"] == id {
                return message;
            }
        }
    };
    send(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"attack","version":"0"}}}"#,
    );
    assert!(answer(1)["result"]["serverInfo"].is_object());
    send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);

    send("{this is not json");
    send(r#"{"jsonrpc":"2.0","id":2,"method":"no/such/method"}"#);
    assert!(answer(2)["error"].is_object());
    send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}"#);
    assert!(answer(3)["error"].is_object());
    send(
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"search_code","arguments":{"query":"x","limit":"lots"}}}"#,
    );
    // A value of the wrong type: invalid params naming the argument, what
    // it takes and the value (tests/mcp_arguments.rs has every kind).
    let mistyped = answer(4);
    assert_eq!(mistyped["error"]["code"], -32602, "{mistyped}");
    assert_eq!(
        mistyped["error"]["message"], r#"limit: expected a whole number from 1 to 50, received "lots""#,
        "{mistyped}"
    );
    // Values out of range: JSON-RPC invalid params naming the argument.
    send(
        r#"{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"search_code","arguments":{"query":"x","similarity_threshold":2}}}"#,
    );
    let invalid = answer(14);
    assert_eq!(invalid["error"]["code"], -32602, "{invalid}");
    assert!(
        invalid["error"]["message"]
            .as_str()
            .unwrap()
            .contains("similarity_threshold")
    );
    send(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"search_code","arguments":{"limit":3}}}"#);
    let missing = answer(5);
    assert_eq!(missing["error"]["code"], -32602, "{missing}");
    assert_eq!(missing["error"]["data"]["field"], "query", "{missing}");
    let huge = "a".repeat(4 << 20);
    send(&format!(
        r#"{{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{{"name":"search_code","arguments":{{"query":"{huge}"}}}}}}"#
    ));
    let huge_answer = answer(6);
    assert!(
        huge_answer["error"].is_object() || huge_answer["result"]["isError"] == true,
        "{}",
        &huge_answer.to_string()[..200.min(huge_answer.to_string().len())]
    );
    for (id, path) in [
        (7, "link.txt"),
        (8, "linkdir/secret.txt"),
        (9, "../../etc/passwd"),
        (10, "/etc/passwd"),
    ] {
        send(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"get_chunk","arguments":{{"file_path":"{path}"}}}}}}"#
        ));
        let refused = answer(id);
        assert_eq!(refused["result"]["isError"], true, "{path}: {refused}");
        assert!(!refused.to_string().contains("top secret"), "{path} leaked");
    }
    send(
        r#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"index_project","arguments":{"paths":["linkdir"]}}}"#,
    );
    // A path leaving the root is a bad argument, like one outside it.
    let outside = answer(11);
    assert_eq!(outside["error"]["code"], -32602, "{outside}");
    assert_eq!(outside["error"]["data"]["field"], "paths", "{outside}");
    // Still serving.
    send(r#"{"jsonrpc":"2.0","id":12,"method":"tools/list"}"#);
    assert_eq!(answer(12)["result"]["tools"].as_array().unwrap().len(), 6);
    // Hang up in the middle of a call: the server exits cleanly.
    send(
        r#"{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"index_project","arguments":{"dry_run":true}}}"#,
    );
    drop(stdin);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not exit after hang-up"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(status.success(), "exit {status:?}: {stderr}");
}

/// `index_project` with `cancel` stops a running job: what was committed
/// stays, the report says `cancelled`, and the next run finishes the work.
/// A client that abandons a waiting call (`notifications/cancelled`) does
/// not: the job runs to the end.
#[tokio::test]
async fn mcp_cancels_a_running_job() {
    let project = fixture_project();
    let root = project.path().to_path_buf();
    // Enough unseen text (no vector cache hits) to keep the run busy.
    write_unseen_python(&root, "compute", 300);
    let client = serve_fixture(&root, false).await;
    let started = call(&client, "index_project", json!({})).await;
    assert_eq!(started["state"], "running", "{started:#}");
    job_reaches_vectors_phase(&client).await;
    // Ten searches at once while the job writes: none waits for it, and
    // each answer says it is partial (vectors are still being computed).
    let client_ref = &client;
    let searches = (0..10).map(|i| {
        let mode = ["hybrid", "keyword", "vector"][i % 3];
        let args = json!({"query": format!("compute the value {i}"), "search_mode": mode});
        async move { (mode, call(client_ref, "search_code", args).await) }
    });
    for (mode, found) in futures::future::join_all(searches).await {
        assert_eq!(found["partial"], true, "{found:#}");
        if mode != "vector" {
            assert!(!found["results"].as_array().unwrap().is_empty(), "{mode}: {found:#}");
        }
    }
    // Cancel in the middle of the vectors phase.
    let cancelling = call(&client, "index_project", json!({"cancel": true})).await;
    assert_eq!(cancelling["job_id"], started["job_id"], "{cancelling:#}");
    let (job_id, report) = finished_job(&client).await;
    assert_eq!(job_id, started["job_id"]);
    assert_eq!(report["cancelled"], true, "{report:#}");
    let with_vectors = report["chunks_written"].as_u64().unwrap();
    assert!(with_vectors > 0 && with_vectors < 300, "{report:#}");
    // Until it is finished the index says it is incomplete, and why.
    let status = call(&client, "get_project_status", json!({})).await;
    assert_eq!(status["state"], "incomplete", "{status:#}");
    assert!(
        status["incomplete"]
            .as_str()
            .unwrap_or_default()
            .contains("wait for their vectors"),
        "{status:#}"
    );
    // The next run computes only the vectors still missing.
    let finished = call(&client, "index_project", json!({"wait": true})).await;
    assert_eq!(finished["report"]["cancelled"], false, "{finished:#}");
    assert_eq!(finished["report"]["files_parsed"], 0, "{finished:#}");
    assert!(
        finished["report"]["files_pending_resumed"].as_u64().unwrap() > 0,
        "{finished:#}"
    );
    let status = call(&client, "get_project_status", json!({})).await;
    assert_eq!(status["vectors"], status["chunks"], "{status:#}");
    assert_eq!(status["languages"]["python"]["files"], 301, "{status:#}");
    assert_eq!(status["state"], "ready", "{status:#}");

    // Dropping the call sends notifications/cancelled for it: the job
    // detaches and finishes.
    write_unseen_python(&root, "reconcile", 300);
    let arguments = json!({"wait": true}).as_object().unwrap().clone();
    let waiting = client.call_tool(CallToolRequestParams::new("index_project".to_string()).with_arguments(arguments));
    tokio::select! {
        outcome = waiting => panic!("the waiting call ended before the vectors phase: {outcome:?}"),
        () = job_reaches_vectors_phase(&client) => {}
    }
    let (_, report) = finished_job(&client).await;
    assert_eq!(report["cancelled"], false, "{report:#}");
    let status = call(&client, "get_project_status", json!({})).await;
    assert_eq!(status["vectors"], status["chunks"], "{status:#}");
    assert_eq!(status["languages"]["python"]["files"], 601, "{status:#}");
    client.cancel().await.unwrap();
}

/// Polls `get_project_status` until the running job is in its vectors phase.
async fn job_reaches_vectors_phase<H: rmcp::ClientHandler>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, H>,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    // A job that already ended when polling began is an earlier one: the
    // request starting ours may still be on its way.
    let mut earlier = None;
    loop {
        let status = call(client, "get_project_status", json!({})).await;
        if status["job"]["progress"]["phase"] == "vectors" {
            return;
        }
        let ended = status["job"]["state"] != "running";
        if ended && earlier.get_or_insert_with(|| status["job"]["job_id"].clone()) == &status["job"]["job_id"] {
            assert!(Instant::now() < deadline, "no job started: {status:#}");
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        earlier = Some(Value::Null);
        assert!(!ended, "the job ended first: {status:#}");
        assert!(Instant::now() < deadline, "{status:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `get_project_status` until the job is done: its id and report.
async fn finished_job<H: rmcp::ClientHandler>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, H>,
) -> (Value, Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = call(client, "get_project_status", json!({})).await;
        if status["job"]["state"] == "done" {
            return (status["job"]["job_id"].clone(), status["job"]["report"].clone());
        }
        assert!(Instant::now() < deadline, "the job did not end: {status:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `index_project {"wait": true}`: the job's record, or `{"state": "busy",
/// "error": <text>}` when another writer held the lock (an `isError` answer).
async fn index_and_wait<H: rmcp::ClientHandler>(client: &rmcp::service::RunningService<rmcp::RoleClient, H>) -> Value {
    let params =
        CallToolRequestParams::new("index_project").with_arguments(json!({"wait": true}).as_object().unwrap().clone());
    let result = client.call_tool(params).await.expect("a tool result");
    if result.is_error == Some(true) {
        return json!({"state": "busy", "error": format!("{:?}", result.content)});
    }
    result.structured_content.expect("structured content")
}

/// Two servers on one repository: both index at once, one writes and the
/// other reports who holds the lock (busy at once, or a failed job when both
/// started before either held it); both answer searches throughout.
#[tokio::test]
async fn two_servers_share_one_index() {
    let project = fixture_project();
    let root = project.path().to_path_buf();
    write_unseen_python(&root, "shared", 150);
    let (first, second) = (serve_fixture(&root, false).await, serve_fixture(&root, false).await);
    let (a, b) = tokio::join!(index_and_wait(&first), index_and_wait(&second));
    let outcomes = [&a, &b];
    let done = outcomes.iter().filter(|job| job["state"] == "done").count();
    assert!(done >= 1, "{a:#} {b:#}");
    for job in outcomes.iter().filter(|job| job["state"] != "done") {
        assert!(job["error"].as_str().unwrap().contains("is indexing"), "{job:#}");
    }
    for client in [&first, &second] {
        let status = call(client, "get_project_status", json!({})).await;
        assert_eq!(status["vectors"], status["chunks"], "{status:#}");
        let found = call(client, "search_code", json!({"query": "verify a password", "limit": 3})).await;
        assert_eq!(found["results"][0]["name"], "verify_password", "{found:#}");
    }
    first.cancel().await.unwrap();
    second.cancel().await.unwrap();
}

/// Longer than twice the watcher's debounce (150 ms): events before such a
/// pause have been acted on.
const DEBOUNCE_QUIET: Duration = Duration::from_millis(400);

/// The watcher reacts to content changes only: reading every file (an
/// agent's `cat`, the indexer's own reads) starts no run, while an atomic
/// save (write a temporary file, rename it over the original) is indexed.
/// Reads once made the server start a job several times a second, forever.
#[tokio::test]
async fn watcher_ignores_reads_and_indexes_atomic_saves() {
    let project = tempfile::tempdir().unwrap();
    let root = project.path().to_path_buf();
    std::fs::write(root.join("a.py"), "def a(): pass\n").unwrap();
    let indexed = Command::new(BIN).arg("index").arg(&root).output().unwrap();
    assert!(indexed.status.success(), "{}", String::from_utf8_lossy(&indexed.stderr));
    let client = serve_fixture(&root, true).await;
    // Let the watch start before reading.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let read_everything_for = |how_long: Duration| {
        let root = root.clone();
        async move {
            let until = Instant::now() + how_long;
            while Instant::now() < until {
                // `cat` and `ls` from another process, as an agent's shell does.
                let cat = Command::new("sh")
                    .arg("-c")
                    .arg("ls -la . >/dev/null && cat *.py >/dev/null")
                    .current_dir(&root)
                    .status()
                    .unwrap();
                assert!(cat.success());
                // Quiet longer than the watcher's debounce, so that each read
                // would be acted on.
                tokio::time::sleep(DEBOUNCE_QUIET).await;
            }
            tokio::time::sleep(DEBOUNCE_QUIET).await;
        }
    };
    read_everything_for(Duration::from_secs(2)).await;
    let status = call(&client, "get_project_status", json!({})).await;
    assert!(status["job"].is_null(), "reads started a job: {status:#}");

    std::fs::write(root.join(".a.py.tmp"), "def atomically_saved(): pass\n").unwrap();
    std::fs::rename(root.join(".a.py.tmp"), root.join("a.py")).unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let found = call(
            &client,
            "search_code",
            json!({"query": "atomically_saved", "search_mode": "keyword"}),
        )
        .await;
        if results(&found).iter().any(|r| r["file_path"] == "a.py") {
            break;
        }
        assert!(Instant::now() < until, "the atomic save was not indexed: {found:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after_save = call(&client, "get_project_status", json!({})).await;
    let job_id = after_save["job"]["job_id"].clone();
    assert!(job_id.is_string(), "{after_save:#}");

    read_everything_for(Duration::from_secs(2)).await;
    let idle = call(&client, "get_project_status", json!({})).await;
    assert_eq!(idle["job"]["job_id"], job_id, "reads started another job: {idle:#}");
    client.cancel().await.unwrap();
}

/// Read-only commands never write: `status` where there is no index leaves
/// the directory empty and exits 3 (text and JSON), as does the MCP
/// `get_project_status`; from a subdirectory of an indexed project, `status`
/// finds the project and says which rule chose its root.
#[tokio::test]
async fn status_is_read_only_and_finds_the_enclosing_project() {
    let empty = tempfile::tempdir().unwrap();
    let listing = |dir: &Path| std::fs::read_dir(dir).unwrap().count();
    for json in [false, true] {
        let mut status = Command::new(BIN);
        status.arg("status").current_dir(empty.path());
        if json {
            status.arg("--json");
        }
        let output = status.output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(listing(empty.path()), 0, "status wrote into an unindexed directory");
    }
    let flagged = Command::new(BIN)
        .args(["status", "--project-root"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(flagged.status.code(), Some(3));
    let client = serve_fixture(empty.path(), true).await;
    let status = call(&client, "get_project_status", json!({})).await;
    assert_eq!(status["state"], "not_indexed", "{status:#}");
    client.cancel().await.unwrap();
    assert_eq!(
        listing(empty.path()),
        0,
        "get_project_status wrote into an unindexed directory"
    );

    let project = fixture_project();
    let indexed = Command::new(BIN).arg("index").arg(project.path()).output().unwrap();
    assert!(indexed.status.success(), "{}", String::from_utf8_lossy(&indexed.stderr));
    let output = Command::new(BIN)
        .args(["status", "--json"])
        .current_dir(project.path().join("src"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["root_chosen_by"], "nearest_index", "{status:#}");
    let real_root = project.path().canonicalize().unwrap();
    assert_eq!(
        status["project_root"].as_str().map(Path::new),
        Some(real_root.as_path())
    );

    // The server started in a subdirectory with no root given (as a client
    // launched there does) serves the same project by the same rule.
    let transport = TokioChildProcess::new(tokio::process::Command::new(BIN).configure(|cmd| {
        cmd.arg("mcp")
            .env_remove("MCP_PROJECT_ROOT")
            .env("MCP_ENABLE_FILE_WATCHING", "0")
            .current_dir(project.path().join("src"));
    }))
    .unwrap();
    let client = ().serve(transport).await.expect("initialize");
    let status = call(&client, "get_project_status", json!({})).await;
    assert_eq!(status["state"], "ready", "{status:#}");
    assert_eq!(status["root_chosen_by"], "nearest_index", "{status:#}");
    assert_eq!(
        status["project_root"].as_str().map(Path::new),
        Some(real_root.as_path())
    );
    client.cancel().await.unwrap();
}

/// Without a usable model (no network, no Python), the failure is met once
/// in the background, not on every save: watcher runs do not try to
/// provision again (each try ran pip); a tool call that needs the model
/// does, and says why it failed.
#[tokio::test]
async fn a_failed_model_load_is_not_retried_by_watcher_runs() {
    let project = fixture_project();
    let root = project.path().to_path_buf();
    let indexed = Command::new(BIN).arg("index").arg(&root).output().unwrap();
    assert!(indexed.status.success(), "{}", String::from_utf8_lossy(&indexed.stderr));
    // A Python that counts its runs and fails, and an empty home: every
    // load attempt runs it.
    let scratch = tempfile::tempdir().unwrap();
    let (python, runs) = failing_python(scratch.path(), 0);
    let attempts = || std::fs::read_to_string(&runs).map_or(0, |text| text.lines().count());

    let transport = TokioChildProcess::new(tokio::process::Command::new(BIN).configure(|cmd| {
        cmd.arg("mcp")
            .env("MCP_PROJECT_ROOT", &root)
            .env("MCP_VECTOR_SEARCH_HOME", scratch.path().join("home"))
            .env("MCP_VECTOR_SEARCH_PYTHON", &python);
    }))
    .unwrap();
    let client = ().serve(transport).await.expect("initialize");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_warm_up = attempts();
    assert!(after_warm_up >= 1, "the warm-up did not try to load the model");
    for i in 0..3 {
        std::fs::write(
            root.join("app/edited.py"),
            format!("def edited_{i}():\n    return {i}\n"),
        )
        .unwrap();
        tokio::time::sleep(DEBOUNCE_QUIET).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(attempts(), after_warm_up, "watcher runs tried to provision again");

    let params = CallToolRequestParams::new("search_code").with_arguments(
        json!({"query": "compute the invoice total"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let answer = client.call_tool(params).await.unwrap();
    assert_eq!(answer.is_error, Some(true), "{answer:?}");
    assert!(
        format!("{answer:?}").contains("embedding model unavailable"),
        "{answer:?}"
    );
    assert!(attempts() > after_warm_up, "an explicit request did not try again");
    client.cancel().await.unwrap();
}

/// A Python in `dir` that counts its runs (in the returned file) and fails
/// after `delay_s` seconds: with an empty home, every attempt to provision
/// the runtime and model runs it.
fn failing_python(dir: &Path, delay_s: u32) -> (std::path::PathBuf, std::path::PathBuf) {
    let (python, runs) = (dir.join("python3"), dir.join("runs"));
    std::fs::write(
        &python,
        format!("#!/bin/sh\necho run >> '{}'\nsleep {delay_s}\nexit 1\n", runs.display()),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&python).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&python, permissions).unwrap();
    (python, runs)
}

/// First use provisions the runtime and model (pip, seconds to a minute):
/// a waiting `index_project` reports each step as progress (phase
/// `provisioning`, the step in the message, strictly increasing), and a
/// job that fails answers `isError` with the reason, not "done".
#[tokio::test]
async fn provisioning_reports_progress_and_a_failed_job_is_an_error() {
    let project = fixture_project();
    let scratch = tempfile::tempdir().unwrap();
    let (python, _runs) = failing_python(scratch.path(), 1);
    let transport = TokioChildProcess::new(tokio::process::Command::new(BIN).configure(|cmd| {
        cmd.arg("mcp")
            .env("MCP_PROJECT_ROOT", project.path())
            .env("MCP_ENABLE_FILE_WATCHING", "0")
            .env("MCP_VECTOR_SEARCH_HOME", scratch.path().join("home"))
            .env("MCP_VECTOR_SEARCH_PYTHON", &python);
    }))
    .unwrap();
    let client = ProgressLog::default().serve(transport).await.expect("initialize");
    let params =
        CallToolRequestParams::new("index_project").with_arguments(json!({"wait": true}).as_object().unwrap().clone());
    let answer = client.call_tool(params).await.unwrap();
    assert_eq!(answer.is_error, Some(true), "{answer:?}");
    let text = serde_json::to_string(&answer.content).unwrap();
    assert!(text.contains("embedding model unavailable"), "{text}");

    let seen = client.service().0.lock().unwrap().clone();
    let messages: Vec<&str> = seen.iter().filter_map(|p| p.message.as_deref()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("provisioning: fetching onnxruntime==") && m.contains("first use only")),
        "{messages:?}"
    );
    assert!(seen.windows(2).all(|w| w[0].progress < w[1].progress), "{seen:?}");
    client.cancel().await.unwrap();
}
