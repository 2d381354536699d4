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
    // `.h` is C, C++ or Objective-C by its content.
    (
        "languages/format_cpp.h",
        "cpp",
        &[
            "module fmt",
            "struct fmt::formatter",
            "class fmt::format_error",
            "method fmt::format_error::what",
            "function fmt::default_locale",
        ],
    ),
    (
        "languages/shipment_objc.h",
        "objc",
        &["trait Trackable", "class Shipment", "method Shipment.isDelivered"],
    ),
    ("languages/buffer_c.h", "c", &["struct buffer", "constant BUFFER_CAP"]),
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
    (
        "languages/sample.erl",
        "erlang",
        &[
            "struct invoice",
            "macro ROUNDING",
            "struct amount",
            "function total",
            "function currency",
            "function round_amount",
        ],
    ),
    (
        "languages/sample.hs",
        "haskell",
        &[
            "struct Invoice",
            "struct Currency",
            "struct Amount",
            "struct Lines",
            "trait Priced",
            "impl Priced",
            "method Priced.price",
            "function total",
            "function roundAmount",
        ],
    ),
    (
        "languages/sample.ml",
        "ocaml",
        &[
            "enum currency",
            "struct invoice",
            "struct Empty_invoice",
            "constant max_lines",
            "function total",
            "function describe",
            "module Ledger",
            "function Ledger.record",
            "trait PRICED",
            "method PRICED.price",
            "class counter",
            "method counter.incr",
        ],
    ),
    (
        "languages/sample.mli",
        "ocaml_interface",
        &[
            "enum currency",
            "struct invoice",
            "function total",
            "function describe",
            "module Ledger",
            "function Ledger.record",
            "trait PRICED",
        ],
    ),
    (
        "languages/sample.zig",
        "zig",
        &[
            "constant std",
            "class Invoice",
            "method Invoice.total",
            "enum Currency",
            "class Amount",
            "function roundAmount",
            "function total of no lines",
        ],
    ),
    (
        "languages/sample.dart",
        "dart",
        &[
            "constant maxLines",
            "enum Currency",
            "class Priced",
            "method Priced.price",
            "class Invoice",
            "method Invoice.Invoice",
            "method Invoice.total",
            "class Rounding",
            "method Rounding.roundAmount",
            "impl InvoiceFormat",
            "method InvoiceFormat.describe",
            "function totalOf",
        ],
    ),
    (
        "languages/sample.r",
        "r",
        &[
            "constant max_lines",
            "function total",
            "function round_amount",
            "function describe",
            "class Invoice",
        ],
    ),
    (
        "languages/sample.jl",
        "julia",
        &[
            "module Billing",
            "constant Billing.MAX_LINES",
            "struct Billing.Invoice",
            "trait Billing.Priced",
            "enum Billing.Currency",
            "function Billing.total",
            "function Billing.round_amount",
            "macro Billing.checked",
        ],
    ),
    (
        "languages/sample.m",
        "objc",
        &[
            "trait Priced",
            "method Priced.price",
            "class Invoice",
            "method Invoice.total",
            "impl Invoice",
            "method Invoice.price",
            "method Invoice.emptyInvoice",
            "function RoundAmount",
        ],
    ),
    (
        "languages/sample.html",
        "html",
        &[
            "section html",
            "section html > head",
            "section html > head > style",
            "section html > body",
            "section html > body > masthead",
            "section html > body > invoice-list",
            "section html > body > invoice-list > total",
            "section html > body > script",
        ],
    ),
    (
        "languages/sample.css",
        "css",
        &[
            "section :root",
            "section .invoice-table",
            "section (max-width: 600px)",
            "section (max-width: 600px) .invoice-table",
            "section fade-in",
        ],
    ),
    (
        "languages/sample.scss",
        "scss",
        &[
            "constant $accent",
            "function rounded",
            "function half",
            "section .invoice-table",
            "section .invoice-table td",
            "section %muted",
        ],
    ),
    (
        "languages/sample.sql",
        "sql",
        &[
            "struct invoices",
            "struct invoice_lines",
            "constant invoice_lines_by_invoice",
            "struct invoice_totals",
            "function invoice_total",
            "constant invoices",
            "constant SELECT",
        ],
    ),
    (
        "languages/sample.tf",
        "hcl",
        &[
            "struct terraform",
            "struct region",
            "struct aws",
            "struct invoices",
            "struct read",
            "struct queue",
            "struct bucket_arn",
            "struct locals",
        ],
    ),
    (
        "languages/sample.nix",
        "nix",
        &[
            "constant version",
            "function mkService",
            "constant service",
            "module meta",
            "constant meta.description",
        ],
    ),
    (
        "languages/sample.proto",
        "protobuf",
        &[
            "struct Invoice",
            "enum Currency",
            "trait InvoiceService",
            "method InvoiceService.GetInvoice",
            "method InvoiceService.ListInvoices",
            "struct GetInvoiceRequest",
        ],
    ),
    (
        "languages/sample.graphql",
        "graphql",
        &[
            "struct Invoice",
            "trait Node",
            "enum Currency",
            "struct InvoiceFilter",
            "constant Date",
            "struct SearchResult",
            "struct Query",
            "function RecentInvoices",
            "function InvoiceFields",
        ],
    ),
    (
        "languages/config.yaml",
        "yaml",
        &["section server", "section database", "section jobs"],
    ),
    (
        "languages/sample.toml",
        "toml",
        &[
            "constant title",
            "section server",
            "section database",
            "section database.replica",
            "section jobs",
        ],
    ),
    (
        "languages/sample.json",
        "json",
        &[
            "constant name",
            "section scripts",
            "section dependencies",
            "section currencies",
        ],
    ),
    (
        "languages/sample.sol",
        "solidity",
        &[
            "trait IPriced",
            "method IPriced.price",
            "module Rounding",
            "function Rounding.roundDown",
            "class Invoices",
            "struct Invoices.Invoice",
            "enum Invoices.Status",
            "method Invoices.onlyPayer",
            "method Invoices.total",
            "function feeOf",
        ],
    ),
    (
        "languages/sample.elm",
        "elm",
        &[
            "struct Invoice",
            "enum Currency",
            "function maxLines",
            "function total",
            "function roundAmount",
            "function sendTotal",
        ],
    ),
    (
        "languages/sample.clj",
        "clojure",
        &[
            "constant max-lines",
            "struct Invoice",
            "trait Priced",
            "function total",
            "function round-amount",
            "macro with-invoice",
            "function describe",
            "impl Priced",
        ],
    ),
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

/// Data and markup files whose units have no name (a YAML or JSON list, a
/// script of `INSERT`s, a page without ids) were line windows before they got
/// a grammar; they must still come out in pieces of about a chunk's size,
/// never as one module header holding the whole file.
#[test]
fn unnamed_data_units_are_chunks_not_one_header() {
    let options = ChunkOptions::default();
    let repeat = |line: &str| {
        (0..300)
            .map(|i| line.replace("{i}", &i.to_string()))
            .collect::<String>()
    };
    let files = [
        (
            "deploy/playbook.yaml",
            repeat("- name: step {i}\n  run: make target-{i}\n"),
        ),
        (
            "data/records.json",
            format!(
                "[\n{}  {{}}\n]\n",
                repeat("  {\"id\": {i}, \"label\": \"record {i}\"},\n")
            ),
        ),
        (
            "db/seed.sql",
            repeat("INSERT INTO invoices (id, total) VALUES ({i}, {i}.50);\n"),
        ),
        ("db/report.sql", repeat("SELECT total FROM invoices WHERE id = {i};\n")),
        (
            "site/page.html",
            format!("<html>\n<body>\n{}</body>\n</html>\n", repeat("<p>paragraph {i}</p>\n")),
        ),
    ];
    for (path, text) in files {
        let FileChunks::Parsed { chunks, .. } = chunk_file(path, text.as_bytes(), &options) else {
            panic!("{path} was skipped");
        };
        assert!(chunks.len() > 5, "{path}: {} chunks", chunks.len());
        for chunk in &chunks {
            assert!(
                chunk.content.len() <= 2 * options.max_chunk_bytes,
                "{path}: a {} chunk of {} bytes",
                chunk.kind,
                chunk.content.len()
            );
        }
    }
}
