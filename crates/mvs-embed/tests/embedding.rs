//! Real inference with the real default model (provisioned on first use).

use std::sync::OnceLock;

use mvs_embed::{
    CacheConfig, Device, DeviceRequest, EmbedOptions, Embedder, Home, ModelFiles, Verify, load_embedder,
    load_model_files, sha256_file,
};

/// The home the binary uses: `$MCP_VECTOR_SEARCH_HOME`, else the platform's.
fn home() -> Home {
    let root = std::env::var_os("MCP_VECTOR_SEARCH_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from);
    Home::new(root).unwrap()
}

fn embedder() -> &'static Embedder {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| load_embedder(&home(), None, EmbedOptions::default()).expect("default model loads"))
}

/// The default model's files (with the int8 variant) and the runtime.
fn installed() -> &'static (std::path::PathBuf, ModelFiles) {
    static INSTALLED: OnceLock<(std::path::PathBuf, ModelFiles)> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let home = home();
        let runtime = home.ensure_runtime(Verify::Size).unwrap();
        let model = load_model_files(&home, None, &EmbedOptions::default(), Verify::Size).unwrap();
        (runtime, model)
    })
}

/// An embedder of the default model with `options` (no cache unless given).
fn load_with(options: EmbedOptions) -> Embedder {
    let (runtime, model) = installed();
    Embedder::load(runtime, model, &options).unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn vectors_are_384_d_unit_norm_and_deterministic() {
    let texts = [
        "fn parse_config(path: &Path) -> Config",
        "def read_rows(cursor): return cursor.fetchall()",
        "x",
    ];
    let first = embedder().embed_documents(&texts).unwrap();
    let second = embedder().embed_documents(&texts).unwrap();
    assert_eq!(first.len(), 3);
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.len(), 384);
        let norm = a.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        assert_eq!(a, b, "same input, same vector");
    }
    // Batching and length-sorting do not change a text's vector.
    let alone = embedder().embed_documents(&texts[1..2]).unwrap();
    assert!(cosine(&alone[0], &first[1]) > 0.9999);
    assert_eq!(embedder().spec().dimension, 384);
    assert_eq!(embedder().device().device, "cpu");
}

#[test]
fn similar_texts_are_closer_than_unrelated_ones() {
    let query = embedder().embed_query("read a configuration file from disk").unwrap();
    let docs = embedder()
        .embed_documents(&[
            "fn load_config(path: &Path) -> Result<Config> { let text = fs::read_to_string(path)?; toml::from_str(&text) }",
            "fn draw_circle(canvas: &mut Canvas, radius: f32) { canvas.arc(0.0, 0.0, radius) }",
        ])
        .unwrap();
    let related = cosine(&query, &docs[0]);
    let unrelated = cosine(&query, &docs[1]);
    assert!(related > unrelated + 0.1, "related {related} vs unrelated {unrelated}");
}

#[test]
fn long_inputs_are_truncated_not_rejected() {
    let long = "let value = compute(value); ".repeat(400);
    let vectors = embedder().embed_documents(&[long]).unwrap();
    assert_eq!(vectors[0].len(), 384);
}

/// The model reads the head of each text (its trained length, 128 tokens,
/// by default): what follows changes nothing, and a setting of its window
/// reads it all. The cache keeps the two apart.
#[test]
fn documents_are_embedded_from_their_first_embed_tokens() {
    let head =
        "fn schedule_retry(job: &Job, attempt: u32) -> Duration { ".to_string() + &"backoff(attempt); ".repeat(30);
    let texts = [
        head.clone(),
        head.clone() + &"let zebra_giraffe = savanna(); ".repeat(40),
    ];
    let default = load_with(EmbedOptions::default());
    assert_eq!(default.device().embed_tokens, 128);
    let vectors = default.embed_documents(&texts).unwrap();
    assert_eq!(vectors[0], vectors[1], "only the first 128 tokens count");
    assert!(default.stats().tokens <= 2 * 128, "{:?}", default.stats());

    let dir = tempfile::tempdir().unwrap();
    let cache = Some(CacheConfig {
        path: dir.path().join("vectors.sqlite"),
        max_bytes: 1 << 20,
    });
    let full_window = load_with(EmbedOptions {
        embed_tokens: Some(256),
        cache: cache.clone(),
        ..EmbedOptions::default()
    });
    let full = full_window.embed_documents(&texts).unwrap();
    assert!(cosine(&full[0], &full[1]) < 0.999, "the tail is read at 256 tokens");
    // Above the window is the window.
    let over = load_with(EmbedOptions {
        embed_tokens: Some(10_000),
        ..EmbedOptions::default()
    });
    assert_eq!(over.device().embed_tokens, 256);
    // A 128-token embedder sharing the cache does not get 256-token vectors.
    let short = load_with(EmbedOptions {
        embed_tokens: Some(128),
        cache,
        ..EmbedOptions::default()
    });
    assert_eq!(short.embed_documents(&texts).unwrap(), vectors);
    assert_eq!(short.stats().cache_hits, 0);
}

/// A corrupted model file (same size, other bytes) fails the hash check of
/// `setup`, is removed and fetched again with pip.
#[test]
fn corrupted_model_file_is_detected_and_replaced() {
    let installed = home().ensure_default_model(Verify::Size).unwrap();
    let home = Home::at(tempfile::tempdir().unwrap().keep());
    let dir = home.model_dir(&installed.spec.id);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["model.onnx", "tokenizer.json"] {
        std::fs::copy(installed.dir.join(file), dir.join(file)).unwrap();
    }
    let model = dir.join("model.onnx");
    let good_hash = sha256_file(&model).unwrap();
    let mut bytes = std::fs::read(&model).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&model, &bytes).unwrap();
    assert_ne!(sha256_file(&model).unwrap(), good_hash);

    home.ensure_default_model(Verify::Hash).unwrap();
    assert_eq!(sha256_file(&model).unwrap(), good_hash);
    std::fs::remove_dir_all(home.root()).unwrap();
}

/// The quality guard of the int8 path: on a fixed set of 200 code and text
/// snippets, vectors of the int8-arithmetic graph stay within cosine 0.99 (on
/// average) of the fp32-arithmetic reference.
#[test]
fn int8_vectors_match_the_fp32_reference() {
    assert!(
        installed().1.int8.is_some(),
        "the int8 variant is missing; run `mcp-vector-search setup`"
    );
    let snippets: Vec<String> = serde_json::from_str(include_str!("fixtures/snippets.json")).unwrap();
    assert_eq!(snippets.len(), 200);
    let int8 = load_with(EmbedOptions::default());
    assert_eq!(int8.device().arithmetic, "int8");
    let fp32 = load_with(EmbedOptions {
        int8: false,
        ..EmbedOptions::default()
    });
    assert_eq!(fp32.device().arithmetic, "fp32");
    let fast = int8.embed_documents(&snippets).unwrap();
    let reference = fp32.embed_documents(&snippets).unwrap();
    let cosines: Vec<f32> = fast.iter().zip(&reference).map(|(a, b)| cosine(a, b)).collect();
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    let worst = cosines.iter().copied().fold(f32::MAX, f32::min);
    eprintln!("int8 vs fp32 on 200 snippets: mean cosine {mean:.4}, worst {worst:.4}");
    assert!(mean >= 0.99, "mean cosine {mean}");
    assert!(worst >= 0.95, "worst cosine {worst}");
}

/// Asking for CUDA where the runtime has no CUDA provider falls back to CPU
/// and says what to install.
#[test]
fn a_requested_unavailable_provider_falls_back_to_cpu_with_the_reason() {
    let embedder = load_with(EmbedOptions {
        device: DeviceRequest::Only(Device::Cuda),
        ..EmbedOptions::default()
    });
    let device = embedder.device();
    assert_eq!(device.device, "cpu");
    let reason = device.fallback.as_deref().expect("the fallback is explained");
    assert!(reason.contains("onnxruntime-gpu"), "{reason}");
    assert_eq!(embedder.embed_query("still works").unwrap().len(), 384);
    // An automatic choice that finds no GPU is not a warning.
    assert_eq!(load_with(EmbedOptions::default()).device().fallback, None);
}

/// The persistent cache: a second embedder (another process, in effect) on
/// the same cache file embeds nothing again; repeated texts run once.
#[test]
fn cached_texts_cost_no_inference() {
    let dir = tempfile::tempdir().unwrap();
    let options = EmbedOptions {
        cache: Some(CacheConfig {
            path: dir.path().join("vectors.sqlite"),
            max_bytes: 1 << 20,
        }),
        ..EmbedOptions::default()
    };
    let texts = ["fn a() {}", "fn b() {}", "fn a() {}", "struct C;"];
    let first = load_with(options.clone());
    let vectors = first.embed_documents(&texts).unwrap();
    let stats = first.stats();
    assert_eq!((stats.texts, stats.duplicates, stats.inferred), (4, 1, 3));
    assert_eq!(vectors[0], vectors[2]);

    let second = load_with(options);
    assert_eq!(second.embed_documents(&texts).unwrap(), vectors);
    let stats = second.stats();
    assert_eq!((stats.inferred, stats.cache_hits, stats.calls), (0, 3, 0));

    // Queries are remembered in memory.
    let query = second.embed_query("where is the cache").unwrap();
    assert_eq!(second.embed_query("where is the cache").unwrap(), query);
    assert_eq!(second.stats().inferred, 1);
}

/// Query and document prefixes of the model spec are applied to the right
/// side only, and a spec that misstates the dimension is caught.
#[test]
fn prefixes_and_dimension_come_from_the_spec() {
    let (runtime, model) = installed();
    let mut prefixed = model.clone();
    prefixed.spec.query_prefix = "query: ".into();
    prefixed.spec.document_prefix = "passage: ".into();
    let with_prefixes = Embedder::load(runtime, &prefixed, &EmbedOptions::default()).unwrap();
    let plain = load_with(EmbedOptions::default());
    let query = with_prefixes.embed_query("parse a config").unwrap();
    let document = with_prefixes.embed_documents(&["parse a config"]).unwrap();
    // One text per call on both sides: int8 activations are quantised per
    // call, so batch neighbours shift a vector slightly.
    let expected_query = plain.embed_documents(&["query: parse a config"]).unwrap();
    let expected_document = plain.embed_documents(&["passage: parse a config"]).unwrap();
    assert!(cosine(&query, &expected_query[0]) > 0.9999);
    assert!(cosine(&document[0], &expected_document[0]) > 0.9999);

    let mut wrong = model.clone();
    wrong.spec.dimension = 768;
    let error = Embedder::load(runtime, &wrong, &EmbedOptions::default())
        .unwrap()
        .embed_query("x")
        .unwrap_err()
        .to_string();
    assert!(error.contains("384-d") && error.contains("768"), "{error}");
}
