//! Sentence embeddings with ONNX Runtime: tokenise, run the graph in
//! length-sorted batches, pool, L2-normalise.

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

use crate::EmbedError;
use crate::model::{MODEL_FILE, ModelFiles, ModelSpec, Pooling, TOKENIZER_FILE};

/// Where inference runs, for logs and `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `cpu`, `cuda` or `coreml`.
    pub device: String,
    /// The ONNX Runtime execution provider.
    pub provider: String,
    /// The loaded ONNX Runtime version.
    pub runtime_version: String,
}

/// Knobs for [`Embedder::load`].
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    /// Most texts per inference call.
    pub batch_size: usize,
    /// Most padded tokens (texts x longest text) per inference call: long
    /// texts run in small batches, short ones in large batches.
    pub token_budget: usize,
    /// Intra-op threads.
    pub threads: usize,
}

impl EmbedOptions {
    /// Defaults from the machine, overridden by `MCP_VECTOR_SEARCH_BATCH_SIZE`
    /// and `MCP_VECTOR_SEARCH_MAX_WORKERS`.
    pub fn from_env() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            batch_size: env_usize("MCP_VECTOR_SEARCH_BATCH_SIZE").unwrap_or(32),
            token_budget: env_usize("MCP_VECTOR_SEARCH_TOKEN_BUDGET").unwrap_or(DEFAULT_TOKEN_BUDGET),
            threads: env_usize("MCP_VECTOR_SEARCH_MAX_WORKERS").unwrap_or(cores),
        }
    }
}

/// Measured on 2 CPU cores (docs/benchmarks.md): padding and activation
/// memory outweigh batching gains, so a call holds one full-window text or
/// several short ones (256: 9.5 s / 385 MB for this repository, against
/// 15.9 s / 1.7 GB with fixed batches of 32).
const DEFAULT_TOKEN_BUDGET: usize = 256;

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.trim().parse().ok().filter(|&n| n > 0)
}

/// A loaded model. `embed_*` may be called from any thread; calls are
/// serialised on the session (ONNX Runtime parallelises inside a call).
pub struct Embedder {
    session: Mutex<Session>,
    tokenizer: Tokenizer,
    spec: ModelSpec,
    device: DeviceInfo,
    batch_size: usize,
    token_budget: usize,
    /// Names of the graph's inputs, to feed only what it declares.
    input_names: Vec<String>,
}

/// The process-wide ONNX Runtime environment; sessions need it alive.
static ENVIRONMENT: OnceLock<ort::environment::Environment> = OnceLock::new();

fn init_runtime(runtime: &Path) -> Result<&'static ort::environment::Environment, EmbedError> {
    if let Some(environment) = ENVIRONMENT.get() {
        return Ok(environment);
    }
    let builder = ort::init_from(runtime).map_err(|err| EmbedError::Runtime {
        message: format!(
            "cannot load ONNX Runtime from {}: {err}; run `mcp-vector-search setup` or set ORT_DYLIB_PATH",
            runtime.display()
        ),
    })?;
    let environment = builder
        .with_name("mcp-vector-search")
        .build()
        .map_err(|err| EmbedError::Runtime {
            message: format!("cannot start ONNX Runtime: {err}"),
        })?;
    Ok(ENVIRONMENT.get_or_init(|| environment))
}

impl Embedder {
    /// Loads the runtime library (once per process) and the model.
    pub fn load(runtime: &Path, model: &ModelFiles, options: &EmbedOptions) -> Result<Self, EmbedError> {
        let environment = init_runtime(runtime)?;
        let runtime_error = |err: ort::Error| EmbedError::Runtime {
            message: format!("cannot load {}: {err}", model.dir.join(MODEL_FILE).display()),
        };
        let session = Session::builder(environment)
            .map_err(runtime_error)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|err| runtime_error(err.into()))?
            .with_intra_threads(options.threads.max(1))
            .map_err(|err| runtime_error(err.into()))?
            .commit_from_file(model.dir.join(MODEL_FILE))
            .map_err(runtime_error)?;
        let input_names = session.inputs().iter().map(|i| i.name().to_string()).collect();
        let tokenizer = load_tokenizer(&model.dir.join(TOKENIZER_FILE), model.spec.max_tokens)?;
        let device = DeviceInfo {
            device: "cpu".into(),
            provider: "CPUExecutionProvider".into(),
            runtime_version: runtime_version(runtime),
        };
        tracing::info!(
            model = %model.spec.id,
            device = %device.device,
            provider = %device.provider,
            runtime = %device.runtime_version,
            threads = options.threads,
            "embedding model loaded"
        );
        Ok(Self {
            session: Mutex::new(session),
            tokenizer,
            spec: model.spec.clone(),
            device,
            batch_size: options.batch_size.max(1),
            token_budget: options.token_budget.max(1),
            input_names,
        })
    }

    /// The model's spec.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// Where inference runs.
    pub fn device(&self) -> &DeviceInfo {
        &self.device
    }

    /// Embeds documents (chunk texts); one unit vector per text, in order.
    pub fn embed_documents<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let prefixed: Vec<String> = texts
            .iter()
            .map(|t| format!("{}{}", self.spec.document_prefix, t.as_ref()))
            .collect();
        self.embed(prefixed)
    }

    /// Embeds one search query.
    pub fn embed_query(&self, query: &str) -> Result<Vec<f32>, EmbedError> {
        let text = format!("{}{}", self.spec.query_prefix, query);
        let mut vectors = self.embed(vec![text])?;
        Ok(vectors.pop().expect("one input gives one vector"))
    }

    fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts, true)
            .map_err(|err| EmbedError::Runtime {
                message: format!("tokenizer failed: {err}"),
            })?;
        let mut vectors = vec![Vec::new(); encodings.len()];
        for batch in self.batches(&encodings) {
            let batch_encodings: Vec<&tokenizers::Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            let batch_vectors = self.run_batch(&batch_encodings)?;
            for (&index, vector) in batch.iter().zip(batch_vectors) {
                vectors[index] = vector;
            }
        }
        Ok(vectors)
    }

    /// Groups inputs into inference calls: sorted by length so padding
    /// (wasted compute) stays small, each call within the token budget and
    /// the batch size.
    fn batches(&self, encodings: &[tokenizers::Encoding]) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut batches: Vec<Vec<usize>> = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        for index in order {
            // Ascending order: the newest input is the longest, so it sets the
            // padded width of the batch.
            let width = encodings[index].get_ids().len();
            let over_budget = (current.len() + 1) * width > self.token_budget;
            if !current.is_empty() && (over_budget || current.len() == self.batch_size) {
                batches.push(std::mem::take(&mut current));
            }
            current.push(index);
        }
        if !current.is_empty() {
            batches.push(current);
        }
        batches
    }

    fn run_batch(&self, encodings: &[&tokenizers::Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let rows = encodings.len();
        let width = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0i64; rows * width];
        let mut mask = vec![0i64; rows * width];
        for (row, encoding) in encodings.iter().enumerate() {
            for (col, (&id, &m)) in encoding.get_ids().iter().zip(encoding.get_attention_mask()).enumerate() {
                ids[row * width + col] = i64::from(id);
                mask[row * width + col] = i64::from(m);
            }
        }
        let shape = [rows as i64, width as i64];
        let tensor = |data: Vec<i64>| {
            Tensor::from_array((shape, data)).map_err(|err| EmbedError::Runtime {
                message: format!("cannot build input tensor: {err}"),
            })
        };
        let mut inputs: Vec<(std::borrow::Cow<'static, str>, ort::session::SessionInputValue)> = Vec::new();
        for name in &self.input_names {
            let value = match name.as_str() {
                // Each input is fed once; the mask is still needed for pooling.
                "input_ids" => tensor(std::mem::take(&mut ids))?,
                "attention_mask" => tensor(mask.clone())?,
                "token_type_ids" => tensor(vec![0i64; rows * width])?,
                other => {
                    return Err(EmbedError::Runtime {
                        message: format!("the model expects an input `{other}` this embedder does not know"),
                    });
                }
            };
            inputs.push((name.clone().into(), value.into()));
        }
        let mut session = self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = session.run(inputs).map_err(|err| EmbedError::Runtime {
            message: format!("inference failed: {err}"),
        })?;
        let hidden = outputs.get("last_hidden_state").unwrap_or(&outputs[0]);
        let (out_shape, data) = hidden.try_extract_tensor::<f32>().map_err(|err| EmbedError::Runtime {
            message: format!("unexpected model output: {err}"),
        })?;
        let dim = *out_shape.last().unwrap_or(&0) as usize;
        if dim != self.spec.dimension {
            return Err(EmbedError::Runtime {
                message: format!(
                    "the model outputs {dim}-d vectors but its spec says {}",
                    self.spec.dimension
                ),
            });
        }
        let seq = out_shape[1] as usize;
        Ok((0..rows)
            .map(|row| {
                let tokens = &data[row * seq * dim..(row + 1) * seq * dim];
                let mut pooled = match self.spec.pooling {
                    Pooling::Cls => tokens[..dim].to_vec(),
                    Pooling::Mean => mean_pool(tokens, &mask[row * width..row * width + seq.min(width)], dim),
                };
                normalize(&mut pooled);
                pooled
            })
            .collect())
    }
}

fn load_tokenizer(path: &Path, max_tokens: usize) -> Result<Tokenizer, EmbedError> {
    let mut tokenizer = Tokenizer::from_file(path).map_err(|err| EmbedError::Runtime {
        message: format!("cannot read tokenizer {}: {err}", path.display()),
    })?;
    // Shipped tokenizer files often pad to a fixed length and truncate short
    // (MiniLM's: 128); padding is ours to do per batch, truncation is the
    // model's window.
    tokenizer.with_padding(None::<PaddingParams>);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_tokens,
            ..TruncationParams::default()
        }))
        .map_err(|err| EmbedError::Runtime {
            message: format!("cannot set truncation: {err}"),
        })?;
    Ok(tokenizer)
}

fn mean_pool(tokens: &[f32], mask: &[i64], dim: usize) -> Vec<f32> {
    let mut sum = vec![0f32; dim];
    let mut count = 0f32;
    for (position, &m) in mask.iter().enumerate() {
        if m == 0 {
            continue;
        }
        count += 1.0;
        for (acc, value) in sum.iter_mut().zip(&tokens[position * dim..(position + 1) * dim]) {
            *acc += value;
        }
    }
    let count = count.max(1.0);
    sum.iter_mut().for_each(|v| *v /= count);
    sum
}

fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    }
}

/// The runtime version from the library's file name (`libonnxruntime.so.1.31.1`,
/// `libonnxruntime.1.31.1.dylib`); ONNX Runtime's build string does not carry it.
fn runtime_version(library: &Path) -> String {
    let name = library
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let version: Vec<&str> = name
        .split('.')
        .filter(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
        .collect();
    if version.len() >= 2 {
        version.join(".")
    } else {
        "unknown".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_version_comes_from_the_file_name() {
        assert_eq!(runtime_version(Path::new("/x/libonnxruntime.so.1.31.1")), "1.31.1");
        assert_eq!(runtime_version(Path::new("libonnxruntime.1.31.1.dylib")), "1.31.1");
        assert_eq!(runtime_version(Path::new("onnxruntime.dll")), "unknown");
    }
}
