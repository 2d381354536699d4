//! Keeping an index fresh while files change: filesystem events (`notify`),
//! debounced, filtered by the project's exclusion rules, become scoped
//! indexing runs. Events that arrive while a run works are coalesced into
//! the next run, so a burst (a `git checkout` of 1,000 files) costs one or
//! two runs, not a thousand.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use tokio::sync::{mpsc, watch};

use crate::IndexError;
use crate::discovery::{ProjectIgnore, Scope};
use crate::embedder::TextEmbedder;
use crate::options::IndexOptions;
use crate::pipeline::index_project;
use crate::project::{INDEX_DIR_NAME, Project};
use crate::report::{IndexReport, Progress};

/// Quiet time after an event before it is acted on (events may wait up to
/// twice this, to be batched with others).
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Wait before retrying changes whose run found the writer lock held.
const LOCKED_RETRY: Duration = Duration::from_secs(1);

/// Changed paths of a project, as they happen.
pub struct Watcher {
    // Dropping the debouncer stops the OS watch.
    _debouncer: Debouncer<RecommendedWatcher>,
    changes: mpsc::UnboundedReceiver<Vec<PathBuf>>,
}

impl Watcher {
    /// Watches `project` recursively. Paths the project excludes (defaults
    /// such as `target/` and `node_modules/`, the project ignore file, the
    /// index itself, git's own directory) never wake the caller; git's
    /// ignore rules are applied by the scoped run, which uses the same walk
    /// as a full one.
    pub fn start(project: &Project) -> Result<Self, IndexError> {
        let (tx, changes) = mpsc::unbounded_channel();
        let excludes = ProjectIgnore::new(project);
        let index_dir = project.root().join(INDEX_DIR_NAME);
        let git_dir = project.root().join(".git");
        let handler = move |result: DebounceEventResult| match result {
            Ok(events) => {
                let paths: Vec<PathBuf> = events
                    .into_iter()
                    .map(|event| event.path)
                    .filter(|path| {
                        !path.starts_with(&index_dir)
                            && !path.starts_with(&git_dir)
                            && !excludes.is_excluded(path, path.is_dir())
                    })
                    .collect();
                if !paths.is_empty() {
                    tracing::debug!(?paths, "files changed");
                    let _ = tx.send(paths);
                }
            }
            Err(err) => tracing::warn!("file watcher error: {err}"),
        };
        let io_error = |err: notify_debouncer_mini::notify::Error| IndexError::Io {
            path: project.root().to_path_buf(),
            source: std::io::Error::other(format!("cannot watch for changes: {err}")),
        };
        let mut debouncer = new_debouncer(DEBOUNCE, handler).map_err(io_error)?;
        debouncer
            .watcher()
            .watch(project.root(), RecursiveMode::Recursive)
            .map_err(io_error)?;
        Ok(Self {
            _debouncer: debouncer,
            changes,
        })
    }

    /// The next changed paths: waits for a batch, then takes every batch
    /// that is already waiting too. `None` once the watch has stopped.
    pub async fn next_changes(&mut self) -> Option<Vec<PathBuf>> {
        let mut paths: BTreeSet<PathBuf> = self.changes.recv().await?.into_iter().collect();
        while let Ok(more) = self.changes.try_recv() {
            paths.extend(more);
        }
        Some(paths.into_iter().collect())
    }
}

/// Indexes `project` incrementally after every change until the watch
/// stops: each batch of changed paths becomes one scoped run through `run`
/// (normally [`index_project`] with [`IndexOptions::scope`] set: the same
/// change detection as a full run, limited to those paths). Paths whose run
/// found the writer lock held are retried with the next batch. `on_run`
/// sees each run's outcome; a failed run is reported and watching goes on.
pub async fn watch_and_index<Run, Fut>(
    project: &Project,
    mut run: Run,
    mut on_run: impl FnMut(Result<IndexReport, IndexError>),
) -> Result<(), IndexError>
where
    Run: FnMut(Scope) -> Fut,
    Fut: std::future::Future<Output = Result<IndexReport, IndexError>>,
{
    let mut watcher = Watcher::start(project)?;
    let mut pending: BTreeSet<PathBuf> = BTreeSet::new();
    loop {
        let next = if pending.is_empty() {
            watcher.next_changes().await
        } else {
            // Paths left over from a run another writer blocked: retry soon,
            // with whatever changed meanwhile.
            tokio::select! {
                changes = watcher.next_changes() => changes,
                () = tokio::time::sleep(LOCKED_RETRY) => Some(Vec::new()),
            }
        };
        let Some(paths) = next else {
            return Ok(());
        };
        pending.extend(paths);
        let outcome = run(Scope::new(project, pending.iter().cloned())).await;
        if !matches!(outcome, Err(IndexError::LockHeld { .. })) {
            pending.clear();
        }
        on_run(outcome);
    }
}

/// The options of a watcher's run over `scope` (with its own cancel flag).
pub fn scoped_options(options: &IndexOptions, scope: Scope) -> IndexOptions {
    IndexOptions {
        force: false,
        scope: Some(scope),
        cancel: Arc::default(),
        ..options.clone()
    }
}

/// [`watch_and_index`] running [`index_project`] directly (the CLI's
/// `index --watch`).
pub async fn watch_with_pipeline<E: TextEmbedder + 'static>(
    project: &Project,
    embedder: Arc<E>,
    options: &IndexOptions,
    progress: &watch::Sender<Progress>,
    on_run: impl FnMut(Result<IndexReport, IndexError>),
) -> Result<(), IndexError> {
    watch_and_index(
        project,
        |scope| {
            let options = scoped_options(options, scope);
            let embedder = Arc::clone(&embedder);
            async move { index_project(project, embedder, &options, progress).await }
        },
        on_run,
    )
    .await
}
