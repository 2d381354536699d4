//! The MCP tool layer: `search_code`, `search_context`, `search_similar`,
//! `get_chunk`, `index_project` and `get_project_status` over stdio (rmcp).
//!
//! The handshake never waits for the model or the index: the embedder loads
//! in the background after start-up (or on first need), and indexing runs as
//! a background job whose progress `get_project_status` reports. Nor does
//! it fail on a bad project root: every tool then answers why and the fix.
//!
//! * `server`: [`SearchServer`], [`ServerOptions`], [`serve_stdio`], the
//!   state calls share, warm-up and the file watcher.
//! * `root`: [`ProjectRoot`], the root to serve and where it came from
//!   ([`RootSource`]); a bad one becomes every tool's error.
//! * `tools`: the tool handlers.
//! * `args`: the tools' arguments, their schemas, and reading them (a bad
//!   one is -32602 naming it).
//! * `output`: each tool's `outputSchema`.
//! * `jobs`: background indexing jobs, cancelling, progress notifications.
//! * `render`: answers as structured JSON and text within a token budget
//!   ([`render_results`]).
//! * `error`: [`ToolError`], and how each kind reaches the client.

mod args;
mod error;
mod jobs;
mod output;
mod render;
mod root;
mod server;
mod tools;

pub use args::{GetChunkArgs, IndexProjectArgs, SearchCodeArgs, SearchContextArgs, SearchSimilarArgs, StatusArgs};
pub use error::ToolError;
pub use render::render_results;
pub use root::{ProjectRoot, RootSource};
pub use server::{EmbedderLoader, SearchServer, ServerOptions, serve_stdio};
