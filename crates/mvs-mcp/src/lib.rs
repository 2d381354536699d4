//! The MCP tool layer: `search_code`, `search_similar`, `get_chunk`, `index_project` and
//! `get_project_status` over stdio (rmcp).
//!
//! The handshake never waits for the model or the index: the embedder loads
//! in the background after start-up (or on first need), and indexing runs as
//! a background job whose progress `get_project_status` reports.

mod budget;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use budget::Detail;
use mvs_embed::Embedder;
use mvs_index::{IndexOptions, IndexReport, Progress, Project, Query, SearchResponse, SimilarTo};
use mvs_store::{SearchFilter, SearchMode, TestFilter};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::sync::{OnceCell, watch};

/// Loads the embedding model; the server calls it at most once.
pub type EmbedderLoader = Arc<dyn Fn() -> Result<Embedder, String> + Send + Sync>;

/// How many results `search_code` returns at most.
const MAX_LIMIT: usize = 50;

const INSTRUCTIONS: &str = "Local semantic + keyword code search over this repository.\n\
- search_code: find code by what it does (natural language) or by identifier; returns ranked chunks with file_path and line ranges. Narrow with language/files/kind filters; detail=signatures for a cheap overview.\n\
- search_similar: code like a file, a function of it or a hit (chunk_id), from stored vectors.\n\
- get_chunk: read a hit in full (chunk_id) or any lines of a file, with context.\n\
- index_project: (re)index in the background; returns at once. Call it if get_project_status says not_indexed.\n\
- get_project_status: index state, counts, model, progress of a running job.";

/// A running or finished indexing job.
struct Job {
    id: String,
    progress: watch::Receiver<Progress>,
    outcome: Arc<Mutex<Option<Result<IndexReport, String>>>>,
}

impl Job {
    fn is_running(&self) -> bool {
        self.outcome.lock().is_ok_and(|o| o.is_none())
    }

    fn describe(&self) -> serde_json::Value {
        let outcome = self.outcome.lock().ok().and_then(|o| o.clone());
        let (state, report, error) = match outcome {
            None => ("running", None, None),
            Some(Ok(report)) => ("done", Some(report), None),
            Some(Err(error)) => ("failed", None, Some(error)),
        };
        serde_json::json!({
            "job_id": self.id,
            "state": state,
            "progress": self.progress.borrow().clone(),
            "report": report,
            "error": error,
        })
    }
}

struct Shared {
    project: Project,
    loader: EmbedderLoader,
    embedder: OnceCell<Arc<Embedder>>,
    job: Mutex<Option<Job>>,
    next_job: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// The embedder, loading it on first need (off the async threads).
    async fn embedder(&self) -> Result<Arc<Embedder>, String> {
        self.embedder
            .get_or_try_init(|| async {
                let loader = Arc::clone(&self.loader);
                tokio::task::spawn_blocking(move || loader())
                    .await
                    .map_err(|err| err.to_string())?
                    .map(Arc::new)
            })
            .await
            .cloned()
    }
}

/// The MCP server for one project.
#[derive(Clone)]
pub struct SearchServer {
    shared: Arc<Shared>,
    tool_router: ToolRouter<Self>,
}

/// Arguments of `search_code`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchCodeArgs {
    /// What to find: a description of behaviour or an identifier.
    pub query: String,
    /// Maximum results (default 10, at most 50).
    #[serde(default, deserialize_with = "lenient::number")]
    pub limit: Option<usize>,
    /// `hybrid` (default), `vector` or `keyword` (`bm25` is accepted too).
    pub search_mode: Option<String>,
    /// Only these languages (`rust`, `python`, ...).
    #[serde(default, deserialize_with = "lenient::list")]
    pub language: Option<Vec<String>>,
    /// Only files with these extensions (`.rs`, `py`).
    #[serde(default, deserialize_with = "lenient::list")]
    pub file_extensions: Option<Vec<String>>,
    /// Only paths matching these globs (`src/**/*.rs`, `*.py`).
    #[serde(default, deserialize_with = "lenient::list")]
    pub files: Option<Vec<String>>,
    /// Leave out paths matching these globs.
    #[serde(default, deserialize_with = "lenient::list")]
    pub exclude: Option<Vec<String>>,
    /// Only these chunk kinds (`function`, `method`, `class`, `struct`, ...).
    #[serde(default, deserialize_with = "lenient::list")]
    pub kind: Option<Vec<String>>,
    /// Only the definition with this name (or qualified name).
    pub function_name: Option<String>,
    /// Only this class/type and what it contains.
    pub class_name: Option<String>,
    /// Only test files.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub tests_only: Option<bool>,
    /// Leave out test files.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub exclude_tests: Option<bool>,
    /// Per result: `signatures` (no code), `snippets` (default, first 20
    /// lines) or `full`.
    pub detail: Option<String>,
    /// Budget of the whole answer in tokens (default 4000, at most 20000);
    /// results beyond it are left out and counted.
    #[serde(default, deserialize_with = "lenient::number")]
    pub max_tokens: Option<usize>,
}

impl SearchCodeArgs {
    /// The filter these arguments describe.
    pub fn filter(&self) -> SearchFilter {
        let list = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
        SearchFilter {
            languages: list(&self.language),
            kinds: list(&self.kind),
            include_globs: list(&self.files),
            exclude_globs: list(&self.exclude),
            extensions: list(&self.file_extensions),
            name: self.function_name.clone(),
            container: self.class_name.clone(),
            tests: TestFilter::from_flags(self.tests_only == Some(true), self.exclude_tests == Some(true)),
        }
    }
}

/// Arguments of `index_project`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct IndexProjectArgs {
    /// Re-index every file, ignoring change detection.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub force: Option<bool>,
}

/// Some clients (the MCP inspector's `--tool-arg k=v`, several agents) send
/// numbers, booleans and lists as strings; accept both spellings (a list as
/// text is comma-separated).
mod lenient {
    use serde::{Deserialize, Deserializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose<T> {
        Typed(T),
        Text(String),
    }

    fn parse<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + std::str::FromStr,
    {
        match Option::<Loose<T>>::deserialize(deserializer)? {
            None => Ok(None),
            Some(Loose::Typed(value)) => Ok(Some(value)),
            Some(Loose::Text(text)) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| D::Error::custom(format!("`{text}` is not a valid value here"))),
        }
    }

    pub fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
        parse(deserializer)
    }

    pub fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
        parse(deserializer)
    }

    pub fn list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
        Ok(match Option::<Loose<Vec<String>>>::deserialize(deserializer)? {
            None => None,
            Some(Loose::Typed(items)) => Some(items),
            Some(Loose::Text(text)) => Some(
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
        })
    }
}

/// Arguments of `search_similar`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SearchSimilarArgs {
    /// The file whose code to match (relative to the project root).
    pub file_path: Option<String>,
    /// Only this definition of the file (name or qualified name).
    pub function_name: Option<String>,
    /// A chunk id from a search result (instead of `file_path`).
    pub chunk_id: Option<String>,
    /// Maximum results (default 10, at most 50).
    #[serde(default, deserialize_with = "lenient::number")]
    pub limit: Option<usize>,
    /// Only these languages.
    #[serde(default, deserialize_with = "lenient::list")]
    pub language: Option<Vec<String>>,
    /// `signatures`, `snippets` (default) or `full`.
    pub detail: Option<String>,
    /// Budget of the answer in tokens (default 4000, at most 20000).
    #[serde(default, deserialize_with = "lenient::number")]
    pub max_tokens: Option<usize>,
}

/// Arguments of `get_chunk`: a `chunk_id`, or a `file_path` and lines.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct GetChunkArgs {
    /// A chunk id from a search result.
    pub chunk_id: Option<String>,
    /// A file, relative to the project root (instead of `chunk_id`).
    pub file_path: Option<String>,
    /// First line (1-based) with `file_path`; default 1.
    #[serde(default, deserialize_with = "lenient::number")]
    pub start_line: Option<usize>,
    /// Last line (inclusive) with `file_path`; default `start_line` + 99.
    #[serde(default, deserialize_with = "lenient::number")]
    pub end_line: Option<usize>,
    /// Lines of surrounding code to add before and after (default 0, at most 200).
    #[serde(default, deserialize_with = "lenient::number")]
    pub context_lines: Option<usize>,
}

/// Most lines `get_chunk` returns for one file range.
const MAX_CHUNK_LINES: usize = 400;

/// `limit` (default 10) within 1..=[`MAX_LIMIT`], or an invalid-params error.
fn checked_limit(limit: Option<usize>) -> Result<usize, ErrorData> {
    let limit = limit.unwrap_or(10);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ErrorData::invalid_params(
            format!("limit must be between 1 and {MAX_LIMIT}"),
            None,
        ));
    }
    Ok(limit)
}

/// `detail` and `max_tokens` of a search tool, validated.
fn output_controls(detail: Option<&str>, max_tokens: Option<usize>) -> Result<(Detail, usize), ErrorData> {
    let detail = Detail::parse(detail).map_err(|m| ErrorData::invalid_params(m, None))?;
    let max_tokens = max_tokens.unwrap_or(budget::DEFAULT_MAX_TOKENS);
    if !(100..=budget::MAX_TOKENS_CAP).contains(&max_tokens) {
        return Err(ErrorData::invalid_params(
            format!("max_tokens must be between 100 and {}", budget::MAX_TOKENS_CAP),
            None,
        ));
    }
    Ok((detail, max_tokens))
}

/// Arguments of `get_project_status` (none).
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct StatusArgs {}

fn tool_error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

fn structured(value: serde_json::Value, text: String) -> CallToolResult {
    let mut result = CallToolResult::structured(value);
    result.content = vec![ContentBlock::text(text)];
    result
}

/// Parses a search mode name as the tool and CLI accept it.
pub fn parse_mode(raw: Option<&str>) -> Result<SearchMode, String> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("hybrid") => Ok(SearchMode::Hybrid),
        Some("vector") | Some("semantic") => Ok(SearchMode::Vector),
        Some("keyword") | Some("bm25") => Ok(SearchMode::Keyword),
        Some(other) => Err(format!(
            "search_mode `{other}` is not one of hybrid, vector, keyword (bm25)"
        )),
    }
}

/// A compact text rendering of results: location, kind, name, score and the
/// first lines of each chunk.
pub fn render_results(response: &SearchResponse) -> String {
    budget::shape(response, Detail::Snippets, usize::MAX).1
}

#[tool_router(router = tool_router)]
impl SearchServer {
    /// A server for `project`; `loader` loads the embedding model when first
    /// needed.
    pub fn new(project: Project, loader: EmbedderLoader) -> Self {
        Self {
            shared: Arc::new(Shared {
                project,
                loader,
                embedder: OnceCell::new(),
                job: Mutex::new(None),
                next_job: std::sync::atomic::AtomicU64::new(1),
            }),
            tool_router: Self::tool_router(),
        }
    }

    /// Starts loading the model in the background so the first search does
    /// not wait for it.
    pub fn warm_up(&self) {
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            if let Err(err) = shared.embedder().await {
                tracing::warn!("embedding model unavailable: {err}");
            }
        });
    }

    #[tool(
        description = "Search the codebase by meaning and keywords (hybrid). Returns ranked code chunks \
                       (functions, classes, methods) with file_path, start_line, end_line, kind, name, score and \
                       content, within max_tokens. Filters (language, files, kind, ...) apply before ranking.",
        annotations(read_only_hint = true)
    )]
    async fn search_code(&self, Parameters(args): Parameters<SearchCodeArgs>) -> Result<CallToolResult, ErrorData> {
        if args.query.trim().is_empty() {
            return Err(ErrorData::invalid_params("query must not be empty", None));
        }
        let limit = checked_limit(args.limit)?;
        let mode = parse_mode(args.search_mode.as_deref()).map_err(|m| ErrorData::invalid_params(m, None))?;
        let (detail, max_tokens) = output_controls(args.detail.as_deref(), args.max_tokens)?;
        let store = match mvs_index::open_index(&self.shared.project).await {
            Ok(store) => store,
            Err(err) => return Ok(tool_error(format!("{err}; or call index_project"))),
        };
        let embedder = if mode == SearchMode::Keyword {
            None
        } else {
            match self.shared.embedder().await {
                Ok(embedder) => Some(embedder),
                Err(err) => return Ok(tool_error(format!("embedding model unavailable: {err}"))),
            }
        };
        let query = Query {
            text: args.query.clone(),
            mode,
            limit,
            filter: args.filter(),
        };
        match mvs_index::search(&self.shared.project, &store, embedder, &query).await {
            Ok(results) => {
                let response = SearchResponse {
                    query: args.query,
                    results,
                };
                let (value, text) = budget::shape(&response, detail, max_tokens);
                Ok(structured(value, text))
            }
            Err(err) => Ok(tool_error(err.to_string())),
        }
    }

    #[tool(
        description = "Index (or re-index) the project in the background; returns a job id at once. \
                       Only changed files are processed unless force is true. Poll get_project_status for progress."
    )]
    async fn index_project(&self, Parameters(args): Parameters<IndexProjectArgs>) -> Result<CallToolResult, ErrorData> {
        let mut slot = self
            .shared
            .job
            .lock()
            .map_err(|_| ErrorData::internal_error("job state poisoned", None))?;
        if let Some(job) = slot.as_ref().filter(|job| job.is_running()) {
            let described = job.describe();
            return Ok(structured(
                described,
                format!("Indexing job {} is already running.", job.id),
            ));
        }
        let id = format!(
            "index-{}",
            self.shared.next_job.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let (progress_tx, progress_rx) = watch::channel(Progress::default());
        let outcome = Arc::new(Mutex::new(None));
        let job = Job {
            id: id.clone(),
            progress: progress_rx,
            outcome: Arc::clone(&outcome),
        };
        let described = job.describe();
        *slot = Some(job);
        drop(slot);

        let shared = Arc::clone(&self.shared);
        let mut options = IndexOptions::from_env();
        options.force = args.force.unwrap_or(false);
        tokio::spawn(async move {
            let result = match shared.embedder().await {
                Ok(embedder) => mvs_index::index_project(&shared.project, embedder, &options, &progress_tx)
                    .await
                    .map_err(|err| err.to_string()),
                Err(err) => Err(format!("embedding model unavailable: {err}")),
            };
            if let Err(err) = &result {
                tracing::warn!("indexing job failed: {err}");
            }
            if let Ok(mut slot) = outcome.lock() {
                *slot = Some(result);
            }
        });
        Ok(structured(
            described,
            format!("Started indexing job {id}; poll get_project_status for progress."),
        ))
    }

    #[tool(
        description = "Find code similar to a file, one of its functions (function_name) or a search hit \
                       (chunk_id), using the stored vectors; the source itself is left out.",
        annotations(read_only_hint = true)
    )]
    async fn search_similar(
        &self,
        Parameters(args): Parameters<SearchSimilarArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let limit = checked_limit(args.limit)?;
        let (detail, max_tokens) = output_controls(args.detail.as_deref(), args.max_tokens)?;
        let project = &self.shared.project;
        let source = match (&args.chunk_id, &args.file_path) {
            (Some(id), _) => SimilarTo::Chunk(id.clone()),
            (None, Some(path)) => {
                let real = match project.resolve(path) {
                    Ok(real) => real,
                    Err(err) => return Ok(tool_error(err.to_string())),
                };
                SimilarTo::File {
                    path: project.relative(&real).unwrap_or_else(|| path.clone()),
                    name: args.function_name.clone(),
                }
            }
            (None, None) => return Err(ErrorData::invalid_params("give file_path or chunk_id", None)),
        };
        let store = match mvs_index::open_index(project).await {
            Ok(store) => store,
            Err(err) => return Ok(tool_error(format!("{err}; or call index_project"))),
        };
        let filter = SearchFilter {
            languages: args.language.clone().unwrap_or_default(),
            ..SearchFilter::default()
        };
        match mvs_index::search_similar(project, &store, &source, limit, filter).await {
            Ok(results) => {
                let query = match &source {
                    SimilarTo::Chunk(id) => format!("similar to {id}"),
                    SimilarTo::File { path, name } => format!("similar to {path} {}", name.as_deref().unwrap_or("")),
                };
                let (value, text) = budget::shape(&SearchResponse { query, results }, detail, max_tokens);
                Ok(structured(value, text))
            }
            Err(err) => Ok(tool_error(err.to_string())),
        }
    }

    #[tool(
        description = "Read code by chunk_id (from search results; adds `stale` when the file changed since \
                       indexing) or by file_path with start_line/end_line, plus context_lines around it. \
                       Use it to expand a signature or snippet hit.",
        annotations(read_only_hint = true)
    )]
    async fn get_chunk(&self, Parameters(args): Parameters<GetChunkArgs>) -> Result<CallToolResult, ErrorData> {
        let context = args.context_lines.unwrap_or(0);
        if context > 200 {
            return Err(ErrorData::invalid_params("context_lines must be at most 200", None));
        }
        let project = &self.shared.project;
        let (file_path, start, end, chunk) = match (&args.chunk_id, &args.file_path) {
            (Some(id), _) => {
                let store = match mvs_index::open_index(project).await {
                    Ok(store) => store,
                    Err(err) => return Ok(tool_error(format!("{err}; or call index_project"))),
                };
                match store.chunk(id).await {
                    Ok(Some((chunk, _))) => (
                        chunk.file_path.clone(),
                        chunk.start_line as usize,
                        chunk.end_line as usize,
                        Some(chunk),
                    ),
                    Ok(None) => {
                        return Ok(tool_error(format!(
                            "no chunk {id}: ids change when a file is re-chunked; search again"
                        )));
                    }
                    Err(err) => return Ok(tool_error(err.to_string())),
                }
            }
            (None, Some(path)) => {
                let start = args.start_line.unwrap_or(1).max(1);
                let end = args.end_line.unwrap_or(start + 99);
                if end < start {
                    return Err(ErrorData::invalid_params(
                        "end_line must not be before start_line",
                        None,
                    ));
                }
                (path.clone(), start, end.min(start + MAX_CHUNK_LINES - 1), None)
            }
            (None, None) => {
                return Err(ErrorData::invalid_params(
                    "give chunk_id, or file_path with lines",
                    None,
                ));
            }
        };
        let real = match project.resolve(&file_path) {
            Ok(real) => real,
            Err(err) => return Ok(tool_error(err.to_string())),
        };
        let text = match std::fs::read(&real) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(err) => return Ok(tool_error(format!("cannot read {file_path}: {err}"))),
        };
        let lines: Vec<&str> = text.lines().collect();
        let first = start.saturating_sub(context).max(1);
        let last = (end + context).min(lines.len());
        let numbered: String = (first..=last).map(|n| format!("{n:>5}  {}\n", lines[n - 1])).collect();
        let rel = project.relative(&real).unwrap_or(file_path);
        let mut value = serde_json::json!({
            "file_path": rel,
            "start_line": first,
            "end_line": last,
            "content": lines.get(first.saturating_sub(1)..last).map(|l| l.join("\n")).unwrap_or_default(),
        });
        if let Some(chunk) = chunk {
            // The chunk as indexed, and whether the file still holds it there.
            let current = text.get(chunk.start_byte as usize..chunk.end_byte as usize);
            value["stale"] = (current != Some(chunk.content.as_str())).into();
            value["chunk"] = serde_json::to_value(&chunk).unwrap_or_default();
        }
        let header = format!("{}:{first}-{last}\n", value["file_path"].as_str().unwrap_or_default());
        Ok(structured(value, header + &numbered))
    }

    #[tool(
        description = "Index state (not_indexed, indexing, ready), file/chunk/vector counts per language, \
                       skipped files by reason, model, device, last run metrics and the current job's progress.",
        annotations(read_only_hint = true)
    )]
    async fn get_project_status(&self, Parameters(_args): Parameters<StatusArgs>) -> Result<CallToolResult, ErrorData> {
        let status = match mvs_index::project_status(&self.shared.project).await {
            Ok(status) => status,
            Err(err) => return Ok(tool_error(err.to_string())),
        };
        let mut value = serde_json::to_value(&status).unwrap_or_default();
        let job = self
            .shared
            .job
            .lock()
            .ok()
            .and_then(|slot| slot.as_ref().map(Job::describe));
        if job.as_ref().is_some_and(|job| job["state"] == "running") {
            value["state"] = "indexing".into();
        }
        value["job"] = job.unwrap_or(serde_json::Value::Null);
        let text = format!(
            "state: {}, files: {}, chunks: {}, vectors: {}, model: {}",
            value["state"].as_str().unwrap_or("?"),
            status.files,
            status.chunks,
            status.vectors,
            status.model.as_deref().unwrap_or("none"),
        );
        Ok(structured(value, text))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for SearchServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("mcp-vector-search", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// Serves the project over stdio until the client disconnects.
pub async fn serve_stdio(project_root: PathBuf, loader: EmbedderLoader) -> Result<(), String> {
    let project = Project::new(&project_root).map_err(|err| err.to_string())?;
    let server = SearchServer::new(project, loader);
    let running = server
        .clone()
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|err| format!("MCP handshake failed: {err}"))?;
    server.warm_up();
    running.waiting().await.map_err(|err| err.to_string())?;
    Ok(())
}
