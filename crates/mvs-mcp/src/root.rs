//! The project root the server was given and where it came from, so that a
//! root it cannot serve becomes a tool error naming the flag or variable,
//! its value and the fix, instead of a server that dies before the
//! handshake (which clients show only as "Failed to connect").

use std::fmt;
use std::path::PathBuf;

use mvs_index::{IndexError, Project};

use crate::ToolError;

/// Where the binary took the project root from; the error messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    /// A command-line flag, e.g. `--project-root`.
    Flag(&'static str),
    /// An environment variable, e.g. `MCP_PROJECT_ROOT`.
    Env(&'static str),
    /// The server's working directory: the project containing it is served
    /// (the nearest ancestor holding an index, else the git work-tree top,
    /// else the directory itself; see [`Project::containing`]), the same
    /// rule as the CLI's.
    WorkingDirectory,
}

/// The project root to serve and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRoot {
    /// The root as given (not yet checked).
    pub path: PathBuf,
    /// Where `path` came from.
    pub source: RootSource,
}

impl ProjectRoot {
    /// The root `path`, taken from `source`.
    pub fn new(path: impl Into<PathBuf>, source: RootSource) -> Self {
        Self {
            path: path.into(),
            source,
        }
    }

    /// The project at this root, or [`ToolError::BadProjectRoot`] saying
    /// where the root came from, its value, what is wrong with it (missing,
    /// not a directory, unreadable) and how to fix it.
    pub fn open(&self) -> Result<Project, ToolError> {
        let project = match self.source {
            RootSource::WorkingDirectory => Project::containing(&self.path),
            _ => Project::new(&self.path),
        };
        let problem = match project {
            // Listing it is what indexing does first; an unreadable root
            // canonicalises fine but serves nothing.
            Ok(project) => match std::fs::read_dir(project.root()) {
                Ok(_) => return Ok(project),
                Err(err) => format!("cannot be read ({err})"),
            },
            Err(IndexError::NotADirectory(_)) => "is not a directory".to_string(),
            Err(IndexError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                "does not exist".to_string()
            }
            Err(IndexError::Io { source, .. }) => format!("cannot be read ({source})"),
            Err(err) => err.to_string(),
        };
        Err(ToolError::BadProjectRoot(format!(
            "{self} {problem}; {}",
            self.source.fix()
        )))
    }
}

/// The root as the user set it: `the project root MCP_PROJECT_ROOT=/x`,
/// `the project root --project-root /x`, ...
impl fmt::Display for ProjectRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match self.source {
            RootSource::Flag(flag) => write!(f, "the project root {flag} {path}"),
            RootSource::Env(var) => write!(f, "the project root {var}={path}"),
            RootSource::WorkingDirectory => write!(f, "the project root (the working directory) {path}"),
        }
    }
}

impl RootSource {
    /// What the user should do about a bad root from this source. The
    /// server cannot be repaired from inside: the fix is in the client's
    /// server configuration, then a restart.
    fn fix(&self) -> String {
        const RESTART: &str = "then restart the MCP server";
        match self {
            Self::Flag(flag) => {
                format!("pass {flag} the repository to search in the client's server command, {RESTART}")
            }
            Self::Env(var) => format!(
                "set {var} to the repository to search, or unset it and start the server from inside the repository, {RESTART}"
            ),
            Self::WorkingDirectory => {
                format!(
                    "start the server from inside the repository to search, or set MCP_PROJECT_ROOT to it, {RESTART}"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_root_names_its_source_value_and_fix() {
        let root = ProjectRoot::new("/does-not-exist", RootSource::Env("MCP_PROJECT_ROOT"));
        let message = root.open().unwrap_err().to_string();
        assert!(
            message.contains("MCP_PROJECT_ROOT=/does-not-exist does not exist"),
            "{message}"
        );
        assert!(message.contains("set MCP_PROJECT_ROOT to the repository"), "{message}");
    }

    #[test]
    fn a_file_root_is_not_a_directory() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let root = ProjectRoot::new(file, RootSource::Flag("--project-root"));
        let message = root.open().unwrap_err().to_string();
        assert!(
            message.contains(&format!("--project-root {file} is not a directory")),
            "{message}"
        );
        assert!(message.contains("pass --project-root the repository"), "{message}");
    }

    #[test]
    fn a_working_directory_serves_the_project_containing_it() {
        let repo = std::env::temp_dir().join(format!("mvs-mcp-root-{}", std::process::id()));
        let sub = repo.join("services/api");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        let given = ProjectRoot::new(&sub, RootSource::Flag("--project-root")).open();
        let found = ProjectRoot::new(&sub, RootSource::WorkingDirectory).open();
        std::fs::remove_dir_all(&repo).unwrap();
        assert!(given.unwrap().root().ends_with("services/api"));
        assert!(found.unwrap().root().ends_with(repo.file_name().unwrap()));
    }
}
