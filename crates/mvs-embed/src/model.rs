//! What a sentence-embedding model is: its id, shape and text conventions,
//! and where its files are.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::EmbedError;

/// How token vectors become one text vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Mean of the token vectors under the attention mask.
    Mean,
    /// The first (`[CLS]`) token vector.
    Cls,
}

/// A model's identity and conventions (`model.json` in a model directory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Stable id recorded in the index; a different id means re-index.
    pub id: String,
    /// Vector dimension.
    pub dimension: usize,
    /// Inputs are truncated to this many tokens.
    pub max_tokens: usize,
    /// Pooling of the `last_hidden_state` output.
    pub pooling: Pooling,
    /// Prepended to queries (some models expect e.g. `"query: "`).
    #[serde(default)]
    pub query_prefix: String,
    /// Prepended to documents.
    #[serde(default)]
    pub document_prefix: String,
}

/// A model ready to load: its spec and the directory holding `model.onnx`
/// and `tokenizer.json`.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The model's spec.
    pub spec: ModelSpec,
    /// Directory with `model.onnx` and `tokenizer.json`.
    pub dir: PathBuf,
}

/// File name of the ONNX graph in a model directory.
pub const MODEL_FILE: &str = "model.onnx";
/// File name of the Hugging Face tokenizer in a model directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// File name of the [`ModelSpec`] in a user-supplied model directory.
pub const SPEC_FILE: &str = "model.json";

impl ModelFiles {
    /// Reads a user-supplied model directory: `model.onnx`, `tokenizer.json`
    /// and `model.json` (a [`ModelSpec`]).
    pub fn from_dir(dir: &Path) -> Result<Self, EmbedError> {
        for file in [MODEL_FILE, TOKENIZER_FILE, SPEC_FILE] {
            if !dir.join(file).is_file() {
                return Err(EmbedError::ModelDir {
                    dir: dir.to_path_buf(),
                    problem: format!("{file} is missing"),
                });
            }
        }
        let raw = std::fs::read_to_string(dir.join(SPEC_FILE)).map_err(|err| EmbedError::ModelDir {
            dir: dir.to_path_buf(),
            problem: format!("cannot read {SPEC_FILE}: {err}"),
        })?;
        let spec: ModelSpec = serde_json::from_str(&raw).map_err(|err| EmbedError::ModelDir {
            dir: dir.to_path_buf(),
            problem: format!(
                "{SPEC_FILE} is not a model spec ({err}); expected e.g. \
                 {{\"id\": \"bge-small\", \"dimension\": 384, \"max_tokens\": 512, \"pooling\": \"cls\"}}"
            ),
        })?;
        Ok(Self {
            spec,
            dir: dir.to_path_buf(),
        })
    }
}
