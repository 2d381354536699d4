//! Every registered language: its fixture parses into the expected chunks.
//! Adding a language adds a fixture and a row here.

use mvs_parse::{ChunkOptions, FileChunks, LANGUAGES, chunk_file};

/// (fixture under tests/fixtures, language, expected "kind qualified_name" entries).
const CASES: &[(&str, &str, &[&str])] = &[
    (
        "inventory.rs",
        "rust",
        &[
            "struct Product",
            "impl Inventory",
            "method Inventory::restock",
            "trait Priced",
        ],
    ),
    (
        "shapes.py",
        "python",
        &["class Circle", "method Circle.area", "function distance"],
    ),
    (
        "languages/sample.js",
        "javascript",
        &[
            "function parseConfig",
            "class Cache",
            "method Cache.get",
            "function retry",
        ],
    ),
    (
        "languages/sample.ts",
        "typescript",
        &[
            "trait Shape",
            "enum Color",
            "class Square",
            "method Square.area",
            "function totalArea",
        ],
    ),
    (
        "languages/sample.tsx",
        "tsx",
        &["function Greeting", "class Counter", "method Counter.render"],
    ),
    (
        "languages/sample.go",
        "go",
        &[
            "struct Item",
            "trait Getter",
            "method Store.Get",
            "function NewStore",
            "constant MaxItems",
        ],
    ),
    (
        "languages/Sample.java",
        "java",
        &[
            "class Cart",
            "method Cart.Cart",
            "method Cart.add",
            "trait Priced",
            "enum Currency",
        ],
    ),
    (
        "languages/sample.kt",
        "kotlin",
        &[
            "class Cart",
            "method Cart.add",
            "class Registry",
            "method Registry.lookup",
            "function totalOf",
        ],
    ),
    (
        "languages/sample.swift",
        "swift",
        &["trait Shape", "class Circle", "method Circle.area", "function describe"],
    ),
    (
        "languages/sample.c",
        "c",
        &[
            "struct buffer",
            "enum mode",
            "function buffer_new",
            "function buffer_len",
            "constant BUFFER_CAP",
        ],
    ),
    (
        "languages/sample.cpp",
        "cpp",
        &[
            "module geo",
            "class geo::Polygon",
            "method geo::Polygon::area",
            "method geo::Polygon::sides",
            "function geo::clamp",
            "constant GEO_EPSILON",
        ],
    ),
    (
        "languages/sample.cs",
        "csharp",
        &[
            "module Shop",
            "class Shop.Cart",
            "method Shop.Cart.Add",
            "trait Shop.IPriced",
            "enum Shop.Currency",
        ],
    ),
    (
        "languages/sample.rb",
        "ruby",
        &[
            "module Billing",
            "class Billing::Invoice",
            "method Billing::Invoice::total",
            "method Billing::Invoice::parse",
        ],
    ),
    (
        "languages/sample.ex",
        "elixir",
        &[
            "module Billing.Invoice",
            "function Billing.Invoice.total",
            "function Billing.Invoice.currency",
            "function Billing.Invoice.round_amount",
            "function Billing.Invoice.with_invoice",
            "module Billing.Priced",
            "impl Billing.Priced",
        ],
    ),
    (
        "languages/sample.php",
        "php",
        &["trait Priced", "class Cart", "method Cart::add", "function cart_total"],
    ),
    (
        "languages/sample.scala",
        "scala",
        &["trait Priced", "class Cart", "method Cart.add", "method Cart.empty"],
    ),
    (
        "languages/sample.sh",
        "bash",
        &["constant GREETING", "function greet", "function cleanup"],
    ),
    ("languages/sample.lua", "lua", &["method M.greet", "method M.size"]),
    (
        "languages/sample.md",
        "markdown",
        &[
            "section Project",
            "section Project > Install",
            "section Project > Install > From source",
            "section Project > Usage",
        ],
    ),
    ("languages/config.yaml", "yaml", &["window "]),
    ("languages/Dockerfile", "dockerfile", &["window "]),
];

#[test]
fn every_language_fixture_yields_its_definitions() {
    let mut failures = Vec::new();
    for (file, language, expected) in CASES {
        // Read at run time, not baked in with env!(): CI reuses test binaries
        // built in another clone of the repository.
        let path = format!("{}/tests/fixtures/{file}", std::env::var("CARGO_MANIFEST_DIR").unwrap());
        let bytes = std::fs::read(&path).unwrap();
        let rel_path = format!("src/{}", file.rsplit('/').next().unwrap());
        match chunk_file(&rel_path, &bytes, &ChunkOptions::default()) {
            FileChunks::Parsed {
                language: got, chunks, ..
            } => {
                if got != *language {
                    failures.push(format!("{file}: language {got}, expected {language}"));
                }
                let found: Vec<String> = chunks
                    .iter()
                    .map(|c| format!("{} {}", c.kind, c.qualified_name))
                    .collect();
                for want in *expected {
                    if !found.iter().any(|f| f == want) {
                        failures.push(format!("{file}: no `{want}` in {found:?}"));
                    }
                }
                for chunk in &chunks {
                    assert_eq!(
                        &String::from_utf8_lossy(&bytes)[chunk.start_byte..chunk.end_byte],
                        chunk.content
                    );
                    assert!(chunk.start_line <= chunk.end_line);
                }
            }
            FileChunks::Skipped(reason) => failures.push(format!("{file}: skipped ({reason:?})")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_registered_language_has_a_fixture() {
    for spec in LANGUAGES {
        assert!(
            CASES.iter().any(|(_, language, _)| *language == spec.name),
            "{} has no fixture case",
            spec.name
        );
    }
}
