//! Why a tool call failed, as a kind the server can act on and one way of
//! telling the client.
//!
//! An argument out of range is the caller's mistake in the protocol sense
//! (JSON-RPC -32602 naming the field); every other failure is a tool result
//! with `isError` set and a message saying what to do, which MCP advises so
//! the model can read it and react.

use mvs_index::{IndexError, InvalidArgument};
use rmcp::ErrorData;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};

/// A failed tool call. `Display` is the message the client reads.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolError {
    /// An argument is missing, malformed or out of range: answered as a
    /// JSON-RPC invalid-params error (-32602).
    InvalidArgument {
        /// The argument, as the tool's schema names it.
        field: String,
        /// The whole message; it names `field`.
        message: String,
    },
    /// The server's project root is missing, not a directory or unreadable;
    /// the message names where the root came from, its value and the fix.
    /// Every tool answers it: the server still completes the handshake.
    BadProjectRoot(String),
    /// The project has no index yet; the message says to call
    /// `index_project`.
    NotIndexed(String),
    /// Another process holds the index's writer lock.
    Busy {
        /// The holder's pid, when known.
        pid: Option<u32>,
        /// The message, naming the holder.
        message: String,
    },
    /// The embedding model could not be loaded, or it is not the model the
    /// index was built with.
    ModelUnavailable(String),
    /// What the caller named is not there: a chunk id, an indexed
    /// definition, a file. Paths outside the project count as not there: the
    /// server reads nothing outside it.
    NotFound(String),
    /// Anything else: storage, a background task, I/O.
    Internal(String),
}

impl ToolError {
    /// An invalid-argument error about `field`; `message` names it.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The error as rmcp answers a tool call: invalid arguments as a
    /// protocol error, the rest as an `isError` result. Messages longer
    /// than [`MAX_MESSAGE_BYTES`] are cut: they may quote a caller's path or
    /// value of any length.
    pub fn into_answer(self) -> Result<CallToolResult, ErrorData> {
        let clipped = |message: &str| crate::render::clip(message, MAX_MESSAGE_BYTES).into_owned();
        match self {
            Self::InvalidArgument { field, message } => Err(invalid_params(&field, clipped(&message))),
            other => Ok(CallToolResult::error(vec![ContentBlock::text(clipped(
                &other.to_string(),
            ))])),
        }
    }
}

/// Longest error message sent, in bytes: far above any message of ours,
/// far below an answer's size limit.
const MAX_MESSAGE_BYTES: usize = 4_000;

/// JSON-RPC -32602 for a bad argument: `message` names `field`, and
/// `data.field` names it for programs.
pub(crate) fn invalid_params(field: &str, message: String) -> ErrorData {
    let field = crate::render::clip(field, crate::render::ECHO_BYTES);
    ErrorData::invalid_params(message, Some(serde_json::json!({ "field": field })))
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidArgument { message, .. }
            | Self::BadProjectRoot(message)
            | Self::NotIndexed(message)
            | Self::Busy { message, .. }
            | Self::ModelUnavailable(message)
            | Self::NotFound(message)
            | Self::Internal(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ToolError {}

impl From<IndexError> for ToolError {
    fn from(err: IndexError) -> Self {
        let message = err.to_string();
        match err {
            IndexError::LockHeld { pid, .. } => Self::Busy { pid, message },
            // Over MCP the remedy is a tool, not the CLI command the message names.
            IndexError::NotIndexed(_) => Self::NotIndexed(format!("{message}; or call index_project")),
            IndexError::ModelMismatch { .. } => Self::ModelUnavailable(message),
            IndexError::NotFound(_) | IndexError::OutsideProject { .. } => Self::NotFound(message),
            IndexError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => Self::NotFound(message),
            _ => Self::Internal(message),
        }
    }
}

impl From<InvalidArgument> for ToolError {
    fn from(err: InvalidArgument) -> Self {
        // `search_code` calls the search mode `search_mode`; name it so.
        let err = match err.field {
            "mode" => InvalidArgument {
                field: "search_mode",
                ..err
            },
            _ => err,
        };
        // The value is echoed; a huge one is clipped.
        let received = crate::render::clip(&err.received, crate::render::ECHO_BYTES);
        Self::InvalidArgument {
            message: format!("{}: expected {}, received {received}", err.field, err.expected),
            field: err.field.to_string(),
        }
    }
}

/// Lets a tool return `Result<CallToolResult, ToolError>`.
impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        self.into_answer().map(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn invalid_arguments_are_protocol_errors_naming_the_field() {
        let err = ToolError::invalid("limit", "limit must be between 1 and 50")
            .into_answer()
            .unwrap_err();
        assert_eq!(err.code, rmcp::model::ErrorCode::INVALID_PARAMS);
        assert!(err.message.contains("limit"));
        assert_eq!(err.data, Some(serde_json::json!({"field": "limit"})));
    }

    #[test]
    fn search_arguments_keep_the_tool_names() {
        let mode = mvs_index::Query::from_args(
            mvs_index::SearchArgs {
                query: "x".into(),
                mode: Some("fuzzy".into()),
                ..Default::default()
            },
            std::path::Path::new("/p"),
        )
        .unwrap_err();
        let err = ToolError::from(mode);
        assert!(matches!(&err, ToolError::InvalidArgument { field, .. } if field == "search_mode"));
        assert!(err.to_string().starts_with("search_mode:"), "{err}");
    }

    #[test]
    fn other_failures_are_tool_results_the_model_reads() {
        let busy = ToolError::from(IndexError::LockHeld {
            index_dir: PathBuf::from("/p/.mcp-vector-search"),
            pid: Some(42),
        });
        assert!(matches!(busy, ToolError::Busy { pid: Some(42), .. }));
        let answer = busy.into_answer().unwrap();
        assert_eq!(answer.is_error, Some(true));
        assert!(format!("{:?}", answer.content).contains("pid 42"));
    }

    #[test]
    fn index_errors_keep_their_kind() {
        let not_indexed = ToolError::from(IndexError::NotIndexed(PathBuf::from("/p")));
        assert!(matches!(&not_indexed, ToolError::NotIndexed(m) if m.ends_with("or call index_project")));
        let outside = ToolError::from(IndexError::OutsideProject {
            path: "../x".into(),
            root: PathBuf::from("/p"),
        });
        assert!(matches!(outside, ToolError::NotFound(_)));
        let missing = ToolError::from(IndexError::Io {
            path: PathBuf::from("gone.rs"),
            source: std::io::ErrorKind::NotFound.into(),
        });
        assert!(matches!(missing, ToolError::NotFound(_)));
        assert!(matches!(
            ToolError::from(IndexError::Task("boom".into())),
            ToolError::Internal(_)
        ));
    }
}
