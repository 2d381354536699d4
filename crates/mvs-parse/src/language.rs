//! The language registry: every supported language is one row of data (a
//! grammar, a query file, file-name patterns and a few layout facts), never
//! language-specific Rust code.

use std::sync::OnceLock;

use tree_sitter::Query;

/// One language the chunker understands.
pub struct LanguageSpec {
    /// Stable lower-case name stored with every chunk (`rust`, `python`).
    pub name: &'static str,
    /// File extensions without the dot.
    pub extensions: &'static [&'static str],
    /// Separator between scopes in qualified paths (`::` for Rust, `.` for Python).
    pub scope_separator: &'static str,
    /// Node kinds that wrap a definition and belong to its chunk (decorators).
    pub wrapper_kinds: &'static [&'static str],
    grammar: fn() -> tree_sitter::Language,
    query_source: &'static str,
}

impl LanguageSpec {
    /// The tree-sitter grammar.
    pub fn grammar(&self) -> tree_sitter::Language {
        (self.grammar)()
    }
}

fn rust_grammar() -> tree_sitter::Language {
    tree_sitter_rust::LANGUAGE.into()
}

fn python_grammar() -> tree_sitter::Language {
    tree_sitter_python::LANGUAGE.into()
}

/// All languages with a real grammar, in lookup order.
pub static LANGUAGES: &[LanguageSpec] = &[
    LanguageSpec {
        name: "rust",
        extensions: &["rs"],
        scope_separator: "::",
        wrapper_kinds: &[],
        grammar: rust_grammar,
        query_source: include_str!("../queries/rust.scm"),
    },
    LanguageSpec {
        name: "python",
        extensions: &["py", "pyi"],
        scope_separator: ".",
        wrapper_kinds: &["decorated_definition"],
        grammar: python_grammar,
        query_source: include_str!("../queries/python.scm"),
    },
];

/// Finds the language of a path by its extension.
pub fn language_for_path(path: &str) -> Option<&'static LanguageSpec> {
    let ext = path.rsplit_once('.')?.1;
    LANGUAGES
        .iter()
        .find(|spec| spec.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// The compiled definition query of a language, built once per process.
pub(crate) fn definition_query(spec: &'static LanguageSpec) -> &'static Query {
    static QUERIES: OnceLock<Vec<Query>> = OnceLock::new();
    let queries = QUERIES.get_or_init(|| {
        LANGUAGES
            .iter()
            .map(|spec| {
                Query::new(&spec.grammar(), spec.query_source).unwrap_or_else(|err| {
                    // The query files ship inside the binary and are covered
                    // by tests, so a broken one is a build defect.
                    panic!("queries/{}.scm does not compile: {err}", spec.name)
                })
            })
            .collect()
    });
    let index = LANGUAGES
        .iter()
        .position(|candidate| std::ptr::eq(candidate, spec))
        .expect("spec comes from LANGUAGES");
    &queries[index]
}
