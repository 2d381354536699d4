//! Arbitrary and damaged input never panics and never breaks chunk
//! invariants, for every language. Deterministic (seeded), so a failure
//! reproduces; the inputs are random bytes plus byte flips and truncations of
//! each language's fixture. The suite runs 150 rounds per language; a long
//! fuzzing session sets `MVS_FUZZ_ROUNDS` (and `MVS_FUZZ_SEED`):
//! `MVS_FUZZ_ROUNDS=20000 cargo test --test robustness --release`.

use std::collections::HashSet;

use mvs_parse::{ChunkOptions, FileChunks, LANGUAGES, chunk_file};

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
    [root.clone(), format!("{root}/languages")]
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()))
        .find(|path| path.extension().is_some_and(|ext| extensions.iter().any(|e| ext == *e)))
        .map(|path| std::fs::read(path).unwrap())
        .unwrap_or_default()
}

fn check(path: &str, bytes: &[u8]) {
    match chunk_file(path, bytes, &ChunkOptions::default()) {
        FileChunks::Parsed { chunks, .. } => {
            let source = String::from_utf8_lossy(bytes);
            let mut ids = HashSet::new();
            for chunk in &chunks {
                assert_eq!(&source[chunk.start_byte..chunk.end_byte], chunk.content, "{path}");
                assert!(chunk.start_line >= 1 && chunk.start_line <= chunk.end_line, "{path}");
                assert!(ids.insert(chunk.id.clone()), "{path}: duplicate id {}", chunk.id);
            }
        }
        FileChunks::Skipped(_) => {}
    }
}

#[test]
fn damaged_and_random_input_never_panics() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let rounds = env("MVS_FUZZ_ROUNDS").unwrap_or(150);
    let mut rng = Rng(env("MVS_FUZZ_SEED").unwrap_or(0x9e37_79b9_7f4a_7c15) | 1);
    for spec in LANGUAGES {
        // A native crash in a grammar prints no panic; this line names the language.
        eprintln!("fuzzing {}", spec.name);
        let path = format!("src/input.{}", spec.extensions[0]);
        let fixture = fixture_for(spec.extensions);
        assert!(!fixture.is_empty(), "{} has no fixture", spec.name);
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
        }
    }
}
