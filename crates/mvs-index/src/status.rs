//! `status`: what a project's index holds and whether it is being
//! written, read without loading the model.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mvs_store::{Store, StoreError};
use serde::Serialize;

use crate::discovery::{SKIPPED_PATHS_SHOWN, SkipKind, SkipList, discover_with_skips};
use crate::project::{Project, RootRule};
use crate::report::IndexReport;
use crate::{IndexError, run_record};

/// Files and chunks of one language.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LanguageCounts {
    /// Files parsed.
    pub files: usize,
    /// Chunks stored.
    pub chunks: usize,
}

/// What an index holds and whether it is being written.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectStatus {
    /// `not_indexed`, `indexing`, `ready`, `incomplete` (see
    /// [`ProjectStatus::incomplete`]) or `damaged` (see
    /// [`ProjectStatus::damaged`]).
    pub state: String,
    /// What an `incomplete` index lacks, why, and how to finish it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// What of a `damaged` index cannot be read, and how to repair it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged: Option<String>,
    /// The project root.
    pub project_root: PathBuf,
    /// Which rule chose the root (given, nearest index, git work tree,
    /// working directory).
    pub root_chosen_by: RootRule,
    /// Files recorded (indexed or skipped).
    pub files: usize,
    /// Files parsed into chunks.
    pub indexed_files: usize,
    /// Chunks stored.
    pub chunks: usize,
    /// Vectors stored.
    pub vectors: usize,
    /// Embedding model of the index.
    pub model: Option<String>,
    /// Vector dimension.
    pub dimension: Option<usize>,
    /// Device of the last indexing run.
    pub device: Option<String>,
    /// Per-language counts.
    pub languages: BTreeMap<String, LanguageCounts>,
    /// Paths not indexed, per reason: `skipped` (counts) and
    /// `skipped_paths` (the first of each) in JSON. What the chunker refused
    /// (binary, too large, minified ...) as the runs recorded it; what
    /// discovery skips (default excludes, secrets, symlinks, unreadable
    /// directories) as the last full run's walk found it (`last_run.json`;
    /// a watcher's scoped runs keep it), or from a walk of the tree now
    /// where no run recorded it (an index of an older version, a first run
    /// that did not finish). Empty where there is no index.
    #[serde(flatten)]
    pub skipped: SkipList,
    /// The search indices and the rows each covers.
    pub search_indices: Vec<mvs_store::IndexCoverage>,
    /// The last completed run.
    pub last_run: Option<IndexReport>,
    /// Pid of the process indexing now.
    pub writer_pid: Option<u32>,
    /// The shared index read in place of a local one (`<uri> (<generation>)`):
    /// the project has no local index, its shared index a published
    /// generation, which searches read and these counts describe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<String>,
}

/// Reads the index's status without loading the model. Read-only: nothing
/// is created or changed on disk, even where there is no index.
pub async fn project_status(project: &Project) -> Result<ProjectStatus, IndexError> {
    let writer_pid = project.writer_active();
    let (last_run, recorded_skips) =
        run_record::load(project).map_or((None, None), |record| (Some(record.report), record.discovery));
    let mut status = ProjectStatus {
        state: "not_indexed".into(),
        incomplete: None,
        damaged: None,
        project_root: project.root().to_path_buf(),
        root_chosen_by: project.chosen_by(),
        files: 0,
        indexed_files: 0,
        chunks: 0,
        vectors: 0,
        model: None,
        dimension: None,
        device: last_run.as_ref().map(|r| r.device.clone()),
        languages: BTreeMap::new(),
        skipped: SkipList::default(),
        search_indices: Vec::new(),
        last_run,
        writer_pid,
        shared: None,
    };
    let read = match Store::open_existing(project.index_dir()).await {
        Ok(Some(store)) => {
            status.skipped = discovery_skips(project, recorded_skips.map(|discovery| discovery.skips)).await?;
            read_counts(&mut status, &store, writer_pid.is_none()).await
        }
        Ok(None) => match project.shared() {
            Some(shared) => match shared.open_reader().await {
                Ok(Some(store)) => {
                    status.shared = Some(format!("{} ({})", shared.uri(), store.meta().tables));
                    // A published generation was complete; reading every row
                    // over the network on each status would not be cheap.
                    read_counts(&mut status, &store, false).await
                }
                other => other.map(|_| ()),
            },
            None => Ok(()),
        },
        Err(err) => Err(err),
    };
    // A damaged index is a state to report (with its fix), not a failure.
    match read {
        Ok(()) => {}
        Err(damaged @ StoreError::Damaged { .. }) => {
            status.state = "damaged".into();
            status.damaged = Some(damaged.to_string());
        }
        Err(err) => return Err(err.into()),
    }
    if writer_pid.is_some() {
        status.state = "indexing".into();
    }
    Ok(status)
}

/// What discovery skips in `project`'s tree (the files table holds only
/// the files a run read): the `recorded` skips of the last full run's walk,
/// else (no run recorded them) those of a walk now, which costs about a
/// second on a tree of 30,000 files.
async fn discovery_skips(project: &Project, recorded: Option<SkipList>) -> Result<SkipList, IndexError> {
    if let Some(skips) = recorded {
        return Ok(skips);
    }
    let project = project.clone();
    let found = tokio::task::spawn_blocking(move || discover_with_skips(&project, None))
        .await
        .map_err(IndexError::task)?;
    Ok(found.skip_list())
}

/// Fills `status` with what the readable index `store` holds; with
/// `verify` (no writer at work: it would race the check and slow it),
/// errors with [`StoreError::Damaged`] when some of it cannot be read.
async fn read_counts(status: &mut ProjectStatus, store: &Store, verify: bool) -> Result<(), StoreError> {
    if verify {
        store.verify_readable().await?;
    }
    let stats = store.stats().await?;
    status.files = stats.files;
    status.indexed_files = stats.indexed_files;
    status.chunks = stats.chunks;
    status.vectors = stats.vectors;
    status.model = Some(store.meta().model_id.clone());
    status.dimension = Some(store.meta().dimension);
    status.languages = stats
        .languages
        .into_iter()
        .map(|(language, (files, chunks))| (language, LanguageCounts { files, chunks }))
        .collect();
    for (reason, (count, first)) in store.skipped_files(SKIPPED_PATHS_SHOWN).await? {
        match SkipKind::from_name(&reason) {
            Some(kind) => status.skipped.add_counted(kind, count, first),
            None => tracing::warn!("{count} files recorded as skipped for an unknown reason `{reason}`"),
        }
    }
    status.search_indices = stats.search_indices;
    // A shared generation is published only once complete.
    status.incomplete = (!store.is_shared())
        .then(|| incompleteness(status, store.vectors_pending()))
        .flatten();
    status.state = match (&status.incomplete, status.chunks, &status.last_run) {
        (Some(_), _, _) => "incomplete",
        (None, 0, None) => "not_indexed",
        (None, _, _) => "ready",
    }
    .into();
    Ok(())
}

/// Why an index with rows is not whole, if it is not: an interrupted first
/// run, chunks still waiting for their vectors, or a cancelled last run.
/// A plain `index` run finishes each of them.
fn incompleteness(status: &ProjectStatus, vectors_pending: bool) -> Option<String> {
    const FINISH: &str = "run `mcp-vector-search index` (or call index_project) to finish it";
    let waiting = status.chunks.saturating_sub(status.vectors);
    if status.chunks > 0 && status.last_run.is_none() {
        Some(format!("the first indexing run did not finish; {FINISH}"))
    } else if vectors_pending && waiting > 0 {
        Some(format!(
            "{waiting} of {} chunks wait for their vectors (keyword search sees everything, vector search \
             only the rest); {FINISH}",
            status.chunks
        ))
    } else if status.last_run.as_ref().is_some_and(|run| run.cancelled) {
        Some(format!(
            "the last indexing run was cancelled before every file was indexed; {FINISH}"
        ))
    } else {
        None
    }
}
