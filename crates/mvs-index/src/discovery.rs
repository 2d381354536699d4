//! Which files of a project are indexed: git's ignore rules (nested
//! `.gitignore`, `.git/info/exclude`, global excludes, `.ignore`), default
//! excludes for build output and dependencies, and the project's own
//! `.mcp-vector-search/ignore`. Files that `.gitattributes` marks
//! `linguist-generated` are found but flagged, so indexing skips them unless
//! generated files are wanted.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{DirEntry, WalkBuilder};
use mvs_parse::{ChunkOptions, SkipReason};

use crate::project::{INDEX_DIR_NAME, Project};

/// Excluded in every project: dependencies, build output, caches, lock files
/// and minified bundles are never what an agent searches for.
const DEFAULT_EXCLUDES: &[&str] = &[
    ".git/",
    "node_modules/",
    "target/",
    "dist/",
    "build/",
    "vendor/",
    ".venv/",
    "venv/",
    "__pycache__/",
    ".tox/",
    ".mypy_cache/",
    ".pytest_cache/",
    "*.lock",
    "package-lock.json",
    "*.min.js",
    "*.min.css",
];

/// A file found by discovery.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// Absolute path.
    pub path: PathBuf,
    /// Path relative to the project root, `/`-separated.
    pub rel_path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Marked `linguist-generated` by a `.gitattributes` file.
    pub generated: bool,
}

impl Discovered {
    /// Skips decided from discovery alone: the chunker checks the size too,
    /// but checking first avoids reading a huge file only to skip it; the
    /// `.gitattributes` mark is not visible to the chunker.
    pub(crate) fn skip_before_reading(&self, options: &ChunkOptions) -> Option<SkipReason> {
        if self.size > options.max_file_bytes {
            Some(SkipReason::TooLarge)
        } else if self.generated && !options.include_generated {
            Some(SkipReason::LinguistGenerated)
        } else {
            None
        }
    }
}

/// A path discovery could not use, with the reason.
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// The path, as reported.
    pub path: String,
    /// What went wrong.
    pub reason: String,
}

/// The project-level exclusion rules (defaults + the project's ignore file),
/// shared by the indexer and the watcher.
pub struct ProjectIgnore {
    matcher: Gitignore,
}

impl ProjectIgnore {
    /// Builds the matcher for a project.
    pub fn new(project: &Project) -> Self {
        let mut builder = GitignoreBuilder::new(project.root());
        for pattern in DEFAULT_EXCLUDES {
            builder
                .add_line(None, pattern)
                .expect("default exclude patterns are valid globs");
        }
        builder
            .add_line(None, &format!("{INDEX_DIR_NAME}/"))
            .expect("valid glob");
        let project_file = project.index_dir().join("ignore");
        if let Some(err) = project_file.is_file().then(|| builder.add(&project_file)).flatten() {
            tracing::warn!("{}: {err}", project_file.display());
        }
        let matcher = builder.build().unwrap_or_else(|err| {
            tracing::warn!("project ignore rules unusable, using none: {err}");
            Gitignore::empty()
        });
        Self { matcher }
    }

    /// Whether `path` (absolute, inside the project) is excluded.
    pub fn is_excluded(&self, path: &Path, is_dir: bool) -> bool {
        self.matcher.matched_path_or_any_parents(path, is_dir).is_ignore()
    }
}

/// Part of a project: the paths (files or directories, absolute, inside the
/// project) an indexing run looks at, e.g. those a watcher saw change.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The paths themselves.
    targets: std::collections::HashSet<PathBuf>,
    /// Every directory between the root and a target.
    ancestors: std::collections::HashSet<PathBuf>,
    /// The targets relative to the root, `/`-separated.
    relative: Vec<String>,
}

impl Scope {
    /// The scope of `paths` in `project`; paths outside it are dropped.
    pub fn new(project: &Project, paths: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut scope = Scope::default();
        for path in paths {
            let rel = if path == project.root() {
                String::new()
            } else {
                let Some(rel) = project.relative(&path) else {
                    continue;
                };
                rel
            };
            for dir in path.ancestors().skip(1).take_while(|d| d.starts_with(project.root())) {
                scope.ancestors.insert(dir.to_path_buf());
            }
            if scope.targets.insert(path) {
                scope.relative.push(rel);
            }
        }
        scope
    }

    /// Whether the scope holds no path.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Whether a walk must enter or yield `path`: it leads to a target or
    /// lies in one.
    fn wants(&self, path: &Path) -> bool {
        self.ancestors.contains(path) || path.ancestors().any(|p| self.targets.contains(p))
    }

    /// Whether a project-relative path lies in the scope (a target or under one).
    pub fn contains_relative(&self, rel_path: &str) -> bool {
        self.relative.iter().any(|target| {
            target.is_empty()
                || rel_path == target
                || (rel_path.starts_with(target.as_str()) && rel_path.as_bytes().get(target.len()) == Some(&b'/'))
        })
    }

    /// The targets relative to the root.
    pub fn relative_paths(&self) -> &[String] {
        &self.relative
    }
}

/// Walks the project and returns the files to consider, plus what could not
/// be read. Symlinks are not followed, so loops cannot occur.
pub fn discover(project: &Project) -> (Vec<Discovered>, Vec<Unreadable>) {
    discover_in(project, None)
}

/// [`discover`] limited to a scope: the same walk and rules, pruned to the
/// directories that lead to the scope's paths, so checking a few changed
/// files costs a few directory listings, and an ignored path stays ignored
/// however it is named.
pub fn discover_in(project: &Project, scope: Option<&Scope>) -> (Vec<Discovered>, Vec<Unreadable>) {
    let excludes = ProjectIgnore::new(project);
    let scope = scope.cloned().map(std::sync::Arc::new);
    let root = project.root().to_path_buf();
    let mut walker = WalkBuilder::new(&root);
    walker
        .hidden(true)
        .git_ignore(true)
        .git_global(true)
        .git_exclude(true)
        .ignore(true)
        .parents(true)
        .require_git(false)
        .follow_links(false)
        .filter_entry(move |entry: &DirEntry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            scope.as_ref().is_none_or(|scope| scope.wants(entry.path())) && !excludes.is_excluded(entry.path(), is_dir)
        });
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for result in walker.build() {
        let entry = match result {
            Ok(entry) => entry,
            Err(err) => {
                unreadable.push(Unreadable {
                    path: error_path(&err).and_then(|p| project.relative(p)).unwrap_or_default(),
                    reason: err.to_string(),
                });
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(rel_path) = project.relative(entry.path()) else {
            continue;
        };
        match entry.metadata() {
            Ok(metadata) => files.push(Discovered {
                path: entry.path().to_path_buf(),
                rel_path,
                size: metadata.len(),
                mtime_ns: mtime_ns(&metadata),
                generated: false,
            }),
            Err(err) => unreadable.push(Unreadable {
                path: rel_path,
                reason: err.to_string(),
            }),
        }
    }
    files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    let generated = GeneratedMarks::for_files(project.root(), &files);
    for file in &mut files {
        file.generated = generated.is_generated(&file.path);
    }
    (files, unreadable)
}

/// The `linguist-generated` attribute of every `.gitattributes` file in the
/// directories holding `files` (and the root). Pattern syntax is git's, which
/// the `ignore` crate's gitignore matcher implements: `-linguist-generated`
/// and `linguist-generated=false` unset the attribute, and deeper files
/// override shallower ones, as in git.
struct GeneratedMarks {
    /// (directory depth, matcher), shallowest first.
    matchers: Vec<(usize, Gitignore)>,
}

impl GeneratedMarks {
    fn for_files(root: &Path, files: &[Discovered]) -> Self {
        let mut dirs: Vec<PathBuf> = files
            .iter()
            .filter_map(|f| f.path.parent())
            .flat_map(|dir| {
                dir.ancestors()
                    .take_while(|d| d.starts_with(root))
                    .map(Path::to_path_buf)
            })
            .collect();
        dirs.push(root.to_path_buf());
        dirs.sort();
        dirs.dedup();
        let mut matchers: Vec<(usize, Gitignore)> = dirs
            .into_iter()
            .filter_map(|dir| {
                let text = std::fs::read_to_string(dir.join(".gitattributes")).ok()?;
                let mut builder = GitignoreBuilder::new(&dir);
                for line in text.lines() {
                    let mut fields = line.split_whitespace();
                    let Some(pattern) = fields.next().filter(|p| !p.starts_with('#')) else {
                        continue;
                    };
                    // The last setting on the line wins.
                    let mark = fields.fold(None, |mark, attribute| match attribute {
                        "linguist-generated" | "linguist-generated=true" => Some(true),
                        "-linguist-generated" | "linguist-generated=false" | "!linguist-generated" => Some(false),
                        _ => mark,
                    });
                    let line = match mark {
                        Some(true) => pattern.to_string(),
                        Some(false) => format!("!{pattern}"),
                        None => continue,
                    };
                    if let Err(err) = builder.add_line(None, &line) {
                        tracing::warn!("{}: {err}", dir.join(".gitattributes").display());
                    }
                }
                let matcher = builder.build().ok()?;
                Some((dir.components().count(), matcher))
            })
            .collect();
        matchers.sort_by_key(|(depth, _)| *depth);
        Self { matchers }
    }

    fn is_generated(&self, path: &Path) -> bool {
        let mut generated = false;
        for (_, matcher) in &self.matchers {
            if !path.starts_with(matcher.path()) {
                continue;
            }
            match matcher.matched_path_or_any_parents(path, false) {
                ignore::Match::Ignore(_) => generated = true,
                ignore::Match::Whitelist(_) => generated = false,
                ignore::Match::None => {}
            }
        }
        generated
    }
}

/// Modification time in ns since the epoch (0 when the platform has none).
pub fn mtime_ns(metadata: &std::fs::Metadata) -> i64 {
    metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

/// The path an `ignore` walk error is about, if it names one.
fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::Loop { child, .. } => Some(child),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_tree(root: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    /// Git's rules (nested `.gitignore`, negation, `.git/info/exclude`,
    /// `.ignore`), the defaults and the project's ignore file; a scoped walk
    /// applies the same rules to the paths it is given.
    #[test]
    fn ignore_rules_nested_negation_exclude_file_and_scope() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_tree(
            root,
            &[
                (".gitignore", "*.log\n!keep.log\n"),
                (".git/info/exclude", "excluded.rs\n"),
                (".ignore", "scratch/\n"),
                (".mcp-vector-search/ignore", "secret/\n"),
                ("sub/.gitignore", "generated/\n!important.gen.rs\n*.gen.rs\n"),
                ("a.rs", "fn a() {}"),
                ("debug.log", "x"),
                ("keep.log", "x"),
                ("excluded.rs", "fn e() {}"),
                ("scratch/s.rs", "fn s() {}"),
                ("secret/z.rs", "fn z() {}"),
                ("sub/y.rs", "fn y() {}"),
                ("sub/generated/x.rs", "fn x() {}"),
                ("sub/other.gen.rs", "fn o() {}"),
                ("other/deep.gen.rs", "fn d() {}"),
                ("node_modules/m.js", "x"),
                ("target/debug/t.rs", "fn t() {}"),
                ("package-lock.json", "{}"),
                ("web/app.min.js", "x"),
                (".hidden/h.rs", "fn h() {}"),
            ],
        );
        let project = Project::new(root).unwrap();
        let found = |scope: Option<&Scope>| -> Vec<String> {
            discover_in(&project, scope).0.into_iter().map(|f| f.rel_path).collect()
        };
        assert_eq!(
            found(None),
            ["a.rs", "keep.log", "other/deep.gen.rs", "sub/y.rs"],
            "nested rules apply below their directory only"
        );
        let scope = Scope::new(
            &project,
            [
                "sub/generated/x.rs",
                "sub/y.rs",
                "debug.log",
                "secret/z.rs",
                "target/debug/t.rs",
            ]
            .iter()
            .map(|p| project.root().join(p)),
        );
        assert_eq!(
            found(Some(&scope)),
            ["sub/y.rs"],
            "an ignored path stays ignored when named"
        );
        assert!(scope.contains_relative("sub/generated/x.rs") && !scope.contains_relative("sub/yy.rs"));
    }

    #[test]
    fn gitattributes_mark_generated_files_nested_and_unset() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            ".gitattributes",
            "*.pb.go linguist-generated\napi/** linguist-generated=true\n# comment\n",
        );
        write("api/.gitattributes", "handwritten.go -linguist-generated\n");
        write("svc/user.pb.go", "package svc");
        write("svc/user.go", "package svc");
        write("api/client.go", "package api");
        write("api/handwritten.go", "package api");
        let project = Project::new(root).unwrap();
        let (files, _) = discover(&project);
        let generated: Vec<&str> = files
            .iter()
            .filter(|f| f.generated)
            .map(|f| f.rel_path.as_str())
            .collect();
        assert_eq!(generated, ["api/client.go", "svc/user.pb.go"]);
        assert_eq!(files.len(), 4, "flagged files are still discovered");
    }
}
