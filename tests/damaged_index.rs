//! A damaged index (a truncated data file, a truncated search index, an
//! unreadable `meta.json`) is reported as `damaged` with its fix by
//! `status` (exit code 5), `doctor`, `get_project_status` and every search,
//! never as `ready` with a raw storage error; a plain `index` (or
//! `index_project`) repairs it, with the real binary and the real model.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-vector-search");

/// What the answers about a damaged index must say.
const FIX: &str = "run `mcp-vector-search index` (or call index_project) to repair it";

/// An indexed project of a few Python functions.
fn indexed_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..12 {
        std::fs::write(
            dir.path().join(format!("shipping_{i}.py")),
            format!("def shipping_rate_{i}(weight):\n    return weight * {i}\n"),
        )
        .unwrap();
    }
    assert!(cli(&["index", "."], dir.path()).status.success());
    dir
}

fn cli(args: &[&str], project: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(project)
        .output()
        .expect("binary runs")
}

/// The files under the live generation's `table`/`part` whose names
/// contain `contains`.
fn table_files(project: &Path, table: &str, part: &str, contains: &str) -> Vec<PathBuf> {
    let index = project.join(".mcp-vector-search");
    let meta: Value = serde_json::from_slice(&std::fs::read(index.join("meta.json")).unwrap()).unwrap();
    let tables = meta["tables"].as_str().unwrap_or("lance");
    let mut found = Vec::new();
    let mut dirs = vec![index.join(tables).join(table).join(part)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().contains(contains) {
                found.push(path);
            }
        }
    }
    assert!(!found.is_empty(), "no {contains} file under {table}/{part}");
    found
}

/// Cuts `path` to its first 100 bytes, as a full disk or a killed copy does.
fn truncate(path: &Path) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(100)
        .unwrap();
}

/// The CLI says `damaged` with the fix everywhere, then a plain `index`
/// repairs the index and searches answer again.
fn cli_reports_and_repairs(project: &Path) {
    let status = cli(&["status", "--json"], project);
    assert_eq!(status.status.code(), Some(5), "status exits 5 on a damaged index");
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["state"], "damaged", "{status:#}");
    assert!(status["damaged"].as_str().unwrap().contains(FIX), "{status:#}");

    let search = cli(&["search", "shipping rate"], project);
    assert_eq!(search.status.code(), Some(5));
    let said = String::from_utf8_lossy(&search.stderr);
    assert!(said.contains("is damaged") && said.contains(FIX), "{said}");
    assert!(!said.contains("/rustc"), "no raw storage error: {said}");

    let doctor = cli(&["doctor"], project);
    let said = String::from_utf8_lossy(&doctor.stdout);
    assert!(said.contains("damaged") && said.contains(FIX), "{said}");

    let repaired = cli(&["index", "."], project);
    assert!(
        repaired.status.success(),
        "{}",
        String::from_utf8_lossy(&repaired.stderr)
    );
    let status: Value = serde_json::from_slice(&cli(&["status", "--json"], project).stdout).unwrap();
    assert_eq!(status["state"], "ready", "{status:#}");
    assert_eq!(status["files"], 12, "{status:#}");
    assert_eq!(status["vectors"], status["chunks"], "{status:#}");
    let search = cli(&["search", "shipping rate", "--json"], project);
    assert!(search.status.success());
    let found: Value = serde_json::from_slice(&search.stdout).unwrap();
    assert!(!found["results"].as_array().unwrap().is_empty(), "{found:#}");
}

#[test]
fn a_truncated_data_file_is_damaged_until_index_repairs_it() {
    let project = indexed_project();
    truncate(&table_files(project.path(), "chunks.lance", "data", ".lance")[0]);
    cli_reports_and_repairs(project.path());
}

#[test]
fn a_truncated_keyword_index_is_damaged_until_index_repairs_it() {
    let project = indexed_project();
    for file in table_files(project.path(), "chunks.lance", "_indices", "invert") {
        truncate(&file);
    }
    cli_reports_and_repairs(project.path());
}

#[test]
fn an_unreadable_meta_file_is_damaged_until_index_repairs_it() {
    let project = indexed_project();
    std::fs::write(project.path().join(".mcp-vector-search/meta.json"), b"{\"schema_ver").unwrap();
    cli_reports_and_repairs(project.path());
}

/// Over MCP: the handshake completes, `get_project_status` says `damaged`
/// with the fix, a search is an `isError` naming the fix, and
/// `index_project` repairs the index.
#[tokio::test]
async fn the_server_reports_a_damaged_index_and_index_project_repairs_it() {
    let project = indexed_project();
    truncate(&table_files(project.path(), "files.lance", "data", ".lance")[0]);
    let transport = TokioChildProcess::new(tokio::process::Command::new(BIN).configure(|cmd| {
        cmd.arg("mcp")
            .env("MCP_PROJECT_ROOT", project.path())
            .env("MCP_ENABLE_FILE_WATCHING", "0");
    }))
    .unwrap();
    let client = ().serve(transport).await.expect("the handshake completes");
    let call = |tool: &str, args: Value| {
        client.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args.as_object().unwrap().clone()))
    };

    let status = call("get_project_status", json!({})).await.unwrap();
    let said = serde_json::to_string(&status.content).unwrap();
    assert!(said.contains(FIX), "the text says the fix too: {said}");
    let status = status.structured_content.unwrap();
    assert_eq!(status["state"], "damaged", "{status:#}");
    assert!(status["damaged"].as_str().unwrap().contains(FIX), "{status:#}");

    let search = call("search_code", json!({"query": "shipping rate"})).await.unwrap();
    assert_eq!(search.is_error, Some(true), "{search:?}");
    let said = serde_json::to_string(&search.content).unwrap();
    assert!(said.contains("is damaged") && said.contains(FIX), "{said}");

    let indexed = call("index_project", json!({"wait": true})).await.unwrap();
    assert_ne!(indexed.is_error, Some(true), "{indexed:?}");
    let status = call("get_project_status", json!({})).await.unwrap();
    let status = status.structured_content.unwrap();
    assert_eq!(status["state"], "ready", "{status:#}");
    assert_eq!(status["files"], 12, "{status:#}");
    let search = call("search_code", json!({"query": "shipping rate"})).await.unwrap();
    assert_ne!(search.is_error, Some(true), "{search:?}");
    client.cancel().await.unwrap();
}
