//! Opening an index: the directory layout, `meta.json` (what the index was
//! built with, which generation of tables is live, and the checks against
//! it), the LanceDB connection, the in-place schema migration and rebuilds
//! beside the live index.
//!
//! Layout of an index directory: `meta.json` names the live generation, a
//! directory of LanceDB tables (`lance` for an index created in place,
//! `lance-<ms>` for a rebuild). A rebuild writes a new generation that no
//! reader sees until [`Store::publish`] rewrites `meta.json` (one atomic
//! rename), so searches answer from the old index until the new one is
//! complete, and a rebuild that fails or is cancelled leaves it untouched.

use std::path::Path;
use std::sync::Arc;

use lancedb::table::NewColumnTransform;
use lancedb::{Connection, Table};
use serde::{Deserialize, Serialize};

use crate::schema::{self, SCHEMA_VERSION};
use crate::shared::{Published, SharedIndex, check_readable, copy_tables};
use crate::{CentroidCache, FileCache, Result, Store, StoreError};

/// What an index was built with (`meta.json` beside the tables).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// [`SCHEMA_VERSION`] at creation.
    pub schema_version: u32,
    /// Embedding model id.
    pub model_id: String,
    /// Vector dimension.
    pub dimension: usize,
    /// Version of the tool that created the index.
    pub tool_version: String,
    /// Version of the chunking rules the stored chunks were made with (0:
    /// unknown); the indexer re-chunks every file when it differs.
    #[serde(default)]
    pub chunker_version: u32,
    /// The live generation: the directory of the tables, relative to the
    /// index directory.
    #[serde(default = "default_tables")]
    pub tables: String,
}

fn default_tables() -> String {
    TABLES_DIR.to_string()
}

/// How long [`Store::is_current`] waits for a shared index's answer.
const SHARED_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The index's metadata file in its directory.
pub(crate) const META_FILE: &str = "meta.json";
/// The directory of the LanceDB tables of an index created in place; a
/// rebuild's generation adds `-<ms>`.
pub(crate) const TABLES_DIR: &str = "lance";

impl Store {
    /// Opens the index in `dir` for writing, creating it for
    /// `model_id`/`dimension` when absent. An index built with another model
    /// or schema is refused with the command that rebuilds it. Only the
    /// writer (holding the writer lock) may call this.
    pub async fn open(dir: &Path, model_id: &str, dimension: usize) -> Result<Self> {
        let existing = read_meta(dir)?;
        match &existing {
            Some(meta) => {
                check_not_newer(dir, meta)?;
                check_model(dir, meta, model_id, dimension)?;
            }
            None => std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?,
        }
        let tables = existing
            .as_ref()
            .map_or(TABLES_DIR, |meta| meta.tables.as_str())
            .to_string();
        remove_stale_generations(dir, &tables)?;
        let db = connect(dir, &tables, CacheBudget::Writer).await?;
        let chunks = open_or_create(dir, &db, schema::CHUNKS_TABLE, schema::chunks_schema(dimension)).await?;
        let files = open_or_create(dir, &db, schema::FILES_TABLE, schema::files_schema()).await?;
        let meta = match existing {
            Some(mut meta) => {
                migrate(dir, &mut meta, &chunks).await?;
                meta
            }
            None => {
                // meta.json is what makes readers treat the directory as an
                // index, so it appears only once the tables exist.
                let meta = new_meta(model_id, dimension, tables);
                write_meta(dir, &meta)?;
                meta
            }
        };
        Ok(Self::on_tables(dir, meta, db, chunks, files, false))
    }

    /// Starts a rebuild of the index in `dir` for `model_id`/`dimension`:
    /// empty tables in a new generation beside the live index, which
    /// readers keep using until [`Store::publish`]. Without a live index
    /// this is [`Store::open`] (there is nothing to keep answering from).
    /// Only the writer (holding the writer lock) may call this; an
    /// unpublished generation left by a failed rebuild is deleted by the
    /// writer's next open.
    pub async fn rebuild(dir: &Path, model_id: &str, dimension: usize) -> Result<Self> {
        let Some(live) = live_meta_or_start_over(dir)? else {
            return Self::open(dir, model_id, dimension).await;
        };
        remove_stale_generations(dir, &live.tables)?;
        let tables = format!("{TABLES_DIR}-{}", now_ms());
        let db = connect(dir, &tables, CacheBudget::Writer).await?;
        let chunks = open_or_create(dir, &db, schema::CHUNKS_TABLE, schema::chunks_schema(dimension)).await?;
        let files = open_or_create(dir, &db, schema::FILES_TABLE, schema::files_schema()).await?;
        let meta = new_meta(model_id, dimension, tables);
        Ok(Self::on_tables(dir, meta, db, chunks, files, true))
    }

    /// Starts the local index in `dir` as a copy of the shared index's
    /// `published` generation: an unpublished rebuild (see
    /// [`Store::rebuild`]) whose tables are the shared ones, so the run that
    /// follows processes only the files that differ from the shared
    /// snapshot, then publishes it locally. Only the writer (holding the
    /// writer lock) may call this. Errors: [`StoreError::Shared`] when the
    /// download fails; the live local index, if any, is untouched.
    pub async fn seed(dir: &Path, shared: &SharedIndex, published: &Published) -> Result<Self> {
        check_readable(shared, published)?;
        let live = live_meta_or_start_over(dir)?;
        remove_stale_generations(dir, live.as_ref().map_or("", |meta| meta.tables.as_str()))?;
        let tables = format!("{TABLES_DIR}-{}", now_ms());
        let copied = async {
            let (_source, from_chunks, from_files) = shared
                .open_generation(&published.generation, CacheBudget::Writer)
                .await?;
            let db = connect(dir, &tables, CacheBudget::Writer).await?;
            let (chunks, files) = copy_tables((&from_chunks, &from_files), &db)
                .await
                .map_err(|err| shared.failed("download the published index", err))?;
            Ok::<_, StoreError>((db, chunks, files))
        };
        match copied.await {
            Ok((db, chunks, files)) => {
                let meta = IndexMeta {
                    tables,
                    ..published.meta.clone()
                };
                tracing::info!(
                    uri = %shared.uri(),
                    generation = %published.generation,
                    chunks = published.chunks,
                    "local index seeded from the shared index"
                );
                Ok(Self::on_tables(dir, meta, db, chunks, files, true))
            }
            Err(err) => {
                remove_dir(&dir.join(&tables))?;
                Err(err)
            }
        }
    }

    /// Makes a rebuild the live index: `meta.json` names its generation
    /// (one atomic rename: a reader opens either the old index or the new
    /// one, and long-lived readers see [`Store::is_current`] turn false),
    /// then the previous generation is deleted. A no-op for a store that is
    /// not a rebuild.
    pub fn publish(&mut self) -> Result<()> {
        if !self.unpublished {
            return Ok(());
        }
        write_meta(&self.dir, &self.meta)?;
        self.unpublished = false;
        self.opened_meta_mtime = meta_mtime(&self.dir);
        remove_stale_generations(&self.dir, &self.meta.tables)
    }

    /// Deletes an unpublished rebuild (a cancelled one): the live index
    /// stays as it was. A no-op for a store that is not a rebuild.
    pub fn discard(self) -> Result<()> {
        if !self.unpublished {
            return Ok(());
        }
        let tables = self.tables_dir();
        drop(self);
        remove_dir(&tables)
    }

    /// Whether this store is a rebuild not yet published.
    pub fn is_unpublished(&self) -> bool {
        self.unpublished
    }

    /// Opens an existing index for reading, with whatever model built it;
    /// `None` when `dir` holds no (complete) index. Never creates anything,
    /// so it is safe while a writer works.
    pub async fn open_existing(dir: &Path) -> Result<Option<Self>> {
        let Some(meta) = read_meta(dir)? else {
            return Ok(None);
        };
        check_not_newer(dir, &meta)?;
        if meta.schema_version < SCHEMA_VERSION {
            return Err(StoreError::Incompatible(format!(
                "the index in {} has schema version {} and this build reads {SCHEMA_VERSION}; \
                 run `mcp-vector-search index` once to upgrade it in place (nothing is re-embedded)",
                dir.display(),
                meta.schema_version
            )));
        }
        let db = connect(dir, &meta.tables, CacheBudget::Reader).await?;
        let names = db.table_names().execute().await?;
        if ![schema::CHUNKS_TABLE, schema::FILES_TABLE]
            .iter()
            .all(|t| names.iter().any(|n| n == t))
        {
            return Ok(None);
        }
        let chunks = open_table(dir, &db, schema::CHUNKS_TABLE).await?;
        let files = open_table(dir, &db, schema::FILES_TABLE).await?;
        Ok(Some(Self::on_tables(dir, meta, db, chunks, files, false)))
    }

    /// A handle on the opened tables of the index in `dir`, reading the
    /// `meta.json` there now (see [`Store::is_current`]).
    pub(crate) fn on_tables(
        dir: &Path,
        meta: IndexMeta,
        db: Connection,
        chunks: Table,
        files: Table,
        unpublished: bool,
    ) -> Self {
        Self {
            file_cache: FileCache::default(),
            centroid_cache: CentroidCache::default(),
            opened_meta_mtime: meta_mtime(dir),
            shared: None,
            dir: dir.to_path_buf(),
            meta,
            unpublished,
            chunks,
            files,
            _db: db,
        }
    }

    /// The directory of this store's generation of tables.
    pub(crate) fn tables_dir(&self) -> std::path::PathBuf {
        self.dir.join(&self.meta.tables)
    }

    /// Whether this handle still reads the live index: false once the
    /// local index was removed, rebuilt or its metadata rewritten since
    /// opening, or once a shared index published a newer generation (asked
    /// of the store at most every [`SharedIndex::recheck`]). Long-lived
    /// readers keep one store (its caches hold index pages and graphs, so
    /// queries stay fast) and reopen when this turns false.
    pub async fn is_current(&self) -> bool {
        let Some((shared, checked)) = &self.shared else {
            return self.opened_meta_mtime.is_some() && meta_mtime(&self.dir) == self.opened_meta_mtime;
        };
        {
            let Ok(mut checked) = checked.lock() else {
                return true;
            };
            if checked.elapsed() < shared.recheck() {
                return true;
            }
            *checked = std::time::Instant::now();
        }
        // A search never waits long on the store: slow or unreachable, the
        // generation open keeps answering until the next check.
        match tokio::time::timeout(SHARED_CHECK_TIMEOUT, shared.published()).await {
            Ok(Ok(Some(published))) => published.generation == self.meta.tables,
            Ok(Ok(None)) => false,
            Ok(Err(err)) => {
                tracing::warn!("{err}");
                true
            }
            Err(_) => true,
        }
    }

    /// Whether this store reads a shared index's generation (not a local
    /// index).
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Whether `dir` holds a local index (its `meta.json`), without opening it.
    pub fn exists_in(dir: &Path) -> bool {
        dir.join(META_FILE).is_file()
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the index was built with.
    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// Records that every stored chunk now follows chunking rules `version`.
    /// (A rebuild records it when published.)
    pub fn set_chunker_version(&mut self, version: u32) -> Result<()> {
        self.meta.chunker_version = version;
        if self.unpublished {
            return Ok(());
        }
        write_meta(&self.dir, &self.meta)?;
        self.opened_meta_mtime = meta_mtime(&self.dir);
        Ok(())
    }
}

/// What a connection may keep in LanceDB's caches. The defaults (6 GiB of
/// index data, 1 GiB of metadata) let a long indexing run grow by hundreds of
/// megabytes of per-version file metadata it never reads again.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CacheBudget {
    /// A writer reads little back: small caches keep its memory flat.
    Writer,
    /// A reader keeps search indices warm; metadata stays bounded.
    Reader,
}

impl CacheBudget {
    const MIB: usize = 1024 * 1024;

    pub(crate) fn session(self) -> Arc<lancedb::Session> {
        let (index_bytes, metadata_bytes) = match self {
            CacheBudget::Writer => (128 * Self::MIB, 64 * Self::MIB),
            // LanceDB's default: every index read stays warm (a million
            // chunks' indices take about 1 GB).
            CacheBudget::Reader => (6 * 1024 * Self::MIB, 256 * Self::MIB),
        };
        Arc::new(lancedb::Session::new(
            index_bytes,
            metadata_bytes,
            Arc::new(lancedb::ObjectStoreRegistry::default()),
        ))
    }
}

/// Connects to the tables of the index in `dir`, with strong read
/// consistency: a reader sees every commit of the writer (another process, or
/// a background job) for one manifest check per query on local disk.
async fn connect(dir: &Path, tables: &str, caches: CacheBudget) -> Result<Connection> {
    let uri = dir.join(tables).to_string_lossy().into_owned();
    Ok(lancedb::connect(&uri)
        .session(caches.session())
        .read_consistency_interval(std::time::Duration::ZERO)
        .execute()
        .await?)
}

/// Opens the existing table `name` of the index in `dir`; one whose
/// manifest cannot be read is [`StoreError::Damaged`].
async fn open_table(dir: &Path, db: &Connection, name: &str) -> Result<Table> {
    db.open_table(name).execute().await.map_err(|err| StoreError::Damaged {
        dir: dir.to_path_buf(),
        detail: format!("table {name} cannot be opened ({err})"),
    })
}

/// Opens the table `name`, creating it empty with `schema` when absent.
async fn open_or_create(dir: &Path, db: &Connection, name: &str, schema: arrow_schema::SchemaRef) -> Result<Table> {
    let names = db.table_names().execute().await?;
    if names.iter().any(|n| n == name) {
        open_table(dir, db, name).await
    } else {
        Ok(db.create_empty_table(name, schema).execute().await?)
    }
}

/// The live index's metadata before a rebuild; `None` where there is no
/// live index, or only a damaged one, which is removed (without a readable
/// `meta.json` no reader sees an index: the rebuild starts over in place).
fn live_meta_or_start_over(dir: &Path) -> Result<Option<IndexMeta>> {
    match read_meta(dir) {
        Err(StoreError::Damaged { .. }) => {
            Store::remove(dir)?;
            Ok(None)
        }
        live => live,
    }
}

fn new_meta(model_id: &str, dimension: usize, tables: String) -> IndexMeta {
    IndexMeta {
        schema_version: SCHEMA_VERSION,
        model_id: model_id.to_string(),
        dimension,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        chunker_version: 0,
        tables,
    }
}

/// Milliseconds since the Unix epoch, naming a rebuild's generation.
pub(crate) fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Whether `name` (an entry of an index directory) is a generation of tables.
pub(crate) fn is_generation(name: &str) -> bool {
    name == TABLES_DIR
        || name
            .strip_prefix(TABLES_DIR)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|ms| !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit()))
}

/// Deletes every generation in `dir` but `live`: those a rebuild replaced,
/// failed or was cancelled in. Only the writer calls this, so none of them
/// is being written.
fn remove_stale_generations(dir: &Path, live: &str) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name != live && is_generation(&name) {
            tracing::debug!(generation = %name, "deleting a replaced or abandoned generation of the index");
            remove_dir(&entry.path())?;
        }
    }
    Ok(())
}

/// Deletes a directory tree; a missing one is not an error.
pub(crate) fn remove_dir(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(source) if source.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Refuses an index written by a newer build: its layout is unknown here.
fn check_not_newer(dir: &Path, meta: &IndexMeta) -> Result<()> {
    if meta.schema_version > SCHEMA_VERSION {
        return Err(StoreError::Incompatible(format!(
            "the index in {} has schema version {}, newer than this build's {SCHEMA_VERSION}; \
             upgrade mcp-vector-search, or run `mcp-vector-search index --force` to rebuild it with this version",
            dir.display(),
            meta.schema_version
        )));
    }
    Ok(())
}

/// Refuses to mix vectors of another model (or dimension) into an index.
fn check_model(dir: &Path, meta: &IndexMeta, model_id: &str, dimension: usize) -> Result<()> {
    if meta.model_id != model_id || meta.dimension != dimension {
        return Err(StoreError::Incompatible(format!(
            "the index in {} was built with model {} ({}-d) but {model_id} ({dimension}-d) is configured; \
             run `mcp-vector-search index --force` to rebuild it with the new model",
            dir.display(),
            meta.model_id,
            meta.dimension
        )));
    }
    Ok(())
}

/// Brings an index of an older schema to [`SCHEMA_VERSION`] in place, one
/// version at a time. Each step is one LanceDB commit adding columns, and
/// `meta.json` records the version after it: a step interrupted before that
/// is simply redone (columns it already added are detected).
async fn migrate(dir: &Path, meta: &mut IndexMeta, chunks: &Table) -> Result<()> {
    while meta.schema_version < SCHEMA_VERSION {
        let from = meta.schema_version;
        let added = schema::chunk_columns_added_after(from, &meta.model_id).ok_or_else(|| {
            StoreError::Incompatible(format!(
                "the index in {} has schema version {from}, which this build cannot upgrade; \
                 run `mcp-vector-search index --force` to rebuild it",
                dir.display()
            ))
        })?;
        let present = chunks.schema().await?;
        let missing: Vec<(String, String)> = added
            .into_iter()
            .filter(|(name, _)| present.column_with_name(name).is_none())
            .collect();
        if !missing.is_empty() {
            chunks
                .add_columns()
                .transform(NewColumnTransform::SqlExpressions(missing))
                .execute()
                .await?;
        }
        meta.schema_version = from + 1;
        write_meta(dir, meta)?;
        tracing::info!(from, to = from + 1, "index schema upgraded in place");
    }
    Ok(())
}

fn meta_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(dir.join(META_FILE)).and_then(|m| m.modified()).ok()
}

fn read_meta(dir: &Path) -> Result<Option<IndexMeta>> {
    let path = dir.join(META_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|err| StoreError::Damaged {
                dir: dir.to_path_buf(),
                detail: format!("{} is unreadable ({err})", path.display()),
            }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io { path, source }),
    }
}

/// Writes `meta.json` atomically (write, then rename).
fn write_meta(dir: &Path, meta: &IndexMeta) -> Result<()> {
    let path = dir.join(META_FILE);
    let staged = path.with_extension("tmp");
    let bytes = serde_json::to_vec_pretty(meta).expect("meta serialises");
    std::fs::write(&staged, bytes)
        .and_then(|()| std::fs::rename(&staged, &path))
        .map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })
}
