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
    /// The grammar's external scanner passes code points to C's `<ctype.h>`
    /// functions, which index a 256-entry table: a non-ASCII lookahead reads
    /// out of bounds and can crash the process. Such a grammar parses a copy
    /// of the text with every non-ASCII byte replaced by `x` (same length, so
    /// byte offsets still index the real text).
    pub ascii_only_scanner: bool,
    grammar: fn() -> tree_sitter::Language,
    query_source: &'static str,
}

impl LanguageSpec {
    /// The tree-sitter grammar.
    pub fn grammar(&self) -> tree_sitter::Language {
        (self.grammar)()
    }
}

/// Builds a registry row; the query file is `queries/<query>.scm`.
/// A trailing `ascii_only_scanner` sets [`LanguageSpec::ascii_only_scanner`].
macro_rules! language {
    ($name:literal, [$($ext:literal),*], $sep:literal, [$($wrapper:literal),*], $grammar:expr, $query:literal) => {
        language!($name, [$($ext),*], $sep, [$($wrapper),*], $grammar, $query, false)
    };
    ($name:literal, [$($ext:literal),*], $sep:literal, [$($wrapper:literal),*], $grammar:expr, $query:literal, ascii_only_scanner) => {
        language!($name, [$($ext),*], $sep, [$($wrapper),*], $grammar, $query, true)
    };
    ($name:literal, [$($ext:literal),*], $sep:literal, [$($wrapper:literal),*], $grammar:expr, $query:literal, $ascii:literal) => {
        LanguageSpec {
            name: $name,
            extensions: &[$($ext),*],
            scope_separator: $sep,
            wrapper_kinds: &[$($wrapper),*],
            ascii_only_scanner: $ascii,
            grammar: || $grammar.into(),
            query_source: include_str!(concat!("../queries/", $query, ".scm")),
        }
    };
}

/// All languages with a real grammar, in lookup order.
pub static LANGUAGES: &[LanguageSpec] = &[
    language!("rust", ["rs"], "::", [], tree_sitter_rust::LANGUAGE, "rust"),
    language!(
        "python",
        ["py", "pyi"],
        ".",
        ["decorated_definition"],
        tree_sitter_python::LANGUAGE,
        "python"
    ),
    language!(
        "javascript",
        ["js", "jsx", "mjs", "cjs"],
        ".",
        ["export_statement"],
        tree_sitter_javascript::LANGUAGE,
        "javascript"
    ),
    language!(
        "typescript",
        ["ts", "mts", "cts"],
        ".",
        ["export_statement"],
        tree_sitter_typescript::LANGUAGE_TYPESCRIPT,
        "typescript"
    ),
    language!(
        "tsx",
        ["tsx"],
        ".",
        ["export_statement"],
        tree_sitter_typescript::LANGUAGE_TSX,
        "typescript"
    ),
    language!("go", ["go"], ".", [], tree_sitter_go::LANGUAGE, "go"),
    language!("java", ["java"], ".", [], tree_sitter_java::LANGUAGE, "java"),
    language!(
        "kotlin",
        ["kt", "kts"],
        ".",
        [],
        tree_sitter_kotlin_ng::LANGUAGE,
        "kotlin"
    ),
    language!("swift", ["swift"], ".", [], tree_sitter_swift::LANGUAGE, "swift"),
    language!("c", ["c", "h"], "::", [], tree_sitter_c::LANGUAGE, "c"),
    language!(
        "cpp",
        ["cc", "cpp", "cxx", "hpp", "hh", "hxx"],
        "::",
        ["template_declaration"],
        tree_sitter_cpp::LANGUAGE,
        "cpp"
    ),
    language!("csharp", ["cs"], ".", [], tree_sitter_c_sharp::LANGUAGE, "c_sharp"),
    language!("ruby", ["rb"], "::", [], tree_sitter_ruby::LANGUAGE, "ruby"),
    language!("php", ["php"], "::", [], tree_sitter_php::LANGUAGE_PHP, "php"),
    language!("scala", ["scala", "sc"], ".", [], tree_sitter_scala::LANGUAGE, "scala"),
    language!("lua", ["lua"], ".", [], tree_sitter_lua::LANGUAGE, "lua"),
    // tree-sitter-bash 0.25.1's scanner calls isdigit() and friends on the
    // lookahead code point (scanner.c:1158): non-ASCII text segfaults it.
    language!(
        "bash",
        ["sh", "bash", "zsh"],
        ".",
        [],
        tree_sitter_bash::LANGUAGE,
        "bash",
        ascii_only_scanner
    ),
    language!(
        "markdown",
        ["md", "markdown"],
        " > ",
        [],
        tree_sitter_md::LANGUAGE,
        "markdown"
    ),
];

/// Text formats without a grammar here: chunked in line windows, labelled
/// with their real language name. (name, extensions, exact file names)
pub static TEXT_LANGUAGES: &[(&str, &[&str], &[&str])] = &[
    ("yaml", &["yml", "yaml"], &[]),
    ("toml", &["toml"], &[]),
    ("json", &["json", "jsonc"], &[]),
    ("sql", &["sql"], &[]),
    ("dockerfile", &["dockerfile"], &["Dockerfile", "Containerfile"]),
    ("makefile", &["mk"], &["Makefile", "GNUmakefile", "justfile"]),
    ("html", &["html", "htm"], &[]),
    ("css", &["css", "scss", "sass", "less"], &[]),
    ("xml", &["xml", "xsd", "svg"], &[]),
    ("text", &["txt", "rst", "adoc"], &[]),
    ("ini", &["ini", "cfg", "conf", "properties"], &[]),
    ("protobuf", &["proto"], &[]),
    ("graphql", &["graphql", "gql"], &[]),
];

/// The language name of a text format without a grammar, by extension or
/// file name.
pub fn text_language_for_path(path: &str) -> Option<&'static str> {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let ext = file_name.rsplit_once('.').map(|(_, ext)| ext);
    TEXT_LANGUAGES
        .iter()
        .find(|(_, extensions, names)| {
            names.contains(&file_name) || ext.is_some_and(|ext| extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
        })
        .map(|(name, _, _)| *name)
}

/// Finds the language of a path by its extension.
pub fn language_for_path(path: &str) -> Option<&'static LanguageSpec> {
    let ext = path.rsplit_once('.')?.1;
    LANGUAGES
        .iter()
        .find(|spec| spec.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// The compiled definition query of a language, built on its first use
/// (a run over a Rust repository never compiles the other 17 queries).
pub(crate) fn definition_query(spec: &'static LanguageSpec) -> &'static Query {
    static QUERIES: OnceLock<Vec<OnceLock<Query>>> = OnceLock::new();
    let queries = QUERIES.get_or_init(|| LANGUAGES.iter().map(|_| OnceLock::new()).collect());
    let index = LANGUAGES
        .iter()
        .position(|candidate| std::ptr::eq(candidate, spec))
        .expect("spec comes from LANGUAGES");
    queries[index].get_or_init(|| {
        Query::new(&spec.grammar(), spec.query_source).unwrap_or_else(|err| {
            // The query files ship inside the binary and every one is
            // compiled by the fixture tests, so a broken one is a build defect.
            panic!("queries/{}.scm does not compile: {err}", spec.name)
        })
    })
}
