//! `mcp-vector-search`: index a repository and search it by meaning and by
//! keyword, from the command line or as an MCP stdio server.
//!
//! This file only wires: it parses the command line ([`cli`]), reads the
//! environment once ([`Settings`]), and hands typed options to the command
//! ([`commands`]) or to the MCP server.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use mcp_vector_search::Settings;
use mvs_index::IndexError;

mod cli;
mod commands;
mod doctor;
mod install;

use cli::{Cli, Command};

/// Exit codes callers can tell apart.
mod exit {
    /// Any other failure.
    pub const FAILURE: u8 = 1;
    /// Wrong arguments.
    pub const USAGE: u8 = 2;
    /// The project has no index.
    pub const NOT_INDEXED: u8 = 3;
    /// Another process holds the writer lock.
    pub const LOCK_HELD: u8 = 4;
    /// The index cannot be read (`index` repairs it).
    pub const DAMAGED: u8 = 5;
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let mut settings = Settings::from_env();
    if cli.model_dir.is_some() {
        settings.model_dir = cli.model_dir.clone();
    }
    init_logging(&cli, &settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            let code = match err.downcast_ref::<IndexError>() {
                Some(IndexError::NotIndexed(_)) => exit::NOT_INDEXED,
                Some(IndexError::LockHeld { .. }) => exit::LOCK_HELD,
                Some(IndexError::Store(mvs_store::StoreError::Damaged { .. })) => exit::DAMAGED,
                _ if err.is::<commands::DamagedIndex>() => exit::DAMAGED,
                _ if err.is::<commands::UsageError>() => exit::USAGE,
                _ => exit::FAILURE,
            };
            ExitCode::from(code)
        }
    }
}

/// glibc gives each thread that allocates concurrently its own heap arena,
/// up to 8 per core; LanceDB and DataFusion run many threads, and memory
/// freed in one arena is not reused by another. One arena per core cut the
/// peak RSS of a 10k-file run's keywords phase from 933 to 683 MB
/// (docs/benchmarks.md). Must run before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: mallopt only sets an allocator parameter; no other thread
        // exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cores.min(i32::MAX as usize) as i32);
        }
    }
}

/// Logs go to stderr only: in `mcp` mode stdout carries MCP messages.
fn init_logging(cli: &Cli, settings: &Settings) {
    let default = match (&cli.command, cli.verbose) {
        (_, true) => "info,lance=warn,lancedb=warn,datafusion=warn",
        (Command::Mcp { .. }, false) => "info,rmcp=warn,lance=warn,lancedb=warn,datafusion=warn,ort=warn",
        _ => "warn",
    };
    let filter = settings
        .log
        .as_deref()
        .and_then(|log| tracing_subscriber::EnvFilter::try_new(log).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Setup => commands::setup(&settings).await,
        Command::Index {
            path,
            include_generated,
            json,
            dry_run: true,
            ..
        } => {
            let mut chunk_options = settings.index_options().chunk_options;
            chunk_options.include_generated = include_generated;
            commands::dry_run(commands::project_at(path, &settings)?, chunk_options, json, &settings).await
        }
        Command::Index {
            path,
            force,
            include_generated,
            json,
            dry_run: false,
            watch,
            index_uri,
        } => {
            let mut options = settings.index_options();
            options.force = force;
            options.chunk_options.include_generated = include_generated;
            let mut project = commands::project_at(path, &settings)?;
            if let Some(uri) = index_uri {
                let shared = settings
                    .shared_index_at(&uri)
                    .map_err(|err| commands::UsageError(format!("--index-uri: {err}")))?;
                project = project.with_shared(Some(shared));
                options.publish = true;
            }
            commands::index(project, options, json, watch, &settings).await
        }
        Command::Search {
            query,
            limit,
            mode,
            similarity_threshold,
            filter,
            json,
            project_root,
        } => {
            let args = commands::search_args(query, limit, mode, similarity_threshold, *filter, &settings);
            commands::search(args, json, commands::project_at(project_root, &settings)?, &settings).await
        }
        Command::Status { json, project_root } => {
            commands::status(json, commands::project_at(project_root, &settings)?).await
        }
        Command::Demo { path } => commands::demo(commands::project_at(path, &settings)?, &settings).await,
        Command::Doctor { json, project_root } => {
            doctor::doctor(json, commands::project_at(project_root, &settings)?, &settings).await
        }
        Command::Install(args) => {
            let project = commands::project_at(args.project_root.clone(), &settings)?;
            install::install(args, project.root(), &settings.program_path)
        }
        Command::Mcp { project_root } => {
            // A bad root is every tool's error, not an exit before the handshake.
            let root = match (project_root, settings.project_root.clone()) {
                (Some(root), _) => mvs_mcp::ProjectRoot::new(root, mvs_mcp::RootSource::Flag("--project-root")),
                (None, Some(root)) => mvs_mcp::ProjectRoot::new(root, mvs_mcp::RootSource::Env("MCP_PROJECT_ROOT")),
                (None, None) => mvs_mcp::ProjectRoot::new(
                    std::env::current_dir().unwrap_or_else(|_| ".".into()),
                    mvs_mcp::RootSource::WorkingDirectory,
                ),
            };
            let shared = settings.shared_index().unwrap_or_else(|err| {
                // Every tool keeps working on the local index.
                tracing::error!("{err}; the shared index is not used");
                None
            });
            let options = mvs_mcp::ServerOptions {
                shared,
                index: settings.index_options(),
                watch: settings.file_watching,
                keyword_weight: settings.keyword_weight,
            };
            let loader: mvs_mcp::EmbedderLoader = Arc::new(move |reporter| {
                let home = settings.home().map_err(|err| err.to_string())?.with_reporter(reporter);
                mvs_embed::load_embedder(&home, settings.model_dir.as_deref(), settings.embed_options())
                    .map_err(|err| err.to_string())
            });
            mvs_mcp::serve_stdio(root, loader, options)
                .await
                .map_err(anyhow::Error::msg)
        }
    }
}
