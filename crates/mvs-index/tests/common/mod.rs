//! Helpers shared by the pipeline tests: fixture trees, a run, and a small
//! deterministic embedder that stands in for the model.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mvs_embed::EmbedError;
use mvs_index::{IndexOptions, IndexReport, Progress, Project, TextEmbedder};
use tokio::sync::watch;

/// Writes `text` to `rel` under `root`, creating directories.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A small Rust function named `name` whose body is `body`.
pub fn function(name: &str, body: &str) -> String {
    format!("pub fn {name}(input: &str) -> usize {{\n    {body}\n}}\n\n")
}

/// Replaces `from` with `to` in the file `rel` under `root` (an edit).
pub fn replace_in(root: &Path, rel: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    assert!(text.contains(from), "{rel} has no {from:?}");
    write(root, rel, &text.replace(from, to));
}

/// Moves a file's mtime forward without changing its bytes (a `touch`).
pub fn touch(path: &Path) {
    let later = std::fs::metadata(path).unwrap().modified().unwrap() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(later)
        .unwrap();
}

/// The real model as the binary loads it (`$MCP_VECTOR_SEARCH_HOME`, else
/// the platform's cache), off the async threads.
pub async fn embedder() -> Arc<mvs_embed::Embedder> {
    let loaded = tokio::task::spawn_blocking(|| {
        let root = std::env::var_os("MCP_VECTOR_SEARCH_HOME")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from);
        let home = mvs_embed::Home::new(root)?;
        mvs_embed::load_embedder(&home, None, mvs_embed::EmbedOptions::default())
    })
    .await
    .unwrap();
    Arc::new(loaded.unwrap())
}

/// One indexing run that must succeed.
pub async fn run<E: TextEmbedder + 'static>(
    project: &Project,
    embedder: &Arc<E>,
    options: &IndexOptions,
) -> IndexReport {
    let (progress, _) = watch::channel(Progress::default());
    mvs_index::index_project(project, Arc::clone(embedder), options, &progress)
        .await
        .unwrap()
}

/// Chunks the project's index holds.
pub async fn chunk_count(project: &Project) -> usize {
    mvs_index::open_index(project)
        .await
        .unwrap()
        .stats()
        .await
        .unwrap()
        .chunks
}

/// Stands in for the model: each word (a run of letters, digits and `_`)
/// adds 1 to one of 8 dimensions chosen by its FNV-1a hash; the sum is
/// normalised. Same text, same vector; texts sharing words are near.
#[derive(Debug)]
pub struct HashedWords {
    model_id: &'static str,
    /// Document texts embedded so far (with a cache: those not cached).
    embedded: AtomicUsize,
    /// `Some`: like the persistent vector cache, texts embedded before are
    /// known without the model ([`TextEmbedder::cached_documents`]).
    remembered: Option<Mutex<HashSet<String>>>,
}

impl Default for HashedWords {
    fn default() -> Self {
        Self::named(Self::MODEL_ID)
    }
}

impl HashedWords {
    /// Floats per vector.
    pub const DIMENSION: usize = 8;
    /// The model id of [`HashedWords::default`].
    pub const MODEL_ID: &str = "test/hashed-words";

    /// The same embedder under another model id (vectors of another model).
    pub fn named(model_id: &'static str) -> Self {
        Self {
            model_id,
            embedded: AtomicUsize::new(0),
            remembered: None,
        }
    }

    /// The default embedder with a vector cache: what it embedded once, it
    /// knows without the model from then on, across indexes.
    pub fn remembering() -> Self {
        Self {
            remembered: Some(Mutex::default()),
            ..Self::default()
        }
    }

    /// Document texts embedded so far.
    pub fn embedded(&self) -> usize {
        self.embedded.load(Ordering::Relaxed)
    }

    fn vector(text: &str) -> Vec<f32> {
        let mut vector = vec![0f32; Self::DIMENSION];
        for word in text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
        {
            let hash = word.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            vector[(hash % Self::DIMENSION as u64) as usize] += 1.0;
        }
        if vector.iter().all(|v| *v == 0.0) {
            vector[0] = 1.0;
        }
        mvs_embed::normalize(&mut vector);
        vector
    }
}

impl TextEmbedder for HashedWords {
    fn model_id(&self) -> &str {
        self.model_id
    }

    fn dimension(&self) -> usize {
        Self::DIMENSION
    }

    fn max_tokens(&self) -> usize {
        256
    }

    fn device(&self) -> String {
        "test (hashed words)".into()
    }

    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Like the real embedder, a cache hit is not counted as embedded.
        let new = match &self.remembered {
            Some(remembered) => {
                let mut remembered = remembered.lock().unwrap();
                texts.iter().filter(|t| remembered.insert(t.to_string())).count()
            }
            None => texts.len(),
        };
        self.embedded.fetch_add(new, Ordering::Relaxed);
        Ok(texts.iter().map(|text| Self::vector(text)).collect())
    }

    fn cached_documents(&self, texts: &[&str]) -> Vec<Option<Vec<f32>>> {
        let Some(remembered) = &self.remembered else {
            return vec![None; texts.len()];
        };
        let remembered = remembered.lock().unwrap();
        texts
            .iter()
            .map(|text| remembered.contains(*text).then(|| Self::vector(text)))
            .collect()
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Ok(Self::vector(text))
    }
}
