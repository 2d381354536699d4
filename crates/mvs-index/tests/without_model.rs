//! The indexing pipeline and search over a real LanceDB with a stand-in
//! embedder ([`common::HashedWords`]): change detection, the two-phase run
//! and the search path, without loading the model.

mod common;

use std::sync::Arc;

use common::{HashedWords, chunk_count, function, replace_in, run, touch, write};
use mvs_index::{IndexError, IndexOptions, Project, Query, SearchArgs, TextEmbedder};

/// Three files of two functions each.
fn tree(root: &std::path::Path) {
    for i in 0..3 {
        let body: String = (0..2)
            .map(|j| function(&format!("step_{i}_{j}"), &format!("input.len() * {j} + {i}")))
            .collect();
        write(root, &format!("src/m{i}.rs"), &body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_what_changed_is_embedded_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    let project = Project::new(root).unwrap();
    let embedder = Arc::new(HashedWords::default());
    let options = IndexOptions::default();

    let first = run(&project, &embedder, &options).await;
    assert_eq!((first.files_parsed, first.chunks_written), (3, 6), "{first:?}");
    assert_eq!((first.model.as_str(), embedder.embedded()), (HashedWords::MODEL_ID, 6));

    let noop = run(&project, &embedder, &options).await;
    assert_eq!(
        (noop.files_unchanged, noop.files_parsed, noop.chunks_written),
        (3, 0, 0),
        "{noop:?}"
    );

    touch(&root.join("src/m0.rs"));
    let touched = run(&project, &embedder, &options).await;
    assert_eq!((touched.files_unchanged, touched.chunks_written), (3, 0), "{touched:?}");

    replace_in(root, "src/m1.rs", "input.len() * 0 + 1", "input.len() * 100");
    let edit = run(&project, &embedder, &options).await;
    assert_eq!(
        (edit.files_parsed, edit.chunks_written, edit.vectors_reused),
        (1, 2, 1),
        "{edit:?}"
    );

    std::fs::remove_file(root.join("src/m2.rs")).unwrap();
    let deleted = run(&project, &embedder, &options).await;
    assert_eq!((deleted.files_deleted, deleted.files_parsed), (1, 0), "{deleted:?}");
    assert_eq!(chunk_count(&project).await, 4);
    // Only the edited function went through the embedder again.
    assert_eq!(embedder.embedded(), 7);
}

/// A big run writes every file's chunks first, then their vectors; at the
/// end nothing is pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phase_runs_end_with_every_vector() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let project = Project::new(dir.path()).unwrap();
    let options = IndexOptions {
        two_phase_min_files: 2,
        ..IndexOptions::default()
    };
    let report = run(&project, &Arc::new(HashedWords::default()), &options).await;
    assert_eq!((report.files_parsed, report.chunks_written), (3, 6), "{report:?}");
    let store = mvs_index::open_index(&project).await.unwrap();
    assert!(!store.vectors_pending());
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.chunks, stats.vectors), (6, 6));
}

/// [`tree`] under `root`, an embedder with a vector cache, and options that
/// make every run of two or more files go in two phases.
fn cached_two_phase(root: &std::path::Path) -> (Project, Arc<HashedWords>, IndexOptions) {
    tree(root);
    let options = IndexOptions {
        two_phase_min_files: 2,
        ..IndexOptions::default()
    };
    (
        Project::new(root).unwrap(),
        Arc::new(HashedWords::remembering()),
        options,
    )
}

/// The report counts each chunk the index holds once, however many times a
/// run committed it. Regression: a rebuild whose vector cache knew some of a
/// file's chunks (they land with vectors in the keywords phase, the file is
/// committed whole again in the vectors phase) reported 7 chunks for 6.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_phase_run_counts_each_chunk_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (project, embedder, options) = cached_two_phase(root);
    let first = run(&project, &embedder, &options).await;
    assert_eq!((first.chunks_written, embedder.embedded()), (6, 6), "{first:?}");

    // A rebuild from nothing with one function edited: m1.rs is partly
    // known (one chunk cached, one new), m0.rs and m2.rs wholly.
    std::fs::remove_dir_all(root.join(".mcp-vector-search")).unwrap();
    replace_in(root, "src/m1.rs", "input.len() * 0 + 1", "input.len() * 100");
    let rebuilt = run(&project, &embedder, &options).await;
    assert_eq!(
        embedder.embedded(),
        7,
        "only the edited function goes through the model"
    );
    assert_eq!(chunk_count(&project).await, 6);
    assert_eq!((rebuilt.files_parsed, rebuilt.chunks_written), (3, 6), "{rebuilt:?}");

    // Every file partly known: each is committed in both phases.
    std::fs::remove_dir_all(root.join(".mcp-vector-search")).unwrap();
    for i in 0..3 {
        replace_in(
            root,
            &format!("src/m{i}.rs"),
            &format!("input.len() * 1 + {i}"),
            "input.len() * 7",
        );
    }
    let again = run(&project, &embedder, &options).await;
    assert_eq!(embedder.embedded(), 10);
    assert_eq!((again.files_parsed, again.chunks_written), (3, 6), "{again:?}");
    assert_eq!(chunk_count(&project).await, 6);
    let store = mvs_index::open_index(&project).await.unwrap();
    assert!(!store.vectors_pending());
}

/// The same for vectors taken from the index's own rows: an edit of every
/// file, big enough for two phases, reuses each unchanged function's vector
/// once (it was counted in both phases: 6 for 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_phase_edit_counts_each_reused_vector_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (project, embedder, options) = cached_two_phase(root);
    run(&project, &embedder, &options).await;
    for i in 0..3 {
        replace_in(
            root,
            &format!("src/m{i}.rs"),
            &format!("input.len() * 1 + {i}"),
            "input.len() * 9",
        );
    }
    let edit = run(&project, &embedder, &options).await;
    assert_eq!(
        (edit.files_parsed, edit.chunks_written, edit.vectors_reused),
        (3, 6, 3),
        "{edit:?}"
    );
    assert_eq!(embedder.embedded(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validated_queries_search_through_the_seam() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let project = Project::new(dir.path()).unwrap();
    let embedder = Arc::new(HashedWords::default());
    run(&project, &embedder, &IndexOptions::default()).await;
    let store = mvs_index::open_index(&project).await.unwrap();

    let query = Query::from_args(
        SearchArgs {
            query: "step_2_1".into(),
            limit: Some(3),
            ..SearchArgs::default()
        },
        project.root(),
    )
    .unwrap();
    let response = mvs_index::search_response(&project, &store, Some(Arc::clone(&embedder)), &query)
        .await
        .unwrap();
    assert_eq!(response.query, "step_2_1");
    let top = &response.results[0].chunk;
    assert_eq!((top.file_path.as_str(), top.name.as_str()), ("src/m2.rs", "step_2_1"));
    assert!(response.results.len() <= 3 && !response.partial);

    // A keyword search needs no embedder at all.
    let keyword = Query::from_args(
        SearchArgs {
            query: "step_0_0".into(),
            mode: Some("keyword".into()),
            ..SearchArgs::default()
        },
        project.root(),
    )
    .unwrap();
    assert!(!keyword.needs_embedder());
    let hits = mvs_index::search::<dyn TextEmbedder>(&project, &store, None, &keyword)
        .await
        .unwrap();
    assert_eq!(hits[0].chunk.name, "step_0_0");

    // Vectors of another model are refused.
    let other = Arc::new(HashedWords::named("test/other"));
    let refused = mvs_index::search(&project, &store, Some(other), &query).await;
    assert!(matches!(refused, Err(IndexError::ModelMismatch { .. })), "{refused:?}");
}
