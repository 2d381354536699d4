//! The persistent vector cache: one SQLite file in the user's cache dir,
//! shared by every project, branch and worktree on the machine, so text that
//! was embedded once is never embedded again by the same model.
//!
//! SQLite because it is the standard answer to "a small keyed store that
//! several processes write at once": WAL mode lets readers and one writer
//! proceed together, and `busy_timeout` makes a second writer wait instead of
//! failing. Entries carry a last-used stamp; above the size bound the least
//! recently used are evicted.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

use crate::EmbedError;

/// Identifies one (model variant, text) pair: blake3 of both.
pub type CacheKey = [u8; 32];

/// Builds the key of `text` embedded by `model_key` (model id and variant:
/// int8 and fp32 arithmetic give slightly different vectors).
pub fn cache_key(model_key: &str, text: &str) -> CacheKey {
    let mut hasher = blake3::Hasher::new();
    hasher.update(model_key.as_bytes());
    hasher.update(&[0]);
    hasher.update(text.as_bytes());
    *hasher.finalize().as_bytes()
}

/// A handle on the cache file. Cheap to share behind an `Arc`; calls are
/// serialised on one connection.
pub struct VectorCache {
    connection: Mutex<Connection>,
    path: PathBuf,
    max_entries: u64,
}

/// Bytes SQLite spends per entry besides the vector (key, stamp, b-tree).
const ENTRY_OVERHEAD: u64 = 96;

impl VectorCache {
    /// Opens (creating if needed) the cache at `path`, bounded to about
    /// `max_bytes` for vectors of `dimension` floats.
    pub fn open(path: &Path, max_bytes: u64, dimension: usize) -> Result<Self, EmbedError> {
        let cache_error = |err: rusqlite::Error| EmbedError::Cache {
            path: path.to_path_buf(),
            message: err.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| EmbedError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let connection = Connection::open(path).map_err(cache_error)?;
        connection.busy_timeout(Duration::from_secs(10)).map_err(cache_error)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 CREATE TABLE IF NOT EXISTS vectors (
                     key BLOB PRIMARY KEY,
                     vector BLOB NOT NULL,
                     used INTEGER NOT NULL
                 ) WITHOUT ROWID;
                 CREATE INDEX IF NOT EXISTS vectors_by_use ON vectors (used);",
            )
            .map_err(cache_error)?;
        let entry_bytes = (dimension as u64) * 4 + ENTRY_OVERHEAD;
        Ok(Self {
            connection: Mutex::new(connection),
            path: path.to_path_buf(),
            max_entries: (max_bytes / entry_bytes).max(1),
        })
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Looks every key up; hits get a fresh last-used stamp.
    pub fn get_many(&self, keys: &[CacheKey]) -> Result<Vec<Option<Vec<f32>>>, EmbedError> {
        let mut connection = self.lock();
        let transaction = connection.transaction().map_err(|err| self.error(err))?;
        let now = now_millis();
        let mut found = Vec::with_capacity(keys.len());
        {
            let mut select = transaction
                .prepare_cached("SELECT vector FROM vectors WHERE key = ?1")
                .map_err(|err| self.error(err))?;
            let mut touch = transaction
                .prepare_cached("UPDATE vectors SET used = ?2 WHERE key = ?1")
                .map_err(|err| self.error(err))?;
            for key in keys {
                let blob: Option<Vec<u8>> = select
                    .query_row(params![key.as_slice()], |row| row.get(0))
                    .optional()
                    .map_err(|err| self.error(err))?;
                if blob.is_some() {
                    touch
                        .execute(params![key.as_slice(), now])
                        .map_err(|err| self.error(err))?;
                }
                found.push(blob.map(|bytes| decode(&bytes)));
            }
        }
        transaction.commit().map_err(|err| self.error(err))?;
        Ok(found)
    }

    /// Stores vectors, then evicts the least recently used entries above the
    /// bound.
    pub fn put_many(&self, entries: &[(CacheKey, &[f32])]) -> Result<(), EmbedError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut connection = self.lock();
        let transaction = connection.transaction().map_err(|err| self.error(err))?;
        let now = now_millis();
        {
            let mut insert = transaction
                .prepare_cached("INSERT OR REPLACE INTO vectors (key, vector, used) VALUES (?1, ?2, ?3)")
                .map_err(|err| self.error(err))?;
            for (key, vector) in entries {
                insert
                    .execute(params![key.as_slice(), encode(vector), now])
                    .map_err(|err| self.error(err))?;
            }
            let count: u64 = transaction
                .query_row("SELECT count(*) FROM vectors", [], |row| row.get(0))
                .map_err(|err| self.error(err))?;
            if count > self.max_entries {
                transaction
                    .execute(
                        "DELETE FROM vectors WHERE key IN (SELECT key FROM vectors ORDER BY used LIMIT ?1)",
                        params![count - self.max_entries],
                    )
                    .map_err(|err| self.error(err))?;
            }
        }
        transaction.commit().map_err(|err| self.error(err))
    }

    /// Number of cached vectors.
    pub fn len(&self) -> Result<u64, EmbedError> {
        self.lock()
            .query_row("SELECT count(*) FROM vectors", [], |row| row.get(0))
            .map_err(|err| self.error(err))
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> Result<bool, EmbedError> {
        Ok(self.len()? == 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn error(&self, err: rusqlite::Error) -> EmbedError {
        EmbedError::Cache {
            path: self.path.clone(),
            message: err.to_string(),
        }
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

fn encode(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn decode(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_and_the_bound_evicts_the_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.sqlite");
        // Room for three 2-d vectors.
        let cache = VectorCache::open(&path, 3 * (8 + ENTRY_OVERHEAD), 2).unwrap();
        let keys: Vec<CacheKey> = (0..4).map(|i| cache_key("m", &format!("text {i}"))).collect();
        cache
            .put_many(&[(keys[0], &[1.0, 0.0][..]), (keys[1], &[0.0, 1.0][..])])
            .unwrap();
        std::thread::sleep(Duration::from_millis(5));
        // Touch key 0 so key 1 is the least recently used.
        assert_eq!(cache.get_many(&keys[..1]).unwrap(), vec![Some(vec![1.0, 0.0])]);
        std::thread::sleep(Duration::from_millis(5));
        cache.put_many(&[(keys[2], &[0.5, 0.5][..])]).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        cache.put_many(&[(keys[3], &[0.25, 0.75][..])]).unwrap();
        assert_eq!(cache.len().unwrap(), 3);
        let found = cache.get_many(&keys).unwrap();
        assert_eq!(found[1], None, "the least recently used entry is evicted");
        assert!(found[0].is_some() && found[2].is_some() && found[3].is_some());
        // A second handle (another process, in effect) sees the same entries.
        let other = VectorCache::open(&path, 1 << 20, 2).unwrap();
        assert_eq!(other.get_many(&keys[3..]).unwrap(), vec![Some(vec![0.25, 0.75])]);
    }

    #[test]
    fn keys_separate_models() {
        assert_ne!(cache_key("a", "x"), cache_key("b", "x"));
        assert_ne!(cache_key("a", "x"), cache_key("a", "y"));
    }
}
