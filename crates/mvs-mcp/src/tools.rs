//! The tools: each handler validates its arguments, asks the indexer or the
//! store, and shapes the answer (`render`); failures are [`ToolError`]s.

use std::sync::Arc;

use mvs_index::{LIMIT, Project, Query, Scope, SearchArgs, SearchFilter, SearchResponse, SimilarTo, checked_languages};
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use serde_json::json;

use crate::args::{
    CONTEXT_LINES, GetChunkArgs, IndexProjectArgs, MAX_FOCUS_AREAS, Parameters, SearchCodeArgs, SearchContextArgs,
    SearchSimilarArgs, StatusArgs,
};
use crate::jobs::{Job, Origin, forward_progress};
use crate::render::{ECHO_BYTES, MAX_LINE_BYTES, clip, excerpt, output_controls, shaped, structured, token_budget};
use crate::{SearchServer, ToolError};

/// Pause between a waited call's last progress notification and its answer
/// (see `index_project`).
const ANSWER_AFTER_PROGRESS: std::time::Duration = std::time::Duration::from_millis(25);

/// Longest `file_path` `get_chunk` looks up, in bytes (Linux's PATH_MAX).
const MAX_PATH_BYTES: usize = 4096;
/// Longest `chunk_id` `get_chunk` looks up, in bytes (ids are 16 hex digits).
const MAX_ID_BYTES: usize = 64;

type Answer = Result<CallToolResult, ToolError>;

#[tool_router(router = tool_router, vis = "pub(crate)")]
impl SearchServer {
    #[tool(
        output_schema = crate::output::search(),
        description = "Search the codebase by meaning and keywords (hybrid). Returns ranked code chunks \
                       (functions, classes, methods) with file_path, start_line, end_line, kind, name, score and \
                       content, within max_tokens. Filters (language, files, kind, ...) apply before ranking.",
        annotations(read_only_hint = true)
    )]
    async fn search_code(&self, Parameters(args): Parameters<SearchCodeArgs>) -> Answer {
        let project = self.shared.project()?;
        let query = Query::from_args(
            SearchArgs {
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
            },
            project.root(),
        )?;
        let (detail, max_tokens) = output_controls(args.detail.as_deref(), args.max_tokens)?;
        let store = self.shared.store().await?;
        let embedder = if query.needs_embedder() {
            Some(self.shared.embedder().await?)
        } else {
            None
        };
        let response = mvs_index::search_response(project, &store, embedder, &query).await?;
        let mut answer = shaped(&response, detail, max_tokens);
        let why_empty = match response.results.is_empty() {
            true => query.why_empty(&store).await.map_err(mvs_index::IndexError::from)?,
            false => None,
        };
        if let Some(note) = why_empty {
            add_note(&mut answer, note);
        }
        Ok(answer)
    }

    #[tool(
        output_schema = crate::output::index(),
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
                    .map_err(|err| ToolError::invalid("paths", format!("paths: {err}")))?;
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
        output_schema = crate::output::search(),
        description = "Gather the code relevant to a task: searches the description and each focus area \
                       (e.g. 'error handling', 'tests') and merges the hits, best first, within max_tokens.",
        annotations(read_only_hint = true)
    )]
    async fn search_context(&self, Parameters(args): Parameters<SearchContextArgs>) -> Answer {
        let project = self.shared.project()?;
        if args.description.trim().is_empty() {
            return Err(ToolError::invalid(
                "description",
                format!(
                    "description: expected a text describing the task, received {:?}",
                    args.description
                ),
            ));
        }
        let areas = args.focus_areas.as_deref().unwrap_or_default();
        if areas.len() > MAX_FOCUS_AREAS {
            return Err(ToolError::invalid(
                "focus_areas",
                format!(
                    "focus_areas: expected at most {MAX_FOCUS_AREAS} areas, received {}",
                    areas.len()
                ),
            ));
        }
        let query = Query::from_args(
            SearchArgs {
                query: args.description.clone(),
                limit: args.limit,
                keyword_weight: self.shared.options.keyword_weight,
                ..SearchArgs::default()
            },
            project.root(),
        )?;
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
        output_schema = crate::output::search(),
        description = "Find code similar to a file, one of its functions (function_name) or a search hit \
                       (chunk_id), using the stored vectors; the source itself is left out.",
        annotations(read_only_hint = true)
    )]
    async fn search_similar(&self, Parameters(args): Parameters<SearchSimilarArgs>) -> Answer {
        let project = self.shared.project()?;
        let limit = LIMIT.check(args.limit)?;
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
            languages: checked_languages(args.language.unwrap_or_default())?,
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
        output_schema = crate::output::chunk(),
        description = "Read code by chunk_id (from search results: the definition where the file holds it now, \
                       `relocated` if it moved; the indexed text marked `stale` if it changed) or by file_path \
                       with start_line/end_line, plus context_lines around it, within max_tokens (the answer \
                       names next_start_line when lines were left out). Files the index excludes (secrets, \
                       dependencies, ignored) are refused. Use it to expand a signature or snippet hit.",
        annotations(read_only_hint = true)
    )]
    async fn get_chunk(&self, Parameters(args): Parameters<GetChunkArgs>) -> Answer {
        let project = self.shared.project()?;
        let max_tokens = token_budget(args.max_tokens)?;
        let context = CONTEXT_LINES.check(args.context_lines)?;
        match (args.chunk_id, args.file_path) {
            (Some(id), _) => self.chunk_by_id(project, &id, context, max_tokens).await,
            (None, Some(path)) => {
                let start = args.start_line.unwrap_or(1).max(1);
                let end = args.end_line.unwrap_or(start.saturating_add(99));
                if end < start {
                    return Err(ToolError::invalid(
                        "end_line",
                        format!("end_line ({end}) must not be before start_line ({start})"),
                    ));
                }
                file_lines(project, &path, (start, end), context, max_tokens)
            }
            (None, None) => Err(ToolError::invalid("chunk_id", "give chunk_id, or file_path with lines")),
        }
    }

    #[tool(
        output_schema = crate::output::status(),
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
        if let Some(summary) = value["job"]
            .as_object()
            .filter(|job| job["state"] == "running")
            .and_then(|job| job["summary"].as_str())
        {
            text = format!("{text}\nindexing: {summary}");
        }
        if let Some(shared) = &status.shared {
            text = format!(
                "{text}\nshared index {shared}: no local index yet, searches read it; indexing (index_project, or the watcher at start) copies it and indexes what differs here"
            );
        }
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
        // The skip lines name what will not be searchable, and why.
        let text = format!(
            "{} files, {} chunks; about {:.0} s at {:.0} chunks/s on {} (nothing written)\n{}",
            dry_run.survey.files,
            dry_run.survey.chunks,
            dry_run.estimated_seconds,
            dry_run.chunks_per_s,
            dry_run.device,
            dry_run.survey.skipped
        );
        Ok(structured(
            serde_json::to_value(&dry_run).unwrap_or_default(),
            text.trim_end().to_string(),
        ))
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

impl SearchServer {
    /// `get_chunk` by id. The answer is the chunk's code as the file holds it
    /// now: at its indexed lines when the stored text is still there, else at
    /// the nearest place holding that exact text (`relocated`, with
    /// `indexed_lines`); when the file no longer holds it (edited, deleted),
    /// the stored text, marked `stale` with a note. Never other code under
    /// the chunk's name.
    async fn chunk_by_id(&self, project: &Project, id: &str, context: usize, max_tokens: usize) -> Answer {
        if id.len() > MAX_ID_BYTES {
            return Err(ToolError::invalid(
                "chunk_id",
                format!(
                    "chunk_id `{}` is not an id from a search result (ids are 16 hex digits)",
                    clip(id, ECHO_BYTES)
                ),
            ));
        }
        let store = self.shared.store().await?;
        let found = mvs_index::explained(&store, store.chunk(id).await.map_err(mvs_index::IndexError::from)).await?;
        let (chunk, _) = found.ok_or_else(|| {
            ToolError::NotFound(format!(
                "no chunk {id}: ids change when a file is re-chunked; search again"
            ))
        })?;
        // A file that cannot be resolved now (deleted, say) leaves the stored text.
        let live = match project.resolve(&chunk.file_path) {
            Ok(real) => Some(read_servable(project, &real, &chunk.file_path)?),
            Err(_) => None,
        };
        // A notebook chunk's lines and bytes index its cell's source.
        let live = match chunk.cell {
            Some(cell) => live.and_then(|text| mvs_index::notebook_cell(&text, cell)),
            None => live,
        };
        let shown_path = crate::render::location(&chunk.file_path, chunk.cell);
        let metadata = chunk_metadata(&chunk);
        // The metadata is sent once, beside the lines.
        let budget = max_tokens
            .saturating_sub(crate::render::tokens(&metadata.to_string()))
            .max(100);
        let located = live.as_deref().and_then(|text| locate(&chunk, text));
        let (mut value, text) = match (live.as_deref(), located) {
            (Some(text), Some((start, end))) => {
                let lines: Vec<&str> = text.lines().collect();
                let first = start.saturating_sub(context).max(1);
                let last = end.saturating_add(context).min(lines.len()).max(first);
                let (mut value, mut rendered) = excerpt(
                    &shown_path,
                    lines.get(first - 1..last).unwrap_or_default(),
                    first,
                    budget,
                );
                value["stale"] = false.into();
                if start != chunk.start_line as usize {
                    value["relocated"] = true.into();
                    value["indexed_lines"] = json!([chunk.start_line, chunk.end_line]);
                    rendered = format!(
                        "(relocated: {} moved from lines {}-{} to {start}-{end} since indexing; its code is \
                         unchanged)\n{rendered}",
                        clip(&chunk.qualified_name, ECHO_BYTES),
                        chunk.start_line,
                        chunk.end_line
                    );
                }
                (value, rendered)
            }
            _ => {
                let why = if live.is_some() {
                    "the file changed since indexing and no longer holds this code as indexed"
                } else {
                    "the file cannot be read now (deleted or moved?)"
                };
                let lines: Vec<&str> = chunk.content.lines().collect();
                let (mut value, rendered) = excerpt(&shown_path, &lines, chunk.start_line as usize, budget);
                let note = format!(
                    "stale: {why}; this is the text stored at indexing (lines {}-{} then); search again or \
                     re-index (index_project) for the current code",
                    chunk.start_line, chunk.end_line
                );
                value["stale"] = true.into();
                value["note"] = note.clone().into();
                (value, format!("({note})\n{rendered}"))
            }
        };
        value["chunk"] = metadata;
        if let Some(cell) = chunk.cell {
            // The text says `nb.ipynb#cell3`; the fields keep the path apart.
            value["file_path"] = chunk.file_path.clone().into();
            value["cell"] = cell.into();
        }
        // A part of a split definition says where the whole of it is.
        let text = match &chunk.part {
            Some(part) => match mvs_index::explained(
                &store,
                store
                    .definition_span(&chunk.chunk_id)
                    .await
                    .map_err(mvs_index::IndexError::from),
            )
            .await?
            {
                Some(span) => {
                    value["definition"] = json!({
                        "start_line": span.start_line,
                        "end_line": span.end_line,
                        "parts": span.parts,
                    });
                    format!(
                        "(part {}/{} of {}, which spans lines {}-{}: get_chunk with file_path and those lines reads \
                         it whole)\n{text}",
                        part.index,
                        part.count,
                        clip(&chunk.qualified_name, ECHO_BYTES),
                        span.start_line,
                        span.end_line
                    )
                }
                None => text,
            },
            None => text,
        };
        Ok(structured(value, text))
    }
}

/// `get_chunk` by file: lines `start..=end` of `path` with `context` lines
/// on each side, within `max_tokens`. A start past the file's end is an
/// invalid `start_line`.
fn file_lines(
    project: &Project,
    path: &str,
    (start, end): (usize, usize),
    context: usize,
    max_tokens: usize,
) -> Answer {
    if path.len() > MAX_PATH_BYTES {
        return Err(ToolError::invalid(
            "file_path",
            format!(
                "file_path is {} bytes long, longer than any path ({MAX_PATH_BYTES})",
                path.len()
            ),
        ));
    }
    let real = project.resolve(path)?;
    let rel = project.relative(&real).unwrap_or_else(|| path.to_string());
    let text = read_servable(project, &real, &rel)?;
    let lines: Vec<&str> = text.lines().collect();
    if start > lines.len().max(1) {
        return Err(ToolError::invalid(
            "start_line",
            format!("start_line {start} is past the end of {rel} ({} lines)", lines.len()),
        ));
    }
    let first = start.saturating_sub(context).max(1);
    let last = end.saturating_add(context).min(lines.len()).max(first);
    let (value, text) = excerpt(&rel, lines.get(first - 1..last).unwrap_or_default(), first, max_tokens);
    Ok(structured(value, text))
}

/// The text of `real` (shown as `rel`), if discovery would index it: a file
/// the index would not include (ignored, a dependency, a secret such as
/// `.env` or `id_rsa`) is refused with the reason.
fn read_servable(project: &Project, real: &std::path::Path, rel: &str) -> Result<String, ToolError> {
    if let Some(reason) = mvs_index::exclusion_reason(project, real) {
        return Err(ToolError::NotFound(format!(
            "{rel} is not served: {reason}; get_chunk reads only files the index may hold"
        )));
    }
    match std::fs::read(real) {
        // Decoded as the indexer decodes it (byte-order marks, UTF-16), so
        // stored byte offsets and lines index this text.
        Ok(bytes) => Ok(mvs_index::decode_source(&bytes).text.into_owned()),
        Err(err) => Err(ToolError::NotFound(format!("cannot read {rel}: {err}"))),
    }
}

/// Lines (1-based, inclusive) where the live file `text` holds `chunk`'s
/// stored text: its indexed place when the text is still there, else the
/// occurrence nearest to it; `None` when the file no longer holds it.
fn locate(chunk: &mvs_store::ChunkRecord, text: &str) -> Option<(usize, usize)> {
    let (start, end) = (chunk.start_byte as usize, chunk.end_byte as usize);
    let span = chunk.end_line.saturating_sub(chunk.start_line) as usize;
    if text.get(start..end) == Some(chunk.content.as_str()) {
        return Some((chunk.start_line as usize, chunk.start_line as usize + span));
    }
    if chunk.content.trim().is_empty() {
        return None;
    }
    let at = text
        .match_indices(chunk.content.as_str())
        .map(|(at, _)| at)
        .min_by_key(|at| at.abs_diff(start))?;
    let first = 1 + text.as_bytes()[..at].iter().filter(|&&byte| byte == b'\n').count();
    Some((first, first + span))
}

/// A chunk's record without its content (the answer carries the lines),
/// its free-text fields cut to [`MAX_LINE_BYTES`].
fn chunk_metadata(chunk: &mvs_store::ChunkRecord) -> serde_json::Value {
    let mut value = serde_json::to_value(chunk).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        fields.remove("content");
        for key in ["name", "qualified_name", "signature", "doc"] {
            if let Some(text) = fields.get(key).and_then(|v| v.as_str()) {
                let cut = clip(text, MAX_LINE_BYTES).into_owned();
                fields.insert(key.to_string(), cut.into());
            }
        }
    }
    value
}

/// Adds `note` to a search answer: `note` in its structured content and a
/// line of its text (why the page is empty, say).
fn add_note(answer: &mut CallToolResult, note: String) {
    // A note may quote the caller's filters, of any length: the answer's
    // size must not depend on them.
    let note = clip(&note, 4 * ECHO_BYTES).into_owned();
    if let Some(rmcp::model::ContentBlock::Text(text)) = answer.content.first_mut() {
        text.text.push_str(&format!("Note: {note}\n"));
    }
    if let Some(value) = answer.structured_content.as_mut() {
        value["note"] = note.into();
    }
}
