//! Chunking of small Rust and Python fixtures, and of bad input.

use mvs_parse::{Chunk, ChunkKind, ChunkOptions, FileChunks, SkipReason, chunk_file};

fn chunks_of(path: &str, source: &str) -> Vec<Chunk> {
    match chunk_file(path, source.as_bytes(), &ChunkOptions::default()) {
        FileChunks::Parsed { chunks, lossy, .. } => {
            assert!(!lossy);
            chunks
        }
        FileChunks::Skipped(reason) => panic!("{path} skipped: {reason:?}"),
    }
}

fn find<'a>(chunks: &'a [Chunk], qualified: &str) -> &'a Chunk {
    chunks
        .iter()
        .find(|c| c.qualified_name == qualified)
        .unwrap_or_else(|| {
            panic!(
                "no chunk {qualified}; have {:?}",
                chunks.iter().map(|c| &c.qualified_name).collect::<Vec<_>>()
            )
        })
}

const RUST: &str = include_str!("fixtures/inventory.rs");
const PYTHON: &str = include_str!("fixtures/shapes.py");

#[test]
fn rust_definitions_become_chunks_with_hierarchy() {
    let chunks = chunks_of("src/inventory.rs", RUST);
    let header = &chunks[0];
    assert_eq!(header.kind, ChunkKind::ModuleHeader);
    assert!(header.content.contains("use std::collections::HashMap;"));

    let product = find(&chunks, "Product");
    assert_eq!(product.kind, ChunkKind::Struct);
    assert_eq!(product.doc.as_deref(), Some("A product on the shelf."));
    // Doc comment and attributes belong to the chunk.
    assert!(product.content.starts_with("/// A product on the shelf."));
    assert_eq!((product.start_line, product.end_line), (5, 10));

    let restock = find(&chunks, "Inventory::restock");
    assert_eq!(restock.kind, ChunkKind::Method);
    assert_eq!(
        restock.signature,
        "pub fn restock(&mut self, product: &Product, count: u32)"
    );
    let impl_chunk = chunks.iter().find(|c| c.kind == ChunkKind::Impl).unwrap();
    assert_eq!(restock.parent_id.as_deref(), Some(impl_chunk.id.as_str()));
    // A container chunk holds its header, not its methods.
    assert!(!impl_chunk.content.contains("fn restock"));

    assert_eq!(find(&chunks, "Priced").kind, ChunkKind::Trait);
    assert_eq!(find(&chunks, "basket_total").kind, ChunkKind::Function);
    assert_eq!(find(&chunks, "tests::helper").kind, ChunkKind::Function);
    for chunk in &chunks {
        assert_eq!(chunk.language, "rust");
        assert_eq!(&RUST[chunk.start_byte..chunk.end_byte], chunk.content);
        assert!(chunk.embedding_text.starts_with("src/inventory.rs · rust · "));
    }
}

#[test]
fn python_classes_methods_and_docstrings() {
    let chunks = chunks_of("geo/shapes.py", PYTHON);
    let circle = find(&chunks, "Circle");
    assert_eq!(circle.kind, ChunkKind::Class);
    assert_eq!(circle.doc.as_deref(), Some("A circle given by its radius."));
    let area = find(&chunks, "Circle.area");
    assert_eq!(area.kind, ChunkKind::Method);
    assert!(
        area.content.starts_with("    @property"),
        "decorators and indentation belong to the chunk"
    );
    assert_eq!(area.doc.as_deref(), Some("Area of the circle."));
    let distance = find(&chunks, "distance");
    assert_eq!(distance.kind, ChunkKind::Function);
    // Nested functions stay inside their function's chunk.
    assert!(distance.content.contains("def square"));
    assert!(chunks.iter().all(|c| c.qualified_name != "distance.square"));
}

#[test]
fn ids_survive_edits_above_and_differ_between_siblings() {
    let before = chunks_of("src/inventory.rs", RUST);
    let edited = RUST.replacen("//! Inventory", "//! A new first line.\n\n//! Inventory", 1);
    let after = chunks_of("src/inventory.rs", &edited);
    let restock_before = find(&before, "Inventory::restock");
    let restock_after = find(&after, "Inventory::restock");
    assert_eq!(restock_before.id, restock_after.id);
    assert_ne!(restock_before.start_line, restock_after.start_line);

    let twice = "impl A { fn f() {} }\nimpl A { fn g() {} }\n";
    let chunks = chunks_of("x.rs", twice);
    let impls: Vec<_> = chunks.iter().filter(|c| c.kind == ChunkKind::Impl).collect();
    assert_eq!(impls.len(), 2);
    assert_ne!(impls[0].id, impls[1].id);
}

#[test]
fn bad_input_is_classified_not_fatal() {
    let options = ChunkOptions { max_file_bytes: 64 };
    let skipped = |path: &str, bytes: &[u8]| match chunk_file(path, bytes, &options) {
        FileChunks::Skipped(reason) => reason,
        FileChunks::Parsed { .. } => panic!("{path} parsed"),
    };
    assert_eq!(skipped("a.rs", b"fn a() {}\0\x01\x02"), SkipReason::Binary);
    assert_eq!(skipped("a.rs", &[b'x'; 100]), SkipReason::TooLarge);
    assert_eq!(skipped("a.rs", b"  \n\n"), SkipReason::Empty);
    assert_eq!(skipped("notes.xyz", b"hello"), SkipReason::UnsupportedLanguage);

    // Invalid UTF-8 is decoded lossily and flagged.
    match chunk_file("b.py", b"def f():\n    return '\xff'\n", &ChunkOptions::default()) {
        FileChunks::Parsed { chunks, lossy, .. } => {
            assert!(lossy);
            assert_eq!(chunks[0].name, "f");
        }
        other => panic!("{other:?}"),
    }
    // Syntax errors still yield what parsed.
    let broken = chunks_of("c.py", "def ok():\n    return 1\n\ndef broken(:\n");
    assert!(broken.iter().any(|c| c.name == "ok"));
}
