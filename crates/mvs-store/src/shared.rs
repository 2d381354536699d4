//! A shared index on object storage: complete generations of a project's
//! tables that one publisher (a CI job) writes and other machines seed their
//! local index from ([`Store::seed`]) or search directly
//! ([`SharedIndex::open_reader`]).
//!
//! Layout under the shared index's URI (`s3://bucket/prefix`, or any URI
//! LanceDB opens):
//! * `published.lance`: one row, [`Published`]: the live generation and what
//!   it was built with. Replacing it is one LanceDB commit, so a reader sees
//!   the previous generation or the new one, never a mix, and a publisher
//!   that dies before that commit leaves the previous one live.
//! * `writer.lance`: exists while a publisher holds the writer lock. It is
//!   created with the object store's conditional PUT, so of two publishers
//!   starting at once one creates it and the other waits up to
//!   [`LOCK_WAIT`], then reports the holder. Under contention both
//!   creations can report success (seen with SeaweedFS): a publisher reads
//!   its claim back before it commits, and one that finds another claim
//!   publishes again once the lock is free. Its row names the holder, the
//!   generation being written and a heartbeat: a lock whose heartbeat a
//!   waiting publisher sees unchanged for [`STALE_AFTER`] (a killed
//!   publisher) is broken and the generation it was writing deleted, unless
//!   it is live (the holder may have died after publishing it).
//! * `gen-<ms>-<random>/chunks.lance`, `.../files.lance`: a generation, written
//!   completely (rows and search indices) before `published` names it and
//!   never modified after. A replaced generation is kept [`RETIRED_KEPT`]
//!   for readers still on it, then deleted by the next publish.
//!
//! Endpoint, region and credentials come from the standard `AWS_*`
//! variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP` for a plain-HTTP server), read
//! by LanceDB's object store.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use futures::TryStreamExt;
use lancedb::query::ExecutableQuery;
use lancedb::table::AddDataMode;
use lancedb::{Connection, Table};
use serde::{Deserialize, Serialize};

use crate::open::{CacheBudget, IndexMeta, now_ms};
use crate::schema::{self, CHUNKS_TABLE, FILES_TABLE, PUBLISHED_TABLE, SCHEMA_VERSION, WRITER_TABLE};
use crate::{Result, Store, StoreError};

/// How long a publisher waits for another one's lock before reporting it
/// (default of [`SharedIndex::with_lock_wait`]).
pub const LOCK_WAIT: Duration = Duration::from_secs(60);
/// A writer lock whose heartbeat a waiting publisher sees unchanged for
/// this long (three beats missed, timed on the waiter's own clock, so
/// clocks that disagree do not matter) was left by a publisher that died:
/// it is broken.
pub const STALE_AFTER: Duration = Duration::from_secs(45);
/// How often a publisher renews its lock's heartbeat.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// Publishes a run tries before giving up when its lock was not its own at
/// its commit (see `WriterLock::confirm`: vanished, unreadable, or another
/// claim kept by a racing creation): rare; the next try waits for the lock
/// to be free, up to [`STALE_AFTER`] for a damaged one.
const LOCK_ATTEMPTS: usize = 3;
/// How long a replaced generation is kept for readers that opened it (a
/// reader moves on within [`SHARED_RECHECK`]; a seed copies it in minutes).
pub const RETIRED_KEPT: Duration = Duration::from_secs(3600);
/// How often a store opened on a shared index asks whether a newer
/// generation was published ([`Store::is_current`]), by default: a reader
/// sees a new version within this ([`SharedIndex::with_recheck`]).
pub const SHARED_RECHECK: Duration = Duration::from_secs(30);

/// URI schemes whose stores commit with a conditional PUT (or a rename
/// that fails when the target exists), which the writer lock and the
/// one-commit switch rely on.
const SCHEMES: [&str; 5] = ["s3", "gs", "az", "abfss", "file"];

/// A shared index: the URI of its tables on object storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedIndex {
    uri: String,
    lock_wait: Duration,
    recheck: Duration,
}

/// What a shared index serves now: the live generation and what built it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// The generation's directory under the shared index's URI
    /// (`gen-<ms>-<random>`).
    pub generation: String,
    /// What the generation was built with (`tables` is the generation).
    pub meta: IndexMeta,
    /// Chunks in the generation.
    pub chunks: u64,
    /// File records in the generation.
    pub files: u64,
    /// When it was published, milliseconds since the Unix epoch.
    pub published_at_ms: i64,
    /// Who published it (`host:pid`).
    pub publisher: String,
    /// The generation it replaced.
    pub previous: Option<String>,
    /// Generations replaced less than [`RETIRED_KEPT`] ago, kept for
    /// readers still on them; the next publish after that deletes them.
    #[serde(default)]
    pub retired: Vec<Retired>,
}

/// A replaced generation and when it was replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retired {
    /// The generation's directory.
    pub generation: String,
    /// When it stopped being published, milliseconds since the Unix epoch.
    pub since_ms: i64,
}

/// The row of the writer lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WriterClaim {
    holder: String,
    generation: String,
    heartbeat_ms: i64,
}

impl SharedIndex {
    /// A shared index at `uri` (`s3://bucket/prefix`; Google Cloud
    /// Storage, Azure and `file://` URIs work too). Errors:
    /// [`StoreError::Invalid`] for anything else.
    pub fn new(uri: &str) -> Result<Self> {
        let uri = uri.trim().trim_end_matches('/');
        match uri.split_once("://") {
            Some((scheme, rest)) if SCHEMES.contains(&scheme) && !rest.trim_matches('/').is_empty() => {
                if scheme.starts_with("s3") && !cfg!(feature = "s3") {
                    return Err(StoreError::Invalid(format!(
                        "`{uri}`: this build has no S3 support; build mcp-vector-search with its default \
                         features (or `--features s3`)"
                    )));
                }
                Ok(Self {
                    uri: uri.to_string(),
                    lock_wait: LOCK_WAIT,
                    recheck: SHARED_RECHECK,
                })
            }
            _ => Err(StoreError::Invalid(format!(
                "the index URI `{uri}` is not a URI of object storage; give one such as s3://bucket/prefix \
                 (schemes: {})",
                SCHEMES.join(", ")
            ))),
        }
    }

    /// This shared index with publishers waiting up to `wait` for another
    /// publisher's lock (default [`LOCK_WAIT`]).
    pub fn with_lock_wait(self, wait: Duration) -> Self {
        Self {
            lock_wait: wait,
            ..self
        }
    }

    /// This shared index with readers asking every `recheck` whether a
    /// newer generation was published (default [`SHARED_RECHECK`]).
    pub fn with_recheck(self, recheck: Duration) -> Self {
        Self { recheck, ..self }
    }

    /// How often readers ask whether a newer generation was published.
    pub fn recheck(&self) -> Duration {
        self.recheck
    }

    /// The URI, without a trailing `/`.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// What the shared index serves now; `None` before the first publish.
    /// Errors: [`StoreError::Shared`] when the store cannot be read.
    pub async fn published(&self) -> Result<Option<Published>> {
        let root = self.connect(None, CacheBudget::Writer).await?;
        read_record(&root, PUBLISHED_TABLE)
            .await
            .map_err(|err| self.failed("read what is published", err))
    }

    /// Publishes the tables of `local` (a complete local index: no pending
    /// vectors) as a new generation, under the shared writer lock; the
    /// generation it replaces is retired and deleted [`RETIRED_KEPT`] later
    /// (readers may still be on it). `publisher` names this process in the
    /// lock and the record (`host:pid`). Errors:
    /// [`StoreError::SharedLockHeld`] when another publisher holds the lock
    /// for longer than the lock wait, [`StoreError::Shared`] when the store
    /// fails; on any error the previous generation stays live and the
    /// partial one is deleted.
    pub async fn publish(&self, local: &Store, publisher: &str) -> Result<Published> {
        if local.vectors_pending() {
            return Err(StoreError::Invalid(
                "the local index still has chunks without vectors; let indexing finish before publishing".into(),
            ));
        }
        let root = self.connect(None, CacheBudget::Writer).await?;
        let mut attempt = 1;
        loop {
            let generation = new_generation_name();
            let lock = WriterLock::acquire(self, &root, publisher, &generation).await?;
            let outcome = self.publish_locked(&root, local, publisher, &generation, &lock).await;
            lock.release(&root).await;
            if !matches!(outcome, Ok(Some(_))) {
                // A commit that failed on the way back may still have landed:
                // never delete the generation readers are sent to.
                let live = matches!(self.published().await, Ok(Some(p)) if p.generation == generation);
                if !live {
                    self.delete_generation(&generation).await;
                }
            }
            match outcome {
                Ok(Some(published)) => return Ok(published),
                Ok(None) if attempt < LOCK_ATTEMPTS => {
                    tracing::debug!(uri = %self.uri, attempt, "the writer lock vanished or went to a racing publisher before the commit: publishing again");
                    attempt += 1;
                }
                Ok(None) => {
                    return Err(StoreError::Shared {
                        uri: self.uri.clone(),
                        action: "publish",
                        detail: format!(
                            "the writer lock vanished or went to a racing publisher before the commit \
                             {LOCK_ATTEMPTS} times; nothing was published, run it again"
                        ),
                    });
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Writes `generation` and makes it the published one, under `lock`;
    /// `None` when the lock was not this process's at the commit (vanished,
    /// unreadable or another's after a racing creation; nothing published).
    async fn publish_locked(
        &self,
        root: &Connection,
        local: &Store,
        publisher: &str,
        generation: &str,
        lock: &WriterLock,
    ) -> Result<Option<Published>> {
        let previous: Option<Published> = read_record(root, PUBLISHED_TABLE)
            .await
            .map_err(|err| self.failed("read what is published", err))?;
        let db = self.connect(Some(generation), CacheBudget::Writer).await?;
        let copy = async {
            let (chunks, files) = copy_tables((&local.chunks, &local.files), &db).await?;
            let rows = (chunks.count_rows(None).await?, files.count_rows(None).await?);
            Ok::<_, StoreError>((chunks, files, rows))
        };
        let (chunks, files, (chunk_rows, file_rows)) =
            copy.await.map_err(|err| self.failed("upload the index", err))?;
        let meta = IndexMeta {
            tables: generation.to_string(),
            ..local.meta().clone()
        };
        let remote = Store::on_shared(self, meta.clone(), db, chunks, files);
        remote
            .complete_indices()
            .await
            .map_err(|err| self.failed("build the search indices", err))?;
        let now = now_ms() as i64;
        // The replaced generation is retired now; those retired long enough
        // ago that no reader can still be on them are deleted.
        let mut retired = previous.as_ref().map(|p| p.retired.clone()).unwrap_or_default();
        retired.extend(previous.as_ref().map(|p| Retired {
            generation: p.generation.clone(),
            since_ms: now,
        }));
        let (expired, retired): (Vec<Retired>, Vec<Retired>) = retired
            .into_iter()
            .partition(|r| now - r.since_ms > RETIRED_KEPT.as_millis() as i64);
        let published = Published {
            generation: generation.to_string(),
            meta,
            chunks: chunk_rows as u64,
            files: file_rows as u64,
            published_at_ms: now,
            publisher: publisher.to_string(),
            previous: previous.as_ref().map(|p| p.generation.clone()),
            retired,
        };
        if !lock.confirm(self, root).await? {
            return Ok(None);
        }
        write_record(root, PUBLISHED_TABLE, &published)
            .await
            .map_err(|err| self.failed("record the new generation", err))?;
        tracing::info!(uri = %self.uri, %generation, chunks = chunk_rows, "published the index");
        for gone in expired {
            self.delete_generation(&gone.generation).await;
        }
        Ok(Some(published))
    }

    /// Opens the published generation for reading (searching it directly);
    /// `None` before the first publish. [`Store::is_current`] turns false
    /// once a newer generation is published (checked every
    /// [`SharedIndex::recheck`]).
    pub async fn open_reader(&self) -> Result<Option<Store>> {
        let Some(published) = self.published().await? else {
            return Ok(None);
        };
        check_readable(self, &published)?;
        let (db, chunks, files) = self.open_generation(&published.generation, CacheBudget::Reader).await?;
        Ok(Some(Store::on_shared(self, published.meta, db, chunks, files)))
    }

    /// The chunks and files tables of `generation`, with their connection.
    pub(crate) async fn open_generation(
        &self,
        generation: &str,
        caches: CacheBudget,
    ) -> Result<(Connection, Table, Table)> {
        let db = self.connect(Some(generation), caches).await?;
        let open = |name: &'static str| {
            let db = &db;
            async move {
                db.open_table(name)
                    .execute()
                    .await
                    .map_err(|err| self.failed("open the published tables", err))
            }
        };
        let (chunks, files) = (open(CHUNKS_TABLE).await?, open(FILES_TABLE).await?);
        Ok((db, chunks, files))
    }

    /// The tables of `generation` (`None`: the root of the shared index).
    pub(crate) async fn connect(&self, generation: Option<&str>, caches: CacheBudget) -> Result<Connection> {
        let uri = self.generation_uri(generation);
        let builder = lancedb::connect(&uri).session(caches.session());
        // The root's one-row tables change under other processes: every read
        // checks for a new version. A generation never changes once
        // published: checking would cost object-store listings per query.
        let builder = match generation {
            None => builder.read_consistency_interval(Duration::ZERO),
            Some(_) => builder,
        };
        builder.execute().await.map_err(|err| self.failed("connect", err))
    }

    fn generation_uri(&self, generation: Option<&str>) -> String {
        match generation {
            Some(generation) => format!("{}/{generation}", self.uri),
            None => self.uri.clone(),
        }
    }

    /// Deletes a generation's tables; a failure only costs storage (warned).
    async fn delete_generation(&self, generation: &str) {
        let dropped = async {
            let db = self.connect(Some(generation), CacheBudget::Writer).await?;
            db.drop_all_tables(&[]).await?;
            Ok::<_, StoreError>(())
        };
        match dropped.await {
            Ok(()) => tracing::debug!(uri = %self.uri, %generation, "deleted a shared generation"),
            Err(err) => tracing::warn!(uri = %self.uri, %generation, "could not delete a shared generation: {err}"),
        }
    }

    /// An error of the object store while doing `action`, in a line (the
    /// full error at debug level).
    pub(crate) fn failed(&self, action: &'static str, err: impl std::fmt::Display) -> StoreError {
        let detail = err.to_string();
        tracing::debug!(uri = %self.uri, action, "object store error: {detail}");
        StoreError::Shared {
            uri: self.uri.clone(),
            action,
            detail: explain(&detail),
        }
    }
}

/// What an object-store error means, in a line: the S3 error code or the
/// failed connection and the endpoint, instead of the client's nested debug
/// output (shortened when nothing in it is recognised).
fn explain(detail: &str) -> String {
    const CODES: [(&str, &str); 6] = [
        ("NoSuchBucket", "the bucket does not exist"),
        ("SignatureDoesNotMatch", "the secret key is wrong"),
        ("InvalidAccessKeyId", "the access key is unknown"),
        ("AccessDenied", "access denied: these credentials may not do this"),
        ("ExpiredToken", "the session token has expired"),
        ("status: 403", "access denied"),
    ];
    let endpoint = ["http://", "https://"].iter().find_map(|scheme| {
        let start = detail.find(scheme)?;
        let rest = &detail[start + scheme.len()..];
        let end = rest.find(['/', '?', ')', ' ', '"']).unwrap_or(rest.len());
        Some(format!("{scheme}{}", &rest[..end]))
    });
    let at = endpoint.map(|e| format!(" ({e})")).unwrap_or_default();
    if let Some((code, meaning)) = CODES.iter().find(|(code, _)| detail.contains(code)) {
        return format!("{meaning}{at} [{}]", code.trim_start_matches("status: "));
    }
    let unreachable = [
        "tcp connect error",
        "dns error",
        "error sending request",
        "Connection refused",
        "timed out",
    ];
    if unreachable.iter().any(|marker| detail.contains(marker)) {
        return format!("the endpoint cannot be reached{at}");
    }
    const SHOWN: usize = 300;
    match detail.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}...", &detail[..cut]),
        None => detail.to_string(),
    }
}

/// `gen-<ms>-<random>`: unique even for two publishers starting in the
/// same millisecond (the random part is this process's hasher seed).
fn new_generation_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = now_ms();
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(now);
    format!("gen-{now}-{:08x}", hasher.finish() as u32)
}

/// Refuses a generation of a newer or older schema than this build reads.
pub(crate) fn check_readable(shared: &SharedIndex, published: &Published) -> Result<()> {
    if published.meta.schema_version != SCHEMA_VERSION {
        return Err(StoreError::Incompatible(format!(
            "the shared index {} has schema version {} and this build reads {SCHEMA_VERSION}; \
             publish it again with this version (`mcp-vector-search index --index-uri {}`)",
            shared.uri, published.meta.schema_version, shared.uri
        )));
    }
    Ok(())
}

impl Store {
    /// A store on a shared index's generation (read by
    /// [`SharedIndex::open_reader`], or being published).
    fn on_shared(shared: &SharedIndex, meta: IndexMeta, db: Connection, chunks: Table, files: Table) -> Self {
        let mut store = Self::on_tables(
            &PathBuf::from(shared.generation_uri(Some(&meta.tables))),
            meta,
            db,
            chunks,
            files,
            false,
        );
        store.shared = Some((shared.clone(), std::sync::Mutex::new(Instant::now())));
        store
    }
}

/// Copies an index's chunks and files tables into `into` (a new generation,
/// shared or local), file by file: the data, deletion and search-index files
/// of each table's current version (Lance's deep clone). The copy is
/// searchable at once, with no index to rebuild, for what moving its bytes
/// costs.
pub(crate) async fn copy_tables((chunks, files): (&Table, &Table), into: &Connection) -> Result<(Table, Table)> {
    Ok((
        copy_table(chunks, into, CHUNKS_TABLE).await?,
        copy_table(files, into, FILES_TABLE).await?,
    ))
}

/// Copies `from`'s current version into the table `name` of `into`,
/// replacing any table of that name.
async fn copy_table(from: &Table, into: &Connection, name: &str) -> Result<Table> {
    if into.table_names().execute().await?.iter().any(|n| n == name) {
        into.drop_table(name, &[]).await?;
    }
    let source = from
        .dataset()
        .ok_or_else(|| StoreError::Invalid(format!("the {name} table is not a native Lance table")))?
        .get()
        .await?;
    let mut source = (*source).clone();
    let version = source.version().version;
    let target = format!("{}/{name}.lance", into.uri().trim_end_matches('/'));
    source
        .deep_clone(&target, version, None)
        .await
        .map_err(lancedb::Error::from)?;
    Ok(into.open_table(name).execute().await?)
}

/// The record in the one-row table `name`; `None` when there is no such table.
async fn read_record<T: for<'de> Deserialize<'de>>(db: &Connection, name: &str) -> Result<Option<T>> {
    let table = match db.open_table(name).execute().await {
        Ok(table) => table,
        Err(lancedb::Error::TableNotFound { .. }) => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    let batches: Vec<RecordBatch> = table.query().execute().await?.try_collect().await?;
    schema::record_from_batches(&batches)
}

/// Replaces the one-row table `name` by `record` (one commit), creating it
/// on first use.
async fn write_record<T: Serialize>(db: &Connection, name: &str, record: &T) -> Result<()> {
    let batch = schema::record_batch(record)?;
    match db.open_table(name).execute().await {
        Ok(table) => {
            table.add(batch).mode(AddDataMode::Overwrite).execute().await?;
        }
        Err(lancedb::Error::TableNotFound { .. }) => {
            db.create_table(name, batch).execute().await?;
        }
        Err(err) => return Err(err.into()),
    }
    Ok(())
}

/// The shared writer lock held by this process, with its heartbeat task.
struct WriterLock {
    claim: WriterClaim,
    /// Set by the heartbeat when it finds the lock is no longer this
    /// process's (broken by another publisher): nothing may be published.
    lost: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// When the claim was last written (taken or renewed), ms since the
    /// epoch: another claim found while this one is fresher than
    /// [`STALE_AFTER`] is read as a lost creation race, not as a stall.
    renewed_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl WriterLock {
    async fn acquire(shared: &SharedIndex, root: &Connection, holder: &str, generation: &str) -> Result<Self> {
        let waited = Instant::now();
        // The other holder's heartbeat as last read, and since when (this
        // process's clock) it has not changed; `None` for a lock not read.
        let mut seen: Option<(Option<i64>, Instant)> = None;
        loop {
            let claim = WriterClaim {
                holder: holder.to_string(),
                generation: generation.to_string(),
                heartbeat_ms: now_ms() as i64,
            };
            let created = root
                .create_table(WRITER_TABLE, schema::record_batch(&claim)?)
                .execute()
                .await;
            let error = match created {
                Ok(_) => {
                    tracing::debug!(uri = %shared.uri, "took the shared writer lock");
                    let lost = std::sync::Arc::default();
                    let renewed_ms = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(claim.heartbeat_ms));
                    let heartbeat = tokio::spawn(beat(
                        root.clone(),
                        claim.clone(),
                        std::sync::Arc::clone(&lost),
                        std::sync::Arc::clone(&renewed_ms),
                    ));
                    return Ok(Self {
                        claim,
                        lost,
                        renewed_ms,
                        heartbeat,
                    });
                }
                Err(err) => err,
            };
            // Of two creators at once, the loser's commit fails: whatever
            // the error, an existing lock table means another holder.
            let held = root
                .table_names()
                .execute()
                .await
                .map_err(|err| shared.failed("take the writer lock", err))?
                .iter()
                .any(|n| n == WRITER_TABLE);
            if !held {
                return Err(shared.failed("take the writer lock", error));
            }
            // A lock being created, or unreadable for a moment, is held too.
            let other: Option<WriterClaim> = read_record(root, WRITER_TABLE).await.ok().flatten();
            let beat_ms = other.as_ref().map(|c| c.heartbeat_ms);
            match seen {
                Some((last, since)) if last == beat_ms => {
                    if since.elapsed() >= STALE_AFTER {
                        break_stale_lock(shared, root, other.as_ref()).await?;
                        seen = None;
                        continue;
                    }
                }
                _ => seen = Some((beat_ms, Instant::now())),
            }
            if waited.elapsed() >= shared.lock_wait {
                return Err(StoreError::SharedLockHeld {
                    uri: shared.uri.clone(),
                    holder: other.map_or_else(|| "a publisher starting now".into(), |c| c.holder),
                    heartbeat_s: seen.map_or(0, |(_, since)| since.elapsed().as_secs()),
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Whether the lock is still this process's: `false` when it vanished
    /// or cannot be read back (another publisher's release, deleting its
    /// lock file by file as this one created its own, took this one's files
    /// too) or when another publisher's creation raced this one's and the
    /// store kept the other claim (two creations at once can both report
    /// success on an S3 store); an error when another publisher holds it
    /// after breaking it as stale while this one stalled.
    async fn confirm(&self, shared: &SharedIndex, root: &Connection) -> Result<bool> {
        let current: Option<WriterClaim> = match read_record(root, WRITER_TABLE).await {
            Ok(current) => current,
            // A lock being deleted file by file (another publisher's
            // release) fails a read for a moment; one whose files that
            // release took keeps failing, and is not this process's to
            // publish under: publish again once the lock is free (taken
            // anew, or broken as stale).
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                match read_record(root, WRITER_TABLE).await {
                    Ok(current) => current,
                    Err(err) => {
                        tracing::debug!(uri = %shared.uri, "the writer lock cannot be read back: {err}");
                        return Ok(false);
                    }
                }
            }
        };
        let fresh = (now_ms() as i64 - self.renewed_ms.load(std::sync::atomic::Ordering::Relaxed))
            < STALE_AFTER.as_millis() as i64;
        match current {
            None => Ok(false),
            Some(claim) if self.owns(&claim) && !self.lost.load(std::sync::atomic::Ordering::Relaxed) => Ok(true),
            Some(claim) if fresh => {
                tracing::debug!(uri = %shared.uri, holder = %claim.holder, "lost a race to create the writer lock");
                Ok(false)
            }
            _ => Err(StoreError::Shared {
                uri: shared.uri.clone(),
                action: "publish",
                detail: "this publisher stalled so long that another one took its lock over; nothing was \
                         published, run it again"
                    .into(),
            }),
        }
    }

    fn owns(&self, claim: &WriterClaim) -> bool {
        claim.holder == self.claim.holder && claim.generation == self.claim.generation
    }

    /// Stops the heartbeat and deletes the lock if it is still this
    /// process's; a failure leaves a lock that turns stale by itself (warned).
    async fn release(self, root: &Connection) {
        self.heartbeat.abort();
        let current: Option<WriterClaim> = read_record(root, WRITER_TABLE).await.ok().flatten();
        if !current.as_ref().is_some_and(|claim| self.owns(claim)) {
            return;
        }
        match root.drop_table(WRITER_TABLE, &[]).await {
            Ok(()) => tracing::debug!(holder = %self.claim.holder, "released the shared writer lock"),
            Err(err) => tracing::warn!("could not release the shared writer lock (it turns stale by itself): {err}"),
        }
    }
}

impl Drop for WriterLock {
    /// A publish abandoned midway (its future dropped) stops renewing the
    /// lock, which then turns stale.
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// Deletes a lock whose holder stopped beating, and the generation it was
/// writing unless that generation is live or kept for readers (the holder
/// may have died after publishing it).
async fn break_stale_lock(shared: &SharedIndex, root: &Connection, stale: Option<&WriterClaim>) -> Result<()> {
    if let Some(stale) = stale {
        tracing::warn!(
            uri = %shared.uri,
            holder = %stale.holder,
            "breaking a writer lock whose holder stopped {} s ago",
            STALE_AFTER.as_secs()
        );
    }
    root.drop_table(WRITER_TABLE, &[])
        .await
        .map_err(|err| shared.failed("break a stale writer lock", err))?;
    let Some(stale) = stale else {
        return Ok(());
    };
    let published: Option<Published> = read_record(root, PUBLISHED_TABLE)
        .await
        .map_err(|err| shared.failed("read what is published", err))?;
    let in_use = published.is_some_and(|p| {
        p.generation == stale.generation || p.retired.iter().any(|r| r.generation == stale.generation)
    });
    if !in_use {
        shared.delete_generation(&stale.generation).await;
    }
    Ok(())
}

/// Renews the lock's heartbeat until aborted, while the lock is this
/// process's; once another publisher broke it, sets `lost` and stops (never
/// writing over the new holder's claim).
async fn beat(
    root: Connection,
    mut claim: WriterClaim,
    lost: std::sync::Arc<std::sync::atomic::AtomicBool>,
    renewed_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
) {
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        let renewed = async {
            let table = root.open_table(WRITER_TABLE).execute().await?;
            let current: Option<WriterClaim> = read_record(&root, WRITER_TABLE).await?;
            if !current.is_some_and(|c| c.holder == claim.holder && c.generation == claim.generation) {
                return Ok(false);
            }
            claim.heartbeat_ms = now_ms() as i64;
            table
                .add(schema::record_batch(&claim)?)
                .mode(AddDataMode::Overwrite)
                .execute()
                .await?;
            Ok::<_, StoreError>(true)
        };
        match renewed.await {
            Ok(true) => renewed_ms.store(claim.heartbeat_ms, std::sync::atomic::Ordering::Relaxed),
            Ok(false) => {
                tracing::warn!("the shared writer lock was taken over by another publisher");
                lost.store(true, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            Err(err) => tracing::warn!("could not renew the shared writer lock's heartbeat: {err}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_need_a_scheme_and_a_location() {
        for bad in [
            "bucket/prefix",
            "s3://",
            "://x",
            "s3:///",
            "",
            "s 3://b",
            "http://host/x",
            "memory://x",
        ] {
            assert!(SharedIndex::new(bad).is_err(), "{bad:?}");
        }
        let shared = SharedIndex::new(" s3://bucket/team/repo/ ").unwrap();
        assert_eq!(shared.uri(), "s3://bucket/team/repo");
        assert!(SharedIndex::new("file:///srv/shared/index").is_ok());
    }

    #[test]
    fn object_store_errors_read_as_one_line() {
        let refused = r#"IO { source: Generic { store: "S3", source: ListRequest { source: RetryError(RetryErrorImpl { method: GET, uri: Some(http://127.0.0.1:9/bench?list-type=2), retries: 3, inner: Http(HttpError { kind: Connect, source: reqwest::Error { kind: Request, source: hyper_util::client::legacy::Error(Connect, ConnectError("tcp connect error", 127.0.0.1:9, Os { code: 111 }))"#;
        assert_eq!(explain(refused), "the endpoint cannot be reached (http://127.0.0.1:9)");
        let signature = r#"uri: Some(https://s3.eu-west-1.amazonaws.com/b?list-type=2), inner: Status { status: 403, body: Some("<Error><Code>SignatureDoesNotMatch</Code>")"#;
        assert_eq!(
            explain(signature),
            "the secret key is wrong (https://s3.eu-west-1.amazonaws.com) [SignatureDoesNotMatch]"
        );
        assert!(explain("status: 404 <Code>NoSuchBucket</Code>").starts_with("the bucket does not exist"));
        assert_eq!(explain("status: 403 Forbidden"), "access denied [403]");
        let long = "x".repeat(1000);
        assert_eq!(explain(&long).len(), 303, "unknown errors are shortened");
    }

    /// What `two_publishers_at_once_commit_one_after_the_other` met under
    /// load, replayed on a local store: a creation race lost to another
    /// claim and a lock whose files another publisher's release took are
    /// published again; only a holder that went stale is told it stalled.
    #[tokio::test]
    async fn a_lost_lock_race_is_published_again_and_only_a_stall_is_an_error() {
        use std::sync::atomic::Ordering::Relaxed;
        let dir = tempfile::tempdir().unwrap();
        let shared = SharedIndex::new(&format!("file://{}", dir.path().display())).unwrap();
        let root = shared.connect(None, CacheBudget::Writer).await.unwrap();
        let lock = WriterLock::acquire(&shared, &root, "a:1", "gen-a").await.unwrap();
        assert!(lock.confirm(&shared, &root).await.unwrap());

        let other = WriterClaim {
            holder: "b:2".into(),
            generation: "gen-b".into(),
            heartbeat_ms: now_ms() as i64,
        };
        write_record(&root, WRITER_TABLE, &other).await.unwrap();
        assert!(
            !lock.confirm(&shared, &root).await.unwrap(),
            "a fresh claim that lost a creation race publishes again"
        );

        lock.renewed_ms
            .store(now_ms() as i64 - STALE_AFTER.as_millis() as i64 - 1, Relaxed);
        let stalled = lock.confirm(&shared, &root).await.unwrap_err().to_string();
        assert!(stalled.contains("stalled"), "{stalled}");

        lock.renewed_ms.store(now_ms() as i64, Relaxed);
        // The claim rewritten, then its files deleted before any read (a
        // read would cache them).
        write_record(&root, WRITER_TABLE, &lock.claim).await.unwrap();
        let data = dir.path().join(format!("{WRITER_TABLE}.lance")).join("data");
        for file in std::fs::read_dir(&data).unwrap() {
            std::fs::remove_file(file.unwrap().path()).unwrap();
        }
        assert!(
            !lock.confirm(&shared, &root).await.unwrap(),
            "a lock that cannot be read back is not this process's"
        );
    }

    #[test]
    fn generation_names_are_unique() {
        let names: std::collections::HashSet<String> = (0..100).map(|_| new_generation_name()).collect();
        assert_eq!(names.len(), 100);
        assert!(names.iter().all(|name| name.starts_with("gen-")));
    }
}
