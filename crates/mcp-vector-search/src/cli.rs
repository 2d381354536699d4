//! The command line: clap's types, and the translation of `search` flags
//! into the search arguments the MCP tools take too.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::install;

/// Local hybrid semantic + keyword code search for coding agents.
#[derive(Debug, Parser)]
#[command(name = "mcp-vector-search", version, about)]
pub struct Cli {
    /// Directory with model.onnx, tokenizer.json and model.json to use
    /// instead of the default model (all-MiniLM-L6-v2); default
    /// $MCP_VECTOR_SEARCH_MODEL_DIR.
    #[arg(long, global = true)]
    pub model_dir: Option<PathBuf>,
    /// Log more (to stderr).
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch and verify the ONNX Runtime library and the default model
    /// (done automatically on first use).
    Setup,
    /// Index a project (only new and changed files unless --force).
    Index {
        /// Project root (default: the current directory's project).
        path: Option<PathBuf>,
        /// Re-index every file.
        #[arg(long)]
        force: bool,
        /// Also index generated and minified files (skipped by default).
        #[arg(long)]
        include_generated: bool,
        /// Print the run report as JSON.
        #[arg(long)]
        json: bool,
        /// Report what a run would do (files and chunks per language, skips
        /// by reason, largest directories, estimated time) without indexing.
        #[arg(long, conflicts_with_all = ["force", "watch"])]
        dry_run: bool,
        /// After indexing, keep watching the project and index each change
        /// as it is saved (Ctrl-C stops).
        #[arg(long)]
        watch: bool,
        /// Publish the index to this shared index on object storage
        /// (`s3://bucket/prefix`; endpoint and credentials from the AWS_*
        /// variables) once the run completes: what a CI job runs. Without a
        /// local index the run starts from what is published there.
        #[arg(long, value_name = "URI", conflicts_with = "watch")]
        index_uri: Option<String>,
    },
    /// Search an indexed project.
    Search {
        /// What to find: behaviour in words, or an identifier.
        query: String,
        /// Maximum results (1-50; 5 and 5.0 alike, as the tools' `limit`).
        #[arg(
            long,
            short = 'n',
            default_value_t = mvs_index::LIMIT.default,
            value_parser = limit,
            allow_negative_numbers = true
        )]
        limit: usize,
        /// hybrid (default), vector or keyword (bm25).
        #[arg(long, default_value = "hybrid")]
        mode: String,
        /// Leave out results scoring below this (0-1, the same scale in
        /// every mode).
        #[arg(long)]
        similarity_threshold: Option<f32>,
        #[command(flatten)]
        filter: Box<FilterArgs>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Project root (default: the current directory's project).
        #[arg(long)]
        project_root: Option<PathBuf>,
    },
    /// Show what the index holds.
    Status {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Project root (default: the current directory's project).
        #[arg(long)]
        project_root: Option<PathBuf>,
    },
    /// Index a project (default: the current one) and show what searching it
    /// looks like: by meaning, by identifier, and filtered.
    Demo {
        /// Project root (default: the current directory's project).
        path: Option<PathBuf>,
    },
    /// Check Python, runtime, model, device, vector cache and the index, and
    /// say how to fix what fails.
    Doctor {
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
        /// Project root (default: the current directory's project).
        #[arg(long)]
        project_root: Option<PathBuf>,
    },
    /// Register the MCP server with a client: print the configuration, or
    /// merge it into the client's file with --write.
    Install(install::InstallArgs),
    /// Run the MCP server on stdio.
    Mcp {
        /// Project root (default: $MCP_PROJECT_ROOT, else the current directory).
        #[arg(long)]
        project_root: Option<PathBuf>,
    },
}

/// `--limit` under the rule of the tools' `limit`, so a bad value gets the
/// same message (clap adds the flag and exits with the usage code).
fn limit(text: &str) -> Result<usize, String> {
    mvs_index::LIMIT.parse(text).map_err(|err| err.to_string())
}

/// Filters of `search`, applied in both lanes before ranking. The long
/// names are the `search_code` tool's argument names; the short spellings
/// of earlier versions stay as aliases.
#[derive(Debug, Default, clap::Args)]
pub struct FilterArgs {
    /// Only this language (repeatable): rust, python, typescript, ...; any
    /// case, extensions and aliases too (py, ts, golang, c++).
    #[arg(long, value_name = "LANG")]
    pub language: Vec<String>,
    /// Only paths matching this glob (repeatable), relative to the project
    /// root: 'src/**/*.rs', '*.py'; a directory means everything under it.
    #[arg(long, value_name = "GLOB")]
    pub files: Vec<String>,
    /// Leave out paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Only this file extension (repeatable): .rs, .py.
    #[arg(long = "file-extensions", visible_alias = "ext", value_name = "EXT")]
    pub file_extensions: Vec<String>,
    /// Only this chunk kind (repeatable): function, method, class, struct,
    /// ...; any case, plurals too.
    #[arg(long, value_name = "KIND")]
    pub kind: Vec<String>,
    /// Only the definition with this name or qualified name.
    #[arg(long, visible_alias = "name")]
    pub function_name: Option<String>,
    /// Only this class/type and what it contains.
    #[arg(long, visible_alias = "in", value_name = "TYPE")]
    pub class_name: Option<String>,
    /// Only test code: test files and inline test modules (`mod tests`).
    #[arg(long, conflicts_with = "exclude_tests")]
    pub tests_only: bool,
    /// Leave out test code: test files and inline test modules.
    #[arg(long)]
    pub exclude_tests: bool,
}
