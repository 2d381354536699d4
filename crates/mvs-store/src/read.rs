//! Reading an index outside search: chunks with their vectors, file
//! records (cached per table version), row counts and the readability
//! check.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow_array::RecordBatch;
use futures::TryStreamExt;
use lancedb::index::scalar::FullTextSearchQuery;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use serde::Serialize;

use crate::indices::{IndexCoverage, IndexPurpose};
use crate::schema::{self, ChunkRecord, FileRecord, FileStatus, chunk_col, file_col};
use crate::search::{BM25_COLUMN, DISTANCE_COLUMN};
use crate::{Result, Store, StoreError, sql};

/// Row counts of an index.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexStats {
    /// Files recorded (indexed or skipped).
    pub files: usize,
    /// Files parsed into chunks.
    pub indexed_files: usize,
    /// Chunks stored.
    pub chunks: usize,
    /// Chunks with a vector.
    pub vectors: usize,
    /// Per language: (files, chunks).
    pub languages: HashMap<String, (usize, usize)>,
    /// Skipped files per reason.
    pub skipped: HashMap<String, usize>,
    /// The search indices over the chunks and how much of the table each
    /// covers (rows outside one are scanned instead).
    pub search_indices: Vec<IndexCoverage>,
}

/// The whole of a definition, whichever of its parts was asked about
/// ([`Store::definition_span`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefinitionSpan {
    /// The definition's id: its parts' shared `definition_id`, or the
    /// chunk's own id when it is whole.
    pub definition_id: String,
    /// Path of its file, relative to the project root.
    pub file_path: String,
    /// 1-based first line of its first part.
    pub start_line: u32,
    /// 1-based last line of its last part, inclusive.
    pub end_line: u32,
    /// How many parts are stored for it (1: a whole chunk).
    pub parts: u32,
}

impl Store {
    /// The chunk with this id and its stored vector, if the index has it.
    pub async fn chunk(&self, chunk_id: &str) -> Result<Option<(ChunkRecord, Vec<f32>)>> {
        let predicate = sql::equals(chunk_col::ID, chunk_id);
        Ok(self.chunks_matching(&predicate, Some(1)).await?.into_iter().next())
    }

    /// The lines of the whole definition the chunk `chunk_id` belongs to:
    /// over all its parts when it is a part of a split definition, else the
    /// chunk's own. `None` when the index has no such chunk. Reads the
    /// definition's rows (pending vectors included: only lines are read).
    pub async fn definition_span(&self, chunk_id: &str) -> Result<Option<DefinitionSpan>> {
        let query = self
            .chunks
            .query()
            .only_if(sql::equals(chunk_col::ID, chunk_id))
            .limit(1);
        let Some(chunk) = read_rows(query, schema::chunks_from_batch).await?.into_iter().next() else {
            return Ok(None);
        };
        let Some(part) = &chunk.part else {
            return Ok(Some(DefinitionSpan {
                definition_id: chunk.chunk_id.clone(),
                file_path: chunk.file_path.clone(),
                start_line: chunk.start_line,
                end_line: chunk.end_line,
                parts: 1,
            }));
        };
        let predicate = format!(
            "{} AND {}",
            sql::equals(chunk_col::FILE_PATH, &chunk.file_path),
            sql::equals(chunk_col::DEFINITION_ID, &part.definition_id)
        );
        let parts = read_rows(self.chunks.query().only_if(predicate), schema::chunks_from_batch).await?;
        Ok(Some(DefinitionSpan {
            definition_id: part.definition_id.clone(),
            file_path: chunk.file_path.clone(),
            start_line: parts.iter().map(|p| p.start_line).min().unwrap_or(chunk.start_line),
            end_line: parts.iter().map(|p| p.end_line).max().unwrap_or(chunk.end_line),
            parts: parts.len().max(1) as u32,
        }))
    }

    /// The chunks of `file_path` (only those named `name`, by name or
    /// qualified name, when given) with their stored vectors.
    pub async fn file_chunks(&self, file_path: &str, name: Option<&str>) -> Result<Vec<(ChunkRecord, Vec<f32>)>> {
        let mut predicate = sql::equals(chunk_col::FILE_PATH, file_path);
        if let Some(name) = name {
            predicate = format!("{predicate} AND {}", sql::name_clause(name));
        }
        self.chunks_matching(&predicate, None).await
    }

    /// Every chunk of `paths`, with its stored vector.
    pub async fn chunks_of_files(&self, paths: &[&str]) -> Result<Vec<(ChunkRecord, Vec<f32>)>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        self.chunks_matching(&sql::in_list(chunk_col::FILE_PATH, paths), None)
            .await
    }

    /// Rows matching a SQL predicate, with their vectors.
    async fn chunks_matching(&self, predicate: &str, limit: Option<usize>) -> Result<Vec<(ChunkRecord, Vec<f32>)>> {
        // A pending row's vector is a placeholder: never hand it out.
        let predicate = sql::vector_ready(Some(predicate));
        let query = self.chunks.query().only_if(predicate);
        let query = match limit {
            Some(limit) => query.limit(limit),
            None => query,
        };
        read_rows(query, |batch| {
            Ok(schema::chunks_from_batch(batch)?
                .into_iter()
                .zip(schema::vectors_from_batch(batch)?)
                .collect())
        })
        .await
    }

    /// Every file record.
    pub async fn file_records(&self) -> Result<Vec<FileRecord>> {
        read_rows(self.files.query(), schema::files_from_batch).await
    }

    /// The file records of `paths` (those the index has).
    ///
    /// Searches ask this for every answer (stale flags), so the records are
    /// kept in memory per files-table version: a version check instead of
    /// a query while nothing was indexed.
    pub async fn file_records_for(&self, paths: &[&str]) -> Result<Vec<FileRecord>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let version = self.files.version().await?;
        let cached = self.file_cache.lock().ok().and_then(|cache| {
            cache
                .as_ref()
                .filter(|(v, _)| *v == version)
                .map(|(_, map)| Arc::clone(map))
        });
        let records = match cached {
            Some(records) => records,
            None => {
                let records: Arc<HashMap<String, FileRecord>> = Arc::new(
                    self.file_records()
                        .await?
                        .into_iter()
                        .map(|record| (record.path.clone(), record))
                        .collect(),
                );
                if let Ok(mut cache) = self.file_cache.lock() {
                    *cache = Some((version, Arc::clone(&records)));
                }
                records
            }
        };
        Ok(paths.iter().filter_map(|path| records.get(*path).cloned()).collect())
    }

    /// Row counts, per language and per skip reason.
    pub async fn stats(&self) -> Result<IndexStats> {
        let mut stats = IndexStats {
            chunks: self.chunks.count_rows(None).await?,
            search_indices: self.index_coverage().await?,
            ..IndexStats::default()
        };
        stats.vectors = if self.vectors_pending() {
            self.chunks.count_rows(Some(sql::vector_ready(None))).await?
        } else {
            stats.chunks
        };
        for file in self.file_records().await? {
            stats.files += 1;
            match file.status {
                FileStatus::Indexed => {
                    stats.indexed_files += 1;
                    let language = file.language.unwrap_or_else(|| "unknown".into());
                    let entry = stats.languages.entry(language).or_default();
                    entry.0 += 1;
                    entry.1 += file.chunks as usize;
                }
                FileStatus::Skipped => {
                    let reason = file.reason.unwrap_or_else(|| "unknown".into());
                    *stats.skipped.entry(reason).or_default() += 1;
                }
            }
        }
        Ok(stats)
    }

    /// Files recorded as skipped, per reason (the name recorded, `unknown`
    /// where none was): how many, and the first `shown` paths in path
    /// order. Reads the files table once; holds at most `shown` paths per
    /// reason.
    pub async fn skipped_files(&self, shown: usize) -> Result<BTreeMap<String, (usize, Vec<String>)>> {
        let mut skipped: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
        for file in self.file_records().await? {
            if file.status != FileStatus::Skipped {
                continue;
            }
            let (count, first) = skipped
                .entry(file.reason.unwrap_or_else(|| "unknown".into()))
                .or_default();
            *count += 1;
            first.insert(file.path);
            if first.len() > shown {
                first.pop_last();
            }
        }
        Ok(skipped
            .into_iter()
            .map(|(reason, (count, first))| (reason, (count, first.into_iter().collect())))
            .collect())
    }

    /// Proves the index readable, cheaply: reads one small column of every
    /// row of both tables (so every data file's footer and pages) and asks
    /// each search index for one result. Cost: about 4 bytes per row plus
    /// one query per search index. Errors: [`StoreError::Damaged`] (a
    /// truncated, missing or corrupt file) naming the index, what failed and
    /// the fix.
    pub async fn verify_readable(&self) -> Result<()> {
        self.read_everything().await.map_err(|err| match err {
            StoreError::Lance(source) => StoreError::Damaged {
                dir: self.dir.clone(),
                detail: format!("a table or search index cannot be read ({})", root_cause(&source)),
            },
            other => other,
        })
    }

    /// `err`, from reading this index, explained: a storage failure that
    /// [`Store::verify_readable`] reproduces becomes [`StoreError::Damaged`]
    /// (which says how to repair it); anything else is returned as is.
    pub async fn diagnose(&self, err: StoreError) -> StoreError {
        if let Some((shared, _)) = &self.shared {
            // A remote generation is not repaired here: name the store.
            return match err {
                StoreError::Lance(err) => shared.failed("read the published index", err),
                other => other,
            };
        }
        match err {
            StoreError::Lance(_) => match self.verify_readable().await {
                Err(damaged @ StoreError::Damaged { .. }) => damaged,
                _ => err,
            },
            other => other,
        }
    }

    async fn read_everything(&self) -> Result<()> {
        for (table, column) in [(&self.chunks, chunk_col::START_LINE), (&self.files, file_col::SIZE)] {
            let select = Select::Columns(vec![column.to_string()]);
            let mut rows = table.query().select(select).execute().await?;
            while rows.try_next().await?.is_some() {}
        }
        for index in self.index_coverage().await? {
            let probe = |score: &str| Select::Columns(vec![chunk_col::ID.to_string(), score.to_string()]);
            let rows = match index.purpose {
                IndexPurpose::Keyword => {
                    let query = FullTextSearchQuery::new("index".into())
                        .with_column(chunk_col::SEARCH_TEXT.to_string())
                        .map_err(|err| StoreError::Invalid(format!("bad keyword probe: {err}")))?;
                    let query = self.chunks.query().full_text_search(query);
                    query.select(probe(BM25_COLUMN)).limit(1).execute().await?
                }
                IndexPurpose::Ann(_) => {
                    let mut unit = vec![0.0f32; self.meta.dimension];
                    unit[0] = 1.0;
                    let query = self.chunks.query().nearest_to(unit)?;
                    query.select(probe(DISTANCE_COLUMN)).limit(1).execute().await?
                }
            };
            let _: Vec<RecordBatch> = rows.try_collect().await?;
        }
        Ok(())
    }
}

/// The innermost cause in a LanceDB error's message (its chain repeats
/// every layer and the source location of the panic-free I/O error).
fn root_cause(err: &lancedb::Error) -> String {
    let text = err.to_string();
    let text = text.split(", /rustc").next().unwrap_or(&text);
    text.rsplit(": ").next().unwrap_or(text).trim().to_string()
}

/// Runs a query and converts every result batch with `read`.
pub(crate) async fn read_rows<T>(
    query: impl ExecutableQuery,
    read: impl Fn(&RecordBatch) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let batches: Vec<RecordBatch> = query.execute().await?.try_collect().await?;
    let mut rows = Vec::new();
    for batch in &batches {
        rows.extend(read(batch)?);
    }
    Ok(rows)
}
