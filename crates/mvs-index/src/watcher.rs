//! Keeping an index fresh while files change: filesystem events (`notify`),
//! debounced, filtered by the project's exclusion rules, become scoped
//! indexing runs. Events that arrive while a run works are coalesced into
//! the next run, so a burst (a `git checkout` of 1,000 files) costs one or
//! two runs, not a thousand.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_full::notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify_debouncer_full::notify::{self, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, NoCache, new_debouncer_opt};
use tokio::sync::{mpsc, watch};

use crate::IndexError;
use crate::discovery::{ProjectIgnore, Scope, paths_under_links};
use crate::embedder::TextEmbedder;
use crate::options::IndexOptions;
use crate::pipeline::index_project;
use crate::project::{INDEX_DIR_NAME, Project};
use crate::report::{IndexReport, Progress};
use crate::run_record;

/// Quiet time after an event before it is acted on (events may wait up to
/// twice this, to be batched with others).
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Wait before retrying changes whose run found the writer lock held.
const LOCKED_RETRY: Duration = Duration::from_secs(1);

/// Changed paths of a project, as they happen.
pub struct Watcher {
    // Dropping the debouncer stops the OS watch.
    _debouncer: Debouncer<RecommendedWatcher, NoCache>,
    changes: mpsc::UnboundedReceiver<Vec<PathBuf>>,
}

impl Watcher {
    /// Watches `project` recursively for content changes: files created,
    /// written, renamed or deleted. Reads and opens (an agent's `cat`, the
    /// indexer's own reads), metadata-only changes and paths the project
    /// excludes (defaults such as `target/` and `node_modules/`, the project
    /// ignore file, the index itself, git's own directory) never wake the
    /// caller; git's ignore rules are applied by the scoped run, which uses
    /// the same walk as a full one.
    pub fn start(project: &Project) -> Result<Self, IndexError> {
        let (tx, changes) = mpsc::unbounded_channel();
        let excludes = ProjectIgnore::new(project);
        let index_dir = project.root().join(INDEX_DIR_NAME);
        let git_dir = project.root().join(".git");
        let handler = move |result: DebounceEventResult| match result {
            Ok(events) => {
                let paths: Vec<PathBuf> = events
                    .into_iter()
                    .filter(|event| changes_content(&event.kind))
                    .flat_map(|event| event.event.paths)
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
            Err(errors) => tracing::warn!("file watcher errors: {errors:?}"),
        };
        let io_error = |err: notify::Error| IndexError::Io {
            path: project.root().to_path_buf(),
            source: std::io::Error::other(format!("cannot watch for changes: {err}")),
        };
        // No file-id cache: building it walks the whole tree (dependency and
        // build directories included) at start, and renames are handled as
        // a delete plus a create of paths anyway.
        let mut debouncer = new_debouncer_opt::<_, RecommendedWatcher, NoCache>(
            DEBOUNCE,
            None,
            handler,
            NoCache,
            notify::Config::default(),
        )
        .map_err(io_error)?;
        debouncer
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
/// change detection as a full run, limited to those paths; a path inside
/// the target of a symbolic link the last full run followed is also named
/// under the link, where its file is indexed). Paths whose run found the
/// writer lock held are retried with the next batch. `on_run`
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
        let outcome = run(Scope::new(project, through_links(project, &pending))).await;
        if !matches!(outcome, Err(IndexError::LockHeld { .. })) {
            pending.clear();
        }
        on_run(outcome);
    }
}

/// `paths` and the same paths under the symbolic links the last full run
/// followed (`last_run.json`) into them: a file indexed under a link's path
/// changes when its target does, and the events name the target.
fn through_links(project: &Project, paths: &BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let links = run_record::load(project)
        .and_then(|record| record.discovery)
        .map(|discovery| discovery.followed_links)
        .unwrap_or_default();
    let linked = paths
        .iter()
        .filter_map(|path| project.relative(path))
        .flat_map(|rel| paths_under_links(&links, &rel))
        .map(|rel| project.root().join(rel));
    paths.iter().cloned().chain(linked).collect()
}

/// Whether an event can change what a file holds: creation, writes
/// (including the close that ends a write), renames, removal. Opens, reads,
/// closes after reading and metadata changes (permissions, times) cannot;
/// reacting to them made every read of a file (and the indexer's own reads
/// of the files it indexes) start another run, forever.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other => false,
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

#[cfg(test)]
mod tests {
    use notify_debouncer_full::notify::event::{CreateKind, DataChange, MetadataKind, RemoveKind, RenameMode};

    use super::*;

    #[test]
    fn only_content_changes_wake_the_watcher() {
        let changes = [
            EventKind::Create(CreateKind::File),
            EventKind::Remove(RemoveKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Content)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
        ];
        let not_changes = [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Permissions)),
            EventKind::Other,
        ];
        assert!(changes.iter().all(changes_content));
        assert!(!not_changes.iter().any(changes_content));
    }
}
