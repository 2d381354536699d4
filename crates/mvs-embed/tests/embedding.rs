//! Real inference with the real default model (provisioned on first use).

use std::sync::OnceLock;

use mvs_embed::{Embedder, Home, Verify, load_embedder, sha256_file};

fn embedder() -> &'static Embedder {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| load_embedder(None).expect("default model loads"))
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

/// A corrupted model file (same size, other bytes) fails the hash check of
/// `setup`, is removed and fetched again with pip.
#[test]
fn corrupted_model_file_is_detected_and_replaced() {
    let installed = Home::from_env().unwrap().ensure_default_model(Verify::Size).unwrap();
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
