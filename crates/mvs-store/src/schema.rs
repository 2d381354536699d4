//! The index's typed schema: column names, Arrow types and row conversions
//! live here and nowhere else.

use std::sync::Arc;

use arrow_array::builder::{
    FixedSizeListBuilder, Float32Builder, Int64Builder, StringBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Version of the on-disk layout; bump on any column change and add the
/// step from the previous version to [`crate::Store::open`]'s migrations.
///
/// * 1: the first layout.
/// * 2: chunks gain `embedding_hash` and `model_id` (migrated in place:
///   `model_id` from `meta.json`, `embedding_hash` null = unknown).
/// * 3: chunks gain `definition_id`, `part_index` and `part_count`: the
///   parts of a definition split into several chunks (migrated in place as
///   null: whole chunks; the next run re-chunks every file anyway, the
///   chunker version having changed with them).
/// * 4: chunks gain `cell`: the notebook cell a chunk's lines index
///   (migrated in place as null: not in a notebook, which holds for every
///   row written before; the chunker version changed with it, so notebooks
///   are chunked anew).
pub const SCHEMA_VERSION: u32 = 4;

/// Name of the chunks table.
pub const CHUNKS_TABLE: &str = "chunks";
/// Name of the files table.
pub const FILES_TABLE: &str = "files";

/// Name of a shared index's table naming its published generation (one
/// row, replaced by one commit).
pub const PUBLISHED_TABLE: &str = "published";
/// Name of a shared index's table that exists while a publisher holds the
/// writer lock (one row: the holder and its heartbeat).
pub const WRITER_TABLE: &str = "writer";
/// The one column of the shared index's `published` and `writer` tables:
/// the JSON of a typed record ([`crate::Published`], the writer's claim).
pub const RECORD_COL: &str = "record";

/// Schema of the shared index's one-row tables ([`PUBLISHED_TABLE`],
/// [`WRITER_TABLE`]).
pub fn record_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![utf8(RECORD_COL, false)]))
}

/// One row holding `record` serialised as JSON.
pub fn record_batch<T: Serialize>(record: &T) -> Result<RecordBatch, StoreError> {
    let json = serde_json::to_string(record).map_err(|err| StoreError::Invalid(format!("record: {err}")))?;
    Ok(RecordBatch::try_new(
        record_schema(),
        vec![strings(std::iter::once(json.as_str()))],
    )?)
}

/// The record of the first row of `batches`, if any.
pub fn record_from_batches<T: for<'de> Deserialize<'de>>(batches: &[RecordBatch]) -> Result<Option<T>, StoreError> {
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let Some(json) = Columns(batch).string(RECORD_COL, 0)? else {
        return Ok(None);
    };
    serde_json::from_str(&json)
        .map(Some)
        .map_err(|err| StoreError::Invalid(format!("unreadable {RECORD_COL} row: {err}")))
}

/// Columns of the chunks table.
pub mod chunk_col {
    /// Stable chunk id (primary key).
    pub const ID: &str = "chunk_id";
    /// Path relative to the project root, `/`-separated.
    pub const FILE_PATH: &str = "file_path";
    /// Language name.
    pub const LANGUAGE: &str = "language";
    /// Chunk kind (`function`, `method`, ...).
    pub const KIND: &str = "kind";
    /// Definition name.
    pub const NAME: &str = "name";
    /// Scope path.
    pub const QUALIFIED_NAME: &str = "qualified_name";
    /// Declaration text.
    pub const SIGNATURE: &str = "signature";
    /// Doc summary.
    pub const DOC: &str = "doc";
    /// Enclosing chunk id.
    pub const PARENT_ID: &str = "parent_id";
    /// 1-based first line.
    pub const START_LINE: &str = "start_line";
    /// 1-based last line, inclusive.
    pub const END_LINE: &str = "end_line";
    /// First byte.
    pub const START_BYTE: &str = "start_byte";
    /// One past the last byte.
    pub const END_BYTE: &str = "end_byte";
    /// Raw source text.
    pub const CONTENT: &str = "content";
    /// blake3 of the content.
    pub const CONTENT_HASH: &str = "content_hash";
    /// What the keyword lane indexes: path, qualified name, signature, content.
    pub const SEARCH_TEXT: &str = "search_text";
    /// The embedding.
    pub const VECTOR: &str = "vector";
    /// blake3 of the exact text the model embedded (context header
    /// included); null in rows migrated from schema 1.
    pub const EMBEDDING_HASH: &str = "embedding_hash";
    /// Id of the model that computed `vector`; null while the vector is
    /// pending (two-phase indexing wrote the chunk before embedding it).
    pub const MODEL_ID: &str = "model_id";
    /// For a part of a split definition, the whole definition's id (shared
    /// by its parts); null for a whole chunk.
    pub const DEFINITION_ID: &str = "definition_id";
    /// 1-based position of a part in its definition; null for a whole chunk.
    pub const PART_INDEX: &str = "part_index";
    /// Number of parts of the definition; null for a whole chunk.
    pub const PART_COUNT: &str = "part_count";
    /// In a notebook, the 1-based cell whose source the chunk's lines and
    /// bytes index; null in every other file.
    pub const CELL: &str = "cell";
}

/// Columns of the files table.
pub mod file_col {
    /// Path relative to the project root (primary key).
    pub const PATH: &str = "path";
    /// Size in bytes when indexed.
    pub const SIZE: &str = "size";
    /// Modification time (ns since the epoch) when indexed.
    pub const MTIME_NS: &str = "mtime_ns";
    /// blake3 of the file.
    pub const CONTENT_HASH: &str = "content_hash";
    /// Language, when parsed.
    pub const LANGUAGE: &str = "language";
    /// `indexed` or `skipped`.
    pub const STATUS: &str = "status";
    /// Why it was skipped.
    pub const REASON: &str = "reason";
    /// Number of chunks.
    pub const CHUNKS: &str = "chunks";
    /// When it was indexed (ms since the epoch).
    pub const INDEXED_AT_MS: &str = "indexed_at_ms";
}

/// One chunk as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkRecord {
    /// Stable chunk id.
    pub chunk_id: String,
    /// Path relative to the project root.
    pub file_path: String,
    /// Language name.
    pub language: String,
    /// Chunk kind.
    pub kind: String,
    /// Definition name.
    pub name: String,
    /// Scope path.
    pub qualified_name: String,
    /// Declaration text.
    pub signature: String,
    /// Doc summary.
    pub doc: Option<String>,
    /// Enclosing chunk id.
    pub parent_id: Option<String>,
    /// 1-based first line.
    pub start_line: u32,
    /// 1-based last line, inclusive.
    pub end_line: u32,
    /// First byte.
    pub start_byte: u64,
    /// One past the last byte.
    pub end_byte: u64,
    /// Raw source text.
    pub content: String,
    /// blake3 of the content.
    pub content_hash: String,
    /// blake3 of the text the model embedded (`None`: unknown, a row
    /// migrated from schema 1). Not part of search output.
    #[serde(default, skip_serializing)]
    pub embedding_hash: Option<String>,
    /// Where the chunk sits in a definition split into parts (`None`: the
    /// chunk is a whole definition, header or window; not serialised then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<ChunkPart>,
    /// In a notebook, the 1-based cell holding the chunk: its lines and
    /// bytes index that cell's source, not the file (`None`, not
    /// serialised: any other file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<u32>,
}

/// One part of a definition too long for one chunk. Parts share the
/// definition's name, qualified name, kind and signature, and cover its
/// lines contiguously; search returns at most one part per definition, and
/// [`crate::Store::definition_span`] gives the whole definition's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkPart {
    /// 1-based position among the parts.
    pub index: u32,
    /// How many parts the definition has.
    pub count: u32,
    /// The whole definition's stable id, shared by its parts (no chunk has
    /// it as its own id).
    pub definition_id: String,
}

impl ChunkRecord {
    /// The text the keyword lane indexes.
    fn search_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.file_path, self.qualified_name, self.signature, self.content
        )
    }
}

/// Whether a file was parsed into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Parsed; its chunks are stored.
    Indexed,
    /// Not parsed, see the reason.
    Skipped,
}

impl FileStatus {
    fn as_str(self) -> &'static str {
        match self {
            FileStatus::Indexed => "indexed",
            FileStatus::Skipped => "skipped",
        }
    }

    fn parse(raw: &str) -> Self {
        if raw == "indexed" {
            FileStatus::Indexed
        } else {
            FileStatus::Skipped
        }
    }
}

/// One file as recorded by the last indexing run that saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Path relative to the project root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// blake3 of the content.
    pub content_hash: String,
    /// Language, when parsed.
    pub language: Option<String>,
    /// Indexed or skipped.
    pub status: FileStatus,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// Number of chunks stored for it.
    pub chunks: u32,
    /// When it was indexed, ms since the epoch.
    pub indexed_at_ms: i64,
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

/// Schema of the chunks table for vectors of `dimension`. Columns added by a
/// schema version come last, where the in-place migration puts them.
pub fn chunks_schema(dimension: usize) -> SchemaRef {
    use chunk_col::*;
    Arc::new(Schema::new(vec![
        utf8(ID, false),
        utf8(FILE_PATH, false),
        utf8(LANGUAGE, false),
        utf8(KIND, false),
        utf8(NAME, false),
        utf8(QUALIFIED_NAME, false),
        utf8(SIGNATURE, false),
        utf8(DOC, true),
        utf8(PARENT_ID, true),
        Field::new(START_LINE, DataType::UInt32, false),
        Field::new(END_LINE, DataType::UInt32, false),
        Field::new(START_BYTE, DataType::UInt64, false),
        Field::new(END_BYTE, DataType::UInt64, false),
        utf8(CONTENT, false),
        utf8(CONTENT_HASH, false),
        utf8(SEARCH_TEXT, false),
        Field::new(
            VECTOR,
            DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, true)), dimension as i32),
            false,
        ),
        utf8(EMBEDDING_HASH, true),
        utf8(MODEL_ID, true),
        utf8(DEFINITION_ID, true),
        Field::new(PART_INDEX, DataType::UInt32, true),
        Field::new(PART_COUNT, DataType::UInt32, true),
        Field::new(CELL, DataType::UInt32, true),
    ]))
}

/// Columns a migration from `version` to `version + 1` adds to the chunks
/// table, as SQL expressions filling existing rows.
pub(crate) fn chunk_columns_added_after(version: u32, model_id: &str) -> Option<Vec<(String, String)>> {
    match version {
        1 => Some(vec![
            (chunk_col::EMBEDDING_HASH.into(), "CAST(NULL AS STRING)".into()),
            (chunk_col::MODEL_ID.into(), crate::sql::quote(model_id)),
        ]),
        2 => Some(vec![
            (chunk_col::DEFINITION_ID.into(), "CAST(NULL AS STRING)".into()),
            (chunk_col::PART_INDEX.into(), "CAST(NULL AS INT UNSIGNED)".into()),
            (chunk_col::PART_COUNT.into(), "CAST(NULL AS INT UNSIGNED)".into()),
        ]),
        3 => Some(vec![(chunk_col::CELL.into(), "CAST(NULL AS INT UNSIGNED)".into())]),
        _ => None,
    }
}

/// Schema of the files table.
pub fn files_schema() -> SchemaRef {
    use file_col::*;
    Arc::new(Schema::new(vec![
        utf8(PATH, false),
        Field::new(SIZE, DataType::UInt64, false),
        Field::new(MTIME_NS, DataType::Int64, false),
        utf8(CONTENT_HASH, false),
        utf8(LANGUAGE, true),
        utf8(STATUS, false),
        utf8(REASON, true),
        Field::new(CHUNKS, DataType::UInt32, false),
        Field::new(INDEXED_AT_MS, DataType::Int64, false),
    ]))
}

/// Columns of a whole chunk row as search returns it: everything but the
/// vector and the keyword text.
pub fn chunk_result_columns() -> Vec<String> {
    use chunk_col::*;
    [
        ID,
        FILE_PATH,
        LANGUAGE,
        KIND,
        NAME,
        QUALIFIED_NAME,
        SIGNATURE,
        DOC,
        PARENT_ID,
        START_LINE,
        END_LINE,
        START_BYTE,
        END_BYTE,
        CONTENT,
        CONTENT_HASH,
        EMBEDDING_HASH,
        DEFINITION_ID,
        PART_INDEX,
        PART_COUNT,
        CELL,
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}

/// Columns a search lane reads for each candidate: what ranking looks at
/// (id, path, kind, names, part) plus the lane's score column, if any. The rest of
/// a row, its code above all, is read by row id for the page returned only:
/// a lane's 150+ candidates with their code cost 7.6 MB of reads per search
/// on object storage (docs/benchmarks.md).
pub fn chunk_rank_columns(score_column: Option<&str>) -> Vec<String> {
    use chunk_col::*;
    [
        ID,
        FILE_PATH,
        KIND,
        NAME,
        QUALIFIED_NAME,
        DEFINITION_ID,
        PART_INDEX,
        PART_COUNT,
    ]
    .into_iter()
    .chain(score_column)
    .map(str::to_string)
    .collect()
}

/// Reads candidate rows of [`chunk_rank_columns`] with their `_rowid`: the
/// fields of other columns stay empty.
pub fn chunk_candidates_from_batch(batch: &RecordBatch) -> Result<Vec<(ChunkRecord, u64)>, StoreError> {
    let columns = Columns(batch);
    (0..batch.num_rows())
        .map(|row| Ok((columns.candidate(row)?, columns.u64(ROW_ID_COLUMN, row)?)))
        .collect()
}

/// The row id column LanceDB adds on request (`with_row_id`).
pub const ROW_ID_COLUMN: &str = "_rowid";

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    let mut builder = StringBuilder::new();
    values.for_each(|v| builder.append_value(v));
    Arc::new(builder.finish())
}

fn optional_strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    let mut builder = StringBuilder::new();
    values.for_each(|v| builder.append_option(v));
    Arc::new(builder.finish())
}

/// Builds a chunks batch of vectors computed by `model_id`; `vectors[i]`
/// belongs to `chunks[i]`.
pub fn chunks_batch(
    chunks: &[ChunkRecord],
    vectors: &[Option<Vec<f32>>],
    model_id: &str,
    dimension: usize,
) -> Result<RecordBatch, StoreError> {
    if chunks.len() != vectors.len() {
        return Err(StoreError::Invalid(format!(
            "{} chunks but {} vectors",
            chunks.len(),
            vectors.len()
        )));
    }
    let mut vector_builder = FixedSizeListBuilder::new(Float32Builder::new(), dimension as i32)
        .with_field(Arc::new(Field::new("item", DataType::Float32, true)));
    // A pending vector is stored as a fixed unit vector (the column is not
    // nullable and cosine needs a norm) with a null model id, which the
    // vector lane filters out.
    let mut placeholder = vec![0f32; dimension];
    placeholder[0] = 1.0;
    for vector in vectors {
        let vector = vector.as_deref().unwrap_or(&placeholder);
        if vector.len() != dimension {
            return Err(StoreError::Invalid(format!(
                "vector of dimension {} in an index of dimension {dimension}",
                vector.len()
            )));
        }
        vector_builder.values().append_slice(vector);
        vector_builder.append(true);
    }
    let u32s = |f: fn(&ChunkRecord) -> u32| -> ArrayRef {
        let mut b = UInt32Builder::new();
        chunks.iter().for_each(|c| b.append_value(f(c)));
        Arc::new(b.finish())
    };
    let u64s = |f: fn(&ChunkRecord) -> u64| -> ArrayRef {
        let mut b = UInt64Builder::new();
        chunks.iter().for_each(|c| b.append_value(f(c)));
        Arc::new(b.finish())
    };
    let part_u32s = |f: fn(&ChunkPart) -> u32| -> ArrayRef {
        let mut b = UInt32Builder::new();
        chunks.iter().for_each(|c| b.append_option(c.part.as_ref().map(f)));
        Arc::new(b.finish())
    };
    let search_texts: Vec<String> = chunks.iter().map(ChunkRecord::search_text).collect();
    let columns: Vec<ArrayRef> = vec![
        strings(chunks.iter().map(|c| c.chunk_id.as_str())),
        strings(chunks.iter().map(|c| c.file_path.as_str())),
        strings(chunks.iter().map(|c| c.language.as_str())),
        strings(chunks.iter().map(|c| c.kind.as_str())),
        strings(chunks.iter().map(|c| c.name.as_str())),
        strings(chunks.iter().map(|c| c.qualified_name.as_str())),
        strings(chunks.iter().map(|c| c.signature.as_str())),
        optional_strings(chunks.iter().map(|c| c.doc.as_deref())),
        optional_strings(chunks.iter().map(|c| c.parent_id.as_deref())),
        u32s(|c| c.start_line),
        u32s(|c| c.end_line),
        u64s(|c| c.start_byte),
        u64s(|c| c.end_byte),
        strings(chunks.iter().map(|c| c.content.as_str())),
        strings(chunks.iter().map(|c| c.content_hash.as_str())),
        strings(search_texts.iter().map(String::as_str)),
        Arc::new(vector_builder.finish()),
        optional_strings(chunks.iter().map(|c| c.embedding_hash.as_deref())),
        optional_strings(vectors.iter().map(|v| v.as_ref().map(|_| model_id))),
        optional_strings(chunks.iter().map(|c| c.part.as_ref().map(|p| p.definition_id.as_str()))),
        part_u32s(|p| p.index),
        part_u32s(|p| p.count),
        {
            let mut b = UInt32Builder::new();
            chunks.iter().for_each(|c| b.append_option(c.cell));
            Arc::new(b.finish())
        },
    ];
    Ok(RecordBatch::try_new(chunks_schema(dimension), columns)?)
}

/// Builds a files batch.
pub fn files_batch(files: &[FileRecord]) -> Result<RecordBatch, StoreError> {
    let mut sizes = UInt64Builder::new();
    let mut mtimes = Int64Builder::new();
    let mut chunk_counts = UInt32Builder::new();
    let mut indexed = Int64Builder::new();
    for file in files {
        sizes.append_value(file.size);
        mtimes.append_value(file.mtime_ns);
        chunk_counts.append_value(file.chunks);
        indexed.append_value(file.indexed_at_ms);
    }
    let columns: Vec<ArrayRef> = vec![
        strings(files.iter().map(|f| f.path.as_str())),
        Arc::new(sizes.finish()),
        Arc::new(mtimes.finish()),
        strings(files.iter().map(|f| f.content_hash.as_str())),
        optional_strings(files.iter().map(|f| f.language.as_deref())),
        strings(files.iter().map(|f| f.status.as_str())),
        optional_strings(files.iter().map(|f| f.reason.as_deref())),
        Arc::new(chunk_counts.finish()),
        Arc::new(indexed.finish()),
    ];
    Ok(RecordBatch::try_new(files_schema(), columns)?)
}

/// Typed column access on a batch read back from a table.
struct Columns<'a>(&'a RecordBatch);

impl<'a> Columns<'a> {
    fn column(&self, name: &str) -> Result<&'a ArrayRef, StoreError> {
        self.0
            .column_by_name(name)
            .ok_or_else(|| StoreError::Invalid(format!("column {name} missing from the index; re-index with --force")))
    }

    fn string(&self, name: &str, row: usize) -> Result<Option<String>, StoreError> {
        let column = self.column(name)?.as_string::<i32>();
        Ok((!column.is_null(row)).then(|| column.value(row).to_string()))
    }

    fn required_string(&self, name: &str, row: usize) -> Result<String, StoreError> {
        Ok(self.string(name, row)?.unwrap_or_default())
    }

    fn u32(&self, name: &str, row: usize) -> Result<u32, StoreError> {
        Ok(self.column(name)?.as_primitive::<UInt32Type>().value(row))
    }

    fn optional_u32(&self, name: &str, row: usize) -> Result<Option<u32>, StoreError> {
        let column = self.column(name)?.as_primitive::<UInt32Type>();
        Ok((!column.is_null(row)).then(|| column.value(row)))
    }

    /// The fields of a row in [`chunk_rank_columns`]; the others empty.
    fn candidate(&self, row: usize) -> Result<ChunkRecord, StoreError> {
        use chunk_col::*;
        Ok(ChunkRecord {
            chunk_id: self.required_string(ID, row)?,
            file_path: self.required_string(FILE_PATH, row)?,
            kind: self.required_string(KIND, row)?,
            name: self.required_string(NAME, row)?,
            qualified_name: self.required_string(QUALIFIED_NAME, row)?,
            part: self.part(row)?,
            ..ChunkRecord::default()
        })
    }

    /// The part columns of a row, when it is a part of a split definition.
    fn part(&self, row: usize) -> Result<Option<ChunkPart>, StoreError> {
        use chunk_col::*;
        let Some(definition_id) = self.string(DEFINITION_ID, row)? else {
            return Ok(None);
        };
        Ok(Some(ChunkPart {
            index: self.optional_u32(PART_INDEX, row)?.unwrap_or(1),
            count: self.optional_u32(PART_COUNT, row)?.unwrap_or(1),
            definition_id,
        }))
    }

    fn u64(&self, name: &str, row: usize) -> Result<u64, StoreError> {
        Ok(self.column(name)?.as_primitive::<UInt64Type>().value(row))
    }

    fn i64(&self, name: &str, row: usize) -> Result<i64, StoreError> {
        Ok(self.column(name)?.as_primitive::<Int64Type>().value(row))
    }

    /// A float column that LanceDB adds (`_distance`, `_score`).
    pub fn f32(&self, name: &str, row: usize) -> Option<f32> {
        let column = self.0.column_by_name(name)?;
        column
            .as_primitive_opt::<arrow_array::types::Float32Type>()
            .map(|c| c.value(row))
    }
}

/// Reads chunk rows (without vectors) from a result batch.
pub fn chunks_from_batch(batch: &RecordBatch) -> Result<Vec<ChunkRecord>, StoreError> {
    use chunk_col::*;
    let columns = Columns(batch);
    (0..batch.num_rows())
        .map(|row| {
            Ok(ChunkRecord {
                language: columns.required_string(LANGUAGE, row)?,
                signature: columns.required_string(SIGNATURE, row)?,
                doc: columns.string(DOC, row)?,
                parent_id: columns.string(PARENT_ID, row)?,
                start_line: columns.u32(START_LINE, row)?,
                end_line: columns.u32(END_LINE, row)?,
                start_byte: columns.u64(START_BYTE, row)?,
                end_byte: columns.u64(END_BYTE, row)?,
                content: columns.required_string(CONTENT, row)?,
                content_hash: columns.required_string(CONTENT_HASH, row)?,
                embedding_hash: columns.string(EMBEDDING_HASH, row)?,
                cell: columns.optional_u32(CELL, row)?,
                ..columns.candidate(row)?
            })
        })
        .collect()
}

/// Reads a float column LanceDB appends to query results (`_distance`, `_score`).
pub fn score_column(batch: &RecordBatch, name: &str) -> Vec<Option<f32>> {
    let columns = Columns(batch);
    (0..batch.num_rows()).map(|row| columns.f32(name, row)).collect()
}

/// Reads the `vector` column of chunk rows.
pub fn vectors_from_batch(batch: &RecordBatch) -> Result<Vec<Vec<f32>>, StoreError> {
    let column = batch
        .column_by_name(chunk_col::VECTOR)
        .ok_or_else(|| StoreError::Invalid("result rows carry no vector column".into()))?;
    let list = column
        .as_fixed_size_list_opt()
        .ok_or_else(|| StoreError::Invalid("the vector column is not a fixed-size list".into()))?;
    let values = list
        .values()
        .as_primitive_opt::<arrow_array::types::Float32Type>()
        .ok_or_else(|| StoreError::Invalid("vectors are not f32".into()))?;
    let dimension = list.value_length() as usize;
    Ok((0..list.len())
        .map(|row| values.values()[row * dimension..(row + 1) * dimension].to_vec())
        .collect())
}

/// Reads the `file_path` column of chunk rows.
pub fn file_paths_from_batch(batch: &RecordBatch) -> Vec<String> {
    let columns = Columns(batch);
    (0..batch.num_rows())
        .filter_map(|row| columns.string(chunk_col::FILE_PATH, row).ok().flatten())
        .collect()
}

/// Reads file rows from a batch.
pub fn files_from_batch(batch: &RecordBatch) -> Result<Vec<FileRecord>, StoreError> {
    use file_col::*;
    let columns = Columns(batch);
    (0..batch.num_rows())
        .map(|row| {
            Ok(FileRecord {
                path: columns.required_string(PATH, row)?,
                size: columns.u64(SIZE, row)?,
                mtime_ns: columns.i64(MTIME_NS, row)?,
                content_hash: columns.required_string(CONTENT_HASH, row)?,
                language: columns.string(LANGUAGE, row)?,
                status: FileStatus::parse(&columns.required_string(STATUS, row)?),
                reason: columns.string(REASON, row)?,
                chunks: columns.u32(CHUNKS, row)?,
                indexed_at_ms: columns.i64(INDEXED_AT_MS, row)?,
            })
        })
        .collect()
}
