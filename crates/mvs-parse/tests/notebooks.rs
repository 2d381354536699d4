//! Jupyter notebooks: code cells chunked in the notebook's language,
//! markdown cells as sections, outputs ignored; every chunk names its cell
//! and its lines and bytes index that cell's source.

use std::collections::HashSet;

use mvs_parse::{
    CellKind, Chunk, ChunkKind, ChunkOptions, FileChunks, NOTEBOOK_LANGUAGE, canonical_language, chunk_file,
    notebook_cell, read_notebook, supported_path,
};

fn fixture() -> String {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    std::fs::read_to_string(format!("{root}/tests/fixtures/notebooks/analysis.ipynb")).unwrap()
}

/// Chunks a notebook and checks what holds for every one: each chunk names
/// a cell, its content is that cell's text at its bytes and lines, ids are
/// unique, and every non-blank line of every cell is covered.
fn chunks_of(path: &str, text: &str) -> Vec<Chunk> {
    let FileChunks::Parsed { language, chunks, .. } = chunk_file(path, text.as_bytes(), &ChunkOptions::default())
    else {
        panic!("{path} was skipped");
    };
    assert_eq!(language, NOTEBOOK_LANGUAGE);
    let notebook = read_notebook(text).expect("notebook JSON");
    let mut ids = HashSet::new();
    for chunk in &chunks {
        assert_eq!(chunk.language, NOTEBOOK_LANGUAGE);
        assert!(ids.insert(chunk.id.clone()), "duplicate id {}", chunk.id);
        let cell = chunk.cell.expect("a notebook chunk names its cell");
        let source = notebook_cell(text, cell).expect("the cell exists");
        assert_eq!(&source[chunk.start_byte..chunk.end_byte], chunk.content);
        let first_line = source[..chunk.start_byte].matches('\n').count() as u32 + 1;
        assert_eq!(chunk.start_line, first_line, "{}", chunk.qualified_name);
    }
    for (index, cell) in notebook.cells.iter().enumerate() {
        for (line_index, line) in cell.source.split('\n').enumerate() {
            let line_number = line_index as u32 + 1;
            assert!(
                line.trim().is_empty()
                    || chunks.iter().any(|c| c.cell == Some(index as u32 + 1)
                        && c.start_line <= line_number
                        && line_number <= c.end_line),
                "cell {} line {line_number} {line:?} is in no chunk",
                index + 1
            );
        }
    }
    chunks
}

#[test]
fn code_cells_are_chunked_in_the_kernel_language_with_cell_lines() {
    let text = fixture();
    let chunks = chunks_of("notebooks/analysis.ipynb", &text);
    let load = chunks
        .iter()
        .find(|c| c.kind == ChunkKind::Function && c.name == "load_sales")
        .expect("load_sales");
    // The third cell, from its first line (not the JSON file's lines).
    assert_eq!((load.cell, load.start_line, load.end_line), (Some(3), 1, 4));
    assert_eq!(
        load.doc.as_deref(),
        Some("Reads the sales table and drops rows without a region.")
    );
    assert!(load.content.starts_with("def load_sales(path):\n    \"\"\"Reads"));
    assert!(
        load.embedding_text
            .starts_with("notebooks/analysis.ipynb#cell3 · jupyter · load_sales\n")
    );
    let fit = chunks
        .iter()
        .find(|c| c.qualified_name == "TrendModel.fit")
        .expect("method");
    assert_eq!((fit.cell, fit.kind), (Some(3), ChunkKind::Method));
    // A module-level assignment in the second cell is a constant.
    assert!(chunks.iter().any(|c| c.cell == Some(2) && c.name == "SALES_PATH"));
}

#[test]
fn markdown_cells_are_sections_and_outputs_are_ignored() {
    let text = fixture();
    let chunks = chunks_of("analysis.ipynb", &text);
    let cleaning = chunks
        .iter()
        .find(|c| c.kind == ChunkKind::Section && c.name == "Cleaning")
        .expect("section");
    assert_eq!(cleaning.cell, Some(1));
    // Escapes decoded: \u00e9 and the surrogate pair \ud83d\ude00.
    assert!(chunks.iter().any(|c| c.content.contains("été 😀")));
    // Outputs (a printed `def`, a PNG) are not indexed.
    assert!(chunks.iter().all(|c| !c.content.contains("not_code_from_output")));
    assert!(chunks.iter().all(|c| !c.content.contains("iVBORw0KGgo")));
    // The raw cell is kept as text with its escapes decoded; the empty cell has no chunk.
    assert!(
        chunks
            .iter()
            .any(|c| c.cell == Some(5) && c.content == "raw text\tkept as is")
    );
    assert!(chunks.iter().all(|c| c.cell != Some(4)));
}

#[test]
fn cells_and_language_are_read_from_the_notebook_json() {
    let notebook = read_notebook(&fixture()).unwrap();
    assert_eq!(notebook.language, "python");
    assert_eq!(notebook.cells.len(), 6);
    assert_eq!(notebook.cells[0].kind, CellKind::Markdown);
    assert_eq!(notebook.cells[4].kind, CellKind::Raw);
    assert_eq!(
        notebook.cells[5].source,
        "%matplotlib inline\nmodel = TrendModel().fit(load_sales(SALES_PATH))\nprint(model.slope)"
    );
    assert_eq!(
        notebook_cell(&fixture(), 2).as_deref(),
        Some("import pandas as pd\n\nSALES_PATH = \"data/sales.csv\"\n")
    );
    assert_eq!(notebook_cell(&fixture(), 0), None);
    assert_eq!(notebook_cell(&fixture(), 7), None);
}

#[test]
fn the_language_comes_from_language_info_when_the_kernelspec_has_none() {
    let text = r#"{"cells": [{"cell_type": "code", "source": ["fn double(x: i32) -> i32 {\n", "    x * 2\n", "}\n"]}],
        "metadata": {"language_info": {"name": "rust"}}, "nbformat": 4, "nbformat_minor": 5}"#;
    let chunks = chunks_of("evcxr.ipynb", text);
    let double = chunks.iter().find(|c| c.name == "double").expect("a Rust function");
    assert_eq!(
        (double.kind, double.cell, double.start_line),
        (ChunkKind::Function, Some(1), 1)
    );
    // No metadata at all: Python.
    let text = r#"{"cells": [{"cell_type": "code", "source": "def f():\n    return 1\n"}]}"#;
    assert!(
        chunks_of("bare.ipynb", text)
            .iter()
            .any(|c| c.kind == ChunkKind::Function && c.name == "f")
    );
}

#[test]
fn the_same_function_in_two_cells_gets_two_ids() {
    let text = r#"{"cells": [{"cell_type": "code", "source": "def f():\n    return 1\n"},
        {"cell_type": "code", "source": "def f():\n    return 2\n"}], "metadata": {}}"#;
    let chunks = chunks_of("redefined.ipynb", text);
    let fs: Vec<&Chunk> = chunks.iter().filter(|c| c.name == "f").collect();
    assert_eq!(fs.iter().map(|c| c.cell).collect::<Vec<_>>(), [Some(1), Some(2)]);
    assert_ne!(fs[0].id, fs[1].id);
}

#[test]
fn text_that_is_not_notebook_json_is_windowed_as_a_file() {
    for text in ["not json at all\nsecond line\n", "{\"cells\": 3}\n", "[1, 2, 3]\n"] {
        let FileChunks::Parsed { language, chunks, .. } =
            chunk_file("broken.ipynb", text.as_bytes(), &ChunkOptions::default())
        else {
            panic!("skipped");
        };
        assert_eq!(language, NOTEBOOK_LANGUAGE);
        assert!(!chunks.is_empty());
        assert!(
            chunks
                .iter()
                .all(|c| c.cell.is_none() && c.content == text[c.start_byte..c.end_byte])
        );
    }
}

#[test]
fn notebook_limits_judge_the_cells_not_the_outputs() {
    let options = ChunkOptions {
        max_file_bytes: 4096,
        ..ChunkOptions::default()
    };
    // A 10 KiB image output in a notebook whose cells are small: indexed.
    let image = "A".repeat(10 * 1024);
    let text = format!(
        r#"{{"cells": [{{"cell_type": "code", "source": "def plot():\n    pass\n",
            "outputs": [{{"data": {{"image/png": "{image}"}}}}]}}], "metadata": {{}}}}"#
    );
    assert!(matches!(
        chunk_file("plots.ipynb", text.as_bytes(), &options),
        FileChunks::Parsed { .. }
    ));
    // Cells over the limit: too large.
    let code = "x = 1\\n".repeat(1000);
    let text = format!(r#"{{"cells": [{{"cell_type": "code", "source": "{code}"}}], "metadata": {{}}}}"#);
    assert!(matches!(
        chunk_file("big.ipynb", text.as_bytes(), &options),
        FileChunks::Skipped(mvs_parse::SkipReason::TooLarge)
    ));
}

#[test]
fn damaged_notebooks_never_panic_and_keep_the_invariants() {
    let text = fixture();
    let bytes = text.as_bytes();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize
    };
    for _ in 0..300 {
        let mut damaged = bytes.to_vec();
        for _ in 0..1 + next(6) {
            let at = next(damaged.len());
            damaged[at] = b"\"\\{}[],:u\n x"[next(12)];
        }
        let cut = &damaged[..next(damaged.len())];
        for input in [&damaged[..], cut] {
            let Ok(text) = std::str::from_utf8(input) else {
                continue;
            };
            match chunk_file("fuzz.ipynb", input, &ChunkOptions::default()) {
                FileChunks::Parsed { .. } if read_notebook(text).is_some() => {
                    chunks_of("fuzz.ipynb", text);
                }
                FileChunks::Parsed { chunks, .. } => {
                    assert!(chunks.iter().all(|c| c.content == text[c.start_byte..c.end_byte]));
                }
                FileChunks::Skipped(_) => {}
            }
        }
    }
}

#[test]
fn notebooks_are_a_language_name() {
    assert_eq!(canonical_language("jupyter"), Some("jupyter"));
    assert_eq!(canonical_language("ipynb"), Some("jupyter"));
    assert_eq!(canonical_language("notebook"), Some("jupyter"));
    assert!(supported_path("notebooks/Analysis.IPYNB"));
}
