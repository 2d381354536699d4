//! Crash points of per-file replace and delete. A child process (this test
//! binary run again, test `crash_child`) performs one operation on a real
//! LanceDB index and is killed with SIGKILL: at each named step between
//! commits (a tracing layer reacts to the store's step events), and at
//! spread-out moments inside the commits themselves. The parent then opens
//! the index and checks that every file shows either its old or its new
//! chunks, never a mix, both, duplicates, or chunks without the state
//! the next indexing run repairs.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mvs_store::{ChunkRecord, FileRecord, FileStatus, Store};

const DIM: usize = 8;
/// Chunks per file: enough that a commit takes a while to write.
const CHUNKS: usize = 400;
const ENV_DIR: &str = "MVS_CRASH_DIR";
const ENV_OP: &str = "MVS_CRASH_OP";
const ENV_STEP: &str = "MVS_CRASH_STEP";

fn chunk(file: &str, version: &str, i: usize) -> ChunkRecord {
    let content = format!("fn item_{i}() {{ /* {version} */ }}");
    ChunkRecord {
        chunk_id: format!("{file}#item_{i}"),
        file_path: file.into(),
        language: "rust".into(),
        kind: "function".into(),
        name: format!("item_{i}"),
        qualified_name: format!("item_{i}"),
        signature: format!("fn item_{i}()"),
        doc: None,
        parent_id: None,
        start_line: i as u32 + 1,
        end_line: i as u32 + 1,
        start_byte: 0,
        end_byte: content.len() as u64,
        content_hash: format!("{version}-{i}"),
        content,
        embedding_hash: None,
        part: None,
        cell: None,
    }
}

/// Version `version` of `file`: its record and chunks (`count` of them).
fn version(file: &str, version: &str, count: usize) -> (FileRecord, Vec<ChunkRecord>, Vec<Vec<f32>>) {
    let record = FileRecord {
        path: file.into(),
        size: count as u64,
        mtime_ns: 1,
        content_hash: version.into(),
        language: Some("rust".into()),
        status: FileStatus::Indexed,
        reason: None,
        chunks: count as u32,
        indexed_at_ms: 0,
    };
    let chunks = (0..count).map(|i| chunk(file, version, i)).collect();
    let vectors = (0..count)
        .map(|i| {
            let mut v = vec![0.1f32; DIM];
            v[i % DIM] = 1.0;
            v
        })
        .collect();
    (record, chunks, vectors)
}

/// What one file looks like in the index: the versions its chunks carry,
/// its chunk count, whether ids repeat, and its record's version.
#[derive(Debug)]
struct FileState {
    chunk_versions: BTreeSet<String>,
    chunks: usize,
    duplicate_ids: bool,
    record: Option<String>,
}

async fn state(store: &Store, file: &str) -> FileState {
    let chunks = store.chunks_of_files(&[file]).await.unwrap();
    let ids: BTreeSet<&str> = chunks.iter().map(|(c, _)| c.chunk_id.as_str()).collect();
    FileState {
        chunk_versions: chunks
            .iter()
            .map(|(c, _)| c.content_hash.split('-').next().unwrap().to_string())
            .collect(),
        chunks: chunks.len(),
        duplicate_ids: ids.len() != chunks.len(),
        record: store
            .file_records_for(&[file])
            .await
            .unwrap()
            .into_iter()
            .next()
            .map(|r| r.content_hash),
    }
}

fn versions(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// The child: runs `MVS_CRASH_OP` on the index in `MVS_CRASH_DIR`, killing
/// itself at step `MVS_CRASH_STEP` (if set). Does nothing in a normal run.
#[tokio::test]
async fn crash_child() {
    let (Ok(dir), Ok(op)) = (std::env::var(ENV_DIR), std::env::var(ENV_OP)) else {
        return;
    };
    if let Ok(step) = std::env::var(ENV_STEP) {
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry().with(KillAtStep(step));
        tracing::subscriber::set_global_default(subscriber).unwrap();
    }
    let store = Store::open(Path::new(&dir), "test-model", DIM).await.unwrap();
    match op.as_str() {
        "replace" => {
            let (record, chunks, vectors) = version("src/a.rs", "new", CHUNKS / 2);
            store.replace_files(&[record], &chunks, &vectors).await.unwrap();
        }
        "delete" => store.delete_files(&["src/a.rs".to_string()]).await.unwrap(),
        other => panic!("unknown op {other}"),
    }
}

/// Sends SIGKILL to this process when the store emits the step event.
struct KillAtStep(String);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for KillAtStep {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Step(Option<String>);
        impl tracing::field::Visit for Step {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "step" {
                    self.0 = Some(value.to_string());
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut step = Step(None);
        event.record(&mut step);
        if step.0.as_deref() == Some(self.0.as_str()) {
            kill_self();
        }
    }
}

fn kill_self() -> ! {
    let pid = std::process::id().to_string();
    let _ = Command::new("kill").args(["-9", &pid]).status();
    std::thread::sleep(Duration::from_secs(60));
    unreachable!("SIGKILL did not arrive");
}

/// Builds the starting index: `src/a.rs` at version `old` (CHUNKS chunks)
/// and `src/b.rs`, which no operation touches.
async fn prepare(dir: &Path) {
    let store = Store::open(dir, "test-model", DIM).await.unwrap();
    for (file, v) in [("src/a.rs", "old"), ("src/b.rs", "other")] {
        let (record, chunks, vectors) = version(file, v, CHUNKS);
        store.replace_files(&[record], &chunks, &vectors).await.unwrap();
    }
}

/// Runs the child; `kill_after` kills it from outside after that long
/// instead of at a step. Returns whether it died of SIGKILL.
fn run_child(dir: &Path, op: &str, step: Option<&str>, kill_after: Option<Duration>) -> bool {
    use std::os::unix::process::ExitStatusExt;
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["crash_child", "--exact", "--nocapture"])
        .env(ENV_DIR, dir)
        .env(ENV_OP, op)
        .stdout(std::process::Stdio::null());
    if let Some(step) = step {
        command.env(ENV_STEP, step);
    }
    let mut child = command.spawn().unwrap();
    if let Some(delay) = kill_after {
        std::thread::sleep(delay);
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    status.signal() == Some(9)
}

/// After any crash the untouched file is intact and the store still works.
async fn check_untouched_and_usable(dir: &Path) {
    let store = Store::open(dir, "test-model", DIM).await.unwrap();
    let b = state(&store, "src/b.rs").await;
    assert_eq!(
        (b.chunks, b.chunk_versions, b.record),
        (CHUNKS, versions(&["other"]), Some("other".into()))
    );
    let (record, chunks, vectors) = version("src/a.rs", "repaired", 3);
    store.replace_files(&[record], &chunks, &vectors).await.unwrap();
    let a = state(&store, "src/a.rs").await;
    assert_eq!((a.chunks, a.chunk_versions), (3, versions(&["repaired"])));
}

#[tokio::test]
async fn replace_killed_at_each_step_leaves_old_or_new_chunks() {
    // (step, versions of the chunks, version of the record) after the kill.
    let cases = [
        // New chunks committed, the record not yet: the record's stale
        // hash makes the next run redo the file.
        ("chunks_committed", "new", "old"),
        ("files_recorded", "new", "new"),
    ];
    for (step, chunks_after, record_after) in cases {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path()).await;
        assert!(
            run_child(dir.path(), "replace", Some(step), None),
            "child not killed at {step}"
        );
        let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
        let a = state(&store, "src/a.rs").await;
        assert_eq!(a.chunk_versions, versions(&[chunks_after]), "{step}: {a:?}");
        assert_eq!(a.chunks, CHUNKS / 2, "{step}: {a:?}");
        assert!(!a.duplicate_ids, "{step}");
        assert_eq!(a.record.as_deref(), Some(record_after), "{step}");
        drop(store);
        check_untouched_and_usable(dir.path()).await;
    }
}

#[tokio::test]
async fn delete_killed_at_each_step_leaves_a_state_the_next_run_finishes() {
    for (step, record_after) in [("chunks_deleted", Some("old")), ("records_deleted", None)] {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path()).await;
        assert!(
            run_child(dir.path(), "delete", Some(step), None),
            "child not killed at {step}"
        );
        let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
        let a = state(&store, "src/a.rs").await;
        // Chunks are gone in one commit; a remaining record of a file that
        // is gone from disk is deleted by the next run.
        assert_eq!(a.chunks, 0, "{step}: {a:?}");
        assert_eq!(a.record.as_deref(), record_after, "{step}");
        drop(store);
        check_untouched_and_usable(dir.path()).await;
    }
}

/// Kills inside the commits (data files written, manifest not yet, and so
/// on), at moments spread over a child's whole run (measured first).
#[tokio::test]
async fn replace_killed_mid_commit_never_mixes_versions() {
    let timing = tempfile::tempdir().unwrap();
    prepare(timing.path()).await;
    let started = std::time::Instant::now();
    assert!(!run_child(timing.path(), "replace", None, None));
    let whole_run = started.elapsed();
    let (mut killed, mut left_old) = (0, 0);
    for twelfth in 1..12 {
        let delay = whole_run * twelfth / 12;
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path()).await;
        killed += run_child(dir.path(), "replace", None, Some(delay)) as usize;
        let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
        let a = state(&store, "src/a.rs").await;
        let old = (versions(&["old"]), CHUNKS);
        let new = (versions(&["new"]), CHUNKS / 2);
        let seen = (a.chunk_versions.clone(), a.chunks);
        assert!(seen == old || seen == new, "after {delay:?}: {a:?}");
        left_old += (seen == old) as usize;
        assert!(!a.duplicate_ids, "after {delay:?}");
        drop(store);
        check_untouched_and_usable(dir.path()).await;
    }
    eprintln!("whole run {whole_run:?}: {killed} of 11 children killed, {left_old} left the old version");
    assert!(killed > 0, "no child was killed before it finished");
}
