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
    /// The model's window: chunks are sized to fill it, and no input is
    /// read past it.
    pub max_tokens: usize,
    /// Tokens of each document the model reads by default, when less than
    /// the window: the length it was trained on (all-MiniLM-L6-v2: 128).
    /// Chunks keep their `max_tokens` size; the vector reads their head
    /// (path, names, signature, docs, first lines). `None`: `max_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed_tokens: Option<usize>,
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
    /// The int8-arithmetic variant of the graph, used on CPU when present.
    pub int8: Option<PathBuf>,
}

/// File name of the ONNX graph in a model directory.
pub const MODEL_FILE: &str = "model.onnx";
/// File name of the Hugging Face tokenizer in a model directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// File name of the [`ModelSpec`] in a user-supplied model directory.
pub const SPEC_FILE: &str = "model.json";

impl ModelFiles {
    /// Reads a user-supplied model directory holding `model.onnx` (or
    /// `onnx/model.onnx`, the Hugging Face layout) and `tokenizer.json`. The
    /// spec comes from `model.json` (a [`ModelSpec`]) when present, else from
    /// the sentence-transformers files beside the model: `config.json`
    /// (dimension), `sentence_bert_config.json` (max tokens),
    /// `1_Pooling/config.json` (pooling) and `config_sentence_transformers.json`
    /// (query and document prompts). A `model.int8.onnx` beside the model is
    /// used on CPU.
    pub fn from_dir(dir: &Path) -> Result<Self, EmbedError> {
        let problem = |problem: String| EmbedError::ModelDir {
            dir: dir.to_path_buf(),
            problem,
        };
        let graph_dir = if dir.join(MODEL_FILE).is_file() {
            dir.to_path_buf()
        } else {
            dir.join("onnx")
        };
        for (base, file) in [(&graph_dir, MODEL_FILE), (&dir.to_path_buf(), TOKENIZER_FILE)] {
            if !base.join(file).is_file() {
                return Err(problem(format!("{file} is missing")));
            }
        }
        let spec = if dir.join(SPEC_FILE).is_file() {
            let raw = std::fs::read_to_string(dir.join(SPEC_FILE))
                .map_err(|err| problem(format!("cannot read {SPEC_FILE}: {err}")))?;
            serde_json::from_str(&raw).map_err(|err| {
                problem(format!(
                    "{SPEC_FILE} is not a model spec ({err}); expected e.g. \
                     {{\"id\": \"bge-small\", \"dimension\": 384, \"max_tokens\": 512, \"pooling\": \"cls\"}}"
                ))
            })?
        } else {
            sentence_transformers_spec(dir).map_err(problem)?
        };
        let int8 = Some(graph_dir.join(crate::INT8_MODEL_FILE)).filter(|p| p.is_file());
        Ok(Self {
            spec,
            dir: graph_dir,
            int8,
        })
    }
}

/// A spec from the sentence-transformers files of a model directory.
fn sentence_transformers_spec(dir: &Path) -> Result<ModelSpec, String> {
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok()
    };
    let config = read("config.json").ok_or_else(|| {
        format!(
            "neither {SPEC_FILE} nor config.json is there; write a {SPEC_FILE} such as \
             {{\"id\": \"my-model\", \"dimension\": 768, \"max_tokens\": 512, \"pooling\": \"mean\"}}"
        )
    })?;
    let dimension = ["hidden_size", "d_model", "n_embd"]
        .iter()
        .find_map(|key| config.get(key)?.as_u64())
        .ok_or("config.json has no hidden_size")? as usize;
    let max_tokens = read("sentence_bert_config.json")
        .and_then(|c| c.get("max_seq_length")?.as_u64())
        .or_else(|| config.get("max_position_embeddings")?.as_u64())
        .unwrap_or(512) as usize;
    let pooling = match read("1_Pooling/config.json") {
        Some(p) if p.get("pooling_mode_cls_token").and_then(serde_json::Value::as_bool) == Some(true) => Pooling::Cls,
        _ => Pooling::Mean,
    };
    let prompts = read("config_sentence_transformers.json").and_then(|c| c.get("prompts").cloned());
    let prompt = |names: &[&str]| -> String {
        names
            .iter()
            .find_map(|name| prompts.as_ref()?.get(name)?.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "local-model".into());
    Ok(ModelSpec {
        id: format!("local/{name}"),
        dimension,
        max_tokens,
        embed_tokens: None,
        pooling,
        query_prefix: prompt(&["query", "search_query"]),
        document_prefix: prompt(&["document", "passage", "search_document"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, content: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    #[test]
    fn a_sentence_transformers_directory_describes_itself() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("CodeRankEmbed");
        write(&dir, "onnx/model.onnx", "graph");
        write(&dir, TOKENIZER_FILE, "{}");
        write(
            &dir,
            "config.json",
            r#"{"hidden_size": 768, "max_position_embeddings": 8192}"#,
        );
        write(&dir, "sentence_bert_config.json", r#"{"max_seq_length": 512}"#);
        write(&dir, "1_Pooling/config.json", r#"{"pooling_mode_cls_token": true}"#);
        write(
            &dir,
            "config_sentence_transformers.json",
            r#"{"prompts": {"query": "Represent this query for searching relevant code: "}}"#,
        );
        let model = ModelFiles::from_dir(&dir).unwrap();
        assert_eq!(model.dir, dir.join("onnx"));
        assert_eq!(model.int8, None);
        let spec = model.spec;
        assert_eq!(spec.id, "local/CodeRankEmbed");
        assert_eq!(
            (spec.dimension, spec.max_tokens, spec.pooling),
            (768, 512, Pooling::Cls)
        );
        assert_eq!(spec.query_prefix, "Represent this query for searching relevant code: ");
        assert_eq!(spec.document_prefix, "");
    }

    #[test]
    fn model_json_wins_and_missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), MODEL_FILE, "graph");
        let error = ModelFiles::from_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("tokenizer.json is missing"), "{error}");
        write(dir.path(), TOKENIZER_FILE, "{}");
        let error = ModelFiles::from_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("model.json"), "{error}");
        write(
            dir.path(),
            SPEC_FILE,
            r#"{"id": "bge-small", "dimension": 384, "max_tokens": 512, "pooling": "cls", "query_prefix": "q: "}"#,
        );
        write(dir.path(), crate::INT8_MODEL_FILE, "graph");
        let model = ModelFiles::from_dir(dir.path()).unwrap();
        assert_eq!(model.spec.id, "bge-small");
        assert_eq!(model.spec.query_prefix, "q: ");
        assert_eq!(model.int8, Some(dir.path().join(crate::INT8_MODEL_FILE)));
    }
}
