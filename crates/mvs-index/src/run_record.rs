//! The report of the last completed run, kept beside the index so `status`
//! can show it without loading anything else, with what the last walk of
//! the whole tree skipped (so `status` need not walk it again) and the
//! symbolic links it followed (so the watcher knows them).

use serde::{Deserialize, Serialize};

use crate::IndexError;
use crate::discovery::{Discovery, SkipList};
use crate::project::Project;
use crate::report::IndexReport;

/// File name inside the index directory.
pub(crate) const FILE_NAME: &str = "last_run.json";

/// What `last_run.json` holds: the report's fields, and `discovery_skips`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct RunRecord {
    /// The last completed run.
    #[serde(flatten)]
    pub report: IndexReport,
    /// What the last walk of the whole tree found besides the files; `None`
    /// in records of versions that did not keep it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoveryRecord>,
}

/// What a walk of the whole tree found besides the files to index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct DiscoveryRecord {
    /// What it skipped (defaults, secrets, symlinks, unreadable paths), as
    /// `skipped` (counts) and `skipped_paths` (the first of each).
    #[serde(flatten)]
    pub skips: SkipList,
    /// The symbolic links it followed, as (link, target) relative to the
    /// root ([`Discovery::followed_links`]).
    pub followed_links: Vec<(String, String)>,
}

impl DiscoveryRecord {
    /// What `found` (a walk of the whole tree) holds besides the files.
    pub fn of(found: &Discovery) -> Self {
        Self {
            skips: found.skip_list(),
            followed_links: found.followed_links.clone(),
        }
    }
}

/// Saves `report` atomically (write, then rename) with `discovery`, what the
/// run's walk found. A scoped run passes `None` (its walk saw part of the
/// tree): what is already recorded is kept.
pub(crate) fn save(
    project: &Project,
    report: &IndexReport,
    discovery: Option<DiscoveryRecord>,
) -> Result<(), IndexError> {
    let record = RunRecord {
        report: report.clone(),
        discovery: discovery.or_else(|| load(project).and_then(|record| record.discovery)),
    };
    let path = project.index_dir().join(FILE_NAME);
    let staged = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(&record).expect("run record serialises");
    std::fs::write(&staged, bytes)
        .and_then(|()| std::fs::rename(&staged, &path))
        .map_err(|source| IndexError::Io { path, source })
}

/// The last record, if one was saved and is readable.
pub(crate) fn load(project: &Project) -> Option<RunRecord> {
    let bytes = std::fs::read(project.index_dir().join(FILE_NAME)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::SkipKind;

    #[test]
    fn reports_of_older_versions_still_load() {
        let old = r#"{"files_seen": 3, "files_parsed": 2, "chunks_written": 5, "model": "m", "device": "cpu"}"#;
        let record: RunRecord = serde_json::from_str(old).unwrap();
        assert_eq!(
            (
                record.report.files_seen,
                record.report.chunks_written,
                record.report.vectors_reused
            ),
            (3, 5, 0)
        );
        assert!(record.discovery.is_none(), "unknown: status walks the tree");
    }

    /// A full run's skips and links are saved beside its report; a scoped
    /// run keeps them.
    #[test]
    fn discovery_is_kept_across_scoped_runs() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new(dir.path()).unwrap();
        project.ensure_index_dir().unwrap();
        let mut discovery = DiscoveryRecord {
            followed_links: vec![("Sources/App".into(), "impl".into())],
            ..DiscoveryRecord::default()
        };
        discovery.skips.add(SkipKind::SymlinkOutsideRoot, "outside.rs".into());
        let full = IndexReport {
            files_seen: 4,
            ..IndexReport::default()
        };
        save(&project, &full, Some(discovery.clone())).unwrap();
        let scoped = IndexReport {
            files_seen: 1,
            scoped: true,
            ..IndexReport::default()
        };
        save(&project, &scoped, None).unwrap();
        let record = load(&project).unwrap();
        assert_eq!((record.report.files_seen, record.discovery), (1, Some(discovery)));
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(project.index_dir().join(FILE_NAME)).unwrap()).unwrap();
        assert_eq!(json["files_seen"], 1, "the report's fields stay at the top level");
        assert_eq!(json["discovery"]["skipped"]["symlink_outside_root"], 1);
        assert_eq!(json["discovery"]["followed_links"][0][1], "impl");
    }
}
