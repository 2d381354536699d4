//! The tools: each handler validates its arguments, asks the indexer or the
//! store, and shapes the answer (`render`); failures are [`ToolError`]s.

use std::sync::Arc;

use mvs_index::{Project, Query, Scope, SearchArgs, SearchFilter, SearchResponse, SimilarTo, checked_limit};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use serde_json::json;

use crate::args::{GetChunkArgs, IndexProjectArgs, SearchCodeArgs, SearchContextArgs, SearchSimilarArgs, StatusArgs};
use crate::jobs::{Job, Origin, forward_progress};
use crate::render::{output_controls, shaped, structured};
use crate::{SearchServer, ToolError};

/// Pause between a waited call's last progress notification and its answer
/// (see `index_project`).
const ANSWER_AFTER_PROGRESS: std::time::Duration = std::time::Duration::from_millis(25);

/// Most lines `get_chunk` returns for one file range.
const MAX_CHUNK_LINES: usize = 400;
/// Most `context_lines` `get_chunk` adds on each side.
const MAX_CONTEXT_LINES: usize = 200;

type Answer = Result<CallToolResult, ToolError>;

#[tool_router(router = tool_router, vis = "pub(crate)")]
impl SearchServer {
    #[tool(
        description = "Search the codebase by meaning and keywords (hybrid). Returns ranked code chunks \
                       (functions, classes, methods) with file_path, start_line, end_line, kind, name, score and \
                       content, within max_tokens. Filters (language, files, kind, ...) apply before ranking.",
        annotations(read_only_hint = true)
    )]
    async fn search_code(&self, Parameters(args): Parameters<SearchCodeArgs>) -> Answer {
        let project = self.shared.project()?;
        let query = Query::from_args(SearchArgs {
            query: args.query,
            mode: args.search_mode,
            limit: args.limit,
            similarity_threshold: args.similarity_threshold,
            keyword_weight: self.shared.options.keyword_weight,
            language: args.language.unwrap_or_default(),
            file_extensions: args.file_extensions.unwrap_or_default(),
            files: args.files.unwrap_or_default(),
            exclude: args.exclude.unwrap_or_default(),
            kind: args.kind.unwrap_or_default(),
            function_name: args.function_name,
            class_name: args.class_name,
            tests_only: args.tests_only == Some(true),
            exclude_tests: args.exclude_tests == Some(true),
        })?;
        let (detail, max_tokens) = output_controls(args.detail.as_deref(), args.max_tokens)?;
        let store = self.shared.store().await?;
        let embedder = if query.needs_embedder() {
            Some(self.shared.embedder().await?)
        } else {
            None
        };
        let response = mvs_index::search_response(project, &store, embedder, &query).await?;
        Ok(shaped(&response, detail, max_tokens))
    }

    #[tool(
        description = "Index the project in the background (only changed files unless force; only `paths` if \
                       given); returns a job id at once, or the result when the job ends with wait=true. Sends \
                       notifications/progress for a progressToken. Only cancel=true stops the job (a wait \
                       that ends early leaves it running); dry_run reports files, chunks and estimated seconds \
                       without indexing. Answers busy at once while another process indexes."
    )]
    async fn index_project(
        &self,
        Parameters(args): Parameters<IndexProjectArgs>,
        context: RequestContext<RoleServer>,
    ) -> Answer {
        let project = self.shared.project()?;
        let scope = match args.paths.as_ref().filter(|paths| !paths.is_empty()) {
            Some(paths) => {
                let resolved = paths
                    .iter()
                    .map(|path| project.resolve_maybe_deleted(path))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|err| ToolError::NotFound(format!("paths: {err}")))?;
                Some(Scope::new(project, resolved))
            }
            None => None,
        };
        let options = self.shared.job_options(args.force.unwrap_or(false), scope);
        if args.dry_run == Some(true) {
            return self.dry_run(options).await;
        }
        if args.cancel == Some(true) {
            return Ok(cancel_job(self.shared.jobs.running()));
        }
        if self.shared.jobs.running().is_none()
            && let Some(busy) = other_writer(project)
        {
            return Err(busy);
        }
        let (mut job, already_running) = self.shared.start_job(Origin::Client, options)?;
        if args.wait != Some(true) {
            // The request ends with this answer, and the MCP spec allows
            // progress for a token only while its request is in flight:
            // get_project_status reports the job's progress from here on.
            let text = if already_running {
                format!("Indexing job {} is already running; poll get_project_status.", job.id)
            } else {
                format!("Started indexing job {}; poll get_project_status for progress.", job.id)
            };
            return Ok(structured(job.describe(), text));
        }
        let forward = context
            .meta
            .get_progress_token()
            .map(|token| forward_progress(&job, token, context.peer.clone()));
        tokio::select! {
            () = job.finished() => {}
            () = context.ct.cancelled() => {
                // The client stopped waiting (a timeout, say): the job runs
                // on, since only `cancel` stops one, and its progress stops
                // with the request.
                if let Some(forward) = forward {
                    forward.abort();
                }
                let text = format!("Stopped waiting; indexing job {} continues; poll get_project_status.", job.id);
                return Ok(structured(job.describe(), text));
            }
        }
        if let Some(forward) = forward {
            // The last notification goes out before the answer, and not in
            // the same breath: the TypeScript SDK (Claude Code, Gemini CLI,
            // the Inspector) handles notifications a microtask late but
            // responses at once, so a notification that reaches it in one
            // read together with the answer counts as progress for a
            // finished request (seen once in six runs of ts-sdk-check).
            let _ = forward.await;
            tokio::time::sleep(ANSWER_AFTER_PROGRESS).await;
        }
        if let Some(Err(failure)) = job.outcome() {
            // A waiting caller learns of the failure as a failure.
            return Err(failure);
        }
        let described = job.describe();
        let text = format!(
            "Indexing job {} {}.",
            job.id,
            described["state"].as_str().unwrap_or("ended")
        );
        Ok(structured(described, text))
    }

    #[tool(
        description = "Gather the code relevant to a task: searches the description and each focus area \
                       (e.g. 'error handling', 'tests') and merges the hits, best first, within max_tokens.",
        annotations(read_only_hint = true)
    )]
    async fn search_context(&self, Parameters(args): Parameters<SearchContextArgs>) -> Answer {
        let project = self.shared.project()?;
        if args.description.trim().is_empty() {
            return Err(ToolError::invalid("description", "description must not be empty"));
        }
        let query = Query::from_args(SearchArgs {
            query: args.description.clone(),
            limit: args.limit,
            keyword_weight: self.shared.options.keyword_weight,
            ..SearchArgs::default()
        })?;
        let (detail, max_tokens) = output_controls(args.detail.as_deref(), args.max_tokens)?;
        let store = self.shared.store().await?;
        let embedder = self.shared.embedder().await?;
        let mut texts = vec![args.description.clone()];
        texts.extend(
            args.focus_areas
                .iter()
                .flatten()
                .map(|area| format!("{} {area}", args.description)),
        );
        let mut lists = Vec::with_capacity(texts.len());
        for text in texts {
            let query = Query { text, ..query.clone() };
            lists.push(mvs_index::search(project, &store, Some(Arc::clone(&embedder)), &query).await?);
        }
        let results = mvs_store::rank::merge(lists, query.limit);
        let response = SearchResponse::new(&store, args.description, results);
        Ok(shaped(&response, detail, max_tokens))
    }

    #[tool(
        description = "Find code similar to a file, one of its functions (function_name) or a search hit \
                       (chunk_id), using the stored vectors; the source itself is left out.",
        annotations(read_only_hint = true)
    )]
    async fn search_similar(&self, Parameters(args): Parameters<SearchSimilarArgs>) -> Answer {
        let project = self.shared.project()?;
        let limit = checked_limit(args.limit)?;
        let (detail, max_tokens) = output_controls(args.detail.as_deref(), args.max_tokens)?;
        let source = match (args.chunk_id, args.file_path) {
            (Some(id), _) => SimilarTo::Chunk(id),
            (None, Some(path)) => {
                let real = project.resolve(&path)?;
                SimilarTo::File {
                    path: project.relative(&real).unwrap_or(path),
                    name: args.function_name,
                }
            }
            (None, None) => return Err(ToolError::invalid("file_path", "give file_path or chunk_id")),
        };
        let store = self.shared.store().await?;
        let filter = SearchFilter {
            languages: args.language.unwrap_or_default(),
            ..SearchFilter::default()
        };
        let results = mvs_index::search_similar(project, &store, &source, limit, filter).await?;
        let query = match &source {
            SimilarTo::Chunk(id) => format!("similar to {id}"),
            SimilarTo::File { path, name } => format!("similar to {path} {}", name.as_deref().unwrap_or("")),
        };
        let response = SearchResponse::new(&store, query, results);
        Ok(shaped(&response, detail, max_tokens))
    }

    #[tool(
        description = "Read code by chunk_id (from search results; adds `stale` when the file changed since \
                       indexing) or by file_path with start_line/end_line, plus context_lines around it. \
                       Use it to expand a signature or snippet hit.",
        annotations(read_only_hint = true)
    )]
    async fn get_chunk(&self, Parameters(args): Parameters<GetChunkArgs>) -> Answer {
        let project = self.shared.project()?;
        let context = args.context_lines.unwrap_or(0);
        if context > MAX_CONTEXT_LINES {
            return Err(ToolError::invalid(
                "context_lines",
                format!("context_lines must be at most {MAX_CONTEXT_LINES}"),
            ));
        }
        let (file_path, start, end, chunk) = match (args.chunk_id, args.file_path) {
            (Some(id), _) => {
                let store = self.shared.store().await?;
                let found = match store.chunk(&id).await {
                    Ok(found) => found,
                    Err(err) => return Err(ToolError::Internal(store.diagnose(err).await.to_string())),
                };
                let (chunk, _) = found.ok_or_else(|| {
                    ToolError::NotFound(format!(
                        "no chunk {id}: ids change when a file is re-chunked; search again"
                    ))
                })?;
                let (start, end) = (chunk.start_line as usize, chunk.end_line as usize);
                (chunk.file_path.clone(), start, end, Some(chunk))
            }
            (None, Some(path)) => {
                let start = args.start_line.unwrap_or(1).max(1);
                let end = args.end_line.unwrap_or(start + 99);
                if end < start {
                    return Err(ToolError::invalid("end_line", "end_line must not be before start_line"));
                }
                (path, start, end.min(start + MAX_CHUNK_LINES - 1), None)
            }
            (None, None) => return Err(ToolError::invalid("chunk_id", "give chunk_id, or file_path with lines")),
        };
        let real = project.resolve(&file_path)?;
        let text = match std::fs::read(&real) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            // It resolved, so it exists: a directory, or unreadable to us.
            Err(err) => return Err(ToolError::NotFound(format!("cannot read {file_path}: {err}"))),
        };
        let lines: Vec<&str> = text.lines().collect();
        let first = start.saturating_sub(context).max(1);
        let last = (end + context).min(lines.len());
        let numbered: String = (first..=last).map(|n| format!("{n:>5}  {}\n", lines[n - 1])).collect();
        let rel = project.relative(&real).unwrap_or(file_path);
        let mut value = json!({
            "file_path": rel,
            "start_line": first,
            "end_line": last,
            "content": lines.get(first.saturating_sub(1)..last).map(|l| l.join("\n")).unwrap_or_default(),
        });
        if let Some(chunk) = chunk {
            // The chunk as indexed, and whether the file still holds it there.
            let current = text.get(chunk.start_byte as usize..chunk.end_byte as usize);
            value["stale"] = (current != Some(chunk.content.as_str())).into();
            value["chunk"] = serde_json::to_value(&chunk).unwrap_or_default();
        }
        let header = format!("{}:{first}-{last}\n", value["file_path"].as_str().unwrap_or_default());
        Ok(structured(value, header + &numbered))
    }

    #[tool(
        description = "Index state (not_indexed, indexing, ready), file/chunk/vector counts per language, \
                       skipped files by reason, model, device, last run metrics, `job` (the running job, else \
                       the last one a client started) and `jobs` (the last few, newest first, with their origin).",
        annotations(read_only_hint = true)
    )]
    async fn get_project_status(&self, Parameters(_args): Parameters<StatusArgs>) -> Answer {
        // Jobs first: a job seen ended has released the writer lock by the
        // time the status probes it, so the two never disagree.
        let job = self.shared.jobs.shown().map(|job| job.describe());
        let jobs: Vec<serde_json::Value> = self.shared.jobs.recent().iter().map(Job::describe).collect();
        let status = mvs_index::project_status(self.shared.project()?).await?;
        let mut value = serde_json::to_value(&status).unwrap_or_default();
        if job.as_ref().is_some_and(|job| job["state"] == "running") {
            value["state"] = "indexing".into();
        }
        value["job"] = job.unwrap_or(serde_json::Value::Null);
        value["jobs"] = jobs.into();
        let mut text = format!(
            "state: {}, files: {}, chunks: {}, vectors: {}, model: {}",
            value["state"].as_str().unwrap_or("?"),
            status.files,
            status.chunks,
            status.vectors,
            status.model.as_deref().unwrap_or("none"),
        );
        // What is wrong and the fix, for clients that show only the text.
        if let Some(reason) = status.incomplete.as_ref().or(status.damaged.as_ref()) {
            text = format!("{text}\n{reason}");
        }
        Ok(structured(value, text))
    }
}

impl SearchServer {
    /// `index_project` with `dry_run`: the survey and time estimate.
    async fn dry_run(&self, options: mvs_index::IndexOptions) -> Answer {
        let embedder = self.shared.embedder().await?;
        let project = self.shared.project()?.clone();
        let dry_run =
            tokio::task::spawn_blocking(move || mvs_index::dry_run(&project, options.chunk_options, &*embedder))
                .await
                .map_err(|err| ToolError::Internal(format!("dry run failed: {err}")))??;
        let text = format!(
            "{} files, {} chunks; about {:.0} s at {:.0} chunks/s on {} (nothing written)",
            dry_run.survey.files,
            dry_run.survey.chunks,
            dry_run.estimated_seconds,
            dry_run.chunks_per_s,
            dry_run.device
        );
        Ok(structured(serde_json::to_value(&dry_run).unwrap_or_default(), text))
    }
}

/// [`ToolError::Busy`] when another process holds `project`'s writer lock:
/// its pid and command line (where `/proc` shows it), and what to do. Our
/// own jobs hold the same lock, so a holder with our pid is not another.
fn other_writer(project: &Project) -> Option<ToolError> {
    let pid = project.writer_active().filter(|&pid| pid != std::process::id())?;
    let holder = match (pid, command_line(pid)) {
        (0, _) => "another process".to_string(),
        (pid, Some(command)) => format!("another process (pid {pid}: `{command}`)"),
        (pid, None) => format!("another process (pid {pid})"),
    };
    Some(ToolError::Busy {
        pid: (pid != 0).then_some(pid),
        message: format!(
            "{holder} is indexing {}; wait for it to finish, then call index_project again; searching works meanwhile",
            project.index_dir().display()
        ),
    })
}

/// The command line of process `pid`, its arguments joined by spaces;
/// `None` where `/proc` does not show it.
fn command_line(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<_> = raw
        .split(|&byte| byte == 0)
        .filter(|arg| !arg.is_empty())
        .map(String::from_utf8_lossy)
        .collect();
    (!args.is_empty()).then(|| args.join(" "))
}

/// `index_project` with `cancel`: stops `running`, if there is one.
fn cancel_job(running: Option<Job>) -> CallToolResult {
    match running {
        Some(job) => {
            job.cancel();
            structured(job.describe(), format!("Cancelling indexing job {}.", job.id))
        }
        None => structured(json!({"job": null}), "No indexing job is running.".into()),
    }
}
