//! Drive the MCP server from a Rust client: start `mcp-vector-search mcp` as
//! a child process over stdio (rmcp), list its tools, index the project and
//! wait for the job, then search.
//!
//! ```text
//! cargo build --release --bin mcp-vector-search
//! cargo run --release --example mcp_client -- /path/to/repo "parse the config file"
//! ```
//!
//! The server binary is taken from `MCP_VECTOR_SEARCH_BIN`, else from next to
//! this example's own executable (`target/<profile>/`), else from `PATH`.

use std::path::PathBuf;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let query = args.next().unwrap_or_else(|| "read a file from disk".into());

    let transport = TokioChildProcess::new(tokio::process::Command::new(server_binary()).configure(|cmd| {
        cmd.arg("mcp").arg("--project-root").arg(&root);
    }))?;
    let client = ().serve(transport).await?;
    let tools = client.list_all_tools().await?;
    println!(
        "tools: {}",
        tools.iter().map(|t| t.name.as_ref()).collect::<Vec<_>>().join(", ")
    );

    // Only new and changed files are indexed; `wait` answers when the job ends.
    let indexed = call(&client, "index_project", json!({ "wait": true })).await?;
    println!("index: {}", indexed["state"]);

    let found = call(
        &client,
        "search_code",
        json!({ "query": query, "limit": 5, "detail": "signatures" }),
    )
    .await?;
    for hit in found["results"].as_array().into_iter().flatten() {
        println!(
            "{}:{}-{}  {} (score {:.2})",
            hit["file_path"].as_str().unwrap_or_default(),
            hit["start_line"],
            hit["end_line"],
            hit["qualified_name"].as_str().unwrap_or_default(),
            hit["score"].as_f64().unwrap_or_default()
        );
    }
    client.cancel().await?;
    Ok(())
}

/// Calls a tool and returns its structured answer; a tool error is an error.
async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &str,
    args: Value,
) -> anyhow::Result<Value> {
    let params =
        CallToolRequestParams::new(tool.to_string()).with_arguments(args.as_object().cloned().unwrap_or_default());
    let result = client.call_tool(params).await?;
    let text = || {
        result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect::<String>()
    };
    anyhow::ensure!(result.is_error != Some(true), "{tool} failed: {}", text());
    Ok(result.structured_content.clone().unwrap_or(Value::Null))
}

/// The server to start (see the module docs).
fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MCP_VECTOR_SEARCH_BIN") {
        return path.into();
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("mcp-vector-search")));
    beside
        .filter(|path| path.is_file())
        .unwrap_or_else(|| "mcp-vector-search".into())
}
