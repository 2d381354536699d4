//! Embed the library: index a directory and search it, in one program.
//!
//! ```text
//! cargo run --release --example index_and_search -- /path/to/repo "retry with backoff"
//! ```
//!
//! The index is kept in `<repo>/.mcp-vector-search/`, so a second run only
//! re-indexes what changed. Configuration (model, cache, workers) comes from
//! the same `MCP_VECTOR_SEARCH_*` variables as the binary's.

use std::path::PathBuf;
use std::sync::Arc;

use mcp_vector_search::Settings;
use mvs_index::{Progress, Project, Query, SearchArgs};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let text = args.next().unwrap_or_else(|| "read a file from disk".into());
    let settings = Settings::from_env();

    let project = Project::new(&root)?;
    let embedder = mcp_vector_search::load_embedder(&settings).await?;
    // Nobody watches the progress here; the CLI draws a bar from it.
    let (progress, _) = tokio::sync::watch::channel(Progress::default());
    let report =
        mvs_index::index_project(&project, Arc::clone(&embedder), &settings.index_options(), &progress).await?;
    println!(
        "indexed {}: {} files parsed, {} unchanged, {} chunks written in {:.1} s",
        project.root().display(),
        report.files_parsed,
        report.files_unchanged,
        report.chunks_written,
        report.elapsed_ms as f64 / 1e3
    );

    // The same validation as the CLI's `search` and the `search_code` tool.
    let query = Query::from_args(
        SearchArgs {
            query: text,
            limit: Some(5),
            ..SearchArgs::default()
        },
        project.root(),
    )?;
    let store = mvs_index::open_index(&project).await?;
    for hit in mvs_index::search(&project, &store, Some(embedder), &query).await? {
        let chunk = &hit.chunk;
        println!(
            "{:.2}  {}:{}-{}  {} {}",
            hit.score, chunk.file_path, chunk.start_line, chunk.end_line, chunk.kind, chunk.qualified_name
        );
    }
    Ok(())
}
