//! The indexing pipeline with the real model and a real LanceDB: change
//! detection cases, scoped runs, the writer lock, the memory-pressure path
//! and cancellation.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use common::{chunk_count, embedder, function, replace_in, run, touch, write};
use mvs_index::{IndexError, IndexOptions, Progress, Project, Scope, WriterLock};
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_detection_scopes_lock_memory_pressure_and_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..6 {
        let body: String = (0..3)
            .map(|j| function(&format!("step_{i}_{j}"), &format!("input.len() * {j} + {i}")))
            .collect();
        write(root, &format!("src/m{i}.rs"), &body);
    }
    let project = Project::new(root).unwrap();
    let embedder = embedder().await;
    let options = IndexOptions::default();

    // Memory pressure (a limit far below what the process uses): batches
    // halve, parsers pause, and the run still completes.
    let mut tight = options.clone();
    tight.max_memory_bytes = 1;
    let first = run(&project, &embedder, &tight).await;
    assert_eq!((first.files_parsed, first.chunks_written), (6, 18), "{first:?}");
    assert!(first.memory_pressure_events > 0, "{first:?}");
    assert!(first.peak_rss_bytes > 0);

    // Nothing changed: nothing parsed.
    let noop = run(&project, &embedder, &options).await;
    assert_eq!(
        (noop.files_unchanged, noop.files_parsed, noop.chunks_written),
        (6, 0, 0)
    );

    // Touched, same content: the hash says unchanged.
    touch(&root.join("src/m0.rs"));
    let touched = run(&project, &embedder, &options).await;
    assert_eq!((touched.files_unchanged, touched.chunks_written), (6, 0), "{touched:?}");

    // One function edited: the file is re-chunked, its other chunks keep
    // their vectors.
    replace_in(root, "src/m1.rs", "input.len() * 0 + 1", "input.len() * 100");
    let edit = run(&project, &embedder, &options).await;
    assert_eq!(
        (edit.files_parsed, edit.chunks_written, edit.vectors_reused),
        (1, 3, 2),
        "{edit:?}"
    );

    // Renamed: rows move, vectors are reused; deleted: rows go.
    std::fs::rename(root.join("src/m2.rs"), root.join("src/renamed.rs")).unwrap();
    std::fs::remove_file(root.join("src/m3.rs")).unwrap();
    let moved = run(&project, &embedder, &options).await;
    assert_eq!(
        (moved.files_deleted, moved.files_parsed, moved.vectors_reused),
        (2, 1, 3),
        "{moved:?}"
    );
    assert_eq!(chunk_count(&project).await, 15);

    // A scoped run looks only at its paths, and drops deleted ones.
    write(root, "src/new_a.rs", &function("fresh_a", "1"));
    write(root, "src/new_b.rs", &function("fresh_b", "2"));
    std::fs::remove_file(root.join("src/m4.rs")).unwrap();
    let mut scoped = options.clone();
    scoped.scope = Some(Scope::new(
        &project,
        [
            root.join("src/new_a.rs"),
            project.resolve_maybe_deleted("src/m4.rs").unwrap(),
        ],
    ));
    let scoped_run = run(&project, &embedder, &scoped).await;
    assert_eq!(
        (scoped_run.files_seen, scoped_run.files_parsed, scoped_run.files_deleted),
        (1, 1, 1),
        "{scoped_run:?}"
    );
    assert_eq!(chunk_count(&project).await, 13, "new_b.rs is not in the scope");

    // Another writer holds the lock: the run says who, and writes nothing.
    let lock = WriterLock::acquire(&project).unwrap();
    let (progress, _) = watch::channel(Progress::default());
    let blocked = mvs_index::index_project(&project, Arc::clone(&embedder), &options, &progress).await;
    match blocked {
        Err(IndexError::LockHeld { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
        other => panic!("expected LockHeld, got {other:?}"),
    }
    drop(lock);

    // Cancelled before it starts parsing: nothing is parsed, and the next
    // run does the work.
    let cancelled = IndexOptions {
        cancel: Arc::new(AtomicBool::new(true)),
        ..options.clone()
    };
    let stopped = run(&project, &embedder, &cancelled).await;
    assert!(stopped.cancelled && stopped.files_parsed == 0, "{stopped:?}");
    let resumed = run(&project, &embedder, &options).await;
    assert_eq!(resumed.files_parsed, 1, "{resumed:?}");
    assert_eq!(chunk_count(&project).await, 14);
}

/// A big run goes in two phases: chunks first (keyword search, results
/// labelled partial while vectors are pending), then vectors; at the end
/// nothing is pending and every chunk has a vector.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phase_runs_write_chunks_first_then_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Unseen text, so the vector cache cannot answer for the model.
    let nonce = format!("{:x}", std::process::id() as u64 * 7919 + nanos_since_epoch());
    for i in 0..8 {
        write(
            root,
            &format!("lib/f{i}.rs"),
            &function(&format!("tally_{nonce}_{i}"), &format!("input.len() + {i}")),
        );
    }
    let project = Project::new(root).unwrap();
    let embedder = embedder().await;
    let options = IndexOptions {
        two_phase_min_files: 4,
        ..IndexOptions::default()
    };
    let (progress, mut phases) = watch::channel(Progress::default());
    let seen = tokio::spawn(async move {
        let mut seen = Vec::new();
        while phases.changed().await.is_ok() {
            let phase = phases.borrow_and_update().phase.clone();
            if seen.last() != Some(&phase) {
                seen.push(phase);
            }
        }
        seen
    });
    let report = mvs_index::index_project(&project, Arc::clone(&embedder), &options, &progress)
        .await
        .unwrap();
    drop(progress);
    let seen = seen.await.unwrap();
    assert!(
        seen.iter().position(|p| p == "keywords") < seen.iter().position(|p| p == "vectors"),
        "{seen:?}"
    );
    assert_eq!((report.files_parsed, report.chunks_written), (8, 8), "{report:?}");
    // The time to first answer is the keywords phase's end, before the
    // vectors; the model read every chunk's tokens after it.
    assert!(report.keywords_ready_ms < report.elapsed_ms, "{report:?}");
    assert!(report.tokens_embedded >= 8 * 10, "{report:?}");
    let store = mvs_index::open_index(&project).await.unwrap();
    assert!(!store.vectors_pending());
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.chunks, stats.vectors), (8, 8));
}

/// Nanoseconds since the Unix epoch (a nonce for unseen fixture text).
fn nanos_since_epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
