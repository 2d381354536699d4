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
use mvs_index::{IndexOptions, IndexReport, Progress, Project, Query, Scope, SearchResponse, SimilarTo};
use mvs_store::{SearchFilter, SearchMode, TestFilter};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ProgressNotificationParam, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
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

/// A running or finished indexing job; clones follow the same job.
#[derive(Clone)]
struct Job {
    id: String,
    progress: watch::Receiver<Progress>,
    outcome: Arc<Mutex<Option<Result<IndexReport, String>>>>,
    cancel: Arc<std::sync::atomic::AtomicBool>,
}

impl Job {
    /// Waits until the job has ended (its progress sender is gone).
    async fn finished(&mut self) {
        while self.progress.changed().await.is_ok() {}
    }

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
    /// The open index, kept between calls: its caches (index pages, the ANN
    /// graph) make the next query fast. Reopened when it stops being current.
    store: tokio::sync::Mutex<Option<Arc<mvs_store::Store>>>,
    job: Mutex<Option<Job>>,
    next_job: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// The project's index, opened once and reused while current.
    async fn store(&self) -> Result<Arc<mvs_store::Store>, mvs_index::IndexError> {
        let mut slot = self.store.lock().await;
        if let Some(store) = slot.as_ref().filter(|store| store.is_current()) {
            return Ok(Arc::clone(store));
        }
        let store = Arc::new(mvs_index::open_index(&self.project).await?);
        *slot = Some(Arc::clone(&store));
        Ok(store)
    }

    /// [`Shared::store`] for a tool: a missing index is a tool error that
    /// says how to make one.
    async fn store_for_tool(&self) -> Result<Arc<mvs_store::Store>, CallToolResult> {
        self.store()
            .await
            .map_err(|err| tool_error(format!("{err}; or call index_project")))
    }

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

impl Shared {
    /// The running job, or a new one indexing with `options` in the
    /// background. Returns the job's id, progress and outcome handles, and
    /// whether it was already running.
    fn start_job(self: &Arc<Self>, options: IndexOptions) -> Result<(Job, bool), String> {
        let mut slot = self.job.lock().map_err(|_| "job state poisoned".to_string())?;
        if let Some(job) = slot.as_ref().filter(|job| job.is_running()) {
            return Ok((job.clone(), true));
        }
        let id = format!(
            "index-{}",
            self.next_job.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let (progress_tx, progress_rx) = watch::channel(Progress::default());
        let outcome = Arc::new(Mutex::new(None));
        let job = Job {
            id,
            progress: progress_rx,
            outcome: Arc::clone(&outcome),
            cancel: Arc::clone(&options.cancel),
        };
        let handle = job.clone();
        *slot = Some(job);
        drop(slot);
        let shared = Arc::clone(self);
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
            // Dropping the sender tells progress watchers the job ended.
            drop(progress_tx);
        });
        Ok((handle, false))
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
    /// Drop results scoring below this (0 to 1; scores mean the same in
    /// every mode).
    #[serde(default, deserialize_with = "lenient::float")]
    pub similarity_threshold: Option<f32>,
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
    /// Only these files or directories (relative to the project root);
    /// deleted ones are dropped from the index.
    #[serde(default, deserialize_with = "lenient::list")]
    pub paths: Option<Vec<String>>,
    /// Report what a run would do (files and chunks per language, skips,
    /// largest directories, estimated seconds) without indexing.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub dry_run: Option<bool>,
    /// Answer when the job ends instead of at once (cancelling the request
    /// cancels the job).
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub wait: Option<bool>,
    /// Stop the running job (files done so far stay indexed).
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub cancel: Option<bool>,
}

/// Arguments of `search_context`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SearchContextArgs {
    /// The task or feature to gather code for, in words.
    pub description: String,
    /// Aspects to cover too (`error handling`, `tests`, `config`): each
    /// adds its own search, so every aspect is represented.
    #[serde(default, deserialize_with = "lenient::list")]
    pub focus_areas: Option<Vec<String>>,
    /// Maximum results (default 10, at most 50).
    #[serde(default, deserialize_with = "lenient::number")]
    pub limit: Option<usize>,
    /// `signatures`, `snippets` (default) or `full`.
    pub detail: Option<String>,
    /// Budget of the answer in tokens (default 4000, at most 20000).
    #[serde(default, deserialize_with = "lenient::number")]
    pub max_tokens: Option<usize>,
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

    /// `expected` completes "... is not {expected}" in the error, which
    /// rmcp returns as a tool error the model can correct (MCP's advice for
    /// argument validation).
    fn parse<'de, D, T>(deserializer: D, expected: &str) -> Result<Option<T>, D::Error>
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
                .map_err(|_| D::Error::custom(format!("`{text}` is not {expected}"))),
        }
    }

    pub fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
        parse(deserializer, "a whole number (limit, max_tokens, lines)")
    }

    pub fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
        parse(deserializer, "true or false")
    }

    pub fn float<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f32>, D::Error> {
        parse(deserializer, "a number between 0 and 1 (similarity_threshold)")
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

/// A search answer within the caller's detail level and token budget.
fn shaped(response: &SearchResponse, detail: Detail, max_tokens: usize) -> CallToolResult {
    let (value, text) = budget::shape(response, detail, max_tokens);
    structured(value, text)
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
                store: tokio::sync::Mutex::new(None),
                job: Mutex::new(None),
                next_job: std::sync::atomic::AtomicU64::new(1),
            }),
            tool_router: Self::tool_router(),
        }
    }

    /// Keeps the index fresh: changed files are indexed as background jobs
    /// (one at a time, after any running job), once the project has an
    /// index.
    pub fn watch_changes(&self) {
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            let project = shared.project.clone();
            let base = IndexOptions::from_env();
            let run = |scope: Scope| {
                let shared = Arc::clone(&shared);
                let options = mvs_index::scoped_options(&base, scope);
                async move {
                    if shared.store().await.is_err() {
                        // Nothing to keep fresh before the first index_project.
                        return Ok(IndexReport::default());
                    }
                    loop {
                        let (mut job, already_running) =
                            shared.start_job(options.clone()).map_err(mvs_index::IndexError::Task)?;
                        job.finished().await;
                        if already_running {
                            continue; // another job ran; now run ours
                        }
                        let outcome = job.outcome.lock().ok().and_then(|o| o.clone());
                        return match outcome {
                            Some(Ok(report)) => Ok(report),
                            // Another process writes: the watcher retries these paths.
                            _ if shared.project.writer_active().is_some() => Err(mvs_index::IndexError::LockHeld {
                                index_dir: shared.project.index_dir().to_path_buf(),
                                pid: shared.project.writer_active(),
                            }),
                            Some(Err(err)) => Err(mvs_index::IndexError::Task(err)),
                            None => Err(mvs_index::IndexError::Task("the job vanished".into())),
                        };
                    }
                }
            };
            let watched = mvs_index::watch_and_index(&project, run, |outcome| {
                if let Err(err) = outcome {
                    tracing::warn!("indexing changed files failed: {err}");
                }
            });
            if let Err(err) = watched.await {
                tracing::warn!("file watching unavailable: {err}");
            }
        });
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
        let threshold = args.similarity_threshold.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&threshold) {
            return Err(ErrorData::invalid_params(
                "similarity_threshold must be between 0 and 1",
                None,
            ));
        }
        let store = match self.shared.store_for_tool().await {
            Ok(store) => store,
            Err(answer) => return Ok(answer),
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
            Ok(mut results) => {
                results.retain(|hit| hit.score >= threshold);
                let response = SearchResponse::new(&store, args.query, results);
                Ok(shaped(&response, detail, max_tokens))
            }
            Err(err) => Ok(tool_error(err.to_string())),
        }
    }

    #[tool(
        description = "Index the project in the background (only changed files unless force; only `paths` if \
                       given); returns a job id at once, or the result when the job ends with wait=true. Sends \
                       notifications/progress for a progressToken. cancel=true stops the job; dry_run reports \
                       files, chunks and estimated seconds without indexing."
    )]
    async fn index_project(
        &self,
        Parameters(args): Parameters<IndexProjectArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let project = &self.shared.project;
        let mut options = IndexOptions::from_env();
        options.force = args.force.unwrap_or(false);
        if let Some(paths) = args.paths.as_ref().filter(|paths| !paths.is_empty()) {
            let mut resolved = Vec::with_capacity(paths.len());
            for path in paths {
                match project.resolve_maybe_deleted(path) {
                    Ok(real) => resolved.push(real),
                    Err(err) => return Ok(tool_error(format!("paths: {err}"))),
                }
            }
            options.scope = Some(Scope::new(project, resolved));
        }
        if args.dry_run == Some(true) {
            return self.dry_run(options).await;
        }
        if args.cancel == Some(true) {
            return Ok(self.cancel_job());
        }
        let (mut job, already_running) = self
            .shared
            .start_job(options)
            .map_err(|err| ErrorData::internal_error(err, None))?;
        // Progress for the request's token: while the call waits, and after
        // an immediate answer for as long as the job runs.
        let forward = context.meta.get_progress_token().map(|token| {
            let (id, peer, mut progress) = (job.id.clone(), context.peer.clone(), job.progress.clone());
            tokio::spawn(async move {
                let mut current = Some(progress.borrow_and_update().clone());
                while let Some(p) = current.take() {
                    let message = format!(
                        "{id} {}: {}/{} files, {} chunks",
                        p.phase, p.files_done, p.files_total, p.chunks_done
                    );
                    let param = ProgressNotificationParam::new(token.clone(), p.files_done as f64)
                        .with_total(p.files_total as f64)
                        .with_message(message);
                    if peer.notify_progress(param).await.is_err() {
                        return; // the client is gone
                    }
                    if progress.changed().await.is_ok() {
                        current = Some(progress.borrow_and_update().clone());
                    }
                }
            })
        });
        if args.wait != Some(true) {
            let text = if already_running {
                format!("Indexing job {} is already running; poll get_project_status.", job.id)
            } else {
                format!("Started indexing job {}; poll get_project_status for progress.", job.id)
            };
            return Ok(structured(job.describe(), text));
        }
        tokio::select! {
            () = job.finished() => {}
            () = context.ct.cancelled() => {
                job.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
                job.finished().await;
            }
        }
        if let Some(forward) = forward {
            // The last notification goes out before the answer.
            let _ = forward.await;
        }
        let described = job.describe();
        let text = format!(
            "Indexing job {} {}.",
            job.id,
            described["state"].as_str().unwrap_or("ended")
        );
        Ok(structured(described, text))
    }

    /// `index_project` with `cancel`: stops the running job, if any.
    fn cancel_job(&self) -> CallToolResult {
        let slot = self.shared.job.lock().ok();
        match slot
            .as_ref()
            .and_then(|slot| slot.as_ref())
            .filter(|job| job.is_running())
        {
            Some(job) => {
                job.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
                structured(job.describe(), format!("Cancelling indexing job {}.", job.id))
            }
            None => structured(serde_json::json!({"job": null}), "No indexing job is running.".into()),
        }
    }

    /// `index_project` with `dry_run`: the survey and time estimate.
    async fn dry_run(&self, options: IndexOptions) -> Result<CallToolResult, ErrorData> {
        let embedder = match self.shared.embedder().await {
            Ok(embedder) => embedder,
            Err(err) => return Ok(tool_error(format!("embedding model unavailable: {err}"))),
        };
        let project = self.shared.project.clone();
        let outcome =
            tokio::task::spawn_blocking(move || mvs_index::dry_run(&project, options.chunk_options, &embedder)).await;
        match outcome {
            Ok(Ok(dry_run)) => {
                let text = format!(
                    "{} files, {} chunks; about {:.0} s at {:.0} chunks/s on {} (nothing written)",
                    dry_run.survey.files,
                    dry_run.survey.chunks,
                    dry_run.estimated_seconds,
                    dry_run.chunks_per_s,
                    dry_run.device
                );
                Ok(structured(serde_json::to_value(&dry_run).unwrap_or_default(), text))
            }
            Ok(Err(err)) => Ok(tool_error(err.to_string())),
            Err(err) => Ok(tool_error(format!("dry run failed: {err}"))),
        }
    }

    #[tool(
        description = "Gather the code relevant to a task: searches the description and each focus area \
                       (e.g. 'error handling', 'tests') and merges the hits, best first, within max_tokens.",
        annotations(read_only_hint = true)
    )]
    async fn search_context(
        &self,
        Parameters(args): Parameters<SearchContextArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        if args.description.trim().is_empty() {
            return Err(ErrorData::invalid_params("description must not be empty", None));
        }
        let limit = checked_limit(args.limit)?;
        let (detail, max_tokens) = output_controls(args.detail.as_deref(), args.max_tokens)?;
        let store = match self.shared.store_for_tool().await {
            Ok(store) => store,
            Err(answer) => return Ok(answer),
        };
        let embedder = match self.shared.embedder().await {
            Ok(embedder) => embedder,
            Err(err) => return Ok(tool_error(format!("embedding model unavailable: {err}"))),
        };
        let focus = args.focus_areas.clone().unwrap_or_default();
        let mut texts = vec![args.description.clone()];
        texts.extend(focus.iter().map(|area| format!("{} {area}", args.description)));
        let mut best: std::collections::HashMap<String, mvs_store::SearchHit> = std::collections::HashMap::new();
        for text in texts {
            let query = Query {
                text,
                mode: SearchMode::Hybrid,
                limit,
                filter: SearchFilter::default(),
            };
            let hits = match mvs_index::search(&self.shared.project, &store, Some(Arc::clone(&embedder)), &query).await
            {
                Ok(hits) => hits,
                Err(err) => return Ok(tool_error(err.to_string())),
            };
            for hit in hits {
                match best.get(&hit.chunk.chunk_id) {
                    Some(kept) if kept.score >= hit.score => {}
                    _ => {
                        best.insert(hit.chunk.chunk_id.clone(), hit);
                    }
                }
            }
        }
        let mut results: Vec<mvs_store::SearchHit> = best.into_values().collect();
        results.sort_by(|a, b| b.score.total_cmp(&a.score));
        results.truncate(limit);
        let response = SearchResponse::new(&store, args.description, results);
        Ok(shaped(&response, detail, max_tokens))
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
        let store = match self.shared.store_for_tool().await {
            Ok(store) => store,
            Err(answer) => return Ok(answer),
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
                let response = SearchResponse::new(&store, query, results);
                Ok(shaped(&response, detail, max_tokens))
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
                let store = match self.shared.store_for_tool().await {
                    Ok(store) => store,
                    Err(answer) => return Ok(answer),
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

/// `MCP_ENABLE_FILE_WATCHING`: on unless `0`, `false`, `no` or `off`.
fn file_watching_enabled() -> bool {
    std::env::var("MCP_ENABLE_FILE_WATCHING")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off"))
        .unwrap_or(true)
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
    if file_watching_enabled() {
        server.watch_changes();
    }
    running.waiting().await.map_err(|err| err.to_string())?;
    Ok(())
}
