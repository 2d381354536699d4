//! The report of the last completed run, kept beside the index so `status`
//! can show it without loading anything else.

use crate::IndexError;
use crate::project::Project;
use crate::report::IndexReport;

/// File name inside the index directory.
pub(crate) const FILE_NAME: &str = "last_run.json";

/// Saves the report atomically (write, then rename).
pub(crate) fn save(project: &Project, report: &IndexReport) -> Result<(), IndexError> {
    let path = project.index_dir().join(FILE_NAME);
    let staged = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(report).expect("report serialises");
    std::fs::write(&staged, bytes)
        .and_then(|()| std::fs::rename(&staged, &path))
        .map_err(|source| IndexError::Io { path, source })
}

/// The last report, if one was saved and is readable.
pub(crate) fn load(project: &Project) -> Option<IndexReport> {
    let bytes = std::fs::read(project.index_dir().join(FILE_NAME)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_of_older_versions_still_load() {
        let old = r#"{"files_seen": 3, "files_parsed": 2, "chunks_written": 5, "model": "m", "device": "cpu"}"#;
        let report: IndexReport = serde_json::from_str(old).unwrap();
        assert_eq!(
            (report.files_seen, report.chunks_written, report.vectors_reused),
            (3, 5, 0)
        );
    }
}
