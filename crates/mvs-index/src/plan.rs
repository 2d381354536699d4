//! Change detection, pure: from the files discovery found and the records
//! the index holds, which files are new, changed, unchanged or gone. No I/O
//! and no model. A file whose size or mtime moved is compared by content
//! only once a parse worker has read it anyway
//! ([`Candidate::unchanged_content`]), so each file is read at most once.

use std::collections::{HashMap, VecDeque};

use mvs_parse::SkipReason;
use mvs_store::FileRecord;

use crate::discovery::{Discovered, Scope};

/// How a run compares files with the index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// Re-chunk every file, changed or not.
    pub rechunk_all: bool,
    /// Generated files are chunked too: a `.gitattributes` edit that flags
    /// or unflags a file changes whether it is indexed, though its bytes
    /// did not change.
    pub include_generated: bool,
}

impl Rules {
    /// The rules of a run over an index whose chunks were made by the
    /// chunker of `index_chunker_version`: every file is re-chunked with
    /// `force`, or when that is not [`mvs_parse::CHUNKER_VERSION`] (chunks of
    /// other rules are stale even where files are not).
    pub fn new(force: bool, index_chunker_version: u32, include_generated: bool) -> Self {
        Self {
            rechunk_all: force || index_chunker_version != mvs_parse::CHUNKER_VERSION,
            include_generated,
        }
    }
}

/// A file to read, with what the index holds for it.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// The file as discovered.
    pub file: Discovered,
    /// Its stored record; `None` for a file new to the index.
    pub previous: Option<FileRecord>,
}

impl Candidate {
    /// The stored record when the content just read (`content_hash`, blake3
    /// hex) is the stored content and chunks are not being remade
    /// (`rechunk`): the file was touched, not edited, so its stored chunks
    /// stay and only its record is refreshed. `None`: chunk it.
    pub fn unchanged_content(&self, content_hash: &str, rechunk: bool) -> Option<&FileRecord> {
        self.previous.as_ref().filter(|previous| {
            !rechunk && previous.content_hash == content_hash && !language_added(previous, &self.file.rel_path)
        })
    }
}

/// What a run must do.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Files to read, in discovery order: new ones, and those whose size,
    /// mtime or generated mark moved (every file when re-chunking).
    pub work: VecDeque<Candidate>,
    /// Files whose size, mtime and generated mark match the index: not read.
    pub unchanged: usize,
    /// Stored paths (inside the scope) that discovery no longer finds, in
    /// path order: their rows go.
    pub deleted: Vec<String>,
}

impl Plan {
    /// Compares `discovered` with the `stored` records. With a `scope`,
    /// stored records outside it are neither compared nor deleted.
    pub fn new(discovered: Vec<Discovered>, stored: Vec<FileRecord>, scope: Option<&Scope>, rules: Rules) -> Self {
        let mut stored: HashMap<String, FileRecord> = stored
            .into_iter()
            .filter(|record| scope.is_none_or(|scope| scope.contains_relative(&record.path)))
            .map(|record| (record.path.clone(), record))
            .collect();
        let mut plan = Plan::default();
        for file in discovered {
            let previous = stored.remove(&file.rel_path);
            let unchanged = !rules.rechunk_all
                && previous
                    .as_ref()
                    .is_some_and(|previous| same_metadata(&file, previous, rules.include_generated));
            if unchanged {
                plan.unchanged += 1;
            } else {
                plan.work.push_back(Candidate { file, previous });
            }
        }
        plan.deleted = stored.into_keys().collect();
        plan.deleted.sort_unstable();
        plan
    }

    /// Paths whose stored chunks this run replaces or deletes: their
    /// vectors, looked up by chunk content, serve chunks that reappear
    /// (unchanged code in an edited file, a renamed or moved file).
    pub fn replaced_paths(&self) -> Vec<&str> {
        let replaced = self
            .work
            .iter()
            .filter(|candidate| candidate.previous.is_some())
            .map(|candidate| candidate.file.rel_path.as_str());
        self.deleted.iter().map(String::as_str).chain(replaced).collect()
    }

    /// Paths this run reads (new and changed files).
    pub fn work_paths(&self) -> Vec<&str> {
        self.work
            .iter()
            .map(|candidate| candidate.file.rel_path.as_str())
            .collect()
    }

    /// Nothing to read and nothing to delete.
    pub fn is_empty(&self) -> bool {
        self.work.is_empty() && self.deleted.is_empty()
    }
}

/// Whether `file` looks as `stored` recorded it: same size and mtime, the
/// same generated mark where that decides whether it is indexed, and not a
/// file skipped for its language when this build has one for it (a new
/// grammar indexes the files it covers on the next run; see
/// [`language_added`]).
fn same_metadata(file: &Discovered, stored: &FileRecord, include_generated: bool) -> bool {
    let flagged = stored.reason.as_deref() == Some(SkipReason::LinguistGenerated.as_str());
    stored.size == file.size
        && stored.mtime_ns == file.mtime_ns
        && flagged == (file.generated && !include_generated)
        && !language_added(stored, &file.rel_path)
}

/// Whether `stored` skipped the file at `rel_path` for want of a language
/// this build has.
fn language_added(stored: &FileRecord, rel_path: &str) -> bool {
    stored.reason.as_deref() == Some(SkipReason::UnsupportedLanguage.as_str()) && mvs_parse::supported_path(rel_path)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use mvs_store::FileStatus;

    use super::*;
    use crate::project::Project;

    fn found(path: &str, size: u64, mtime_ns: i64) -> Discovered {
        Discovered {
            path: PathBuf::from("/project").join(path),
            rel_path: path.into(),
            size,
            mtime_ns,
            generated: false,
        }
    }

    fn stored(path: &str, size: u64, mtime_ns: i64, content_hash: &str) -> FileRecord {
        FileRecord {
            path: path.into(),
            size,
            mtime_ns,
            content_hash: content_hash.into(),
            language: Some("rust".into()),
            status: FileStatus::Indexed,
            reason: None,
            chunks: 2,
            indexed_at_ms: 0,
        }
    }

    /// The rules of a plain run over an index of the current chunker.
    fn current() -> Rules {
        Rules::new(false, mvs_parse::CHUNKER_VERSION, false)
    }

    fn work_paths(plan: &Plan) -> Vec<(&str, bool)> {
        plan.work
            .iter()
            .map(|c| (c.file.rel_path.as_str(), c.previous.is_some()))
            .collect()
    }

    #[test]
    fn new_files_are_read_and_gone_files_deleted() {
        let plan = Plan::new(
            vec![found("a.rs", 10, 1), found("new.rs", 5, 1)],
            vec![stored("a.rs", 10, 1, "ha"), stored("gone.rs", 7, 1, "hg")],
            None,
            current(),
        );
        assert_eq!(work_paths(&plan), [("new.rs", false)]);
        assert_eq!(
            (plan.unchanged, plan.deleted.as_slice()),
            (1, ["gone.rs".to_string()].as_slice())
        );
        assert_eq!(plan.replaced_paths(), ["gone.rs"]);
        assert!(!plan.is_empty());
    }

    /// A file skipped for want of a grammar is read again once there is one
    /// (an upgrade that adds a language); one still without stays skipped.
    #[test]
    fn files_of_a_newly_supported_language_are_read_again() {
        let skipped = |path: &str| FileRecord {
            status: FileStatus::Skipped,
            reason: Some(SkipReason::UnsupportedLanguage.as_str().into()),
            language: None,
            chunks: 0,
            ..stored(path, 10, 1, "h")
        };
        let plan = Plan::new(
            vec![found("lib/repo.ex", 10, 1), found("data.unknownext", 10, 1)],
            vec![skipped("lib/repo.ex"), skipped("data.unknownext")],
            None,
            current(),
        );
        assert_eq!(work_paths(&plan), [("lib/repo.ex", true)]);
        assert_eq!(plan.unchanged, 1);
        // Read again, the same bytes are still chunked, not kept as skipped.
        assert!(plan.work[0].unchanged_content("h", false).is_none());
    }

    #[test]
    fn nothing_moved_means_nothing_to_do() {
        let plan = Plan::new(
            vec![found("a.rs", 10, 1)],
            vec![stored("a.rs", 10, 1, "ha")],
            None,
            current(),
        );
        assert!(plan.is_empty() && plan.unchanged == 1, "{plan:?}");
    }

    #[test]
    fn touched_file_is_read_but_keeps_its_chunks() {
        let plan = Plan::new(
            vec![found("a.rs", 10, 2)],
            vec![stored("a.rs", 10, 1, "ha")],
            None,
            current(),
        );
        assert_eq!(work_paths(&plan), [("a.rs", true)]);
        let kept = plan.work[0].unchanged_content("ha", current().rechunk_all);
        assert_eq!(kept.map(|r| r.chunks), Some(2));
    }

    #[test]
    fn edited_file_is_rechunked_and_its_vectors_offered_for_reuse() {
        let plan = Plan::new(
            vec![found("a.rs", 12, 2)],
            vec![stored("a.rs", 10, 1, "ha")],
            None,
            current(),
        );
        assert_eq!(work_paths(&plan), [("a.rs", true)]);
        assert!(plan.work[0].unchanged_content("edited", false).is_none());
        assert_eq!(plan.replaced_paths(), ["a.rs"]);
    }

    #[test]
    fn renamed_file_is_new_at_its_new_path_and_deleted_at_its_old_one() {
        let plan = Plan::new(
            vec![found("b.rs", 10, 1)],
            vec![stored("a.rs", 10, 1, "h")],
            None,
            current(),
        );
        assert_eq!(work_paths(&plan), [("b.rs", false)]);
        assert_eq!(plan.deleted, ["a.rs"]);
        // The old path's vectors serve the moved chunks.
        assert_eq!(plan.replaced_paths(), ["a.rs"]);
    }

    #[test]
    fn force_rechunks_every_file_even_with_the_same_content() {
        let rules = Rules::new(true, mvs_parse::CHUNKER_VERSION, false);
        let plan = Plan::new(
            vec![found("a.rs", 10, 1)],
            vec![stored("a.rs", 10, 1, "ha")],
            None,
            rules,
        );
        assert_eq!((work_paths(&plan), plan.unchanged), (vec![("a.rs", true)], 0));
        assert!(plan.work[0].unchanged_content("ha", rules.rechunk_all).is_none());
    }

    #[test]
    fn another_chunker_version_rechunks_every_file() {
        let rules = Rules::new(false, mvs_parse::CHUNKER_VERSION - 1, false);
        assert!(rules.rechunk_all);
        let plan = Plan::new(
            vec![found("a.rs", 10, 1)],
            vec![stored("a.rs", 10, 1, "ha")],
            None,
            rules,
        );
        assert_eq!(work_paths(&plan), [("a.rs", true)]);
        assert!(plan.work[0].unchanged_content("ha", rules.rechunk_all).is_none());
    }

    #[test]
    fn a_new_generated_mark_makes_an_untouched_file_change() {
        let mut generated = found("gen.rs", 10, 1);
        generated.generated = true;
        let plan = Plan::new(
            vec![generated.clone()],
            vec![stored("gen.rs", 10, 1, "h")],
            None,
            current(),
        );
        assert_eq!(work_paths(&plan), [("gen.rs", true)]);
        // Generated files wanted: the mark does not matter.
        let including = Rules::new(false, mvs_parse::CHUNKER_VERSION, true);
        let plan = Plan::new(vec![generated], vec![stored("gen.rs", 10, 1, "h")], None, including);
        assert_eq!(plan.unchanged, 1);
    }

    #[test]
    fn a_scoped_plan_leaves_records_outside_the_scope_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        let project = Project::new(dir.path()).unwrap();
        let scope = Scope::new(&project, [project.root().join("src")]);
        let plan = Plan::new(
            Vec::new(),
            vec![stored("src/gone.rs", 1, 1, "h"), stored("docs/kept.md", 1, 1, "h")],
            Some(&scope),
            current(),
        );
        assert_eq!(plan.deleted, ["src/gone.rs"]);
    }
}
