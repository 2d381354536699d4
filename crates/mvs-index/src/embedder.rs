//! The embedder seam: what indexing and search need from a model. The
//! pipeline and search see only [`TextEmbedder`], so tests can drive them
//! with a small deterministic stand-in instead of loading the real model.

use mvs_embed::{EmbedError, Embedder};

/// A text embedding model as indexing and search use it. Vectors are unit
/// length with [`TextEmbedder::dimension`] floats; methods may be called from
/// any thread (the pipeline calls them from blocking tasks).
pub trait TextEmbedder: Send + Sync {
    /// Stable model id recorded in the index: vectors of another id live in
    /// another space, so an index is searched and extended only with its own.
    fn model_id(&self) -> &str;

    /// Floats per vector.
    fn dimension(&self) -> usize;

    /// Tokens the model reads per text: chunks are sized to fill (not
    /// overflow) that window unless the caller sets a chunk size.
    fn max_tokens(&self) -> usize;

    /// Where inference runs, one line for reports and `status`.
    fn device(&self) -> String;

    /// One vector per document (chunk) text, in order. Errors: inference
    /// failed.
    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;

    /// Vectors known without running the model (a persistent cache), in
    /// order, `None` for the others: the keywords phase of a big run stores
    /// these and leaves the rest pending. The default knows none.
    fn cached_documents(&self, texts: &[&str]) -> Vec<Option<Vec<f32>>> {
        vec![None; texts.len()]
    }

    /// The vector of a search query. Errors: inference failed.
    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError>;

    /// Tokens the model has read so far (a running count, for reports).
    /// The default counts none.
    fn tokens_embedded(&self) -> u64 {
        0
    }
}

impl TextEmbedder for Embedder {
    fn model_id(&self) -> &str {
        &self.spec().id
    }

    fn dimension(&self) -> usize {
        self.spec().dimension
    }

    fn max_tokens(&self) -> usize {
        self.spec().max_tokens
    }

    fn device(&self) -> String {
        Embedder::device(self).to_string()
    }

    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Embedder::embed_documents(self, texts)
    }

    fn cached_documents(&self, texts: &[&str]) -> Vec<Option<Vec<f32>>> {
        Embedder::cached_documents(self, texts)
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Embedder::embed_query(self, text)
    }

    fn tokens_embedded(&self) -> u64 {
        self.stats().tokens
    }
}
