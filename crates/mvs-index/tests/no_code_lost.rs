//! No code is silently lost between the files and the index, with the real
//! model and a real LanceDB: a definition after a syntax error is a chunk,
//! a long definition is one search result whose whole range is one call
//! away, and files with a byte-order mark (UTF-8, UTF-16) are indexed with
//! exact lines.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::{embedder, run, write};
use mvs_index::{IndexOptions, Project, Query, SearchArgs, TextEncoding, decode_source};

/// A 150-line Python function about retrying with exponential backoff.
fn long_retry_function() -> String {
    let steps: String = (0..144)
        .map(|i| format!("        attempt_{i} = schedule(delay, attempt={i})  # back off before retrying\n"))
        .collect();
    format!(
        "def retry_with_backoff(call, retries=5, base_delay=0.5):\n    \"\"\"Retry a failing call, doubling the delay between attempts (exponential backoff).\"\"\"\n    delay = base_delay\n    for attempt in range(retries):\n        delay = delay * 2\n{steps}    return call()\n"
    )
}

/// Small functions on other topics, so a page of results can be filled.
fn other_functions() -> String {
    [
        ("parse_config", "read a TOML configuration file into a dict"),
        ("render_page", "render an HTML template with a context"),
        ("hash_password", "hash a password with a random salt"),
        ("open_database", "open a SQLite connection with WAL mode"),
        ("send_email", "send an email through SMTP"),
        ("resize_image", "resize an image keeping its aspect ratio"),
        ("tokenize", "split text into lowercase words"),
        ("merge_sorted", "merge two sorted lists into one"),
        ("parse_date", "parse an ISO 8601 date string"),
        ("compress_file", "gzip a file on disk"),
        ("rate_limit", "allow at most n calls per second"),
        ("read_csv", "read rows of a CSV file"),
    ]
    .iter()
    .map(|(name, doc)| format!("def {name}(value):\n    \"\"\"{doc}.\"\"\"\n    return value\n\n\n"))
    .collect()
}

fn utf16_le_with_bom(text: &str) -> Vec<u8> {
    let units = text.encode_utf16().flat_map(u16::to_le_bytes);
    [0xFF, 0xFE].into_iter().chain(units).collect()
}

/// The text of a file as the index read it.
fn indexed_text(root: &Path, rel: &str) -> String {
    decode_source(&std::fs::read(root.join(rel)).unwrap()).text.into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_code_is_lost_between_files_and_results() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "net/retry.py",
        &format!("import time\n\n\n{}", long_retry_function()),
    );
    write(root, "app/misc.py", &other_functions());
    // The example: an unclosed call between two functions.
    write(
        root,
        "app/broken.py",
        "def a():\n    return 1\n\nx = foo(1, 2\n\ndef b():\n    return 2\n",
    );
    write(
        root,
        "app/bom.py",
        "\u{feff}# header comment\nimport os\n\n\ndef home():\n    return os.environ['HOME']\n",
    );
    std::fs::write(
        root.join("app/wide.py"),
        utf16_le_with_bom("# saved by a Windows editor\r\n\r\ndef wide_function():\r\n    return 'utf-16'\r\n"),
    )
    .unwrap();
    let project = Project::new(root).unwrap();
    let embedder = embedder().await;
    let report = run(&project, &embedder, &IndexOptions::default()).await;
    assert_eq!(report.files_parsed, 5, "{report:?}");
    let store = mvs_index::open_index(&project).await.unwrap();

    // One result per definition: the long function is one hit, at its best
    // part, and the page is filled with others.
    let query = Query::from_args(
        SearchArgs {
            query: "retry with exponential backoff".into(),
            limit: Some(10),
            mode: Some("vector".into()),
            ..SearchArgs::default()
        },
        project.root(),
    )
    .unwrap();
    let hits = mvs_index::search(&project, &store, Some(embedder.clone()), &query)
        .await
        .unwrap();
    assert_eq!(hits.len(), 10);
    let definitions: HashSet<&str> = hits.iter().map(|h| mvs_store::rank::definition_key(&h.chunk)).collect();
    assert_eq!(definitions.len(), hits.len(), "a definition came back twice");
    let retry: Vec<_> = hits.iter().filter(|h| h.chunk.name == "retry_with_backoff").collect();
    assert_eq!(retry.len(), 1);
    assert_eq!(hits[0].chunk.name, "retry_with_backoff", "the best hit is the function");
    let part = retry[0].chunk.part.as_ref().expect("the long function is split");
    assert!(part.count > 1);
    let span = store.definition_span(&retry[0].chunk.chunk_id).await.unwrap().unwrap();
    assert_eq!((span.start_line, span.end_line, span.parts), (4, 153, part.count));

    // After the syntax error: `b` is a chunk, the broken line a window.
    let broken = store.file_chunks("app/broken.py", None).await.unwrap();
    let outline: Vec<(&str, &str, u32, u32)> = broken
        .iter()
        .map(|(c, _)| (c.kind.as_str(), c.name.as_str(), c.start_line, c.end_line))
        .collect();
    for expected in [("function", "a", 1, 2), ("window", "", 4, 4), ("function", "b", 6, 7)] {
        assert!(outline.contains(&expected), "{expected:?} not in {outline:?}");
    }

    // Byte-order marks: no mark in the header, UTF-16 indexed as text with
    // its lines; stored bytes index the decoded text, which is how a reader
    // compares a chunk with its file.
    let bom = store.file_chunks("app/bom.py", None).await.unwrap();
    let header = bom.iter().find(|(c, _)| c.kind == "module-header").unwrap();
    assert_eq!(header.0.content, "# header comment\nimport os");
    let wide = store.file_chunks("app/wide.py", Some("wide_function")).await.unwrap();
    let (chunk, _) = wide.first().expect("the UTF-16 file is indexed");
    assert_eq!((chunk.start_line, chunk.end_line), (3, 4));
    let text = indexed_text(root, "app/wide.py");
    assert_eq!(text[chunk.start_byte as usize..chunk.end_byte as usize], chunk.content);
    assert_eq!(
        decode_source(&std::fs::read(root.join("app/wide.py")).unwrap()).encoding,
        TextEncoding::Utf16Le
    );
    for (rel, chunks) in [("app/bom.py", &bom), ("app/broken.py", &broken)] {
        let text = indexed_text(root, rel);
        for (chunk, _) in chunks.iter() {
            assert_eq!(
                text[chunk.start_byte as usize..chunk.end_byte as usize],
                chunk.content,
                "{rel}"
            );
        }
    }
    let records = store.file_records().await.unwrap();
    assert!(
        records.iter().all(|r| r.status == mvs_store::FileStatus::Indexed),
        "{records:?}"
    );
}
