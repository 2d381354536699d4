//! The knobs of an indexing run and their machine defaults. Nothing here
//! reads the environment: the binary overrides fields from its settings.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use mvs_parse::ChunkOptions;

use crate::discovery::Scope;
use crate::memory::MemoryMonitor;

/// Default of [`IndexOptions::two_phase_min_files`].
const TWO_PHASE_MIN_FILES: usize = 20;

/// Knobs of an indexing run.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// Re-index every file, ignoring change detection.
    pub force: bool,
    /// Parse worker threads (default: the machine's available parallelism).
    pub parse_workers: usize,
    /// File limits for the chunker (default: [`ChunkOptions::default`]).
    pub chunk_options: ChunkOptions,
    /// Split definitions above this many bytes instead of sizing chunks to
    /// the model's window (default `None`: the window decides).
    pub max_chunk_bytes: Option<usize>,
    /// Only these paths (files or directories) instead of the whole project:
    /// what a watcher saw change, or what a caller asked for.
    pub scope: Option<Scope>,
    /// Bytes of memory the run may use (default:
    /// [`MemoryMonitor::machine_limit_bytes`]): above 90% of it embedding
    /// batches halve and parse workers pause.
    pub max_memory_bytes: u64,
    /// Runs with at least this many files to (re)process go in two phases
    /// (every file's chunks first, so keyword search works early; then the
    /// vectors); smaller runs (edits) embed as they go (default 20).
    pub two_phase_min_files: usize,
    /// Set to stop the run early: files already committed stay, the rest
    /// are left for the next run (the report says `cancelled`). Clones share
    /// the flag; give each run its own.
    pub cancel: Arc<AtomicBool>,
    /// After a complete run, publish the index as a new generation of the
    /// project's shared index ([`crate::Project::shared`]; an error without
    /// one). Default false: only a publisher (a CI job) sets it.
    pub publish: bool,
}

impl Default for IndexOptions {
    /// Defaults from the machine: every core parses, memory up to the
    /// machine's (or cgroup's) limit.
    fn default() -> Self {
        Self {
            force: false,
            parse_workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_options: ChunkOptions::default(),
            max_chunk_bytes: None,
            scope: None,
            max_memory_bytes: MemoryMonitor::machine_limit_bytes(),
            two_phase_min_files: TWO_PHASE_MIN_FILES,
            cancel: Arc::default(),
            publish: false,
        }
    }
}
