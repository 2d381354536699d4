//! Single-file components (Vue, Svelte, Astro): embedded scripts are chunked
//! by their language's grammar at the component file's lines and bytes,
//! under the component's language name; nothing of the file is lost.

use std::collections::HashSet;

use mvs_parse::{
    COMPONENT_FORMATS, Chunk, ChunkKind, ChunkOptions, FileChunks, canonical_language, chunk_file, language_names,
    supported_path,
};

fn fixture(name: &str) -> String {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    std::fs::read_to_string(format!("{root}/tests/fixtures/components/{name}")).unwrap()
}

/// Chunks `source` as `path` and checks what holds for every file: the
/// expected language on the file and every chunk, content equal to the
/// file's text at the chunk's bytes and lines, unique ids, every non-blank
/// line covered.
fn chunks_of(path: &str, source: &str, language: &str) -> Vec<Chunk> {
    let FileChunks::Parsed {
        language: file_language,
        chunks,
        ..
    } = chunk_file(path, source.as_bytes(), &ChunkOptions::default())
    else {
        panic!("{path} was skipped");
    };
    assert_eq!(file_language, language, "{path}");
    let lines: Vec<&str> = source.split('\n').collect();
    let mut covered = vec![false; lines.len() + 1];
    let mut ids = HashSet::new();
    for chunk in &chunks {
        assert_eq!(chunk.language, language, "{path}: {}", chunk.qualified_name);
        assert_eq!(&source[chunk.start_byte..chunk.end_byte], chunk.content, "{path}");
        let first_line = source[..chunk.start_byte].matches('\n').count() + 1;
        assert_eq!(
            chunk.start_line as usize, first_line,
            "{path}: {}",
            chunk.qualified_name
        );
        let last_line = first_line + chunk.content.trim_end_matches('\n').matches('\n').count();
        assert_eq!(chunk.end_line as usize, last_line, "{path}: {}", chunk.qualified_name);
        assert!(ids.insert(chunk.id.clone()), "{path}: duplicate id {}", chunk.id);
        assert_eq!(chunk.cell, None, "{path}");
        covered[chunk.start_line as usize..=chunk.end_line as usize]
            .iter_mut()
            .for_each(|line| *line = true);
    }
    for (index, line) in lines.iter().enumerate() {
        assert!(
            line.trim().is_empty() || covered[index + 1],
            "{path}: line {} {line:?} is in no chunk",
            index + 1
        );
    }
    chunks
}

fn find<'a>(chunks: &'a [Chunk], kind: ChunkKind, name: &str) -> &'a Chunk {
    chunks
        .iter()
        .find(|chunk| chunk.kind == kind && chunk.qualified_name == name)
        .unwrap_or_else(|| {
            let found: Vec<String> = chunks
                .iter()
                .map(|c| format!("{} {} {}-{}", c.kind, c.qualified_name, c.start_line, c.end_line))
                .collect();
            panic!("no {kind} {name} among {found:#?}")
        })
}

/// 1-based line of the first line of `source` containing `needle`.
fn line_of(source: &str, needle: &str) -> u32 {
    source.lines().position(|line| line.contains(needle)).unwrap() as u32 + 1
}

#[test]
fn vue_script_setup_in_typescript_has_definitions_at_the_component_lines() {
    let source = fixture("Counter.vue");
    let chunks = chunks_of("src/components/Counter.vue", &source, "vue");
    let increment = find(&chunks, ChunkKind::Function, "increment");
    // The doc comment belongs to the function, as in a .ts file.
    assert_eq!(increment.start_line, line_of(&source, "/** Adds one"));
    assert_eq!(increment.end_line, line_of(&source, "const doubled") - 2);
    assert_eq!(
        increment.doc.as_deref(),
        Some("Adds one to the count, never past twice the limit.")
    );
    assert_eq!(increment.signature, "function increment(): void");
    // `lang="ts"`: the TypeScript grammar, so the interface is a definition.
    let props = find(&chunks, ChunkKind::Trait, "CounterProps");
    assert_eq!(props.start_line, line_of(&source, "interface CounterProps"));
    // The `<script>` line opens the script's module header (its imports).
    let header = chunks.iter().find(|c| c.kind == ChunkKind::ModuleHeader).unwrap();
    assert_eq!(header.start_line, line_of(&source, "<script setup"));
    assert!(header.content.contains("import { ref, computed } from 'vue'"));
    // The template is in a window; no script chunk reaches into it.
    let template = chunks
        .iter()
        .find(|c| c.kind == ChunkKind::Window && c.start_line == 1)
        .expect("the template is windowed");
    assert!(template.content.contains("<button @click=\"increment\">"));
    assert!(!template.content.contains("import"));
    // The embedding text names the component's language and path.
    assert!(
        increment
            .embedding_text
            .starts_with("src/components/Counter.vue · vue · increment\n")
    );
}

#[test]
fn svelte_scripts_use_the_language_their_lang_attribute_names() {
    let source = fixture("Card.svelte");
    let chunks = chunks_of("src/lib/Card.svelte", &source, "svelte");
    // `<script context="module">`: no lang attribute, JavaScript.
    let format = find(&chunks, ChunkKind::Function, "formatPrice");
    assert_eq!(format.start_line, line_of(&source, "export function formatPrice"));
    // `<script lang="ts">`: TypeScript (a parameter type would break JavaScript).
    let click = find(&chunks, ChunkKind::Function, "handleClick");
    assert_eq!(click.start_line, line_of(&source, "function handleClick"));
    assert_eq!(click.signature, "function handleClick(event: MouseEvent): void");
    // Markup between the scripts and the style is windowed under svelte.
    let markup = line_of(&source, "{#if cents > 0}");
    assert!(
        chunks
            .iter()
            .any(|c| c.kind == ChunkKind::Window && c.start_line <= markup && markup <= c.end_line)
    );
}

#[test]
fn astro_scripts_are_parsed_and_the_frontmatter_is_windowed() {
    let source = fixture("Page.astro");
    let chunks = chunks_of("src/pages/index.astro", &source, "astro");
    let track = find(&chunks, ChunkKind::Function, "trackScroll");
    assert_eq!(track.start_line, line_of(&source, "function trackScroll"));
    assert!(
        chunks
            .iter()
            .any(|c| c.kind == ChunkKind::Window && c.start_line == 1 && c.content.contains("fetchPosts"))
    );
}

#[test]
fn a_large_script_block_is_split_into_parts_at_the_component_lines() {
    let body: String = (0..150)
        .map(|i| format!("  total += await step{i}(input, {{ retries: 3 }});\n"))
        .collect();
    let source = format!(
        "<template><main /></template>\n\n<script>\nexport async function pipeline(input) {{\n  let total = 0;\n{body}  return total;\n}}\n</script>\n"
    );
    let chunks = chunks_of("src/Pipeline.vue", &source, "vue");
    let parts: Vec<&Chunk> = chunks.iter().filter(|c| c.qualified_name == "pipeline").collect();
    assert!(parts.len() > 3, "{} parts", parts.len());
    assert_eq!(parts[0].start_line, line_of(&source, "export async function pipeline"));
    for pair in parts.windows(2) {
        assert_eq!(pair[1].start_byte, pair[0].end_byte);
        assert_eq!(pair[1].start_line, pair[0].end_line + 1);
        assert_eq!(
            pair[1].part.as_ref().unwrap().definition_id,
            pair[0].part.as_ref().unwrap().definition_id
        );
    }
    let last = parts.last().unwrap();
    assert!(last.content.contains("return total;"));
    assert_eq!(last.part.as_ref().unwrap().count as usize, parts.len());
}

#[test]
fn scripts_in_unknown_languages_and_damaged_components_lose_nothing() {
    for (path, source) in [
        (
            "a/Unknown.vue",
            "<script lang=\"coffee\">\nsquare = (x) -> x * x\n</script>\n",
        ),
        (
            "a/Unclosed.vue",
            "<template><p>hi</p></template>\n<script>\nfunction broken( {\n  return 1\n",
        ),
        (
            "a/OneLine.svelte",
            "<script>let n = 1;</script><p>{n}</p>\n<style>p { color: red }</style>",
        ),
        (
            "a/Markup.svelte",
            "<h1>Hello {name}!</h1>\n\n<p>No script at all.</p>\n",
        ),
        ("a/Empty.vue", "<template>\n</template>\n<script setup>\n</script>\n"),
    ] {
        let language = mvs_parse::component_format_for_path(path).unwrap().name;
        let chunks = chunks_of(path, source, language);
        assert!(!chunks.is_empty(), "{path}");
    }
}

#[test]
fn two_scripts_defining_the_same_name_get_distinct_ids() {
    let source = "<script context=\"module\">\nexport function load() { return 1; }\n</script>\n\n<script>\nfunction load() { return 2; }\n</script>\n";
    let chunks = chunks_of("src/Twice.svelte", source, "svelte");
    let loads: Vec<&Chunk> = chunks.iter().filter(|c| c.qualified_name == "load").collect();
    assert_eq!(loads.len(), 2);
    assert_ne!(loads[0].id, loads[1].id);
    // Ids are stable: chunking again gives the same ones.
    let again = chunks_of("src/Twice.svelte", source, "svelte");
    assert_eq!(
        chunks.iter().map(|c| &c.id).collect::<Vec<_>>(),
        again.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
}

#[test]
fn component_formats_are_language_names() {
    for format in COMPONENT_FORMATS {
        assert!(language_names().any(|name| name == format.name), "{}", format.name);
        assert_eq!(canonical_language(format.name), Some(format.name));
        assert!(supported_path(&format!("src/App.{}", format.extensions[0])));
    }
    assert_eq!(canonical_language("VUE"), Some("vue"));
    assert_eq!(canonical_language(".svelte"), Some("svelte"));
}
