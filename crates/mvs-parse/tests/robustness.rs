//! Arbitrary and damaged input never panics and never breaks chunk
//! invariants, for every language: content is the text at the chunk's bytes,
//! ids are unique, the chunks' line ranges cover every non-blank line, and
//! the parts of a split definition are contiguous and numbered.
//! Deterministic (seeded), so a failure reproduces; the inputs are random
//! bytes plus byte flips, truncations and inserted unclosed brackets of each
//! language's fixture. The suite runs 150 rounds per language; a long
//! fuzzing session sets `MVS_FUZZ_ROUNDS` (and `MVS_FUZZ_SEED`):
//! `MVS_FUZZ_ROUNDS=20000 cargo test --test robustness --release`.

use std::collections::{HashMap, HashSet};

use mvs_parse::{
    COMPONENT_FORMATS, Chunk, ChunkOptions, FileChunks, LANGUAGES, TEXT_LANGUAGES, chunk_file, decode_source,
};

/// xorshift64*: tiny, deterministic, good enough to spread inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The fixture file of a language (any of its extensions), or nothing.
fn fixture_for(extensions: &[&str]) -> Vec<u8> {
    // Read at run time, not baked in with env!(): CI reuses test binaries
    // built in another clone of the repository.
    let root = format!("{}/tests/fixtures", std::env::var("CARGO_MANIFEST_DIR").unwrap());
    [root.clone(), format!("{root}/languages"), format!("{root}/components")]
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()))
        .find(|path| path.extension().is_some_and(|ext| extensions.iter().any(|e| ext == *e)))
        .map(|path| std::fs::read(path).unwrap())
        .unwrap_or_default()
}

fn check(path: &str, bytes: &[u8]) {
    match chunk_file(path, bytes, &ChunkOptions::default()) {
        FileChunks::Parsed { chunks, .. } => {
            let source = decode_source(bytes).text;
            let mut ids = HashSet::new();
            for chunk in &chunks {
                assert_eq!(&source[chunk.start_byte..chunk.end_byte], chunk.content, "{path}");
                assert!(chunk.start_line >= 1 && chunk.start_line <= chunk.end_line, "{path}");
                assert!(ids.insert(chunk.id.clone()), "{path}: duplicate id {}", chunk.id);
            }
            assert_lines_covered(path, &source, &chunks, bytes);
            assert_parts_contiguous(path, &chunks);
        }
        FileChunks::Skipped(_) => {}
    }
}

/// The union of the chunks' line ranges holds every non-blank line.
fn assert_lines_covered(path: &str, source: &str, chunks: &[Chunk], bytes: &[u8]) {
    let mut covered = vec![false; source.split('\n').count() + 1];
    for chunk in chunks {
        for line in chunk.start_line..=chunk.end_line {
            covered[line as usize] = true;
        }
    }
    for (index, line) in source.split('\n').enumerate() {
        assert!(
            line.trim().is_empty() || covered[index + 1],
            "{path}: line {} {line:?} is in no chunk; input {bytes:?}",
            index + 1
        );
    }
}

/// The parts of each split definition: numbered 1..=count in file order,
/// each starting where the one before ends, on a line start.
fn assert_parts_contiguous(path: &str, chunks: &[Chunk]) {
    let mut parts: HashMap<&str, Vec<&Chunk>> = HashMap::new();
    for chunk in chunks {
        if let Some(part) = &chunk.part {
            parts.entry(part.definition_id.as_str()).or_default().push(chunk);
        }
    }
    for (definition, parts) in parts {
        for (position, chunk) in parts.iter().enumerate() {
            let part = chunk.part.as_ref().unwrap();
            assert_eq!(
                (part.index as usize, part.count as usize),
                (position + 1, parts.len()),
                "{path}: {definition}"
            );
            if position > 0 {
                let previous = parts[position - 1];
                assert_eq!(chunk.start_byte, previous.end_byte, "{path}: {definition}");
                assert_eq!(chunk.start_line, previous.end_line + 1, "{path}: {definition}");
                assert_eq!(
                    (&chunk.name, &chunk.qualified_name, chunk.kind),
                    (&previous.name, &previous.qualified_name, previous.kind)
                );
            }
        }
    }
}

/// Inserts a line opening a bracket it never closes, at a line start.
fn unclose(rng: &mut Rng, fixture: &[u8]) -> Vec<u8> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(
            fixture
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let at = line_starts[rng.below(line_starts.len())];
    let opener = ["x = call(1, 2\n", "{\n", "if (x) {\n", "[1, 2,\n", "\"unterminated\n"][rng.below(5)];
    [&fixture[..at], opener.as_bytes(), &fixture[at..]].concat()
}

#[test]
fn damaged_and_random_input_never_panics() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let rounds = env("MVS_FUZZ_ROUNDS").unwrap_or(150);
    let mut rng = Rng(env("MVS_FUZZ_SEED").unwrap_or(0x9e37_79b9_7f4a_7c15) | 1);
    // Every grammar, and every component format (its host and injected grammars).
    let grammars = LANGUAGES.iter().map(|spec| (spec.name, spec.extensions));
    let components = COMPONENT_FORMATS.iter().map(|format| (format.name, format.extensions));
    for (name, extensions) in grammars.chain(components) {
        // A native crash in a grammar prints no panic; this line names the language.
        eprintln!("fuzzing {name}");
        let path = format!("src/input.{}", extensions[0]);
        let fixture = fixture_for(extensions);
        assert!(!fixture.is_empty(), "{name} has no fixture");
        for _ in 0..rounds {
            let random: Vec<u8> = (0..rng.below(600)).map(|_| rng.next() as u8).collect();
            check(&path, &random);
            let mut flipped = fixture.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(flipped.len());
                flipped[at] = rng.next() as u8;
            }
            check(&path, &flipped);
            check(&path, &fixture[..rng.below(fixture.len())]);
            check(&path, &unclose(&mut rng, &fixture));
        }
    }
    // Text formats without a grammar: windows cover them whole.
    for text in TEXT_LANGUAGES {
        let path = format!("conf/input.{}", text.extensions[0]);
        for _ in 0..rounds {
            let random: Vec<u8> = (0..rng.below(3000)).map(|_| b" \n\nab{}:"[rng.below(8)]).collect();
            check(&path, &random);
        }
    }
}
