//! The wiring shared by the `mcp-vector-search` binary, its examples and its
//! tests: the configuration, read once from the environment
//! ([`Settings`]), and the embedders built from it.

pub mod settings;

use std::sync::Arc;

use mvs_embed::{EmbedOptions, Embedder, Verify};
pub use settings::Settings;

/// The configured embedder with the shared vector cache, loaded off the
/// async worker threads (provisioning the runtime and model on first use).
///
/// # Errors
/// Provisioning or loading failed; the message says what to do.
pub async fn load_embedder(settings: &Settings) -> anyhow::Result<Arc<Embedder>> {
    let home = settings.home()?;
    let (model_dir, options) = (settings.model_dir.clone(), settings.embed_options());
    let embedder =
        tokio::task::spawn_blocking(move || mvs_embed::load_embedder(&home, model_dir.as_deref(), options)).await??;
    Ok(Arc::new(embedder))
}

/// The configured model with `options` and without the vector cache:
/// measurements and probes must run the model.
///
/// # Errors
/// Provisioning or loading failed; the message says what to do.
pub fn uncached_embedder(settings: &Settings, options: &EmbedOptions) -> anyhow::Result<Embedder> {
    let home = settings.home()?;
    let runtime = home.ensure_runtime(Verify::Size)?;
    let model = mvs_embed::load_model_files(&home, settings.model_dir.as_deref(), options, Verify::Size)?;
    Ok(Embedder::load(&runtime, &model, options)?)
}
