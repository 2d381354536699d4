//! Every argument gets a right answer or a clear error, the same over MCP
//! and on the command line: a bad value is JSON-RPC -32602 naming the
//! field, what it takes and the value received (never serde's "untagged
//! enum" text, never -32601 for a malformed `arguments`); integral floats and
//! numeric or boolean text are accepted; language and kind names go by any
//! case and common aliases, unknown ones list the valid values; a directory
//! as a path filter means its subtree; an empty page says when the filters
//! matched nothing. The advertised schemas are checked against what the
//! server accepts, and real answers against each tool's `outputSchema`.
//!
//! The real binary over stdio with raw JSON-RPC (rmcp's client cannot send
//! a malformed `arguments`), on a small project indexed with the real model.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Lines, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-vector-search");

/// A small polyglot project: `src/api` (Python), `src/core` (Rust, with
/// its module root `mod.rs`), `web` (TypeScript), a shell script and a
/// test.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in [
        (
            "src/api/handlers.py",
            "def handle_request(request):\n    \"\"\"Route an HTTP request to its handler.\"\"\"\n    return route(request.path)\n\n\nclass Router:\n    def route(self, path):\n        return self.table.get(path)\n",
        ),
        (
            "src/core/engine.rs",
            "/// Sums the order lines.\npub fn compute_total(lines: &[u64]) -> u64 {\n    lines.iter().sum()\n}\n\npub struct Engine {\n    pub speed: u32,\n}\n\npub enum Mode {\n    Fast,\n    Slow,\n}\n",
        ),
        (
            "web/app.ts",
            "export function renderPage(title: string): string {\n  return `<h1>${title}</h1>`;\n}\n",
        ),
        (
            "src/core/mod.rs",
            "pub mod engine;\n\n/// Settings of the order engine.\npub struct Settings {\n    pub limit: u32,\n}\n",
        ),
        ("scripts/deploy.sh", "deploy_release() {\n  echo \"deploying $1\"\n}\n"),
        (
            "tests/test_api.py",
            "def test_handle_request():\n    assert handle_request(None) is None\n",
        ),
    ] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

/// `project()`, indexed by the CLI.
fn indexed_project() -> tempfile::TempDir {
    let dir = project();
    let output = cli(&["index"], dir.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    dir
}

fn cli(args: &[&str], root: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(root)
        .env_remove("MCP_PROJECT_ROOT")
        .output()
        .expect("the binary runs")
}

/// `mcp` on a project, spoken to in raw JSON-RPC lines.
struct Server {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl Server {
    fn start(root: &Path) -> Self {
        let mut child = Command::new(BIN)
            .arg("mcp")
            .env("MCP_PROJECT_ROOT", root)
            .env("MCP_ENABLE_FILE_WATCHING", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut server = Server {
            child,
            stdin,
            lines,
            next_id: 1,
        };
        let init = server.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "arguments-test", "version": "0"}}),
        );
        assert!(init["result"]["serverInfo"].is_object(), "{init}");
        server.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        server
    }

    fn send(&mut self, message: Value) {
        writeln!(self.stdin, "{message}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The response to one request (notifications on the way are skipped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self.lines.next().expect("an answer").unwrap();
            let message: Value = serde_json::from_str(&line).expect("only JSON-RPC on stdout");
            if message["id"] == id {
                return message;
            }
        }
    }

    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// Each tool's (input schema, output schema), from `tools/list`.
    fn schemas(&mut self) -> HashMap<String, (Value, Value)> {
        let listed = self.request("tools/list", json!({}));
        listed["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tool| {
                (
                    tool["name"].as_str().unwrap().to_string(),
                    (tool["inputSchema"].clone(), tool["outputSchema"].clone()),
                )
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts `answer` is -32602 about `field`, its message naming the field
/// and saying each of `says`.
fn assert_invalid(answer: &Value, field: &str, says: &[&str]) {
    let error = &answer["error"];
    assert_eq!(error["code"], -32602, "{answer}");
    assert_eq!(error["data"]["field"], field, "{answer}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(field), "{message}");
    for needle in says {
        assert!(message.contains(needle), "{message:?} does not say {needle:?}");
    }
    assert!(!message.contains("untagged"), "{message}");
}

/// The structured content of an answer that is no error.
fn answered(answer: &Value) -> &Value {
    assert!(answer["error"].is_null(), "{answer}");
    assert_ne!(answer["result"]["isError"], true, "{answer}");
    &answer["result"]["structuredContent"]
}

/// Asserts `value` conforms to `schema`.
fn assert_conforms(schema: &Value, value: &Value, what: &str) {
    let validator = jsonschema::validator_for(schema).unwrap_or_else(|err| panic!("{what}: bad schema: {err}"));
    let errors: Vec<String> = validator.iter_errors(value).map(|err| err.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {errors:?}\n{value}");
}

fn paths(found: &Value) -> Vec<String> {
    found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["file_path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn mcp_arguments_bad_values_are_invalid_params_naming_field_and_value() {
    let dir = indexed_project();
    let mut server = Server::start(dir.path());
    let search = |limit: Value| json!({"query": "handle request", "search_mode": "keyword", "limit": limit});

    // The examples: each names the field, the range and the value.
    for (limit, received) in [
        (json!(2.7), "2.7"),
        (json!(-3), "-3"),
        (json!(1e12), "1000000000000"),
        (json!(true), "true"),
        (json!(0), "0"),
        (json!(51), "51"),
        (json!("lots"), "\"lots\""),
        (json!([5]), "[5]"),
    ] {
        let answer = server.call("search_code", search(limit));
        assert_invalid(&answer, "limit", &["a whole number from 1 to 50", received]);
    }
    let answer = server.call("search_code", json!({"query": "x", "language": 5}));
    assert_invalid(&answer, "language", &["a list of strings", "received 5"]);

    // Integral floats and numeric text are whole numbers; booleans as text.
    for limit in [json!(5.0), json!("5"), json!(" 5 "), json!(2)] {
        let found = answered(&server.call("search_code", search(limit.clone()))).clone();
        let count = found["results"].as_array().unwrap().len();
        assert!((1..=5).contains(&count), "{limit}: {found}");
    }
    for flag in ["true", "FALSE", " false "] {
        answered(&server.call(
            "search_code",
            json!({"query": "handle request", "search_mode": "keyword", "tests_only": flag}),
        ));
    }

    // Every other kind of bad value takes the same path.
    for (tool, arguments, field, says) in [
        ("search_code", json!({"limit": 3}), "query", vec!["required"]),
        (
            "search_code",
            json!({"query": 5}),
            "query",
            vec!["a string", "received 5"],
        ),
        (
            "search_code",
            json!({"query": "   "}),
            "query",
            vec!["a text to search for"],
        ),
        (
            "search_code",
            json!({"query": "x", "tests_only": "yes"}),
            "tests_only",
            vec!["true or false", "\"yes\""],
        ),
        (
            "search_code",
            json!({"query": "x", "max_tokens": 50}),
            "max_tokens",
            vec!["from 100 to 20000", "50"],
        ),
        (
            "search_code",
            json!({"query": "x", "max_tokens": 4000.5}),
            "max_tokens",
            vec!["4000.5"],
        ),
        (
            "search_code",
            json!({"query": "x", "detail": "verbose"}),
            "detail",
            vec!["verbose"],
        ),
        (
            "search_code",
            json!({"query": "x", "detail": 3}),
            "detail",
            vec!["a string"],
        ),
        (
            "search_code",
            json!({"query": "x", "search_mode": "fuzzy"}),
            "search_mode",
            vec!["hybrid", "fuzzy"],
        ),
        (
            "search_code",
            json!({"query": "x", "similarity_threshold": 2}),
            "similarity_threshold",
            vec!["0 to 1"],
        ),
        (
            "search_code",
            json!({"query": "x", "similarity_threshold": "high"}),
            "similarity_threshold",
            vec!["a number"],
        ),
        (
            "search_code",
            json!({"query": "x", "files": {"a": 1}}),
            "files",
            vec!["a list of strings"],
        ),
        (
            "search_code",
            json!({"query": "x", "limt": 5}),
            "limt",
            vec!["no such argument", "limit, "],
        ),
        (
            "search_context",
            json!({"description": ""}),
            "description",
            vec!["received \"\""],
        ),
        (
            "search_context",
            json!({"description": "x", "limit": 2.5}),
            "limit",
            vec!["2.5"],
        ),
        (
            "search_context",
            json!({"description": "x", "focus_areas": 7}),
            "focus_areas",
            vec!["received 7"],
        ),
        (
            "search_context",
            json!({"description": "x", "focus_areas": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]}),
            "focus_areas",
            vec!["at most 10", "received 11"],
        ),
        (
            "search_similar",
            json!({"chunk_id": "x", "limit": -1}),
            "limit",
            vec!["-1"],
        ),
        (
            "search_similar",
            json!({"chunk_id": "x", "language": ["klingon"]}),
            "language",
            vec!["python", "klingon"],
        ),
        ("index_project", json!({"force": "yes"}), "force", vec!["true or false"]),
        ("index_project", json!({"paths": 5}), "paths", vec!["received 5"]),
        (
            "index_project",
            json!({"paths": ["../elsewhere"]}),
            "paths",
            vec!["../elsewhere"],
        ),
        (
            "get_chunk",
            json!({"file_path": "web/app.ts", "start_line": 2.5}),
            "start_line",
            vec!["2.5"],
        ),
        (
            "get_project_status",
            json!({"verbose": true}),
            "verbose",
            vec!["takes no arguments"],
        ),
    ] {
        let answer = server.call(tool, arguments);
        assert_invalid(&answer, field, &says);
    }

    // A malformed `arguments` (or `name`) is invalid params, not "method
    // not found"; an unknown method still is.
    for (params, field) in [
        (json!({"name": "search_code", "arguments": "limit=5"}), "arguments"),
        (json!({"name": "search_code", "arguments": ["query", "x"]}), "arguments"),
        (json!({"name": "search_code", "arguments": 5}), "arguments"),
        (json!({"name": 5, "arguments": {}}), "name"),
        (json!({"arguments": {}}), "params"),
    ] {
        let answer = server.request("tools/call", params.clone());
        assert_invalid(&answer, field, &["tools/call"]);
    }
    let unknown = server.request("no/such/method", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    // Still serving after all of it.
    answered(&server.call("get_project_status", json!({})));
}

#[test]
fn mcp_arguments_filters_take_aliases_and_explain_empty_pages() {
    let dir = indexed_project();
    let root = dir.path().canonicalize().unwrap();
    let mut server = Server::start(&root);
    let keyword = |extra: Value| {
        let mut arguments = json!({"query": "handle_request Router compute_total renderPage deploy_release",
                                   "search_mode": "keyword", "limit": 50});
        arguments
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        arguments
    };

    // Language names in any case, extensions and aliases.
    for language in ["python", "Python", "py", "PY", ".py"] {
        let found = answered(&server.call("search_code", keyword(json!({"language": [language]})))).clone();
        let files = paths(&found);
        assert!(!files.is_empty(), "{language}: nothing found");
        assert!(files.iter().all(|f| f.ends_with(".py")), "{language}: {files:?}");
    }
    for (alias, extension) in [
        ("ts", ".ts"),
        ("TypeScript", ".ts"),
        ("rs", ".rs"),
        ("shell", ".sh"),
        ("sh", ".sh"),
    ] {
        let found = answered(&server.call("search_code", keyword(json!({"language": alias})))).clone();
        let files = paths(&found);
        assert!(
            !files.is_empty() && files.iter().all(|f| f.ends_with(extension)),
            "{alias}: {files:?}"
        );
    }
    let answer = server.call("search_code", keyword(json!({"language": ["klingon"]})));
    assert_invalid(
        &answer,
        "language",
        &["klingon", "python", "rust", "typescript", "bash", "yaml"],
    );

    // Kind names in any case, plurals; an unknown kind lists the kinds.
    let found = answered(&server.call("search_code", keyword(json!({"kind": ["FUNCTIONS"]})))).clone();
    assert!(
        found["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|hit| hit["kind"] == "function"),
        "{found}"
    );
    let answer = server.call("search_code", keyword(json!({"kind": "widget"})));
    assert_invalid(&answer, "kind", &["widget", "function", "method", "class", "struct"]);

    // A directory is its subtree: bare, with a trailing slash, absolute.
    let api = root.join("src/api");
    for files in [
        json!(["src/api"]),
        json!(["src/api/"]),
        json!("src/api/"),
        json!([api.display().to_string()]),
        json!([format!("{}/", api.display())]),
    ] {
        let found = answered(&server.call("search_code", keyword(json!({"files": files})))).clone();
        let found = paths(&found);
        assert!(!found.is_empty(), "{files}: nothing found");
        assert!(found.iter().all(|f| f.starts_with("src/api/")), "{files}: {found:?}");
    }
    let found = answered(&server.call("search_code", keyword(json!({"files": ["src"]})))).clone();
    let found = paths(&found);
    assert!(found.iter().any(|f| f.starts_with("src/api/")) && found.iter().any(|f| f.starts_with("src/core/")));
    assert!(found.iter().all(|f| f.starts_with("src/")), "{found:?}");
    let found = answered(&server.call("search_code", keyword(json!({"exclude": ["src/"]})))).clone();
    assert!(paths(&found).iter().all(|f| !f.starts_with("src/")), "{found}");
    let outside = server.call("search_code", keyword(json!({"files": ["/etc"]})));
    assert_invalid(&outside, "files", &["/etc", "inside the project root"]);

    // An empty page says which filter matched nothing.
    let empty = answered(&server.call("search_code", keyword(json!({"files": ["nowhere/"]})))).clone();
    assert_eq!(empty["results"], json!([]), "{empty}");
    assert_eq!(empty["note"], "no indexed file matches files=[nowhere/]", "{empty}");
    let empty = server.call("search_code", keyword(json!({"language": "go"})));
    let text = empty["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("no indexed file matches language=[go]"), "{text}");
    let empty = answered(&server.call("search_code", keyword(json!({"language": "python", "kind": "enum"})))).clone();
    assert_eq!(
        empty["note"], "no indexed chunk matches language=[python], kind=[enum]",
        "{empty}"
    );
    // No note when the filters are not why.
    let plain = answered(&server.call("search_code", json!({"query": "zzqqxx", "search_mode": "keyword"}))).clone();
    assert!(plain.get("note").is_none(), "{plain}");
}

#[test]
fn mcp_arguments_schemas_declare_what_the_server_accepts() {
    let dir = indexed_project();
    let mut server = Server::start(dir.path());
    let schemas = server.schemas();
    let (input, _) = &schemas["search_code"];
    let property = |name: &str| input["properties"][name].clone();
    for (name, min, max, default) in [("limit", 1, 50, 10), ("max_tokens", 100, 20_000, 4_000)] {
        let schema = property(name);
        assert_eq!(
            (&schema["minimum"], &schema["maximum"], &schema["default"]),
            (&json!(min), &json!(max), &json!(default)),
            "{name}: {schema}"
        );
    }
    assert_eq!(property("search_mode")["enum"], json!(["hybrid", "vector", "keyword"]));
    assert_eq!(property("detail")["enum"], json!(["signatures", "snippets", "full"]));
    let languages = property("language")["items"]["enum"].clone();
    for name in ["python", "rust", "typescript", "tsx", "yaml"] {
        assert!(languages.as_array().unwrap().contains(&json!(name)), "{languages}");
    }
    let kinds = property("kind")["items"]["enum"].clone();
    assert!(kinds.as_array().unwrap().contains(&json!("function")), "{kinds}");
    assert_eq!(input["required"], json!(["query"]));

    // Every tool: values the schema allows are accepted, values it refuses
    // are refused with -32602 naming the field; each has an object output
    // schema.
    let base: HashMap<&str, Value> = [
        (
            "search_code",
            json!({"query": "handle request", "search_mode": "keyword"}),
        ),
        ("search_context", json!({"description": "handle request"})),
        ("search_similar", json!({"file_path": "src/api/handlers.py"})),
        ("get_chunk", json!({"file_path": "web/app.ts"})),
        ("index_project", json!({"dry_run": true})),
        ("get_project_status", json!({})),
    ]
    .into_iter()
    .collect();
    assert_eq!(schemas.len(), base.len());
    for (tool, (input, output)) in &schemas {
        assert_eq!(output["type"], "object", "{tool}: {output}");
        let base = &base[tool.as_str()];
        assert_conforms(input, base, tool);
        let properties = input["properties"].as_object().cloned().unwrap_or_default();
        for (name, property) in &properties {
            let mut samples = Vec::new();
            let mut refused = Vec::new();
            if let (Some(min), Some(max)) = (property["minimum"].as_f64(), property["maximum"].as_f64()) {
                samples.extend([json!(min), json!(max)]);
                refused.push(json!(max + 1.0));
                if min >= 1.0 {
                    refused.push(json!(min - 1.0));
                }
            }
            if let Some(values) = property["enum"].as_array() {
                samples.extend(values.iter().cloned());
                refused.push(json!("not-a-value"));
            }
            if let Some(values) = property["items"]["enum"].as_array() {
                samples.extend(values.iter().map(|value| json!([value])));
                refused.push(json!(["not-a-value"]));
            }
            if !property["default"].is_null() {
                samples.push(property["default"].clone());
            }
            for sample in samples {
                let mut arguments = base.clone();
                arguments[name] = sample.clone();
                assert_conforms(input, &arguments, &format!("{tool}.{name}={sample}"));
                let answer = server.call(tool, arguments);
                assert_ne!(answer["error"]["code"], -32602, "{tool}.{name}={sample}: {answer}");
            }
            for value in refused {
                let mut arguments = base.clone();
                arguments[name] = value.clone();
                let validator = jsonschema::validator_for(input).unwrap();
                assert!(
                    !validator.is_valid(&arguments),
                    "{tool}.{name}={value} passes the schema"
                );
                let answer = server.call(tool, arguments);
                assert_invalid(&answer, name, &[]);
            }
        }
    }
}

#[test]
fn mcp_arguments_answers_conform_to_the_output_schemas() {
    let dir = indexed_project();
    let mut server = Server::start(dir.path());
    let schemas = server.schemas();
    let check = |server: &mut Server, tool: &str, arguments: Value| -> Value {
        let answer = server.call(tool, arguments.clone());
        let structured = answered(&answer).clone();
        assert_conforms(&schemas[tool].1, &structured, &format!("{tool} {arguments}"));
        structured
    };
    let found = check(&mut server, "search_code", json!({"query": "compute the order total"}));
    let id = found["results"][0]["chunk_id"].as_str().unwrap().to_string();
    // Every factor a hit can carry is one the schema names: here the module
    // root's (`src/core/mod.rs`).
    let roots = check(&mut server, "search_code", json!({"query": "order engine settings"}));
    let signals: Vec<&Value> = roots["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|hit| hit["why"]["factors"].as_array().unwrap())
        .map(|factor| &factor["signal"])
        .collect();
    assert!(signals.contains(&&json!("module_root")), "{roots}");
    for detail in ["signatures", "snippets", "full"] {
        check(
            &mut server,
            "search_code",
            json!({"query": "route a request", "detail": detail}),
        );
    }
    check(
        &mut server,
        "search_code",
        json!({"query": "handler", "max_tokens": 100}),
    );
    let empty = check(
        &mut server,
        "search_code",
        json!({"query": "x", "search_mode": "keyword", "files": "nowhere"}),
    );
    assert_eq!(empty["results"], json!([]));
    check(
        &mut server,
        "search_context",
        json!({"description": "routing", "focus_areas": ["tests"]}),
    );
    check(&mut server, "search_similar", json!({"chunk_id": id}));
    check(
        &mut server,
        "search_similar",
        json!({"file_path": "src/api/handlers.py", "language": "rs"}),
    );
    check(&mut server, "get_chunk", json!({"chunk_id": id}));
    check(
        &mut server,
        "get_chunk",
        json!({"file_path": "web/app.ts", "start_line": 1, "end_line": 2}),
    );
    check(&mut server, "get_project_status", json!({}));
    check(&mut server, "index_project", json!({"dry_run": true}));
    check(&mut server, "index_project", json!({"cancel": true}));
    let done = check(&mut server, "index_project", json!({"wait": true}));
    assert_eq!(done["state"], "done", "{done}");
    check(&mut server, "index_project", json!({}));
    check(&mut server, "get_project_status", json!({}));

    // A project with no index: the status still conforms.
    let bare = project();
    let mut server = Server::start(bare.path());
    let status = check(&mut server, "get_project_status", json!({}));
    assert_eq!(status["state"], "not_indexed");
}

#[test]
fn cli_search_arguments_follow_the_same_rules() {
    let dir = indexed_project();
    let root = dir.path().canonicalize().unwrap();
    let search = |args: &[&str]| cli(&[&["search"], args].concat(), &root);
    let usage = |args: &[&str], says: &[&str]| {
        let output = search(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        for needle in says {
            assert!(stderr.contains(needle), "{args:?}: {stderr:?} does not say {needle:?}");
        }
    };
    usage(&[""], &["query", "a text to search for"]);
    usage(&["   "], &["query"]);
    for (limit, received) in [
        ("2.7", "2.7"),
        ("-3", "-3"),
        ("1e12", "1000000000000"),
        ("0", "0"),
        ("lots", "lots"),
    ] {
        usage(
            &["x", "--limit", limit],
            &["limit: expected a whole number from 1 to 50", received],
        );
    }
    usage(&["x", "--language", "klingon"], &["language", "klingon", "python"]);
    usage(&["x", "--kind", "widget"], &["kind", "widget", "function"]);
    usage(&["x", "--files", "/etc"], &["files", "/etc"]);
    usage(&["x", "--mode", "fuzzy"], &["mode", "fuzzy"]);

    let json = |args: &[&str]| -> Value {
        let output = search(&[args, &["--json", "--mode", "keyword"]].concat());
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let query = "handle_request Router compute_total renderPage";
    assert!(paths(&json(&[query, "--limit", "5.0"])).len() <= 5);
    let python = paths(&json(&[query, "--language", "Python"]));
    assert!(
        !python.is_empty() && python.iter().all(|f| f.ends_with(".py")),
        "{python:?}"
    );
    let api = root.join("src/api").display().to_string();
    for files in ["src/api", "src/api/", api.as_str()] {
        let found = paths(&json(&[query, "--files", files]));
        assert!(
            !found.is_empty() && found.iter().all(|f| f.starts_with("src/api/")),
            "{files}: {found:?}"
        );
    }
    let empty = json(&[query, "--files", "nowhere"]);
    assert_eq!(empty["note"], "no indexed file matches files=[nowhere]", "{empty}");
    let text = search(&[query, "--mode", "keyword", "--language", "go"]);
    assert!(text.status.success());
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("note: no indexed file matches language=[go]"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
}
