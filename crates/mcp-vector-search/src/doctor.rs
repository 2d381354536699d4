//! `doctor`: checks each layer a search depends on (Python for
//! provisioning, runtime and model, device, vector cache, the project's
//! index and its writer) and says what to do about each problem.

use std::process::Command;
use std::time::Instant;

use mcp_vector_search::Settings;
use mvs_embed::VectorCache;
use mvs_index::Project;
use serde::Serialize;

/// One check's outcome.
#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

/// Runs every check, prints them, and fails when any did.
pub async fn doctor(json: bool, project: Project, settings: &Settings) -> anyhow::Result<()> {
    let mut checks = Vec::new();
    let home = settings.home()?;

    let python = home.python().to_string();
    let pip = Command::new(&python).args(["-m", "pip", "--version"]).output();
    checks.push(match pip {
        Ok(out) if out.status.success() => Check {
            name: "python",
            ok: true,
            detail: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        },
        _ => Check {
            name: "python",
            ok: false,
            detail: format!(
                "`{python} -m pip` does not run: needed once to fetch the runtime and model \
                 (Debian: apt-get install python3-pip, or set MCP_VECTOR_SEARCH_PYTHON)"
            ),
        },
    });

    let started = Instant::now();
    // Uncached, so the probe below runs the model and leaves nothing behind.
    let probe_settings = settings.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        mcp_vector_search::uncached_embedder(&probe_settings, &probe_settings.embed_options())
    })
    .await?;
    let load_ms = started.elapsed().as_millis();
    let mut loaded_model = None;
    match loaded {
        Ok(embedder) => {
            let device = embedder.device().clone();
            loaded_model = Some((embedder.spec().id.clone(), embedder.spec().dimension));
            checks.push(Check {
                name: "model",
                ok: true,
                detail: format!(
                    "{} ({}-d, {} tokens), loaded in {load_ms} ms",
                    embedder.spec().id,
                    embedder.spec().dimension,
                    embedder.spec().max_tokens
                ),
            });
            checks.push(Check {
                name: "device",
                ok: device.fallback.is_none(),
                detail: match &device.fallback {
                    None => device.to_string(),
                    Some(reason) => format!("{device}; {reason}"),
                },
            });
            let probe: Vec<String> = (0..32)
                .map(|i| format!("fn probe_{i}(input: &str) -> usize {{ input.len() * {i} }}"))
                .collect();
            let started = Instant::now();
            let embedded = tokio::task::spawn_blocking(move || embedder.embed_documents(&probe)).await?;
            let seconds = started.elapsed().as_secs_f64().max(1e-6);
            checks.push(match embedded {
                Ok(vectors) => Check {
                    name: "inference",
                    ok: true,
                    detail: format!("{} short texts in {:.0} ms", vectors.len(), seconds * 1000.0),
                },
                Err(err) => Check {
                    name: "inference",
                    ok: false,
                    detail: err.to_string(),
                },
            });
        }
        Err(err) => checks.push(Check {
            name: "model",
            ok: false,
            detail: format!("{err}; run `mcp-vector-search setup`"),
        }),
    }

    checks.push(match home.vector_cache_config() {
        None => Check {
            name: "vector cache",
            ok: true,
            detail: "off (MCP_VECTOR_SEARCH_CACHE_MB=0)".into(),
        },
        Some(config) => match VectorCache::open(
            &config.path,
            config.max_bytes,
            loaded_model.as_ref().map_or(384, |(_, dimension)| *dimension),
        )
        .and_then(|cache| cache.len())
        {
            Ok(entries) => Check {
                name: "vector cache",
                ok: true,
                detail: format!("{entries} vectors in {}", config.path.display()),
            },
            Err(err) => Check {
                name: "vector cache",
                ok: false,
                detail: err.to_string(),
            },
        },
    });

    checks.push(match mvs_index::project_status(&project).await {
        Ok(status) => {
            let mut problems = Vec::new();
            if status.chunks != status.vectors {
                problems.push(format!(
                    "{} chunks but {} vectors: run `mcp-vector-search index`",
                    status.chunks, status.vectors
                ));
            }
            if let (Some((id, dimension)), Some(index_model)) = (&loaded_model, &status.model)
                && (index_model != id || status.dimension != Some(*dimension))
            {
                problems.push(format!(
                    "built with {index_model} but {id} is configured: run `mcp-vector-search index --force`"
                ));
            }
            if let Some(damage) = &status.damaged {
                problems.push(damage.clone());
            }
            if status.state == "not_indexed" {
                problems.push("no index yet: run `mcp-vector-search index`".into());
            }
            let writer = match status.writer_pid {
                Some(pid) => format!(", being indexed by pid {pid}"),
                None => String::new(),
            };
            Check {
                name: "index",
                ok: problems.is_empty(),
                detail: format!(
                    "{}: {} ({} files, {} chunks){writer}{}",
                    status.project_root.display(),
                    status.state,
                    status.indexed_files,
                    status.chunks,
                    if problems.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", problems.join("; "))
                    }
                ),
            }
        }
        Err(err) => Check {
            name: "index",
            ok: false,
            detail: err.to_string(),
        },
    });

    let failed = checks.iter().filter(|c| !c.ok).count();
    if json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        for check in &checks {
            println!(
                "{} {:13} {}",
                if check.ok { "ok  " } else { "FAIL" },
                check.name,
                check.detail
            );
        }
    }
    anyhow::ensure!(failed == 0, "doctor found {failed} problem(s)");
    Ok(())
}
