//! Each tool's `outputSchema`: the shape of its `structuredContent` in an
//! answer that is not an error. The schemas require what clients rely on
//! and allow more properties, so an answer may grow a field (a `note`, say)
//! without breaking a client that validates. `tests/mcp_arguments.rs`
//! validates real answers of every tool against them.

use std::sync::Arc;

use rmcp::model::JsonObject;
use serde_json::{Value, json};

/// `search_code`, `search_context`, `search_similar`: the results, best
/// first, within the caller's budget.
pub fn search() -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "required": ["query", "results"],
        "properties": {
            "query": {"type": "string"},
            "results": {"type": "array", "items": hit()},
            "partial": {
                "type": "boolean",
                "description": "Some chunks still wait for their vectors: the vector lane saw part of the code."
            },
            "omitted": {
                "type": "integer",
                "minimum": 1,
                "description": "Results left out to stay within max_tokens."
            },
            "note": {
                "type": "string",
                "description": "Why the page is empty when the filters explain it."
            }
        }
    }))
}

/// `index_project`: a job (started, running, ended), a dry run's survey
/// and estimate, or, for `cancel` with nothing running, `{"job": null}`.
pub fn index() -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "anyOf": [
            job(),
            {
                "type": "object",
                "required": ["files", "chunks", "chunks_per_s", "estimated_seconds", "device"],
                "properties": {
                    "files": {"type": "integer", "minimum": 0},
                    "chunks": {"type": "integer", "minimum": 0},
                    "chunks_per_s": {"type": "number", "minimum": 0},
                    "estimated_seconds": {"type": "number", "minimum": 0},
                    "device": {"type": "string"}
                }
            },
            {
                "type": "object",
                "required": ["job"],
                "properties": {"job": {"type": "null"}}
            }
        ]
    }))
}

/// `get_chunk`: lines of a file, and with a `chunk_id` the chunk as
/// indexed.
pub fn chunk() -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "required": ["file_path", "start_line", "end_line", "content"],
        "properties": {
            "file_path": {"type": "string"},
            "start_line": {"type": "integer", "minimum": 0},
            "end_line": {"type": "integer", "minimum": 0},
            "cell": cell(),
            "content": {"type": "string"},
            "stale": {"type": "boolean"},
            "relocated": {"type": "boolean"},
            "indexed_lines": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2, "maxItems": 2},
            "note": {"type": "string"},
            "truncated": {"type": "boolean"},
            "next_start_line": {"type": "integer", "minimum": 1},
            "lines_cut": {"type": "integer", "minimum": 0},
            "chunk": {"type": "object"},
            "definition": {
                "type": "object",
                "required": ["start_line", "end_line", "parts"],
                "properties": {
                    "start_line": {"type": "integer", "minimum": 1},
                    "end_line": {"type": "integer", "minimum": 1},
                    "parts": {"type": "integer", "minimum": 1}
                }
            }
        }
    }))
}

/// `get_project_status`: the index's state and counts, and the jobs.
pub fn status() -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "required": ["state", "project_root", "files", "chunks", "vectors", "languages", "job", "jobs"],
        "properties": {
            "state": {"enum": ["not_indexed", "indexing", "ready", "incomplete", "damaged"]},
            "incomplete": {"type": "string"},
            "damaged": {"type": "string"},
            "project_root": {"type": "string"},
            "files": {"type": "integer", "minimum": 0},
            "indexed_files": {"type": "integer", "minimum": 0},
            "chunks": {"type": "integer", "minimum": 0},
            "vectors": {"type": "integer", "minimum": 0},
            "model": {"type": ["string", "null"]},
            "shared": {"type": "string"},
            "languages": {"type": "object"},
            "skipped": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            "skipped_paths": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            "job": {"anyOf": [job(), {"type": "null"}]},
            "jobs": {"type": "array", "items": job()}
        }
    }))
}

/// One search result: the chunk's location and identity, its score, and
/// its code at the requested detail.
fn hit() -> Value {
    json!({
        "type": "object",
        "required": ["chunk_id", "file_path", "language", "kind", "name", "start_line", "end_line", "score"],
        "properties": {
            "chunk_id": {"type": "string"},
            "file_path": {"type": "string"},
            "language": {"type": "string"},
            "kind": {"type": "string"},
            "name": {"type": "string"},
            "qualified_name": {"type": "string"},
            "signature": {"type": "string"},
            "doc": {"type": ["string", "null"]},
            "start_line": {"type": "integer", "minimum": 1},
            "end_line": {"type": "integer", "minimum": 1},
            "cell": cell(),
            "content": {"type": "string"},
            "content_truncated": {"type": "boolean"},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "stale": {"type": "boolean"},
            "why": why()
        }
    })
}

/// Why a hit ranks where it does (`mvs_store::rank::Why`).
fn why() -> Value {
    json!({
        "type": "object",
        "required": ["fused", "rank_score", "query_coverage", "factors"],
        "properties": {
            "fused": {"type": "number"},
            "rank_score": {"type": "number"},
            "query_coverage": {"type": "number", "minimum": 0, "maximum": 1},
            "factors": {"type": "array", "items": {
                "type": "object",
                "required": ["signal"],
                "properties": {
                    "signal": {"enum": [
                        "path_prior", "name_match", "file_name", "module_root", "name_spelled", "file_evidence",
                        "saturation", "exact_symbol", "file_vector"
                    ]},
                    "kind": {"enum": [
                        "test", "example", "benchmark", "vendored", "superseded", "documentation", "re_export", "declarations"
                    ]},
                    "factor": {"type": "number"},
                    "cosine": {"type": "number"}
                }
            }}
        }
    })
}

/// A notebook chunk's cell: its lines are that cell's.
fn cell() -> Value {
    json!({
        "type": "integer",
        "minimum": 1,
        "description": "In a notebook: the 1-based cell whose source start_line/end_line count in."
    })
}

/// An indexing job as `Job::describe` shows it.
fn job() -> Value {
    json!({
        "type": "object",
        "required": ["job_id", "origin", "state", "summary", "progress"],
        "properties": {
            "job_id": {"type": "string"},
            "origin": {"enum": ["client", "watcher", "shared_index"]},
            "state": {"enum": ["running", "done", "failed"]},
            "summary": {"type": "string", "description": "What search can do now, e.g. keyword search ready, vectors 40% (2180/5451 chunks), ETA 3 min"},
            "progress": {"type": "object"},
            "report": {"type": ["object", "null"]},
            "error": {"type": ["string", "null"]}
        }
    })
}

fn object(schema: Value) -> Arc<JsonObject> {
    match schema {
        Value::Object(object) => Arc::new(object),
        _ => unreachable!("every schema above is a JSON object"),
    }
}
