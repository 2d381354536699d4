//! The server: what it shares between calls (the project, the model, the
//! open index, the job slot), start-up over stdio, model warm-up and the
//! file watcher.

use std::sync::Arc;

use mvs_embed::{Embedder, ProvisionReporter};
use mvs_index::Progress;
use mvs_index::{IndexError, IndexOptions, IndexReport, Project, Scope};
use mvs_store::{SharedIndex, Store};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, tool_handler};
use tokio::sync::{OnceCell, watch};

use crate::jobs::{Job, Jobs, Origin};
use crate::{ProjectRoot, ToolError};

/// Loads the embedding model, telling the reporter of each provisioning
/// step (first use: fetching the runtime and model); the server calls it
/// until it succeeds. The error says why the model is unavailable.
pub type EmbedderLoader = Arc<dyn Fn(ProvisionReporter) -> Result<Embedder, String> + Send + Sync>;

/// Provisioning as the loader reports it: steps begun so far and the one
/// under way (`None` once loading ended).
#[derive(Debug, Clone, Default)]
struct Provisioning {
    steps: usize,
    step: Option<String>,
}

/// How the server runs, decided once by its caller (the binary reads flags
/// and environment; nothing here does).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The template of every indexing job the server starts (`index_project`
    /// and the watcher's runs): workers, chunk and memory limits. Its
    /// `force`, `scope` and `cancel` are replaced per job.
    pub index: IndexOptions,
    /// Index changed files in the background once the project has an index
    /// (`MCP_ENABLE_FILE_WATCHING`).
    pub watch: bool,
    /// Keyword-lane weight of natural-language hybrid queries (the vector
    /// lane weighs 1); `None` keeps the store's tuned default.
    pub keyword_weight: Option<f32>,
    /// The shared index (`MCP_VECTOR_SEARCH_INDEX_URI`): searched until the
    /// project has a local index, and the start of its first indexing run
    /// (see [`Project::with_shared`]). The server never publishes.
    pub shared: Option<SharedIndex>,
}

const INSTRUCTIONS: &str = "Local semantic + keyword code search over this repository.\n\
- search_code: find code by what it does (natural language) or by identifier; returns ranked chunks with file_path and line ranges. Narrow with language/files/kind filters; detail=signatures for a cheap overview.\n\
- search_similar: code like a file, a function of it or a hit (chunk_id), from stored vectors.\n\
- get_chunk: read a hit in full (chunk_id) or any lines of a file, with context.\n\
- index_project: (re)index in the background; returns at once. Call it if get_project_status says not_indexed.\n\
- get_project_status: index state, counts, model, progress of a running job.";

/// What every call of one server shares.
pub(crate) struct Shared {
    /// The project, or why its root cannot be served (every tool's answer).
    project: Result<Project, ToolError>,
    pub(crate) options: ServerOptions,
    loader: EmbedderLoader,
    embedder: OnceCell<Arc<Embedder>>,
    /// The provisioning step under way, mirrored into the progress of jobs
    /// waiting for the model.
    provisioning: Arc<watch::Sender<Provisioning>>,
    /// Why the model could not be loaded at the last attempt. Background
    /// work (warm-up, watcher runs) does not try again: each attempt may
    /// run pip, and with no network it failed the same way on every save.
    /// The next explicit request (a tool call) tries again.
    load_failure: std::sync::Mutex<Option<String>>,
    /// The open index, kept between calls: its caches (index pages, the ANN
    /// graph) make the next query fast. Reopened when it stops being current.
    store: tokio::sync::Mutex<Option<Arc<Store>>>,
    pub(crate) jobs: Jobs,
}

impl Shared {
    /// The project; [`ToolError::BadProjectRoot`] when its root is unusable.
    pub(crate) fn project(&self) -> Result<&Project, ToolError> {
        self.project.as_ref().map_err(Clone::clone)
    }

    /// The project's index, opened once and reused while current; a missing
    /// index is [`ToolError::NotIndexed`].
    pub(crate) async fn store(&self) -> Result<Arc<Store>, ToolError> {
        let mut slot = self.store.lock().await;
        if let Some(store) = slot.as_ref() {
            // A shared index is read until the project has a local one.
            let local_appeared = store.is_shared() && Store::exists_in(self.project()?.index_dir());
            if !local_appeared && store.is_current().await {
                return Ok(Arc::clone(store));
            }
        }
        let store = Arc::new(mvs_index::open_index(self.project()?).await?);
        *slot = Some(Arc::clone(&store));
        Ok(store)
    }

    /// The embedder, loading it on first need (off the async threads); for
    /// a client's request, so a failure of an earlier attempt is retried.
    pub(crate) async fn embedder(&self) -> Result<Arc<Embedder>, ToolError> {
        let loaded = self
            .embedder
            .get_or_try_init(|| async {
                let loader = Arc::clone(&self.loader);
                let provisioning = Arc::clone(&self.provisioning);
                let reporter: ProvisionReporter = Arc::new(move |step: &str| {
                    provisioning.send_modify(|p| {
                        p.steps += 1;
                        p.step = Some(step.to_string());
                    });
                });
                let loaded = match tokio::task::spawn_blocking(move || loader(reporter)).await {
                    Ok(loaded) => loaded.map(Arc::new),
                    Err(err) => Err(err.to_string()),
                };
                self.provisioning.send_modify(|p| p.step = None);
                loaded
            })
            .await
            .cloned();
        let mut failure = self
            .load_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &loaded {
            Ok(_) => *failure = None,
            // Reported once per distinct failure, not on every attempt.
            Err(reason) if failure.as_ref() != Some(reason) => {
                tracing::warn!("embedding model unavailable: {reason}");
                *failure = Some(reason.clone());
            }
            Err(_) => {}
        }
        loaded.map_err(|reason| ToolError::ModelUnavailable(format!("embedding model unavailable: {reason}")))
    }

    /// [`Shared::embedder`] for background work: after a failed attempt it
    /// answers that failure without trying again.
    pub(crate) async fn background_embedder(&self) -> Result<Arc<Embedder>, ToolError> {
        let failed = self.load_failure.lock().ok().and_then(|failure| failure.clone());
        match failed {
            Some(reason) if self.embedder.get().is_none() => Err(ToolError::ModelUnavailable(format!(
                "embedding model unavailable: {reason} (not retried for background indexing; \
                 any tool call that needs the model tries again)"
            ))),
            _ => self.embedder().await,
        }
    }

    /// The embedder for a job started by `origin` ([`Shared::embedder`] for
    /// a client's, [`Shared::background_embedder`] for the watcher's); while
    /// it is provisioned, the job's progress shows each step.
    async fn embedder_for(
        &self,
        origin: Origin,
        progress: &Arc<watch::Sender<Progress>>,
    ) -> Result<Arc<Embedder>, ToolError> {
        let mut steps = self.provisioning.subscribe();
        let progress = Arc::clone(progress);
        let mirror = tokio::spawn(async move {
            loop {
                let now = steps.borrow_and_update().clone();
                if let Some(step) = now.step {
                    // One count per step begun, so each advances the job's
                    // progress past its start (0), and one more to go.
                    progress.send_modify(|p| {
                        p.phase = "provisioning".into();
                        p.files_done = now.steps;
                        p.files_total = now.steps + 1;
                        p.note = Some(step);
                    });
                }
                if steps.changed().await.is_err() {
                    return;
                }
            }
        });
        let embedder = match origin {
            Origin::Client => self.embedder().await,
            Origin::Watcher | Origin::SharedIndex => self.background_embedder().await,
        };
        mirror.abort();
        embedder
    }

    /// The options of one job: the server's template with `force` and
    /// `scope`, and a cancel flag of its own.
    pub(crate) fn job_options(&self, force: bool, scope: Option<Scope>) -> IndexOptions {
        IndexOptions {
            force,
            scope,
            cancel: Arc::default(),
            ..self.options.index.clone()
        }
    }

    /// The running job, or a new one started by `origin` indexing with
    /// `options` in the background; and whether it was already running.
    pub(crate) fn start_job(self: &Arc<Self>, origin: Origin, options: IndexOptions) -> Result<(Job, bool), ToolError> {
        let shared = Arc::clone(self);
        self.jobs
            .start(origin, Arc::clone(&options.cancel), move |progress| async move {
                let project = shared.project()?;
                let embedder = shared.embedder_for(origin, &progress).await?;
                Ok(mvs_index::index_project(project, embedder, &options, &progress).await?)
            })
    }
}

/// The MCP server for one project.
#[derive(Clone)]
pub struct SearchServer {
    pub(crate) shared: Arc<Shared>,
    tool_router: ToolRouter<Self>,
}

impl SearchServer {
    /// A server for the project at `root`; `loader` loads the embedding
    /// model when first needed; `options` are fixed for the server's life.
    /// A root that cannot be served does not fail here: every tool answers
    /// why (see [`ProjectRoot::open`]).
    pub fn new(root: &ProjectRoot, loader: EmbedderLoader, options: ServerOptions) -> Self {
        Self {
            shared: Arc::new(Shared {
                project: root.open().map(|project| project.with_shared(options.shared.clone())),
                options,
                loader,
                embedder: OnceCell::new(),
                provisioning: Arc::default(),
                load_failure: std::sync::Mutex::new(None),
                store: tokio::sync::Mutex::new(None),
                jobs: Jobs::default(),
            }),
            tool_router: Self::tool_router(),
        }
    }

    /// Keeps the index fresh: changed files are indexed as background jobs
    /// (one at a time, after any running job), once the project has an
    /// index. Runs blocked by another process's writer lock are retried by
    /// the watcher. Nothing to watch when the root is unusable.
    pub fn watch_changes(&self) {
        let Ok(project) = self.shared.project().cloned() else {
            return;
        };
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            let run = |scope: Scope| {
                let shared = Arc::clone(&shared);
                let index_dir = project.index_dir().to_path_buf();
                async move {
                    if shared.store().await.is_err() {
                        // Nothing to keep fresh before the first index_project.
                        return Ok(IndexReport::default());
                    }
                    loop {
                        let options = shared.job_options(false, Some(scope.clone()));
                        let (mut job, already_running) = shared
                            .start_job(Origin::Watcher, options)
                            .map_err(|err| IndexError::Task(err.to_string()))?;
                        job.finished().await;
                        if already_running {
                            continue; // another job ran; now run ours
                        }
                        return match job.outcome() {
                            Some(Ok(report)) => Ok(report),
                            Some(Err(ToolError::Busy { pid, .. })) => Err(IndexError::LockHeld { index_dir, pid }),
                            Some(Err(err)) => Err(IndexError::Task(err.to_string())),
                            None => Err(IndexError::Task("the job vanished".into())),
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

    /// With a shared index and no local one, starts the run that copies the
    /// shared index and indexes the files of this working tree that differ
    /// from it (a background job; searches read the shared index until it
    /// is done), so answers follow the working tree without a client asking.
    pub fn seed_from_shared(&self) {
        let Ok(project) = self.shared.project() else {
            return;
        };
        let Some(index) = project.shared().cloned() else {
            return;
        };
        if Store::exists_in(project.index_dir()) {
            return;
        }
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            // Nothing published (or unreachable): no full local run unasked.
            match index.published().await {
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(err) => return tracing::warn!("{err}"),
            }
            let options = shared.job_options(false, None);
            if let Err(err) = shared.start_job(Origin::SharedIndex, options) {
                tracing::warn!("could not start indexing from the shared index: {err}");
            }
        });
    }

    /// Starts loading the model in the background so the first search does
    /// not wait for it.
    pub fn warm_up(&self) {
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            // A failure is logged (once) by `embedder` itself.
            let _ = shared.embedder().await;
        });
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for SearchServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("mcp-vector-search", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    /// A request whose params do not parse reaches here under its method's
    /// name (rmcp would answer -32601 "tools/call"): answered -32602 saying
    /// what is malformed.
    async fn on_custom_request(
        &self,
        request: rmcp::model::CustomRequest,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::CustomResult, rmcp::ErrorData> {
        Err(crate::args::unparsed_request(&request))
    }
}

/// Serves the project at `root` over stdio until the client disconnects.
/// A root that cannot be served still completes the handshake: every tool
/// then answers why (the model is not loaded and nothing is watched).
/// Errors: the handshake failed, or the transport broke.
pub async fn serve_stdio(root: ProjectRoot, loader: EmbedderLoader, options: ServerOptions) -> Result<(), String> {
    let watch = options.watch;
    let server = SearchServer::new(&root, loader, options);
    let running = server
        .clone()
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|err| format!("MCP handshake failed: {err}"))?;
    if let Err(err) = server.shared.project() {
        tracing::warn!("{err}");
    } else {
        server.warm_up();
        if watch {
            // Background indexing is the watcher's: without it the server
            // only reads (the shared index, until index_project).
            server.seed_from_shared();
            server.watch_changes();
        }
    }
    running.waiting().await.map_err(|err| err.to_string())?;
    Ok(())
}
