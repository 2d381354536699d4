//! A project on disk: its root, its index directory and the writer lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use mvs_store::SharedIndex;

use crate::IndexError;

/// Name of the index directory inside a project.
pub const INDEX_DIR_NAME: &str = ".mcp-vector-search";

/// A project root and where its index lives.
#[derive(Debug, Clone)]
pub struct Project {
    root: PathBuf,
    index_dir: PathBuf,
    chosen_by: RootRule,
    shared: Option<SharedIndex>,
}

/// Which rule chose a project's root: the same rule for the CLI and the MCP
/// server, reported by `status` and `get_project_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RootRule {
    /// Given by the caller (`--project-root`, `MCP_PROJECT_ROOT`, a path
    /// argument).
    Given,
    /// The nearest ancestor of the working directory holding an index.
    NearestIndex,
    /// The top of the git work tree holding the working directory.
    GitWorkTree,
    /// The working directory itself (no index or git work tree above it).
    WorkingDirectory,
}

impl RootRule {
    /// The rule's name, as serialised (`given`, `nearest_index`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Given => "given",
            Self::NearestIndex => "nearest_index",
            Self::GitWorkTree => "git_work_tree",
            Self::WorkingDirectory => "working_directory",
        }
    }
}

impl Project {
    /// A project rooted at `root` (canonicalised when possible, so every
    /// path handed out is inside the real root).
    pub fn new(root: &Path) -> Result<Self, IndexError> {
        let root = root.canonicalize().map_err(|source| IndexError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        if !root.is_dir() {
            return Err(IndexError::NotADirectory(root));
        }
        let index_dir = root.join(INDEX_DIR_NAME);
        Ok(Self {
            root,
            index_dir,
            chosen_by: RootRule::Given,
            shared: None,
        })
    }

    /// The project containing `start` (the working directory): the nearest
    /// ancestor holding an index, else the top of the git work tree (the
    /// nearest ancestor holding `.git`, a directory or a worktree's file),
    /// else `start` itself. [`Project::chosen_by`] says which.
    pub fn containing(start: &Path) -> Result<Self, IndexError> {
        let start = start.canonicalize().map_err(|source| IndexError::Io {
            path: start.to_path_buf(),
            source,
        })?;
        let with = |marker: &str| {
            start
                .ancestors()
                .find(|dir| dir.join(marker).exists())
                .map(Path::to_path_buf)
        };
        let (root, rule) = match (with(INDEX_DIR_NAME), with(".git")) {
            (Some(root), _) => (root, RootRule::NearestIndex),
            (None, Some(root)) => (root, RootRule::GitWorkTree),
            (None, None) => (start, RootRule::WorkingDirectory),
        };
        Ok(Self {
            chosen_by: rule,
            ..Self::new(&root)?
        })
    }

    /// This project with a shared index (`MCP_VECTOR_SEARCH_INDEX_URI`):
    /// a run without a usable local index starts from its published
    /// generation, a run with [`crate::IndexOptions::publish`] publishes to
    /// it, and searching without a local index reads it directly.
    pub fn with_shared(self, shared: Option<SharedIndex>) -> Self {
        Self { shared, ..self }
    }

    /// The shared index, if any.
    pub fn shared(&self) -> Option<&SharedIndex> {
        self.shared.as_ref()
    }

    /// Which rule chose this root.
    pub fn chosen_by(&self) -> RootRule {
        self.chosen_by
    }

    /// The real path of `path` (relative to the root, or absolute), which
    /// must exist and lie inside the root once symlinks are resolved: the
    /// only way tools turn a caller's path into a file to read.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, IndexError> {
        let joined = self.root.join(path.trim());
        let real = joined.canonicalize().map_err(|source| IndexError::Io {
            path: PathBuf::from(path),
            source,
        })?;
        if !real.starts_with(&self.root) {
            return Err(IndexError::OutsideProject {
                path: path.to_string(),
                root: self.root.clone(),
            });
        }
        Ok(real)
    }

    /// Like [`Project::resolve`], but `path` may be gone (a deleted file
    /// to drop from the index): the part that exists is resolved and must lie
    /// inside the root; the rest must not climb out with `..`.
    pub fn resolve_maybe_deleted(&self, path: &str) -> Result<PathBuf, IndexError> {
        let joined = self.root.join(path.trim());
        if joined.exists() {
            return self.resolve(path);
        }
        let outside = || IndexError::OutsideProject {
            path: path.to_string(),
            root: self.root.clone(),
        };
        let existing = joined.ancestors().find(|a| a.exists()).ok_or_else(outside)?;
        let rest = joined.strip_prefix(existing).map_err(|_| outside())?;
        if rest.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            return Err(outside());
        }
        let real = existing.canonicalize().map_err(|source| IndexError::Io {
            path: PathBuf::from(path),
            source,
        })?;
        if !real.starts_with(&self.root) {
            return Err(outside());
        }
        Ok(real.join(rest))
    }

    /// The project root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/.mcp-vector-search`.
    pub fn index_dir(&self) -> &Path {
        &self.index_dir
    }

    /// Path of `path` relative to the root, `/`-separated; `None` outside it.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        (!parts.is_empty()).then(|| parts.join("/"))
    }

    /// Creates the index directory with a `.gitignore` of `*`, so git ignores
    /// the index without the user's own ignore files being touched.
    pub fn ensure_index_dir(&self) -> Result<(), IndexError> {
        let io = |source| IndexError::Io {
            path: self.index_dir.clone(),
            source,
        };
        std::fs::create_dir_all(&self.index_dir).map_err(io)?;
        let gitignore = self.index_dir.join(".gitignore");
        if !gitignore.exists() {
            std::fs::write(&gitignore, "*\n").map_err(io)?;
        }
        Ok(())
    }

    /// Whether another process holds the writer lock now, and its pid (0
    /// when unknown). Read-only: no index directory or lock file means no
    /// writer, and nothing is created; the probe takes a shared lock for a
    /// moment, which only a writer's exclusive lock conflicts with.
    pub fn writer_active(&self) -> Option<u32> {
        let mut file = File::open(self.index_dir.join(LOCK_FILE)).ok()?;
        match file.try_lock_shared() {
            Ok(()) => None,
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                Some(holder.trim().parse().unwrap_or(0))
            }
            Err(TryLockError::Error(_)) => None,
        }
    }
}

/// The per-index cross-process writer lock (an OS file lock, released by the
/// kernel when the holder exits, so a killed indexer leaves no stale lock).
/// The holder's pid is written into the file for error messages.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

const LOCK_FILE: &str = "writer.lock";

/// How long a writer waits for a brief holder (a status probe takes the
/// lock for microseconds) before reporting who holds it.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

impl WriterLock {
    /// Takes the lock, waiting up to [`LOCK_PATIENCE`], or reports who holds it.
    pub fn acquire(project: &Project) -> Result<Self, IndexError> {
        let deadline = std::time::Instant::now() + LOCK_PATIENCE;
        loop {
            match Self::try_acquire(project) {
                Err(IndexError::LockHeld { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                result => return result,
            }
        }
    }

    /// Takes the lock if it is free now, or reports who holds it.
    fn try_acquire(project: &Project) -> Result<Self, IndexError> {
        project.ensure_index_dir()?;
        let path = project.index_dir().join(LOCK_FILE);
        let io = |source| IndexError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0).map_err(io)?;
                file.rewind().map_err(io)?;
                write!(file, "{}", std::process::id()).map_err(io)?;
                Ok(Self { _file: file })
            }
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                Err(IndexError::LockHeld {
                    index_dir: project.index_dir().to_path_buf(),
                    pid: holder.trim().parse().ok(),
                })
            }
            Err(TryLockError::Error(source)) => Err(io(source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_only_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "fn a() {}").unwrap();
        let project = Project::new(dir.path()).unwrap();
        assert!(project.resolve("src/lib.rs").unwrap().ends_with("src/lib.rs"));
        assert!(project.resolve("./src/../src/lib.rs").is_ok());
        let absolute_inside = dir.path().join("src/lib.rs");
        assert!(project.resolve(absolute_inside.to_str().unwrap()).is_ok());
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("src/link.txt")).unwrap();
        let escapes = [
            "../secret.txt".to_string(),
            outside.path().join("secret.txt").to_string_lossy().into_owned(),
            "src/link.txt".to_string(),
        ];
        for escape in escapes {
            let error = project.resolve(&escape).unwrap_err().to_string();
            assert!(
                error.contains("outside the project") || error.contains("No such file"),
                "{escape}: {error}"
            );
        }
        assert!(matches!(
            project.resolve("src/link.txt"),
            Err(IndexError::OutsideProject { .. })
        ));
    }
}
