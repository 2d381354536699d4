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
    /// Other names people use for it (`golang`, `c++`), lower case; its
    /// extensions count as names too (see [`canonical_language`]).
    pub aliases: &'static [&'static str],
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

/// Builds a registry row: name, extensions, aliases, scope separator,
/// wrapper kinds, grammar, query file (`queries/<query>.scm`). A trailing
/// `ascii_only_scanner` sets [`LanguageSpec::ascii_only_scanner`].
macro_rules! language {
    ($name:literal, [$($ext:literal),*], [$($alias:literal),*], $sep:literal, [$($wrapper:literal),*], $grammar:expr, $query:literal) => {
        language!($name, [$($ext),*], [$($alias),*], $sep, [$($wrapper),*], $grammar, $query, false)
    };
    ($name:literal, [$($ext:literal),*], [$($alias:literal),*], $sep:literal, [$($wrapper:literal),*], $grammar:expr, $query:literal, ascii_only_scanner) => {
        language!($name, [$($ext),*], [$($alias),*], $sep, [$($wrapper),*], $grammar, $query, true)
    };
    ($name:literal, [$($ext:literal),*], [$($alias:literal),*], $sep:literal, [$($wrapper:literal),*], $grammar:expr, $query:literal, $ascii:literal) => {
        LanguageSpec {
            name: $name,
            extensions: &[$($ext),*],
            aliases: &[$($alias),*],
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
    language!("rust", ["rs"], [], "::", [], tree_sitter_rust::LANGUAGE, "rust"),
    language!(
        "python",
        ["py", "pyi"],
        ["python3"],
        ".",
        ["decorated_definition"],
        tree_sitter_python::LANGUAGE,
        "python"
    ),
    language!(
        "javascript",
        ["js", "jsx", "mjs", "cjs"],
        ["node", "nodejs", "ecmascript"],
        ".",
        ["export_statement"],
        tree_sitter_javascript::LANGUAGE,
        "javascript"
    ),
    language!(
        "typescript",
        ["ts", "mts", "cts"],
        [],
        ".",
        ["export_statement"],
        tree_sitter_typescript::LANGUAGE_TYPESCRIPT,
        "typescript"
    ),
    language!(
        "tsx",
        ["tsx"],
        [],
        ".",
        ["export_statement"],
        tree_sitter_typescript::LANGUAGE_TSX,
        "typescript"
    ),
    language!("go", ["go"], ["golang"], ".", [], tree_sitter_go::LANGUAGE, "go"),
    language!("java", ["java"], [], ".", [], tree_sitter_java::LANGUAGE, "java"),
    language!(
        "kotlin",
        ["kt", "kts"],
        [],
        ".",
        [],
        tree_sitter_kotlin_ng::LANGUAGE,
        "kotlin"
    ),
    language!("swift", ["swift"], [], ".", [], tree_sitter_swift::LANGUAGE, "swift"),
    language!("c", ["c", "h"], [], "::", [], tree_sitter_c::LANGUAGE, "c"),
    language!(
        "cpp",
        ["cc", "cpp", "cxx", "hpp", "hh", "hxx"],
        ["c++"],
        "::",
        ["template_declaration"],
        tree_sitter_cpp::LANGUAGE,
        "cpp"
    ),
    language!(
        "csharp",
        ["cs"],
        ["c#", "c-sharp"],
        ".",
        [],
        tree_sitter_c_sharp::LANGUAGE,
        "c_sharp"
    ),
    language!("ruby", ["rb"], [], "::", [], tree_sitter_ruby::LANGUAGE, "ruby"),
    language!(
        "elixir",
        ["ex", "exs"],
        [],
        ".",
        [],
        tree_sitter_elixir::LANGUAGE,
        "elixir"
    ),
    language!("php", ["php"], [], "::", [], tree_sitter_php::LANGUAGE_PHP, "php"),
    language!(
        "scala",
        ["scala", "sc"],
        [],
        ".",
        [],
        tree_sitter_scala::LANGUAGE,
        "scala"
    ),
    language!("lua", ["lua"], [], ".", [], tree_sitter_lua::LANGUAGE, "lua"),
    // tree-sitter-bash 0.25.1's scanner calls isdigit() and friends on the
    // lookahead code point (scanner.c:1158): non-ASCII text segfaults it.
    language!(
        "bash",
        ["sh", "bash", "zsh"],
        ["shell"],
        ".",
        [],
        tree_sitter_bash::LANGUAGE,
        "bash",
        ascii_only_scanner
    ),
    language!(
        "markdown",
        ["md", "markdown"],
        [],
        " > ",
        [],
        tree_sitter_md::LANGUAGE,
        "markdown"
    ),
    language!(
        "erlang",
        ["erl", "hrl"],
        [],
        ":",
        [],
        tree_sitter_erlang::LANGUAGE,
        "erlang"
    ),
    language!("haskell", ["hs"], [], ".", [], tree_sitter_haskell::LANGUAGE, "haskell"),
    language!("ocaml", ["ml"], [], ".", [], tree_sitter_ocaml::LANGUAGE_OCAML, "ocaml"),
    // Interfaces have a grammar of their own; the one query file serves both.
    language!(
        "ocaml_interface",
        ["mli"],
        ["ocaml-interface"],
        ".",
        [],
        tree_sitter_ocaml::LANGUAGE_OCAML_INTERFACE,
        "ocaml"
    ),
    language!("zig", ["zig"], [], ".", [], tree_sitter_zig::LANGUAGE, "zig"),
    language!("dart", ["dart"], [], ".", [], tree_sitter_dart::LANGUAGE, "dart"),
    language!("r", ["r"], ["rlang"], ".", [], tree_sitter_r::LANGUAGE, "r"),
    language!("julia", ["jl"], [], ".", [], tree_sitter_julia::LANGUAGE, "julia"),
    // `.h` stays C: a header alone does not say which language includes it.
    language!(
        "objc",
        ["m"],
        ["objective-c", "objectivec", "obj-c"],
        ".",
        [],
        tree_sitter_objc::LANGUAGE,
        "objc"
    ),
    language!(
        "html",
        ["html", "htm", "xhtml"],
        [],
        " > ",
        [],
        tree_sitter_html::LANGUAGE,
        "html"
    ),
    // A space joins nested selectors as CSS reads them (`.table td`).
    language!("css", ["css"], [], " ", [], tree_sitter_css::LANGUAGE, "css"),
    language!("scss", ["scss"], [], " ", [], tree_sitter_scss::language(), "scss"),
    language!(
        "sql",
        ["sql"],
        ["postgresql", "mysql", "sqlite"],
        ".",
        [],
        tree_sitter_sequel::LANGUAGE,
        "sql"
    ),
    language!(
        "hcl",
        ["hcl", "tf", "tfvars"],
        ["terraform", "opentofu"],
        ".",
        [],
        tree_sitter_hcl::LANGUAGE,
        "hcl"
    ),
    language!("nix", ["nix"], [], ".", [], tree_sitter_nix::LANGUAGE, "nix"),
    language!(
        "protobuf",
        ["proto"],
        ["proto3"],
        ".",
        [],
        tree_sitter_proto::LANGUAGE,
        "proto"
    ),
    language!(
        "graphql",
        ["graphql", "gql"],
        [],
        ".",
        [],
        tree_sitter_graphql::LANGUAGE,
        "graphql"
    ),
    language!("yaml", ["yml", "yaml"], [], ".", [], tree_sitter_yaml::LANGUAGE, "yaml"),
    language!("toml", ["toml"], [], ".", [], tree_sitter_toml_ng::LANGUAGE, "toml"),
    // The grammar accepts comments, so JSON with comments parses too.
    language!(
        "json",
        ["json", "jsonc"],
        [],
        ".",
        [],
        tree_sitter_json::LANGUAGE,
        "json"
    ),
    language!(
        "solidity",
        ["sol"],
        [],
        ".",
        [],
        tree_sitter_solidity::LANGUAGE,
        "solidity"
    ),
    language!("elm", ["elm"], [], ".", [], tree_sitter_elm::LANGUAGE, "elm"),
    language!(
        "clojure",
        ["clj", "cljs", "cljc", "edn"],
        ["clojurescript"],
        "/",
        [],
        tree_sitter_clojure_orchard::LANGUAGE,
        "clojure"
    ),
];

/// A text format without a grammar here: chunked in line windows, labelled
/// with its real language name.
pub struct TextLanguage {
    /// Stable lower-case name stored with every chunk.
    pub name: &'static str,
    /// File extensions without the dot.
    pub extensions: &'static [&'static str],
    /// Exact file names (`Dockerfile`).
    pub file_names: &'static [&'static str],
    /// Other names people use for it, lower case.
    pub aliases: &'static [&'static str],
}

/// Builds a [`TextLanguage`] row: name, extensions, file names, aliases.
macro_rules! text_language {
    ($name:literal, [$($ext:literal),*], [$($file:literal),*], [$($alias:literal),*]) => {
        TextLanguage {
            name: $name,
            extensions: &[$($ext),*],
            file_names: &[$($file),*],
            aliases: &[$($alias),*],
        }
    };
}

/// Text formats without a grammar here.
pub static TEXT_LANGUAGES: &[TextLanguage] = &[
    text_language!(
        "dockerfile",
        ["dockerfile"],
        ["Dockerfile", "Containerfile"],
        ["docker", "containerfile"]
    ),
    text_language!(
        "makefile",
        ["mk"],
        ["Makefile", "GNUmakefile", "justfile"],
        ["make", "just"]
    ),
    text_language!("sass", ["sass"], [], []),
    text_language!("less", ["less"], [], []),
    text_language!("xml", ["xml", "xsd", "svg"], [], []),
    text_language!("text", ["txt", "rst", "adoc"], [], ["plain", "plaintext"]),
    text_language!("ini", ["ini", "cfg", "conf", "properties"], [], []),
];

/// The language name of a text format without a grammar, by extension or
/// file name.
pub fn text_language_for_path(path: &str) -> Option<&'static str> {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let ext = file_name.rsplit_once('.').map(|(_, ext)| ext);
    TEXT_LANGUAGES
        .iter()
        .find(|text| {
            text.file_names.contains(&file_name)
                || ext.is_some_and(|ext| text.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
        })
        .map(|text| text.name)
}

/// Finds the language of a path by its extension. A file whose extension
/// several languages share (`.h`) gets the extension's default here;
/// [`language_for_source`] reads its text to tell them apart.
pub fn language_for_path(path: &str) -> Option<&'static LanguageSpec> {
    let ext = path.rsplit_once('.')?.1;
    LANGUAGES
        .iter()
        .find(|spec| spec.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// A language that claims files of another's extension by their content:
/// `.h` is C by default, but C++ and Objective-C headers use it too, and
/// the C grammar turns their classes and templates into unnamed windows.
struct Dialect {
    /// The shared extension, without the dot.
    extension: &'static str,
    /// The registry name of the language that claims the file.
    language: &'static str,
    /// A line that starts so (after indentation) marks the language.
    line_starts: &'static [&'static str],
    /// Text found anywhere that marks the language.
    anywhere: &'static [&'static str],
}

/// The claims on shared extensions, tried in order: GitHub Linguist's
/// heuristics for `.h`, reduced to fixed strings. Objective-C first: its
/// headers may hold C++ too (Objective-C++), and its markers are stronger.
static DIALECTS: &[Dialect] = &[
    Dialect {
        extension: "h",
        language: "objc",
        line_starts: &[
            "@interface",
            "@implementation",
            "@protocol",
            "@property",
            "@class ",
            "@end",
            "#import ",
        ],
        anywhere: &[],
    },
    Dialect {
        extension: "h",
        language: "cpp",
        line_starts: &[
            "template <",
            "template<",
            "namespace ",
            "using namespace ",
            "class ",
            "public:",
            "private:",
            "protected:",
            "#include <string>",
            "#include <vector>",
            "#include <memory>",
            "#include <map>",
            "#include <iostream>",
            "#include <cstdint>",
            "#include <cstddef>",
        ],
        anywhere: &["std::"],
    },
];

/// How much of a file [`language_for_source`] reads: the markers of a
/// header's language show early (includes, namespaces, first class).
const DIALECT_SNIFF_BYTES: usize = 64 * 1024;

/// The language of a file from its path and text: [`language_for_path`],
/// unless another language claims the file's extension by its content (a
/// `.h` file with `template <` or `namespace x` is C++, one with
/// `@interface` Objective-C). Reads at most the first 64 KiB of `text`.
pub fn language_for_source(path: &str, text: &str) -> Option<&'static LanguageSpec> {
    let by_path = language_for_path(path)?;
    let ext = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    let mut end = text.len().min(DIALECT_SNIFF_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let claims = |dialect: &Dialect| {
        dialect.anywhere.iter().any(|marker| head.contains(marker))
            || head.lines().any(|line| {
                let line = line.trim_start();
                dialect.line_starts.iter().any(|marker| line.starts_with(marker))
            })
    };
    let claimed = DIALECTS
        .iter()
        .filter(|dialect| dialect.extension.eq_ignore_ascii_case(ext))
        .find(|dialect| claims(dialect))
        .and_then(|dialect| LANGUAGES.iter().find(|spec| spec.name == dialect.language));
    Some(claimed.unwrap_or(by_path))
}

/// Every language name a chunk can carry: the grammar languages, then the
/// text formats, in registry order.
pub fn language_names() -> impl Iterator<Item = &'static str> {
    LANGUAGES
        .iter()
        .map(|spec| spec.name)
        .chain(TEXT_LANGUAGES.iter().map(|text| text.name))
        .chain(crate::host_formats().map(|(name, ..)| name))
}

/// The registry name of a language as people write it: its name, an alias
/// (`golang`, `c++`, `shell`) or one of its extensions (`py`, `rs`, `ts`),
/// in any case and with a leading dot allowed. `None` when no language
/// goes by that name.
pub fn canonical_language(name: &str) -> Option<&'static str> {
    let wanted = name.trim().trim_start_matches('.').to_ascii_lowercase();
    let wanted = wanted.as_str();
    let rows = || {
        let texts = TEXT_LANGUAGES
            .iter()
            .map(|text| (text.name, text.extensions, text.aliases));
        LANGUAGES
            .iter()
            .map(|spec| (spec.name, spec.extensions, spec.aliases))
            .chain(texts)
            .chain(crate::host_formats())
    };
    // Names first, so a name never resolves to another language that
    // happens to use it as an extension.
    rows()
        .find(|(name, ..)| *name == wanted)
        .or_else(|| rows().find(|(_, extensions, aliases)| aliases.contains(&wanted) || extensions.contains(&wanted)))
        .map(|(name, ..)| name)
}

/// The compiled definition query of a language, built on its first use
/// (a run over a Rust repository never compiles the other languages' queries).
pub(crate) fn definition_query(spec: &'static LanguageSpec) -> &'static Query {
    static QUERIES: OnceLock<Vec<OnceLock<Query>>> = OnceLock::new();
    compiled_on_first_use(&QUERIES, LANGUAGES, spec, || {
        Query::new(&spec.grammar(), spec.query_source).unwrap_or_else(|err| {
            // The query files ship inside the binary and every one is
            // compiled by the fixture tests, so a broken one is a build defect.
            panic!("queries/{}.scm does not compile: {err}", spec.name)
        })
    })
}

/// The query of `entry`, a row of the static `table`, from its slot in
/// `slots` (one per row, made on the first call), compiled by `compile` the
/// first time it is asked for.
pub(crate) fn compiled_on_first_use<T>(
    slots: &'static OnceLock<Vec<OnceLock<Query>>>,
    table: &'static [T],
    entry: &'static T,
    compile: impl FnOnce() -> Query,
) -> &'static Query {
    let slots = slots.get_or_init(|| table.iter().map(|_| OnceLock::new()).collect());
    let index = table
        .iter()
        .position(|row| std::ptr::eq(row, entry))
        .expect("the entry is a row of its table");
    slots[index].get_or_init(compile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_go_by_name_alias_or_extension_in_any_case() {
        for (given, name) in [
            ("Python", "python"),
            ("py", "python"),
            (".PY", "python"),
            ("golang", "go"),
            ("C++", "cpp"),
            ("c#", "csharp"),
            ("cs", "csharp"),
            ("sh", "bash"),
            ("shell", "bash"),
            ("md", "markdown"),
            ("ts", "typescript"),
            ("tsx", "tsx"),
            ("js", "javascript"),
            ("rs", "rust"),
            ("yml", "yaml"),
            ("Dockerfile", "dockerfile"),
            ("tf", "hcl"),
            ("Terraform", "hcl"),
            ("proto", "protobuf"),
            ("jsonc", "json"),
            ("mli", "ocaml_interface"),
            ("objective-c", "objc"),
            ("m", "objc"),
            ("h", "c"),
            ("cljs", "clojure"),
            ("edn", "clojure"),
            ("hs", "haskell"),
            ("erl", "erlang"),
            ("sol", "solidity"),
            ("gql", "graphql"),
            ("scss", "scss"),
            ("less", "less"),
        ] {
            assert_eq!(canonical_language(given), Some(name), "{given}");
        }
        assert_eq!(canonical_language("klingon"), None);
        assert_eq!(canonical_language(""), None);
    }

    #[test]
    fn every_name_is_its_own_canonical_name() {
        for name in language_names() {
            assert_eq!(canonical_language(name), Some(name));
        }
    }
}
