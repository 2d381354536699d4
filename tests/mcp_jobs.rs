//! Indexing jobs over MCP with the real binary: a second writer gets an
//! immediate, visible `busy` answer; the job a client started stays on
//! record in `get_project_status` whatever the watcher runs afterwards; a
//! client that stops waiting for a job does not stop the job; a forced
//! rebuild never takes the live index away.

use std::path::Path;
use std::time::{Duration, Instant};

use mvs_index::{Project, WriterLock};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-vector-search");

type Client = RunningService<RoleClient, ()>;

/// A project of `count` one-function Python files whose text no earlier run
/// embedded (so the vector cache cannot answer for them).
fn python_project(count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let nonce = format!("{:?}", Instant::now()).replace(|c: char| !c.is_ascii_alphanumeric(), "");
    for i in 0..count {
        std::fs::write(
            dir.path().join(format!("mod_{i}.py")),
            format!("def handler_{nonce}_{i}(value):\n    return value * {i} + len('{nonce}')\n"),
        )
        .unwrap();
    }
    dir
}

/// `mcp` serving `root`, with or without its file watcher.
async fn serve(root: &Path, watching: bool) -> Client {
    serve_with(root, watching, &[]).await
}

/// `mcp` serving `root`, with or without its file watcher, with extra
/// environment variables.
async fn serve_with(root: &Path, watching: bool, vars: &[(&str, &str)]) -> Client {
    let transport = TokioChildProcess::new(tokio::process::Command::new(BIN).configure(|cmd| {
        cmd.arg("mcp")
            .env("MCP_PROJECT_ROOT", root)
            .env("MCP_ENABLE_FILE_WATCHING", if watching { "1" } else { "0" })
            .envs(vars.iter().copied());
    }))
    .unwrap();
    ().serve(transport).await.expect("initialize")
}

/// Calls `tool` and returns its whole result, errors included.
async fn call_raw(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args.as_object().unwrap().clone());
    client.call_tool(params).await.expect("a tool result")
}

/// Calls `tool`, which must succeed, and returns its structured answer.
async fn call(client: &Client, tool: &str, args: Value) -> Value {
    let result = call_raw(client, tool, args).await;
    assert_ne!(result.is_error, Some(true), "{tool} failed: {result:?}");
    result.structured_content.expect("structured content")
}

/// Polls `get_project_status` until `done` holds for it, for up to 120 s.
async fn status_until(client: &Client, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = call(client, "get_project_status", json!({})).await;
        if done(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "{what}: {status:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// While another process (here: this test) holds the writer lock,
/// `index_project` answers `isError` at once, naming the holder's pid and
/// command and what to do, instead of "Started" and a failure nobody sees.
#[tokio::test]
async fn index_project_answers_busy_while_another_process_writes() {
    let project = python_project(2);
    let _lock = WriterLock::acquire(&Project::new(project.path()).unwrap()).unwrap();
    let client = serve(project.path(), false).await;
    for args in [json!({}), json!({"force": true}), json!({"wait": true})] {
        let asked = Instant::now();
        let result = call_raw(&client, "index_project", args.clone()).await;
        assert!(asked.elapsed() < Duration::from_secs(1), "{args}: not at once");
        assert_eq!(result.is_error, Some(true), "{args}: {result:?}");
        let text = format!("{:?}", result.content);
        let pid = std::process::id();
        assert!(text.contains(&format!("pid {pid}")), "{text}");
        assert!(text.contains("mcp_jobs"), "names the holder's command: {text}");
        assert!(text.contains("call index_project again"), "{text}");
    }
    let status = call(&client, "get_project_status", json!({})).await;
    assert!(status["job"].is_null(), "no job was started: {status:#}");
    client.cancel().await.unwrap();
}

/// The job a client started stays readable after the watcher indexes a
/// change: `job` is still the client's, `jobs` lists both, newest first,
/// with their origin.
#[tokio::test]
async fn watcher_runs_do_not_hide_the_clients_job() {
    let project = python_project(3);
    let client = serve(project.path(), true).await;
    let indexed = call(&client, "index_project", json!({"wait": true})).await;
    assert_eq!(indexed["state"], "done", "{indexed:#}");
    assert_eq!(indexed["origin"], "client", "{indexed:#}");

    std::fs::write(project.path().join("edited.py"), "def edited_later(): pass\n").unwrap();
    let status = status_until(&client, "the watcher indexed the edit", |status| {
        status["jobs"][0]["origin"] == "watcher" && status["jobs"][0]["state"] == "done"
    })
    .await;
    assert_eq!(status["job"]["job_id"], indexed["job_id"], "{status:#}");
    assert_eq!(status["job"]["origin"], "client", "{status:#}");
    let jobs = status["jobs"].as_array().unwrap();
    assert_eq!(jobs.last().unwrap()["job_id"], indexed["job_id"], "{status:#}");
    client.cancel().await.unwrap();
}

/// A client that gives up on `index_project {"wait": true}` (dropping the
/// call sends `notifications/cancelled`) leaves the job running to the end;
/// only `cancel` stops a job.
#[tokio::test]
async fn an_abandoned_wait_detaches_from_the_job() {
    let project = python_project(300);
    let client = serve(project.path(), false).await;
    let arguments = json!({"wait": true}).as_object().unwrap().clone();
    let waiting = client.call_tool(CallToolRequestParams::new("index_project".to_string()).with_arguments(arguments));
    tokio::select! {
        outcome = waiting => panic!("the job ended before the client gave up: {outcome:?}"),
        () = tokio::time::sleep(Duration::from_millis(1500)) => {}
    }
    let running = call(&client, "get_project_status", json!({})).await;
    assert_eq!(running["job"]["state"], "running", "{running:#}");
    let done = status_until(&client, "the job ran on", |status| status["job"]["state"] != "running").await;
    assert_eq!(done["job"]["job_id"], running["job"]["job_id"], "{done:#}");
    assert_eq!(done["job"]["state"], "done", "{done:#}");
    assert_eq!(done["job"]["report"]["cancelled"], false, "{done:#}");
    assert_eq!(done["vectors"], done["chunks"], "{done:#}");
    assert_eq!(done["files"], 300, "{done:#}");
    client.cancel().await.unwrap();
}

/// `index_project {"force": true}` rebuilds beside the live index: while
/// it runs, status keeps the live counts and searches answer from the old
/// index; a cancelled rebuild leaves it whole and `ready` (nothing of the
/// rebuild remains on disk); a finished one replaces it.
#[tokio::test]
async fn a_forced_rebuild_keeps_the_live_index_until_it_is_complete() {
    let project = python_project(300);
    // No vector cache: the rebuild embeds every chunk again, so it lasts.
    let client = serve_with(project.path(), false, &[("MCP_VECTOR_SEARCH_CACHE_MB", "0")]).await;
    let indexed = call(&client, "index_project", json!({"wait": true})).await;
    assert_eq!(indexed["state"], "done", "{indexed:#}");
    let generations = || {
        std::fs::read_dir(project.path().join(".mcp-vector-search"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.starts_with("lance"))
            .count()
    };
    assert_eq!(generations(), 1);

    call(&client, "index_project", json!({"force": true})).await;
    let running = status_until(&client, "the rebuild started", |s| s["job"]["state"] == "running").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = call(&client, "get_project_status", json!({})).await;
    assert_eq!(
        during["files"], 300,
        "the live index is whole during a rebuild: {during:#}"
    );
    assert_eq!(during["vectors"], during["chunks"], "{during:#}");
    let found = call(&client, "search_code", json!({"query": "handler value", "limit": 5})).await;
    assert_eq!(found["results"].as_array().map(Vec::len), Some(5), "{found:#}");

    call(&client, "index_project", json!({"cancel": true})).await;
    let cancelled = status_until(&client, "the rebuild stopped", |s| s["job"]["state"] != "running").await;
    assert_eq!(cancelled["job"]["job_id"], running["job"]["job_id"], "{cancelled:#}");
    assert_eq!(cancelled["job"]["report"]["cancelled"], true, "{cancelled:#}");
    assert_eq!(
        cancelled["state"], "ready",
        "a cancelled rebuild keeps the live index: {cancelled:#}"
    );
    assert_eq!(cancelled["files"], 300, "{cancelled:#}");
    assert_eq!(cancelled["vectors"], cancelled["chunks"], "{cancelled:#}");
    assert_eq!(generations(), 1, "the cancelled rebuild's tables are gone");

    let rebuilt = call(&client, "index_project", json!({"force": true, "wait": true})).await;
    assert_eq!(rebuilt["state"], "done", "{rebuilt:#}");
    let after = call(&client, "get_project_status", json!({})).await;
    assert_eq!(after["state"], "ready", "{after:#}");
    assert_eq!(after["files"], 300, "{after:#}");
    assert_eq!(generations(), 1, "the replaced generation is deleted");
    let found = call(&client, "search_code", json!({"query": "handler value", "limit": 5})).await;
    assert_eq!(found["results"].as_array().map(Vec::len), Some(5), "{found:#}");
    client.cancel().await.unwrap();
}
