//! Sentence embeddings with ONNX Runtime: tokenise, run the graph in
//! length-sorted batches, pool, L2-normalise.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use lru::LruCache;
use ort::ep::{CUDA, CoreML, ExecutionProvider};
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::value::Tensor;
use serde::Serialize;
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

use crate::EmbedError;
use crate::cache::{VectorCache, cache_key};
use crate::device::{Device, DeviceRequest};
use crate::model::{MODEL_FILE, ModelFiles, ModelSpec, Pooling, TOKENIZER_FILE};

/// Where and how inference runs, for logs and `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// `cpu`, `cuda` or `coreml`.
    pub device: String,
    /// The ONNX Runtime execution provider.
    pub provider: String,
    /// The loaded ONNX Runtime version.
    pub runtime_version: String,
    /// `int8` (int8 arithmetic) or `fp32`.
    pub arithmetic: String,
    /// Intra-op threads.
    pub threads: usize,
    /// Most texts per inference call.
    pub batch_size: usize,
    /// Most padded tokens per inference call.
    pub token_budget: usize,
    /// Tokens of each text the model reads (longer texts are truncated).
    pub embed_tokens: usize,
    /// Why the requested device is not the one in use, if it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl std::fmt::Display for DeviceInfo {
    /// One line for logs and `status`: `cpu (CPUExecutionProvider, onnxruntime
    /// 1.31.1, int8 arithmetic, 2 threads)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, onnxruntime {}, {} arithmetic, {} threads)",
            self.device, self.provider, self.runtime_version, self.arithmetic, self.threads
        )
    }
}

/// Knobs for [`Embedder::load`]; `None` means "choose from the device and the
/// machine".
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    /// Which execution provider to use.
    pub device: DeviceRequest,
    /// Most texts per inference call (`MCP_VECTOR_SEARCH_BATCH_SIZE`).
    pub batch_size: Option<usize>,
    /// Most padded tokens (texts x longest text) per inference call
    /// (`MCP_VECTOR_SEARCH_TOKEN_BUDGET`): long texts run in small batches,
    /// short ones in large batches.
    pub token_budget: Option<usize>,
    /// Intra-op threads (`MCP_VECTOR_SEARCH_INFERENCE_THREADS`; default: the
    /// physical cores allowed to this process).
    pub threads: Option<usize>,
    /// Tokens of each text the model reads (`MCP_VECTOR_SEARCH_EMBED_TOKENS`):
    /// texts are truncated to the lesser of this and the model's window
    /// (`None`: the model's [`ModelSpec::embed_tokens`], else its window).
    /// Chunks keep their size; only the vector reads less of each: fewer
    /// tokens embed faster (docs/benchmarks.md measures speed and quality).
    pub embed_tokens: Option<usize>,
    /// Use the model's int8 variant on CPU when it has one
    /// (`MCP_VECTOR_SEARCH_INT8=0` turns it off).
    pub int8: bool,
    /// The baseline that `bench embed` compares against: batches of
    /// `batch_size` in input order, padded to their longest text, no
    /// de-duplication, no cache.
    pub naive: bool,
    /// The persistent vector cache, if any.
    pub cache: Option<CacheConfig>,
}

/// Where the persistent vector cache lives and how large it may grow.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// The SQLite file.
    pub path: PathBuf,
    /// Bound on its size (`MCP_VECTOR_SEARCH_CACHE_MB`, default 1024).
    pub max_bytes: u64,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        Self {
            device: DeviceRequest::Auto,
            batch_size: None,
            token_budget: None,
            threads: None,
            embed_tokens: None,
            int8: true,
            naive: false,
            cache: None,
        }
    }
}

/// Token budgets measured on 2 CPU cores (docs/benchmarks.md): padding and
/// activation memory outweigh batching gains, so a call holds one or two
/// full-window texts or several short ones. fp32 arithmetic: 256 (9.5 s /
/// 385 MB for this repository, against 15.9 s / 1.7 GB with fixed batches of
/// 32); int8 arithmetic: 512 (+10% over 256 on the tokenizers corpus).
const CPU_FP32_TOKEN_BUDGET: usize = 256;
const CPU_INT8_TOKEN_BUDGET: usize = 512;
/// GPUs want wide calls: 64 full-window texts.
const GPU_TOKEN_BUDGET: usize = 64 * 256;
/// Host memory one padded token of a call needs (activations of one layer
/// at a time, outputs, tokenizer buffers), rounded up.
const BYTES_PER_TOKEN: u64 = 64 * 1024;
/// Queries kept in memory with their vectors.
const QUERY_CACHE_ENTRIES: usize = 512;

/// Batch size, token budget and threads for `device` on this machine.
fn sizing(device: Device, int8: bool, options: &EmbedOptions) -> (usize, usize, usize) {
    let (default_batch, default_budget) = match (device, int8) {
        (Device::Cpu, false) => (32, CPU_FP32_TOKEN_BUDGET),
        (Device::Cpu, true) => (32, CPU_INT8_TOKEN_BUDGET),
        (Device::Cuda | Device::CoreMl, _) => (64, GPU_TOKEN_BUDGET),
    };
    // A call may use a quarter of the memory that is free now (the cgroup's
    // limit counts when there is one).
    let memory_cap = (available_memory() / 4 / BYTES_PER_TOKEN).max(CPU_FP32_TOKEN_BUDGET as u64) as usize;
    let token_budget = options.token_budget.unwrap_or(default_budget.min(memory_cap));
    let batch_size = options.batch_size.unwrap_or(default_batch);
    let threads = options.threads.unwrap_or_else(physical_cores);
    (batch_size.max(1), token_budget.max(1), threads.max(1))
}

/// Bytes of memory available to this process: the smaller of the system's
/// available memory and what the cgroup limit leaves.
fn available_memory() -> u64 {
    let Ok(mut system) = sysinfo::System::new() else {
        // Unknown platform: assume enough for the default sizes.
        return u64::MAX;
    };
    system.refresh_memory();
    let available = system.available_memory();
    match system.cgroup_limits() {
        Some(limits) if limits.free_memory > 0 => available.min(limits.free_memory),
        _ => available,
    }
}

/// Physical cores this process may use: hyper-threads add little to matrix
/// products, and a CPU quota (containers) can allow fewer.
fn physical_cores() -> usize {
    let allowed = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    sysinfo::System::physical_core_count().map_or(allowed, |cores| cores.min(allowed))
}

/// Groups texts of token `lengths` into inference calls: sorted by length so
/// padding (wasted compute) stays small, each call within `token_budget`
/// padded tokens and `batch_size` texts. Returns indices into `lengths`.
fn form_batches(lengths: &[usize], batch_size: usize, token_budget: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for index in order {
        // Ascending order: the newest text is the longest, so it sets the
        // padded width of the call.
        let over_budget = (current.len() + 1) * lengths[index] > token_budget;
        if !current.is_empty() && (over_budget || current.len() == batch_size) {
            batches.push(std::mem::take(&mut current));
        }
        current.push(index);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// What an [`Embedder`] has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EmbedStats {
    /// Texts asked for (documents and queries).
    pub texts: u64,
    /// Texts that went through the model.
    pub inferred: u64,
    /// Texts answered by the persistent or query cache.
    pub cache_hits: u64,
    /// Texts that repeated another text of the same call.
    pub duplicates: u64,
    /// Inference calls.
    pub calls: u64,
    /// Real (unpadded) tokens run.
    pub tokens: u64,
    /// Tokens run including padding.
    pub padded_tokens: u64,
}

impl EmbedStats {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: Self) -> Self {
        Self {
            texts: self.texts - earlier.texts,
            inferred: self.inferred - earlier.inferred,
            cache_hits: self.cache_hits - earlier.cache_hits,
            duplicates: self.duplicates - earlier.duplicates,
            calls: self.calls - earlier.calls,
            tokens: self.tokens - earlier.tokens,
            padded_tokens: self.padded_tokens - earlier.padded_tokens,
        }
    }
}

#[derive(Default)]
struct Counters {
    texts: AtomicU64,
    inferred: AtomicU64,
    cache_hits: AtomicU64,
    duplicates: AtomicU64,
    calls: AtomicU64,
    tokens: AtomicU64,
    padded_tokens: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn snapshot(&self) -> EmbedStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        EmbedStats {
            texts: get(&self.texts),
            inferred: get(&self.inferred),
            cache_hits: get(&self.cache_hits),
            duplicates: get(&self.duplicates),
            calls: get(&self.calls),
            tokens: get(&self.tokens),
            padded_tokens: get(&self.padded_tokens),
        }
    }
}

/// A loaded model. `embed_*` may be called from any thread; calls are
/// serialised on the session (ONNX Runtime parallelises inside a call).
pub struct Embedder {
    session: Mutex<Session>,
    tokenizer: Tokenizer,
    spec: ModelSpec,
    device: DeviceInfo,
    naive: bool,
    /// `id/arithmetic[/embed_tokens]`: the persistent cache's model key.
    cache_model_key: String,
    cache: Option<VectorCache>,
    queries: Mutex<LruCache<String, Vec<f32>>>,
    counters: Counters,
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

/// Opens a session of `graph` on `device`, or says why it cannot.
fn open_session(
    environment: &ort::environment::Environment,
    device: Device,
    graph: &Path,
    threads: usize,
    tuned: bool,
) -> Result<Session, String> {
    let mut builder = Session::builder(environment)
        .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::Level3)?))
        .and_then(|b| Ok(b.with_intra_threads(threads)?))
        // Idle intra-op workers otherwise spin for new work between calls,
        // holding a core that a search's lanes (or indexing's parsers) need:
        // over a quarter of a serving process's CPU on 2 cores (docs/benchmarks.md,
        // "Search latency: idle inference threads").
        .and_then(|b| Ok(b.with_config_entry("session.intra_op.allow_spinning", "0")?))
        .map_err(|err| err.to_string())?;
    if device == Device::Cpu && tuned {
        // The fused SkipLayerNormalization CPU kernel is slower than the Add
        // and LayerNormalization it replaces (-15% on 2 cores at 100 and
        // 256 tokens, docs/benchmarks.md).
        builder = builder
            .with_config_entry("optimization.disable_specified_optimizers", "SkipLayerNormFusion")
            .map_err(|err| err.to_string())?;
    }
    register_provider(&mut builder, device)?;
    builder.commit_from_file(graph).map_err(|err| err.to_string())
}

fn register_provider(builder: &mut SessionBuilder, device: Device) -> Result<(), String> {
    fn register<P: ExecutionProvider>(provider: P, builder: &mut SessionBuilder, device: Device) -> Result<(), String> {
        match P::is_available() {
            Ok(true) => provider.register(builder).map_err(|err| err.to_string()),
            Ok(false) => Err(format!(
                "the loaded ONNX Runtime has no {}; {}",
                device.provider(),
                device.install_hint()
            )),
            Err(err) => Err(err.to_string()),
        }
    }
    match device {
        Device::Cpu => Ok(()),
        // Without a fallback flag ORT refuses a session it cannot place on
        // the GPU instead of silently running it on the CPU.
        Device::Cuda => register(CUDA::default(), builder, device),
        Device::CoreMl => register(CoreML::default(), builder, device),
    }
}

impl Embedder {
    /// Loads the runtime library (once per process) and the model on the
    /// first usable device of `options.device`.
    pub fn load(runtime: &Path, model: &ModelFiles, options: &EmbedOptions) -> Result<Self, EmbedError> {
        let environment = init_runtime(runtime)?;
        let mut fallback: Option<String> = None;
        let mut opened = None;
        for device in options.device.candidates() {
            let int8_graph = model
                .int8
                .as_ref()
                .filter(|_| device == Device::Cpu && options.int8 && !options.naive);
            let graph = int8_graph.cloned().unwrap_or_else(|| model.dir.join(MODEL_FILE));
            let (batch_size, token_budget, threads) = sizing(device, int8_graph.is_some(), options);
            match open_session(environment, device, &graph, threads, !options.naive) {
                Ok(session) => {
                    let arithmetic = if int8_graph.is_some() { "int8" } else { "fp32" };
                    opened = Some((session, device, arithmetic, batch_size, token_budget, threads));
                    break;
                }
                Err(reason) if device == Device::Cpu => {
                    return Err(EmbedError::Runtime {
                        message: format!("cannot load {}: {reason}", graph.display()),
                    });
                }
                Err(reason) => {
                    if options.device.insists_on(device) {
                        tracing::warn!(
                            "{} was requested but cannot be used, falling back to CPU: {reason}",
                            device
                        );
                        fallback = Some(format!("{device} unavailable: {reason}"));
                    } else {
                        tracing::debug!("{device} is not usable: {reason}");
                    }
                }
            }
        }
        let (session, device, arithmetic, batch_size, token_budget, threads) =
            opened.expect("CPU ends the candidates and its failure returns early");
        let input_names = session.inputs().iter().map(|i| i.name().to_string()).collect();
        let embed_tokens = options
            .embed_tokens
            .or(model.spec.embed_tokens)
            .map_or(model.spec.max_tokens, |n| n.clamp(1, model.spec.max_tokens));
        let tokenizer = load_tokenizer(&model.dir.join(TOKENIZER_FILE), embed_tokens)?;
        let info = DeviceInfo {
            device: device.name().into(),
            provider: device.provider().into(),
            runtime_version: runtime_version(runtime),
            arithmetic: arithmetic.into(),
            threads,
            batch_size,
            token_budget,
            embed_tokens,
            fallback,
        };
        tracing::info!(
            model = %model.spec.id,
            device = %info.device,
            provider = %info.provider,
            runtime = %info.runtime_version,
            arithmetic = %info.arithmetic,
            threads,
            batch_size,
            token_budget,
            embed_tokens,
            "embedding model loaded"
        );
        let cache = match (&options.cache, options.naive) {
            (Some(config), false) => match VectorCache::open(&config.path, config.max_bytes, model.spec.dimension) {
                Ok(cache) => Some(cache),
                Err(err) => {
                    tracing::warn!("the vector cache is unavailable, every text will be embedded: {err}");
                    None
                }
            },
            _ => None,
        };
        Ok(Self {
            session: Mutex::new(session),
            tokenizer,
            // Vectors of truncated texts differ from full-window ones.
            cache_model_key: if embed_tokens == model.spec.max_tokens {
                format!("{}/{arithmetic}", model.spec.id)
            } else {
                format!("{}/{arithmetic}/{embed_tokens}", model.spec.id)
            },
            spec: model.spec.clone(),
            device: info,
            naive: options.naive,
            cache,
            queries: Mutex::new(LruCache::new(NonZeroUsize::new(QUERY_CACHE_ENTRIES).expect("non-zero"))),
            counters: Counters::default(),
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

    /// What this embedder has done so far.
    pub fn stats(&self) -> EmbedStats {
        self.counters.snapshot()
    }

    /// Embeds documents (chunk texts); one unit vector per text, in order.
    /// Repeated texts run once; texts this model embedded before (in any
    /// process, any project) come from the persistent cache.
    pub fn embed_documents<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let prefixed: Vec<String> = texts
            .iter()
            .map(|t| format!("{}{}", self.spec.document_prefix, t.as_ref()))
            .collect();
        Counters::add(&self.counters.texts, prefixed.len());
        if self.naive {
            return self.infer(&prefixed.iter().map(String::as_str).collect::<Vec<_>>());
        }
        // Each distinct text once; `slots[i]` is text i's place in `unique`.
        let mut unique: Vec<&str> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let slots: Vec<usize> = prefixed
            .iter()
            .map(|text| {
                *seen.entry(text.as_str()).or_insert_with(|| {
                    unique.push(text);
                    unique.len() - 1
                })
            })
            .collect();
        Counters::add(&self.counters.duplicates, prefixed.len() - unique.len());
        let keys: Vec<_> = unique
            .iter()
            .map(|text| cache_key(&self.cache_model_key, text))
            .collect();
        let mut vectors: Vec<Option<Vec<f32>>> = match &self.cache {
            Some(cache) => cache.get_many(&keys).unwrap_or_else(|err| {
                tracing::warn!("vector cache lookup failed, embedding everything: {err}");
                vec![None; unique.len()]
            }),
            None => vec![None; unique.len()],
        };
        let missing: Vec<usize> = (0..unique.len()).filter(|&i| vectors[i].is_none()).collect();
        Counters::add(&self.counters.cache_hits, unique.len() - missing.len());
        if !missing.is_empty() {
            let fresh = self.infer(&missing.iter().map(|&i| unique[i]).collect::<Vec<_>>())?;
            if let Some(cache) = &self.cache {
                let entries: Vec<_> = missing
                    .iter()
                    .zip(&fresh)
                    .map(|(&i, v)| (keys[i], v.as_slice()))
                    .collect();
                if let Err(err) = cache.put_many(&entries) {
                    tracing::warn!("cannot store vectors in the cache: {err}");
                }
            }
            for (i, vector) in missing.into_iter().zip(fresh) {
                vectors[i] = Some(vector);
            }
        }
        Ok(slots
            .into_iter()
            .map(|slot| vectors[slot].clone().expect("every unique text has a vector"))
            .collect())
    }

    /// The vectors of documents this model embedded before (persistent
    /// cache), without running the model: `None` for the others.
    pub fn cached_documents<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Option<Vec<f32>>> {
        let Some(cache) = &self.cache else {
            return vec![None; texts.len()];
        };
        let keys: Vec<_> = texts
            .iter()
            .map(|t| {
                cache_key(
                    &self.cache_model_key,
                    &format!("{}{}", self.spec.document_prefix, t.as_ref()),
                )
            })
            .collect();
        cache.get_many(&keys).unwrap_or_else(|err| {
            tracing::warn!("vector cache lookup failed: {err}");
            vec![None; texts.len()]
        })
    }

    /// Embeds one search query; recent queries are answered from memory.
    pub fn embed_query(&self, query: &str) -> Result<Vec<f32>, EmbedError> {
        Counters::add(&self.counters.texts, 1);
        let mut queries = self.queries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(vector) = queries.get(query) {
            Counters::add(&self.counters.cache_hits, 1);
            return Ok(vector.clone());
        }
        drop(queries);
        let text = format!("{}{}", self.spec.query_prefix, query);
        let vector = self.infer(&[text.as_str()])?.pop().expect("one input gives one vector");
        let mut queries = self.queries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queries.put(query.to_string(), vector.clone());
        Ok(vector)
    }

    /// Runs the model on every text.
    fn infer(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|err| EmbedError::Runtime {
                message: format!("tokenizer failed: {err}"),
            })?;
        let lengths: Vec<usize> = encodings.iter().map(|e| e.get_ids().len()).collect();
        let batches = if self.naive {
            (0..lengths.len())
                .collect::<Vec<_>>()
                .chunks(self.device.batch_size)
                .map(<[usize]>::to_vec)
                .collect()
        } else {
            form_batches(&lengths, self.device.batch_size, self.device.token_budget)
        };
        let mut vectors = vec![Vec::new(); encodings.len()];
        for batch in batches {
            let batch_encodings: Vec<&tokenizers::Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            let width = batch.iter().map(|&i| lengths[i]).max().unwrap_or(0);
            Counters::add(&self.counters.calls, 1);
            Counters::add(&self.counters.tokens, batch.iter().map(|&i| lengths[i]).sum());
            Counters::add(&self.counters.padded_tokens, width * batch.len());
            let batch_vectors = self.run_batch(&batch_encodings)?;
            for (&index, vector) in batch.iter().zip(batch_vectors) {
                vectors[index] = vector;
            }
        }
        Counters::add(&self.counters.inferred, texts.len());
        Ok(vectors)
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

/// Scales `vector` to unit length (a zero vector stays zero).
pub fn normalize(vector: &mut [f32]) {
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
    fn batches_respect_the_token_budget_and_group_similar_lengths() {
        let lengths = [250, 10, 12, 11, 120, 9, 130, 60];
        let batches = form_batches(&lengths, 32, 256);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>(), "every text exactly once");
        for batch in &batches {
            let width = batch.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(
                batch.len() == 1 || width * batch.len() <= 256,
                "{batch:?} is over budget"
            );
        }
        // The four short texts share one call; the longest runs alone.
        assert!(batches.contains(&vec![5, 1, 3, 2]), "{batches:?}");
        assert!(batches.contains(&vec![0]), "{batches:?}");
        // The batch size bounds a call even under a huge budget.
        assert!(form_batches(&[5; 10], 4, 1 << 20).iter().all(|b| b.len() <= 4));
    }

    #[test]
    fn runtime_version_comes_from_the_file_name() {
        assert_eq!(runtime_version(Path::new("/x/libonnxruntime.so.1.31.1")), "1.31.1");
        assert_eq!(runtime_version(Path::new("libonnxruntime.1.31.1.dylib")), "1.31.1");
        assert_eq!(runtime_version(Path::new("onnxruntime.dll")), "unknown");
    }
}
