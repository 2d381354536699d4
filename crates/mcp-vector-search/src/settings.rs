//! Settings: every `MCP_VECTOR_SEARCH_*` variable (and `ORT_DYLIB_PATH`,
//! `MCP_ENABLE_FILE_WATCHING`) is read here, once, into [`Settings`]; the
//! library crates get typed options built from it and never read the
//! environment themselves.
//!
//! A value that does not parse is reported on stderr, naming the variable,
//! and the default is used: a typo must not stop an MCP server before its
//! handshake.

use std::ffi::OsString;
use std::path::PathBuf;

use mvs_embed::{DeviceRequest, EmbedOptions, Home};
use mvs_index::IndexOptions;
use mvs_store::SharedIndex;

/// Configuration from the environment, read once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `MCP_PROJECT_ROOT`: the project `mcp` serves (`--project-root` wins).
    pub project_root: Option<PathBuf>,
    /// `MCP_VECTOR_SEARCH_MODEL_DIR` (or `--model-dir`, which wins): a local
    /// ONNX model to use instead of the default one.
    pub model_dir: Option<PathBuf>,
    /// `MCP_VECTOR_SEARCH_HOME`: cache of runtime, models and vectors
    /// (default: the platform cache dir).
    pub home: Option<PathBuf>,
    /// `MCP_VECTOR_SEARCH_PYTHON`: the Python that runs pip (default `python3`).
    pub python: String,
    /// `ORT_DYLIB_PATH`: an ONNX Runtime library to use instead of the
    /// provisioned one.
    pub runtime_library: Option<PathBuf>,
    /// `PATH`, split: where clients look for programs (`install` names this
    /// binary by its file name when the first match there is this binary).
    pub program_path: Vec<PathBuf>,
    /// `MCP_VECTOR_SEARCH_DEVICE`: auto, cpu, cuda, coreml.
    pub device: DeviceRequest,
    /// `MCP_VECTOR_SEARCH_INT8`: `0` runs the fp32-arithmetic graph on CPU.
    pub int8: bool,
    /// `MCP_VECTOR_SEARCH_CACHE_MB`: bound of the shared vector cache (0: off).
    pub cache_mb: u64,
    /// `MCP_VECTOR_SEARCH_BATCH_SIZE`: most texts per inference call.
    pub batch_size: Option<usize>,
    /// `MCP_VECTOR_SEARCH_TOKEN_BUDGET`: most padded tokens per inference call.
    pub token_budget: Option<usize>,
    /// `MCP_VECTOR_SEARCH_INFERENCE_THREADS`: ONNX Runtime intra-op threads.
    pub inference_threads: Option<usize>,
    /// `MCP_VECTOR_SEARCH_EMBED_TOKENS`: tokens of each chunk the model reads.
    pub embed_tokens: Option<usize>,
    /// `MCP_VECTOR_SEARCH_MAX_WORKERS`: parse worker threads of an indexing run.
    pub max_workers: Option<usize>,
    /// `MCP_VECTOR_SEARCH_MAX_FILE_SIZE`: larger files are skipped (bytes).
    pub max_file_size: Option<u64>,
    /// `MCP_VECTOR_SEARCH_MAX_CHUNK_BYTES`: split definitions above this size.
    pub max_chunk_bytes: Option<usize>,
    /// `MCP_VECTOR_SEARCH_MAX_MEMORY_GB`: memory an indexing run may use, in
    /// bytes (the variable is in GB, 10^9 bytes).
    pub max_memory_bytes: Option<u64>,
    /// `MCP_VECTOR_SEARCH_KEYWORD_WEIGHT`: keyword-lane weight of
    /// natural-language queries in hybrid search (vector lane 1).
    pub keyword_weight: Option<f32>,
    /// `MCP_ENABLE_FILE_WATCHING`: `0`/`false` turns the server's watcher off.
    pub file_watching: bool,
    /// `MCP_VECTOR_SEARCH_LOG`: the log filter (stderr), e.g. `info`.
    pub log: Option<String>,
    /// `MCP_VECTOR_SEARCH_INDEX_URI` (or `index --index-uri`, which also
    /// publishes): the shared index on object storage, e.g.
    /// `s3://bucket/prefix`. Runs without a usable local index start from
    /// it; searches without a local index read it.
    pub index_uri: Option<String>,
    /// `MCP_VECTOR_SEARCH_LOCK_WAIT_SECONDS`: how long a publisher waits
    /// for another publisher's lock on the shared index (default 60).
    pub lock_wait_seconds: Option<usize>,
    /// `MCP_VECTOR_SEARCH_SHARED_RECHECK_SECONDS`: how often a reader of the
    /// shared index asks whether a newer generation was published (default
    /// 30; LanceDB calls this the read consistency interval).
    pub shared_recheck_seconds: Option<usize>,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// Reads the variables through `var` (the environment, or a map in tests).
    /// Empty values count as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Self {
        let env = Vars(var);
        Self {
            project_root: env.path("MCP_PROJECT_ROOT"),
            model_dir: env.path("MCP_VECTOR_SEARCH_MODEL_DIR"),
            home: env.path("MCP_VECTOR_SEARCH_HOME"),
            python: env.text("MCP_VECTOR_SEARCH_PYTHON").unwrap_or_else(|| "python3".into()),
            runtime_library: env.path("ORT_DYLIB_PATH"),
            program_path: (env.0)("PATH")
                .map(|path| std::env::split_paths(&path).collect())
                .unwrap_or_default(),
            device: env
                .parsed("MCP_VECTOR_SEARCH_DEVICE", "auto, cpu, cuda or coreml", |v| {
                    DeviceRequest::parse(v).ok()
                })
                .unwrap_or_default(),
            int8: env.flag("MCP_VECTOR_SEARCH_INT8").unwrap_or(true),
            cache_mb: env
                .parsed("MCP_VECTOR_SEARCH_CACHE_MB", "a whole number of MiB", |v| {
                    v.parse().ok()
                })
                .unwrap_or(mvs_embed::DEFAULT_CACHE_MB),
            batch_size: env.positive("MCP_VECTOR_SEARCH_BATCH_SIZE"),
            token_budget: env.positive("MCP_VECTOR_SEARCH_TOKEN_BUDGET"),
            inference_threads: env.positive("MCP_VECTOR_SEARCH_INFERENCE_THREADS"),
            embed_tokens: env.positive("MCP_VECTOR_SEARCH_EMBED_TOKENS"),
            max_workers: env.positive("MCP_VECTOR_SEARCH_MAX_WORKERS"),
            max_file_size: env.positive("MCP_VECTOR_SEARCH_MAX_FILE_SIZE").map(|n| n as u64),
            max_chunk_bytes: env.positive("MCP_VECTOR_SEARCH_MAX_CHUNK_BYTES"),
            max_memory_bytes: env
                .parsed("MCP_VECTOR_SEARCH_MAX_MEMORY_GB", "a positive number of GB", |v| {
                    v.parse::<f64>().ok().filter(|gb| gb.is_finite() && *gb > 0.0)
                })
                .map(|gb| (gb * 1e9) as u64),
            keyword_weight: env.parsed("MCP_VECTOR_SEARCH_KEYWORD_WEIGHT", "a number >= 0", |v| {
                v.parse::<f32>().ok().filter(|w| w.is_finite() && *w >= 0.0)
            }),
            file_watching: env.flag("MCP_ENABLE_FILE_WATCHING").unwrap_or(true),
            log: env.text("MCP_VECTOR_SEARCH_LOG"),
            index_uri: env.text("MCP_VECTOR_SEARCH_INDEX_URI"),
            shared_recheck_seconds: env.positive("MCP_VECTOR_SEARCH_SHARED_RECHECK_SECONDS"),
            lock_wait_seconds: env.parsed(
                "MCP_VECTOR_SEARCH_LOCK_WAIT_SECONDS",
                "a whole number of seconds",
                |v| v.parse::<usize>().ok(),
            ),
        }
    }

    /// The cache directory with its Python, runtime override and cache bound.
    pub fn home(&self) -> anyhow::Result<Home> {
        Ok(Home::new(self.home.clone())?
            .with_python(self.python.clone())
            .with_runtime_library(self.runtime_library.clone())
            .with_cache_mb(self.cache_mb))
    }

    /// Embedding options (the vector cache is added by `load_embedder`).
    pub fn embed_options(&self) -> EmbedOptions {
        EmbedOptions {
            device: self.device,
            batch_size: self.batch_size,
            token_budget: self.token_budget,
            threads: self.inference_threads,
            embed_tokens: self.embed_tokens,
            int8: self.int8,
            ..EmbedOptions::default()
        }
    }

    /// The shared index of `MCP_VECTOR_SEARCH_INDEX_URI`, if set. Errors:
    /// a value that is not a URI, named.
    pub fn shared_index(&self) -> anyhow::Result<Option<SharedIndex>> {
        self.index_uri
            .as_deref()
            .map(|uri| self.shared_index_at(uri))
            .transpose()
            .map_err(|err| anyhow::anyhow!("MCP_VECTOR_SEARCH_INDEX_URI: {err}"))
    }

    /// The shared index at `uri` (`--index-uri`), with the configured lock
    /// wait. Errors: a value that is not a URI.
    pub fn shared_index_at(&self, uri: &str) -> Result<SharedIndex, mvs_store::StoreError> {
        let seconds = |s: usize| std::time::Duration::from_secs(s as u64);
        let mut shared = SharedIndex::new(uri)?;
        if let Some(wait) = self.lock_wait_seconds {
            shared = shared.with_lock_wait(seconds(wait));
        }
        if let Some(recheck) = self.shared_recheck_seconds {
            shared = shared.with_recheck(seconds(recheck));
        }
        Ok(shared)
    }

    /// Options of an indexing run: the machine's defaults with the
    /// configured overrides.
    pub fn index_options(&self) -> IndexOptions {
        let mut options = IndexOptions::default();
        if let Some(workers) = self.max_workers {
            options.parse_workers = workers;
        }
        if let Some(bytes) = self.max_file_size {
            options.chunk_options.max_file_bytes = bytes;
        }
        options.max_chunk_bytes = self.max_chunk_bytes;
        if let Some(bytes) = self.max_memory_bytes {
            options.max_memory_bytes = bytes;
        }
        options
    }
}

/// Typed access to variables, warning about values that do not parse.
struct Vars<F>(F);

impl<F: Fn(&str) -> Option<OsString>> Vars<F> {
    /// The value, trimmed; unset and empty are `None`.
    fn text(&self, name: &str) -> Option<String> {
        let value = (self.0)(name)?;
        let value = value.to_string_lossy().trim().to_string();
        (!value.is_empty()).then_some(value)
    }

    /// A path; unset and empty are `None` (not trimmed: paths may hold spaces).
    fn path(&self, name: &str) -> Option<PathBuf> {
        (self.0)(name).filter(|v| !v.is_empty()).map(PathBuf::from)
    }

    /// A value `parse` accepts; anything else is warned about and unset.
    fn parsed<T>(&self, name: &str, expected: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let value = self.text(name)?;
        let parsed = parse(&value);
        if parsed.is_none() {
            eprintln!("warning: {name}={value} is not {expected}; using the default");
        }
        parsed
    }

    /// A whole number above zero; `0` means "the default", as documented.
    fn positive(&self, name: &str) -> Option<usize> {
        self.parsed(name, "a whole number", |v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
    }

    /// An on/off switch: `0`, `false`, `no`, `off` are off; `1`, `true`,
    /// `yes`, `on` are on.
    fn flag(&self, name: &str) -> Option<bool> {
        self.parsed(name, "on or off (1/0, true/false)", |v| {
            match v.to_ascii_lowercase().as_str() {
                "0" | "false" | "no" | "off" => Some(false),
                "1" | "true" | "yes" | "on" => Some(true),
                _ => None,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let vars: Vec<(String, OsString)> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        Settings::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn unset_and_empty_values_give_the_defaults() {
        for vars in [
            &[][..],
            &[("MCP_VECTOR_SEARCH_PYTHON", ""), ("MCP_VECTOR_SEARCH_CACHE_MB", " ")][..],
        ] {
            let s = settings(vars);
            assert_eq!(s.python, "python3");
            assert_eq!(s.cache_mb, mvs_embed::DEFAULT_CACHE_MB);
            assert!(s.int8 && s.file_watching);
            assert_eq!(
                (s.max_workers, s.inference_threads, s.keyword_weight),
                (None, None, None)
            );
        }
    }

    #[test]
    fn each_variable_sets_one_thing() {
        let s = settings(&[
            ("MCP_VECTOR_SEARCH_MAX_WORKERS", "3"),
            ("MCP_VECTOR_SEARCH_INFERENCE_THREADS", "5"),
            ("MCP_VECTOR_SEARCH_MAX_MEMORY_GB", "1.5"),
            ("MCP_VECTOR_SEARCH_INT8", "0"),
            ("MCP_ENABLE_FILE_WATCHING", "false"),
            ("MCP_VECTOR_SEARCH_CACHE_MB", "0"),
            ("MCP_VECTOR_SEARCH_KEYWORD_WEIGHT", "0.5"),
            ("MCP_VECTOR_SEARCH_DEVICE", "CPU"),
            ("MCP_VECTOR_SEARCH_EMBED_TOKENS", "128"),
        ]);
        assert_eq!(s.index_options().parse_workers, 3);
        assert_eq!(s.embed_options().threads, Some(5));
        assert_eq!(s.embed_options().embed_tokens, Some(128));
        assert_eq!(s.index_options().max_memory_bytes, 1_500_000_000);
        assert!(!s.int8 && !s.file_watching);
        assert_eq!(s.cache_mb, 0);
        assert_eq!(s.keyword_weight, Some(0.5));
        assert_eq!(s.device, DeviceRequest::Only(mvs_embed::Device::Cpu));
    }

    #[test]
    fn values_that_do_not_parse_fall_back_to_the_default() {
        let s = settings(&[
            ("MCP_VECTOR_SEARCH_MAX_WORKERS", "many"),
            ("MCP_VECTOR_SEARCH_KEYWORD_WEIGHT", "-1"),
            ("MCP_VECTOR_SEARCH_DEVICE", "tpu"),
            ("MCP_ENABLE_FILE_WATCHING", "maybe"),
        ]);
        assert_eq!(s.max_workers, None);
        assert_eq!(s.keyword_weight, None);
        assert_eq!(s.device, DeviceRequest::Auto);
        assert!(s.file_watching);
    }
}
