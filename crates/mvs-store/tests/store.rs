//! The store against a real LanceDB in a temp dir. Vectors are synthetic:
//! this tests storage and ranking mechanics, not the model.

use mvs_store::{
    ChunkPart, ChunkRecord, FileRecord, FileStatus, IndexPurpose, SearchFilter, SearchMode, SearchRequest, Store,
    StoreError, TestFilter,
};

const DIM: usize = 8;

/// A unit vector pointing mostly along `axis`.
fn vector(axis: usize) -> Vec<f32> {
    let mut v = [0.05f32; DIM];
    v[axis] = 1.0;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

fn chunk(file: &str, name: &str, content: &str) -> ChunkRecord {
    ChunkRecord {
        chunk_id: format!("{file}#{name}"),
        file_path: file.into(),
        language: "rust".into(),
        kind: "function".into(),
        name: name.into(),
        qualified_name: name.into(),
        signature: format!("fn {name}()"),
        doc: None,
        parent_id: None,
        start_line: 1,
        end_line: 3,
        start_byte: 0,
        end_byte: content.len() as u64,
        content: content.into(),
        content_hash: format!("{:x}", content.len()),
        embedding_hash: None,
        part: None,
        cell: None,
    }
}

fn file(path: &str, chunks: u32) -> FileRecord {
    FileRecord {
        path: path.into(),
        size: 10,
        mtime_ns: 1,
        content_hash: "h".into(),
        language: Some("rust".into()),
        status: FileStatus::Indexed,
        reason: None,
        chunks,
        indexed_at_ms: 0,
    }
}

async fn search(store: &Store, text: &str, vector: Option<Vec<f32>>, mode: SearchMode) -> Vec<String> {
    filtered(store, text, vector, mode, SearchFilter::default()).await
}

async fn filtered(
    store: &Store,
    text: &str,
    vector: Option<Vec<f32>>,
    mode: SearchMode,
    filter: SearchFilter,
) -> Vec<String> {
    store
        .search(&SearchRequest {
            text: text.into(),
            vector,
            mode,
            limit: 5,
            filter,
            exact: false,
            keyword_weight: None,
            min_score: 0.0,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|hit| hit.chunk.chunk_id)
        .collect()
}

#[tokio::test]
async fn round_trip_replace_delete_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    let a = vec![
        chunk(
            "src/config.rs",
            "parseConfigFile",
            "fn parseConfigFile() { read settings }",
        ),
        chunk("src/config.rs", "write_settings", "fn write_settings() { save }"),
    ];
    let b = vec![chunk("src/net.rs", "HttpClient::send", "fn send() { socket }")];
    store
        .replace_files(&[file("src/config.rs", 2)], &a, &[vector(0), vector(1)])
        .await
        .unwrap();
    store
        .replace_files(&[file("src/net.rs", 1)], &b, &[vector(2)])
        .await
        .unwrap();
    store.refresh_indices().await.unwrap();

    let stats = store.stats().await.unwrap();
    assert_eq!((stats.files, stats.chunks, stats.vectors), (2, 3, 3));
    let (found, stored_vector) = store.chunk("src/net.rs#HttpClient::send").await.unwrap().unwrap();
    assert_eq!(found.content, "fn send() { socket }");
    assert_eq!(stored_vector, vector(2));
    assert!(store.chunk("no such id' OR '1'='1").await.unwrap().is_none());
    assert_eq!(stats.languages["rust"], (2, 3));

    // Vector lane: nearest first.
    let hits = search(&store, "", Some(vector(2)), SearchMode::Vector).await;
    assert_eq!(hits[0], "src/net.rs#HttpClient::send");
    // Keyword lane: code-aware tokens (camelCase split, `::` paths).
    let hits = search(&store, "parse", None, SearchMode::Keyword).await;
    assert_eq!(hits, vec!["src/config.rs#parseConfigFile"]);
    let hits = search(&store, "HttpClient", None, SearchMode::Keyword).await;
    assert_eq!(hits, vec!["src/net.rs#HttpClient::send"]);
    // An identifier query puts the definition of that exact name first.
    let hits = search(&store, "write_settings", Some(vector(0)), SearchMode::Hybrid).await;
    assert_eq!(hits[0], "src/config.rs#write_settings");
    // Hybrid: both lanes, with per-lane ranks.
    let request = SearchRequest {
        text: "settings".into(),
        vector: Some(vector(1)),
        mode: SearchMode::Hybrid,
        limit: 3,
        filter: SearchFilter::default(),
        exact: false,
        keyword_weight: None,
        min_score: 0.0,
    };
    let hybrid = store.search(&request).await.unwrap();
    assert_eq!(hybrid[0].chunk.chunk_id, "src/config.rs#write_settings");
    assert_eq!(hybrid[0].vector_rank, Some(1));
    assert!(hybrid[0].keyword_rank.is_some());
    assert!(hybrid.windows(2).all(|w| w[0].score >= w[1].score));
    let ids =
        |hits: &[mvs_store::SearchHit]| -> Vec<String> { hits.iter().map(|h| h.chunk.chunk_id.clone()).collect() };
    // The similarity threshold drops, after ranking, what scores below it.
    let threshold = hybrid[0].score;
    let above = store
        .search(&SearchRequest {
            min_score: threshold,
            ..request.clone()
        })
        .await
        .unwrap();
    let expected: Vec<_> = hybrid.iter().filter(|h| h.score >= threshold).cloned().collect();
    assert_eq!(ids(&above), ids(&expected));
    // A keyword weight of 0 leaves a description to the vector lane alone.
    let vectors_only = store
        .search(&SearchRequest {
            keyword_weight: Some(0.0),
            ..request.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        ids(&vectors_only),
        search(&store, "", Some(vector(1)), SearchMode::Vector).await
    );

    // Rows added after the indices exist are searched before they are
    // folded in (a small change does not rebuild index files).
    let late = vec![chunk(
        "src/late.rs",
        "reconcileLedger",
        "fn reconcileLedger() { balance }",
    )];
    store
        .replace_files(&[file("src/late.rs", 1)], &late, &[vector(4)])
        .await
        .unwrap();
    store.refresh_indices().await.unwrap();
    assert_eq!(
        search(&store, "reconcileLedger", None, SearchMode::Keyword).await,
        vec!["src/late.rs#reconcileLedger"]
    );
    assert_eq!(
        search(&store, "", Some(vector(4)), SearchMode::Vector).await[0],
        "src/late.rs#reconcileLedger"
    );
    store.delete_files(&["src/late.rs".to_string()]).await.unwrap();

    // Replacing a file swaps all its chunks and leaves other files alone.
    let a2 = vec![chunk("src/config.rs", "load", "fn load() {}")];
    store
        .replace_files(&[file("src/config.rs", 1)], &a2, &[vector(3)])
        .await
        .unwrap();
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.chunks, 2);
    let hits = search(&store, "", Some(vector(0)), SearchMode::Vector).await;
    assert!(!hits.contains(&"src/config.rs#parseConfigFile".to_string()));

    // Deleting a file removes its rows and record.
    store.delete_files(&["src/net.rs".to_string()]).await.unwrap();
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.files, stats.chunks), (1, 1));
    store.refresh_indices().await.unwrap();
    assert!(search(&store, "HttpClient", None, SearchMode::Keyword).await.is_empty());

    // Reopening sees the same data.
    drop(store);
    let reopened = Store::open_existing(dir.path()).await.unwrap().unwrap();
    assert_eq!(reopened.stats().await.unwrap().chunks, 1);
}

#[tokio::test]
async fn another_model_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path(), "model-a", DIM).await.unwrap();
    let err = Store::open(dir.path(), "model-b", 16).await.err().unwrap();
    assert!(matches!(err, StoreError::Incompatible(_)));
    assert!(err.to_string().contains("index --force"), "{err}");
    // Same id, other dimension (a user model directory that changed): refused too.
    let err = Store::open(dir.path(), "model-a", 16).await.err().unwrap();
    assert!(err.to_string().contains(&format!("({DIM}-d)")), "{err}");
}

/// Filters apply in each lane before ranking: a chunk that unfiltered search
/// ranks far below the lanes' candidate depth is still the top result of a
/// filtered search, in every mode.
#[tokio::test]
async fn filters_apply_in_every_lane_before_ranking() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    // 40 close matches in Rust library code...
    let crowd: Vec<ChunkRecord> = (0..40)
        .map(|i| {
            chunk(
                "src/big.rs",
                &format!("alpha_{i}"),
                &format!("fn alpha_{i}() {{ alpha alpha }}"),
            )
        })
        .collect();
    let crowd_vectors = vec![vector(0); crowd.len()];
    store
        .replace_files(&[file("src/big.rs", 40)], &crowd, &crowd_vectors)
        .await
        .unwrap();
    // ...one distant Python test method, and an inline Rust test module
    // beside library code (test code too).
    let mut lone = chunk("tests/test_alpha.py", "check_alpha", "def check_alpha(self): alpha");
    lone.language = "python".into();
    lone.kind = "method".into();
    lone.qualified_name = "AlphaTest.check_alpha".into();
    let mut inline = chunk("src/small.rs", "alpha_works", "fn alpha_works() { alpha }");
    inline.qualified_name = "tests::alpha_works".into();
    store
        .replace_files(
            &[file("tests/test_alpha.py", 1), file("src/small.rs", 1)],
            &[lone, inline],
            &[vector(5), vector(7)],
        )
        .await
        .unwrap();
    store.refresh_indices().await.unwrap();
    let lone_id = "tests/test_alpha.py#check_alpha";
    let inline_id = "src/small.rs#alpha_works";
    let unfiltered = filtered(
        &store,
        "alpha",
        Some(vector(0)),
        SearchMode::Hybrid,
        SearchFilter::default(),
    )
    .await;
    assert!(!unfiltered.contains(&lone_id.to_string()));

    let cases = [
        SearchFilter {
            languages: vec!["python".into()],
            ..SearchFilter::default()
        },
        SearchFilter {
            kinds: vec!["method".into()],
            ..SearchFilter::default()
        },
        SearchFilter {
            include_globs: vec!["*.py".into()],
            ..SearchFilter::default()
        },
        SearchFilter {
            exclude_globs: vec!["src/**".into()],
            ..SearchFilter::default()
        },
        SearchFilter {
            extensions: vec![".py".into()],
            ..SearchFilter::default()
        },
        SearchFilter {
            name: Some("AlphaTest.check_alpha".into()),
            ..SearchFilter::default()
        },
    ];
    for filter in cases {
        for (mode, vector) in [
            (SearchMode::Vector, Some(vector(0))),
            (SearchMode::Keyword, None),
            (SearchMode::Hybrid, Some(vector(0))),
        ] {
            let hits = filtered(&store, "alpha", vector, mode, filter.clone()).await;
            assert_eq!(hits, vec![lone_id], "{mode:?} with {filter:?}");
        }
    }
    // Test code only: the test file's method and the inline test module's
    // function, in every mode.
    for (mode, vector) in [
        (SearchMode::Vector, Some(vector(0))),
        (SearchMode::Keyword, None),
        (SearchMode::Hybrid, Some(vector(0))),
    ] {
        let only_tests = SearchFilter {
            tests: TestFilter::Only,
            ..SearchFilter::default()
        };
        let mut hits = filtered(&store, "alpha", vector, mode, only_tests).await;
        hits.sort();
        assert_eq!(hits, vec![inline_id, lone_id], "{mode:?}");
    }
    // Excluding tests leaves only the crowd; a filter that matches nothing
    // returns nothing rather than unfiltered results.
    let hits = filtered(
        &store,
        "alpha",
        Some(vector(0)),
        SearchMode::Hybrid,
        SearchFilter {
            tests: TestFilter::Exclude,
            ..SearchFilter::default()
        },
    )
    .await;
    assert_eq!(hits.len(), 5);
    assert!(hits.iter().all(|id| id.starts_with("src/big.rs#")));
    let none = SearchFilter {
        languages: vec!["cobol".into()],
        ..SearchFilter::default()
    };
    assert!(
        filtered(&store, "alpha", Some(vector(0)), SearchMode::Hybrid, none)
            .await
            .is_empty()
    );
}

/// The dev set's zod miss: a near-copy in an older version directory
/// (`v3/`) outranked the current one (`v4/`) in every lane. An older
/// version beside a newer one counts less, unless the query names it; a
/// lone version directory is ordinary code.
#[tokio::test]
async fn older_version_directories_yield_to_newer_ones_unless_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    let body = "fn parse_union(input: Input) -> Output { union discriminated parse }";
    // The older copy is a little closer to the query's vector.
    let near_copy: Vec<f32> = {
        let v: Vec<f32> = vector(0)
            .iter()
            .zip(vector(1))
            .map(|(a, b)| 0.95 * a + 0.05 * b)
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect()
    };
    for (path, embedding) in [
        ("v3/types.rs", vector(0)),
        ("v4/core/schemas.rs", near_copy),
        ("api/v1/routes.rs", vector(2)),
    ] {
        let record = chunk(path, "parse_union", body);
        store
            .replace_files(&[file(path, 1)], &[record], &[embedding])
            .await
            .unwrap();
    }
    store.refresh_indices().await.unwrap();
    let first = |ids: Vec<String>| ids.into_iter().next().unwrap();
    let hybrid = search(&store, "union discriminated parse", Some(vector(0)), SearchMode::Hybrid).await;
    assert_eq!(first(hybrid), "v4/core/schemas.rs#parse_union");
    let named = search(
        &store,
        "v3 union discriminated parse",
        Some(vector(0)),
        SearchMode::Hybrid,
    )
    .await;
    assert_eq!(first(named), "v3/types.rs#parse_union");
    // No v2 beside api/v1: nothing to yield to.
    let lone = search(&store, "union discriminated parse", Some(vector(2)), SearchMode::Vector).await;
    assert_eq!(first(lone), "api/v1/routes.rs#parse_union");
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .map(|entry| match entry.file_type().unwrap().is_dir() {
            true => dir_size(&entry.path()),
            false => entry.metadata().unwrap().len(),
        })
        .sum()
}

/// 200 edits of one file, each followed by the maintenance a run does, keep
/// the index within 2x the size of a fresh index of the same content.
#[tokio::test]
async fn repeated_edits_do_not_grow_the_index_without_bound() {
    let records = |round: usize| -> (Vec<FileRecord>, Vec<ChunkRecord>, Vec<Vec<f32>>) {
        let mut files = Vec::new();
        let mut chunks = Vec::new();
        for f in 0..20 {
            let path = format!("src/file_{f}.rs");
            let version = if f == 0 { round } else { 0 };
            files.push(file(&path, 3));
            for c in 0..3 {
                chunks.push(chunk(
                    &path,
                    &format!("f{c}"),
                    &format!("fn f{c}() {{ edit {version} }}"),
                ));
            }
        }
        let vectors = (0..chunks.len()).map(|i| vector(i % DIM)).collect();
        (files, chunks, vectors)
    };
    let edited = tempfile::tempdir().unwrap();
    let store = Store::open(edited.path(), "test-model", DIM).await.unwrap();
    let (files, chunks, vectors) = records(0);
    store.replace_files(&files, &chunks, &vectors).await.unwrap();
    for round in 1..=200 {
        let (files, chunks, vectors) = records(round);
        store
            .replace_files(&files[..1], &chunks[..3], &vectors[..3])
            .await
            .unwrap();
        store.refresh_indices().await.unwrap();
        store.maintain(std::time::Duration::ZERO).await.unwrap();
    }
    assert_eq!(store.stats().await.unwrap().chunks, 60);
    let hits = search(&store, "edit", None, SearchMode::Keyword).await;
    assert!(!hits.is_empty());

    let fresh = tempfile::tempdir().unwrap();
    let fresh_store = Store::open(fresh.path(), "test-model", DIM).await.unwrap();
    let (files, chunks, vectors) = records(200);
    fresh_store.replace_files(&files, &chunks, &vectors).await.unwrap();
    fresh_store.refresh_indices().await.unwrap();
    let (edited_size, fresh_size) = (dir_size(edited.path()), dir_size(fresh.path()));
    eprintln!("after 200 edits: {edited_size} bytes; fresh: {fresh_size} bytes");
    assert!(edited_size <= 2 * fresh_size, "{edited_size} > 2 x {fresh_size}");
}

/// The keyword lane's code-aware tokens: identifiers are found by their
/// parts (camelCase, PascalCase, snake_case, kebab-case, dotted and `::`
/// paths) and by their whole spelling, which outranks the parts scattered.
#[tokio::test]
async fn keyword_tokens_split_identifiers_and_keep_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    let contents = [
        ("camel", "let settings = parseConfigFile(path);"),
        ("pascal", "struct HttpClientBuilder { retries: u8 }"),
        ("snake", "fn read_all_bytes(stream: Stream) {}"),
        ("kebab", "args.flag(\"--max-retry-count\")"),
        ("dotted", "full = os.path.join(root, name)"),
        ("colons", "use std::collections::BTreeMap;"),
        (
            "scattered",
            "parse the config file, then the builder of the http client",
        ),
    ];
    let chunks: Vec<ChunkRecord> = contents
        .iter()
        .map(|(name, content)| {
            let mut c = chunk(&format!("src/{name}.rs"), "item", content);
            // Keep the names out of the way: only the content is tested.
            c.name = "item".into();
            c.qualified_name = "item".into();
            c.signature = String::new();
            c
        })
        .collect();
    let files: Vec<FileRecord> = contents
        .iter()
        .map(|(name, _)| file(&format!("src/{name}.rs"), 1))
        .collect();
    let vectors: Vec<Vec<f32>> = (0..chunks.len()).map(|i| vector(i % DIM)).collect();
    store.replace_files(&files, &chunks, &vectors).await.unwrap();
    store.refresh_indices().await.unwrap();
    let cases = [
        ("Config", "camel"),
        ("parseConfigFile", "camel"),
        ("Builder", "pascal"),
        ("HttpClientBuilder", "pascal"),
        ("bytes", "snake"),
        ("read_all_bytes", "snake"),
        ("retry", "kebab"),
        ("max-retry-count", "kebab"),
        ("join", "dotted"),
        ("os.path.join", "dotted"),
        ("collections", "colons"),
        ("BTreeMap", "colons"),
        ("std::collections::BTreeMap", "colons"),
    ];
    for (query, expected) in cases {
        let hits = search(&store, query, None, SearchMode::Keyword).await;
        assert_eq!(
            hits.first().map(String::as_str),
            Some(format!("src/{expected}.rs#item").as_str()),
            "query {query:?}: {hits:?}"
        );
    }
}

/// An index holding one chunk (`src/a.rs#<name>`, vector 1, full-text
/// index built) made to look like one of `schema_version`: its chunks
/// table without the `dropped` columns, its meta saying that version.
async fn older_schema_index(name: &str, dropped: &[&str], schema_version: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
        let chunks = vec![chunk("src/a.rs", name, &format!("fn {name}() {{}}"))];
        store
            .replace_files(&[file("src/a.rs", 1)], &chunks, &[vector(1)])
            .await
            .unwrap();
        store.refresh_indices().await.unwrap();
    }
    let db = lancedb::connect(dir.path().join("lance").to_str().unwrap())
        .execute()
        .await
        .unwrap();
    let table = db.open_table("chunks").execute().await.unwrap();
    table.drop_columns(dropped).await.unwrap();
    set_schema_version(dir.path(), schema_version);
    dir
}

/// Rewrites the schema version `meta.json` of the index in `dir` records.
fn set_schema_version(dir: &std::path::Path, version: u32) {
    let path = dir.join("meta.json");
    let mut meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    meta["schema_version"] = version.into();
    std::fs::write(&path, serde_json::to_vec(&meta).unwrap()).unwrap();
}

/// An index of an older schema: readers say what to run, the writer
/// upgrades it in place (rows, vectors and search survive, nothing is
/// re-embedded), and an index of a newer schema is refused with the fix.
#[tokio::test]
async fn an_older_schema_is_upgraded_in_place() {
    // A schema-1 index: without the columns schemas 2, 3 and 4 added.
    let dir = older_schema_index(
        "load_settings",
        &[
            "embedding_hash",
            "model_id",
            "definition_id",
            "part_index",
            "part_count",
            "cell",
        ],
        1,
    )
    .await;

    let err = Store::open_existing(dir.path()).await.err().unwrap();
    assert!(err.to_string().contains("run `mcp-vector-search index`"), "{err}");

    let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    assert_eq!(store.meta().schema_version, mvs_store::SCHEMA_VERSION);
    let (migrated, stored_vector) = store.chunk("src/a.rs#load_settings").await.unwrap().unwrap();
    assert_eq!((migrated.embedding_hash, stored_vector), (None, vector(1)));
    assert_eq!(
        search(&store, "settings", None, SearchMode::Keyword).await,
        vec!["src/a.rs#load_settings"]
    );
    let mut fresh = chunk("src/b.rs", "save", "fn save() {}");
    fresh.embedding_hash = Some("e".into());
    store
        .replace_files(&[file("src/b.rs", 1)], &[fresh], &[vector(2)])
        .await
        .unwrap();
    assert_eq!(
        store
            .chunk("src/b.rs#save")
            .await
            .unwrap()
            .unwrap()
            .0
            .embedding_hash
            .as_deref(),
        Some("e")
    );
    drop(store);
    assert!(Store::open_existing(dir.path()).await.unwrap().is_some());

    set_schema_version(dir.path(), 99);
    let err = Store::open(dir.path(), "test-model", DIM).await.err().unwrap();
    assert!(err.to_string().contains("upgrade mcp-vector-search"), "{err}");
}

/// The ANN index waits for real vectors (pending rows hold placeholders that
/// would train its partitions on nothing), and is trained again, not merely
/// extended, once most rows arrived after it was built.
#[tokio::test]
async fn ann_index_waits_for_vectors_and_is_retrained_when_the_table_outgrows_it() {
    use mvs_store::ANN_MIN_ROWS;
    const PER_FILE: usize = 50;
    let files_from = |first: usize, count: usize| -> (Vec<FileRecord>, Vec<ChunkRecord>) {
        let (mut files, mut chunks) = (Vec::new(), Vec::new());
        for f in (first..first + count).step_by(PER_FILE) {
            let path = format!("src/file_{f}.rs");
            files.push(file(&path, PER_FILE as u32));
            chunks.extend((0..PER_FILE).map(|c| chunk(&path, &format!("f{c}"), &format!("fn f{c}() {{ {f} }}"))));
        }
        (files, chunks)
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    let (files, chunks) = files_from(0, ANN_MIN_ROWS);
    let vectors = |chunks: &[ChunkRecord]| -> Vec<Option<Vec<f32>>> {
        (0..chunks.len()).map(|i| Some(vector(i % DIM))).collect()
    };

    store
        .replace_files_pending(&files, &chunks, &vec![None; chunks.len()])
        .await
        .unwrap();
    store.refresh_indices().await.unwrap();
    let (keyword, ann) = index_coverage(&store).await;
    assert_eq!(keyword, Some((ANN_MIN_ROWS, 0, 1)), "keyword search works at once");
    assert_eq!(ann, None, "no ANN index over placeholder vectors");

    store
        .replace_files_pending(&files, &chunks, &vectors(&chunks))
        .await
        .unwrap();
    store.settle_pending().await.unwrap();
    store.refresh_indices().await.unwrap();
    assert_eq!(index_coverage(&store).await.1, Some((ANN_MIN_ROWS, 0, 1)));

    let (more_files, more_chunks) = files_from(ANN_MIN_ROWS, ANN_MIN_ROWS + PER_FILE);
    store
        .replace_files_pending(&more_files, &more_chunks, &vectors(&more_chunks))
        .await
        .unwrap();
    store.refresh_indices().await.unwrap();
    let total = 2 * ANN_MIN_ROWS + PER_FILE;
    let (keyword, ann) = index_coverage(&store).await;
    assert_eq!(ann, Some((total, 0, 1)), "trained again over every row");
    let (indexed, unindexed, _) = keyword.unwrap();
    assert_eq!((indexed, unindexed), (total, 0), "folded in");
}

/// (indexed rows, unindexed rows, segments) of the keyword index and of the
/// ANN index.
async fn index_coverage(store: &Store) -> (Option<(usize, usize, usize)>, Option<(usize, usize, usize)>) {
    let indices = store.index_coverage().await.unwrap();
    let of = |wanted: fn(IndexPurpose) -> bool| {
        indices
            .iter()
            .find(|index| wanted(index.purpose))
            .map(|index| (index.indexed_rows, index.unindexed_rows, index.segments))
    };
    (
        of(|purpose| purpose == IndexPurpose::Keyword),
        of(|purpose| matches!(purpose, IndexPurpose::Ann(_))),
    )
}

/// Stores one one-chunk file at `path`.
async fn put_file(store: &Store, path: &str) {
    store
        .replace_files(&[file(path, 1)], &[chunk(path, "f", "fn f() {}")], &[vector(0)])
        .await
        .unwrap();
}

/// An index holding one file, at `path`.
async fn index_holding(path: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    put_file(&Store::open(dir.path(), "test-model", DIM).await.unwrap(), path).await;
    dir
}

/// The paths of the stored file records.
async fn stored_paths(store: &Store) -> Vec<String> {
    store
        .file_records()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect()
}

/// Generations of tables in an index directory.
fn generations(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("lance"))
        .collect();
    names.sort();
    names
}

/// A rebuild is invisible until published: a reader (long-lived or newly
/// opened) sees the live index; publishing switches every reader to the new
/// one and deletes the old generation.
#[tokio::test]
async fn a_rebuild_is_invisible_until_published() {
    let dir = index_holding("old.rs").await;
    let reader = Store::open_existing(dir.path()).await.unwrap().unwrap();

    let mut rebuild = Store::rebuild(dir.path(), "test-model", DIM).await.unwrap();
    assert!(rebuild.is_unpublished());
    put_file(&rebuild, "new.rs").await;
    rebuild.set_chunker_version(7).unwrap();
    assert_eq!(generations(dir.path()).len(), 2);
    for store in [&reader, &Store::open_existing(dir.path()).await.unwrap().unwrap()] {
        assert!(store.is_current().await);
        let paths = stored_paths(store).await;
        assert_eq!(paths, ["old.rs"], "readers see the live index during a rebuild");
        assert_eq!(store.meta().chunker_version, 0);
    }

    rebuild.publish().unwrap();
    assert!(!reader.is_current().await, "a long-lived reader learns it must reopen");
    let reopened = Store::open_existing(dir.path()).await.unwrap().unwrap();
    let paths = stored_paths(&reopened).await;
    assert_eq!(paths, ["new.rs"]);
    assert_eq!(reopened.meta().chunker_version, 7);
    assert_eq!(generations(dir.path()).len(), 1, "the replaced generation is deleted");
    assert_ne!(generations(dir.path()), ["lance"]);
}

/// A discarded (cancelled) rebuild leaves the live index as it was, and a
/// rebuild abandoned without a word (a crash) is deleted by the writer's
/// next open.
#[tokio::test]
async fn a_discarded_or_abandoned_rebuild_leaves_the_live_index() {
    let dir = index_holding("old.rs").await;

    let rebuild = Store::rebuild(dir.path(), "test-model", DIM).await.unwrap();
    put_file(&rebuild, "new.rs").await;
    rebuild.discard().unwrap();
    assert_eq!(generations(dir.path()), ["lance"]);

    let abandoned = Store::rebuild(dir.path(), "test-model", DIM).await.unwrap();
    put_file(&abandoned, "new.rs").await;
    drop(abandoned);
    assert_eq!(generations(dir.path()).len(), 2);
    let writer = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    assert_eq!(generations(dir.path()), ["lance"]);
    let paths = stored_paths(&writer).await;
    assert_eq!(paths, ["old.rs"]);
}

/// A rebuild may change the model: the live index of the old model keeps
/// answering until the new one is published; without a live index a
/// rebuild is a plain open.
#[tokio::test]
async fn a_rebuild_may_change_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::rebuild(dir.path(), "model-a", DIM).await.unwrap();
    assert!(!first.is_unpublished(), "nothing to keep: built in place");
    drop(first);
    let mut rebuild = Store::rebuild(dir.path(), "model-b", 16).await.unwrap();
    assert_eq!(
        Store::open_existing(dir.path()).await.unwrap().unwrap().meta().model_id,
        "model-a"
    );
    rebuild.publish().unwrap();
    let live = Store::open_existing(dir.path()).await.unwrap().unwrap();
    assert_eq!((live.meta().model_id.as_str(), live.meta().dimension), ("model-b", 16));
}

/// Part `index` of `count` of the definition `retry_with_backoff`, lines
/// `10 * index + 1 ..= 10 * index + 10`.
fn retry_part(index: u32, count: u32) -> ChunkRecord {
    let mut part = chunk(
        "src/net.rs",
        &format!("retry_with_backoff#{index}"),
        &format!("    // retry with exponential backoff, step {index}\n    delay = delay * 2;"),
    );
    part.name = "retry_with_backoff".into();
    part.qualified_name = "retry_with_backoff".into();
    (part.start_line, part.end_line) = (10 * index + 1, 10 * index + 10);
    part.part = Some(ChunkPart {
        index,
        count,
        definition_id: "src/net.rs#retry_with_backoff".into(),
    });
    part
}

/// The case: a long function split in parts filled every result
/// slot. Each definition comes back once (its best part), the page is
/// filled from other definitions, and the whole definition's lines are
/// one call away.
#[tokio::test]
async fn a_split_definition_is_one_result_and_one_span() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    let mut chunks: Vec<ChunkRecord> = (1..=5).map(|index| retry_part(index, 5)).collect();
    let mut vectors: Vec<Vec<f32>> = (1..=5).map(|_| vector(1)).collect();
    for (name, axis) in [("jitter", 2), ("sleep_between", 3), ("give_up", 4), ("connect", 5)] {
        chunks.push(chunk("src/net.rs", name, &format!("fn {name}() {{ backoff retry }}")));
        vectors.push(vector(axis));
    }
    store
        .replace_files(&[file("src/net.rs", chunks.len() as u32)], &chunks, &vectors)
        .await
        .unwrap();
    store.refresh_indices().await.unwrap();

    for mode in [SearchMode::Vector, SearchMode::Keyword, SearchMode::Hybrid] {
        let hits = search(&store, "retry with exponential backoff", Some(vector(1)), mode).await;
        assert_eq!(hits.len(), 5, "{mode:?}: the page is filled: {hits:?}");
        let parts = hits.iter().filter(|id| id.contains("retry_with_backoff")).count();
        assert_eq!(parts, 1, "{mode:?}: one part of the definition: {hits:?}");
    }

    let (stored, _) = store.chunk("src/net.rs#retry_with_backoff#3").await.unwrap().unwrap();
    assert_eq!(stored.part, Some(retry_part(3, 5).part.unwrap()));
    let span = store
        .definition_span("src/net.rs#retry_with_backoff#3")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (span.definition_id.as_str(), span.start_line, span.end_line, span.parts),
        ("src/net.rs#retry_with_backoff", 11, 60, 5)
    );
    let whole = store.definition_span("src/net.rs#jitter").await.unwrap().unwrap();
    assert_eq!(
        (
            whole.definition_id.as_str(),
            whole.start_line,
            whole.end_line,
            whole.parts
        ),
        ("src/net.rs#jitter", 1, 3, 1)
    );
    assert!(store.definition_span("src/net.rs#nothing").await.unwrap().is_none());
}

/// A schema-2 index gains the part columns in place; its rows read back as
/// whole chunks and parts can be written at once.
#[tokio::test]
async fn a_schema_2_index_gains_part_columns_in_place() {
    let dir = older_schema_index("load", &["definition_id", "part_index", "part_count", "cell"], 2).await;

    let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    assert_eq!(store.meta().schema_version, mvs_store::SCHEMA_VERSION);
    assert_eq!(store.chunk("src/a.rs#load").await.unwrap().unwrap().0.part, None);
    let parts = vec![retry_part(1, 2), retry_part(2, 2)];
    store
        .replace_files(&[file("src/net.rs", 2)], &parts, &[vector(2), vector(3)])
        .await
        .unwrap();
    let span = store
        .definition_span("src/net.rs#retry_with_backoff#2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((span.start_line, span.end_line, span.parts), (11, 30, 2));
}

/// A schema-3 index gains the `cell` column in place: its rows read back
/// outside any notebook, and notebook chunks keep their cell through a write,
/// a read by id and a search.
#[tokio::test]
async fn a_schema_3_index_gains_the_cell_column_in_place() {
    let dir = older_schema_index("load", &["cell"], 3).await;

    let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    assert_eq!(store.meta().schema_version, mvs_store::SCHEMA_VERSION);
    assert_eq!(store.chunk("src/a.rs#load").await.unwrap().unwrap().0.cell, None);
    let mut in_cell = chunk(
        "nb/analysis.ipynb",
        "fit_trend",
        "def fit_trend(frame):\n    return frame",
    );
    in_cell.cell = Some(3);
    store
        .replace_files(&[file("nb/analysis.ipynb", 1)], &[in_cell], &[vector(2)])
        .await
        .unwrap();
    let (read, _) = store.chunk("nb/analysis.ipynb#fit_trend").await.unwrap().unwrap();
    assert_eq!(read.cell, Some(3));
    assert_eq!(serde_json::to_value(&read).unwrap()["cell"], 3);
    assert_eq!(
        search(&store, "fit_trend", None, SearchMode::Keyword).await,
        vec!["nb/analysis.ipynb#fit_trend"]
    );
}

/// `vector(a)` leaning a tenth towards `vector(b)`, normalised.
fn leaning(a: usize, b: usize) -> Vec<f32> {
    let v: Vec<f32> = vector(a)
        .iter()
        .zip(vector(b))
        .map(|(x, y)| 0.9 * x + 0.1 * y)
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

#[tokio::test]
async fn a_file_about_the_query_outranks_a_stray_chunk_that_matches_it_best() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "test-model", DIM).await.unwrap();
    // util.rs has the single closest chunk, but is about other things;
    // every chunk of pool.rs is close to the query.
    let util = [("stray", vector(0)), ("format_date", vector(3)), ("slugify", vector(4))];
    let pool = [
        ("acquire", leaning(0, 1)),
        ("release", leaning(0, 2)),
        ("evict", leaning(0, 5)),
    ];
    for (path, chunks) in [("src/util.rs", &util), ("src/pool.rs", &pool)] {
        let records: Vec<ChunkRecord> = chunks
            .iter()
            .map(|(name, _)| chunk(path, name, &format!("fn {name}() {{ connection pool }}")))
            .collect();
        let vectors: Vec<Vec<f32>> = chunks.iter().map(|(_, v)| v.clone()).collect();
        store.replace_files(&[file(path, 3)], &records, &vectors).await.unwrap();
    }
    store.refresh_indices().await.unwrap();
    let request = |mode| SearchRequest {
        text: "connection pool".into(),
        vector: Some(vector(0)),
        mode,
        limit: 3,
        filter: SearchFilter::default(),
        exact: false,
        keyword_weight: None,
        min_score: 0.0,
    };
    let hits = store.search(&request(SearchMode::Vector)).await.unwrap();
    assert_eq!(hits[0].chunk.chunk_id, "src/pool.rs#acquire", "{hits:#?}");
    let file_vector = |hit: &mvs_store::SearchHit| {
        hit.why.factors.iter().find_map(|f| match f {
            mvs_store::rank::Factor::FileVector { cosine, factor } => Some((*cosine, *factor)),
            _ => None,
        })
    };
    let (pool_cosine, pool_factor) = file_vector(&hits[0]).expect("the factor is in `why`");
    let stray = hits.iter().find(|h| h.chunk.chunk_id == "src/util.rs#stray").unwrap();
    let (util_cosine, util_factor) = file_vector(stray).unwrap();
    assert!(pool_cosine > util_cosine && pool_factor > 1.0 && util_factor < 1.0);
    assert!(
        stray.vector_score > hits[0].vector_score,
        "the stray chunk is the closest one"
    );
    // Without a query vector there is nothing to compare files with.
    let keyword = store.search(&request(SearchMode::Keyword)).await.unwrap();
    assert!(!keyword.is_empty() && keyword.iter().all(|hit| file_vector(hit).is_none()));
}
