//! A project root the server cannot serve (missing, a regular file) must not
//! kill it before the handshake, where clients show only "Failed to
//! connect": the real binary completes `initialize` and `tools/list`, and
//! every tool answers an `isError` result naming where the root came from,
//! its value and the fix. Stdout carries nothing but MCP messages.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-vector-search");

const TOOLS: [&str; 6] = [
    "get_chunk",
    "get_project_status",
    "index_project",
    "search_code",
    "search_context",
    "search_similar",
];

/// Serves `root` through `MCP_PROJECT_ROOT` to a real rmcp client and checks
/// the handshake, the tool list and that tools answer errors naming the
/// variable, the value and `problem`.
async fn serves_errors_for(root: &Path, problem: &str) {
    let transport = TokioChildProcess::new(tokio::process::Command::new(BIN).configure(|cmd| {
        cmd.arg("mcp").env("MCP_PROJECT_ROOT", root);
    }))
    .unwrap();
    let client = ().serve(transport).await.expect("the handshake completes");
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort();
    assert_eq!(names, TOOLS);

    for (tool, args) in [
        ("search_code", json!({"query": "parse config"})),
        ("get_project_status", json!({})),
        ("index_project", json!({})),
    ] {
        let params = CallToolRequestParams::new(tool).with_arguments(args.as_object().unwrap().clone());
        let result = client
            .call_tool(params)
            .await
            .expect("a tool result, not a protocol error");
        assert_eq!(result.is_error, Some(true), "{tool}: {result:?}");
        let text = serde_json::to_string(&result.content).unwrap();
        for needle in [
            "MCP_PROJECT_ROOT",
            &root.display().to_string(),
            problem,
            "repository to search",
        ] {
            assert!(text.contains(needle), "{tool} does not say {needle:?}: {text}");
        }
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn mcp_bad_root_missing_directory_is_a_tool_error() {
    let dir = tempfile::tempdir().unwrap();
    serves_errors_for(&dir.path().join("does-not-exist"), "does not exist").await;
}

#[tokio::test]
async fn mcp_bad_root_regular_file_is_a_tool_error() {
    let file = tempfile::NamedTempFile::new().unwrap();
    serves_errors_for(file.path(), "is not a directory").await;
}

/// Raw stdio, root given by `--project-root`: every stdout line is a
/// JSON-RPC message, the error names the flag, and the server exits
/// cleanly (no panic) when the client closes stdin.
#[test]
fn mcp_bad_root_flag_keeps_stdout_protocol_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("missing");
    let mut child = Command::new(BIN)
        .arg("mcp")
        .arg("--project-root")
        .arg(&root)
        .env_remove("MCP_PROJECT_ROOT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = |message: Value| writeln!(stdin, "{message}").unwrap();
    let mut next = || -> Value {
        let line = lines.next().expect("an answer").unwrap();
        serde_json::from_str(&line).unwrap_or_else(|err| panic!("stdout line is not JSON ({err}): {line}"))
    };

    send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}}));
    let init = next();
    assert_eq!(init["id"], 1, "{init}");
    assert!(init["result"]["serverInfo"].is_object(), "{init}");
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    let listed = next();
    assert_eq!(
        listed["result"]["tools"].as_array().map(Vec::len),
        Some(TOOLS.len()),
        "{listed}"
    );
    send(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "get_project_status", "arguments": {}}}));
    let status = next();
    assert_eq!(status["result"]["isError"], true, "{status}");
    let text = status["result"]["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("--project-root"), "{text}");
    assert!(text.contains(&root.display().to_string()), "{text}");
    assert!(text.contains("does not exist"), "{text}");

    drop(stdin); // end of input: the server must exit cleanly
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(rest.is_empty(), "unexpected stdout after the last answer: {rest:?}");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
