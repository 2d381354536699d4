//! Which files of a project are indexed, and why the others are not.
//!
//! Git's rules decide first (nested `.gitignore`, `.git/info/exclude`,
//! global excludes, and `.ignore`, applied by the `ignore` crate's walk, in a
//! git work tree or not). Default excludes ([`DEFAULT_EXCLUDES`]) only fill
//! in where git says nothing: a path that a `!` rule re-includes, or that
//! lies on the way to one, is never excluded by default. Build output names
//! that are also ordinary source directories ([`DEFAULT_EXCLUDES_OUTSIDE_GIT`])
//! are left to git in a work tree. The project's own
//! `.mcp-vector-search/ignore` excludes, or (with `!`) re-includes what a
//! default excludes. Hidden files and directories are walked (tracked
//! `.github/` scripts are code); git's directory and the index are not.
//!
//! Every path not indexed for a reason a user did not write down is reported
//! with a [`SkipKind`]: defaults, secrets, symlinks here; what the chunker
//! refuses (binary, too large, minified ...) in the pipeline and the survey.
//! Files that `.gitattributes` marks `linguist-generated` are found but
//! flagged, so indexing skips them unless generated files are wanted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{DirEntry, WalkBuilder};
use mvs_parse::{ChunkOptions, SkipReason};
use serde::{Deserialize, Serialize};

use crate::project::{INDEX_DIR_NAME, Project};
use crate::run_record;

/// Excluded wherever git's rules say nothing about a path: dependencies,
/// virtual environments, caches, other version control systems' data, lock
/// files and minified bundles are never what an agent searches for.
/// README's "What is indexed" lists them; a project re-includes one with a
/// `!` line in `.gitignore` or `.mcp-vector-search/ignore`.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    // Dependencies and virtual environments.
    "node_modules/",
    "bower_components/",
    "jspm_packages/",
    ".yarn/",
    ".pnpm-store/",
    ".venv/",
    "venv/",
    ".tox/",
    ".nox/",
    ".eggs/",
    "*.egg-info/",
    // Caches and tools' build output.
    "__pycache__/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".cache/",
    ".gradle/",
    ".next/",
    ".nuxt/",
    ".svelte-kit/",
    ".parcel-cache/",
    ".turbo/",
    ".terraform/",
    "target/",
    // Jupyter's autosaved copies of every notebook.
    ".ipynb_checkpoints/",
    // Editor state and other version control systems.
    ".idea/",
    ".hg/",
    ".svn/",
    // Lock files and minified bundles.
    "*.lock",
    "package-lock.json",
    "pnpm-lock.yaml",
    "*.min.js",
    "*.min.css",
];

/// Build output names that are also ordinary source directories (a Go
/// package `build`, a committed `dist/` bundle, vendored sources): excluded
/// by default only outside a git work tree; inside one, git's rules decide.
pub const DEFAULT_EXCLUDES_OUTSIDE_GIT: &[&str] = &["dist/", "build/", "vendor/"];

/// Never walked, whatever any rule says: git's data, the files that hold
/// ignore rules and attributes (rules, not code), and the index.
const ALWAYS_EXCLUDED: &[&str] = &[
    ".git",
    ".gitignore",
    ".gitattributes",
    ".gitmodules",
    ".ignore",
    INDEX_DIR_NAME,
];

/// Ignore files whose `!` rules can re-include a path a default excludes.
const IGNORE_FILES: &[&str] = &[".gitignore", ".ignore"];

/// How many paths per reason skip lists show.
pub const SKIPPED_PATHS_SHOWN: usize = 20;

/// Why a path is not indexed. The snake_case names are stable: status, the
/// dry run and the files table use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    /// Neither a grammar nor a known text format for its name.
    UnsupportedLanguage,
    /// Larger than the size limit (`MCP_VECTOR_SEARCH_MAX_FILE_SIZE`).
    TooLarge,
    /// Minified or otherwise machine-packed (very long lines).
    Minified,
    /// Carries a generated-code marker (`@generated`, `DO NOT EDIT` ...).
    Generated,
    /// Marked `linguist-generated` in `.gitattributes`.
    LinguistGenerated,
    /// Not text (NUL bytes).
    Binary,
    /// Empty or only whitespace.
    Empty,
    /// Could not be read (permissions; gone while read).
    Unreadable,
    /// Its name looks like it holds secrets ([`is_secret_name`]).
    Secret,
    /// Matched by a default exclude ([`DEFAULT_EXCLUDES`]) that git's rules
    /// did not decide; a directory is reported once, ending with `/`.
    IgnoredByDefault,
    /// A symbolic link whose target does not exist.
    DanglingSymlink,
    /// A symbolic link to a path outside the project root: never followed.
    SymlinkOutsideRoot,
    /// A symbolic link to a path inside the root that is indexed (or
    /// skipped) once already: under its own path, through another link
    /// first, or a directory holding the link (a loop).
    SymlinkDuplicate,
}

impl SkipKind {
    /// Every kind, in order.
    pub const ALL: [SkipKind; 13] = [
        SkipKind::UnsupportedLanguage,
        SkipKind::TooLarge,
        SkipKind::Minified,
        SkipKind::Generated,
        SkipKind::LinguistGenerated,
        SkipKind::Binary,
        SkipKind::Empty,
        SkipKind::Unreadable,
        SkipKind::Secret,
        SkipKind::IgnoredByDefault,
        SkipKind::DanglingSymlink,
        SkipKind::SymlinkOutsideRoot,
        SkipKind::SymlinkDuplicate,
    ];

    /// The stable name (as serialised, and as the files table records it).
    pub fn as_str(self) -> &'static str {
        match self {
            SkipKind::UnsupportedLanguage => "unsupported_language",
            SkipKind::TooLarge => "too_large",
            SkipKind::Minified => "minified",
            SkipKind::Generated => "generated",
            SkipKind::LinguistGenerated => "linguist_generated",
            SkipKind::Binary => "binary",
            SkipKind::Empty => "empty",
            SkipKind::Unreadable => "unreadable",
            SkipKind::Secret => "secret",
            SkipKind::IgnoredByDefault => "ignored_by_default",
            SkipKind::DanglingSymlink => "dangling_symlink",
            SkipKind::SymlinkOutsideRoot => "symlink_outside_root",
            SkipKind::SymlinkDuplicate => "symlink_duplicate",
        }
    }

    /// The kind named `name` ([`SkipKind::as_str`]), if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for SkipKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<SkipReason> for SkipKind {
    fn from(reason: SkipReason) -> Self {
        match reason {
            SkipReason::Binary => SkipKind::Binary,
            SkipReason::TooLarge => SkipKind::TooLarge,
            SkipReason::Empty => SkipKind::Empty,
            SkipReason::UnsupportedLanguage => SkipKind::UnsupportedLanguage,
            SkipReason::Generated => SkipKind::Generated,
            SkipReason::LinguistGenerated => SkipKind::LinguistGenerated,
            SkipReason::Minified => SkipKind::Minified,
        }
    }
}

/// Skipped paths per reason: every one counted, the first
/// [`SKIPPED_PATHS_SHOWN`] in path order kept. Serialised as two fields of
/// the enclosing object: `skipped` (counts) and `skipped_paths`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SkipList {
    /// Paths skipped, per reason.
    #[serde(rename = "skipped")]
    pub counts: BTreeMap<SkipKind, usize>,
    /// The first [`SKIPPED_PATHS_SHOWN`] of them per reason, in path order
    /// (`/`-separated, relative to the root; a directory ends with `/`).
    #[serde(rename = "skipped_paths")]
    pub paths: BTreeMap<SkipKind, Vec<String>>,
}

impl SkipList {
    /// Counts `path` under `kind`, keeping it if it is among the first.
    pub fn add(&mut self, kind: SkipKind, path: String) {
        self.add_counted(kind, 1, [path]);
    }

    /// Counts `count` paths under `kind`, of which `shown` are kept if they
    /// are among the first (merging a list that was already cut short).
    pub fn add_counted(&mut self, kind: SkipKind, count: usize, shown: impl IntoIterator<Item = String>) {
        *self.counts.entry(kind).or_default() += count;
        let kept = self.paths.entry(kind).or_default();
        for path in shown {
            if let Err(at) = kept.binary_search(&path)
                && at < SKIPPED_PATHS_SHOWN
            {
                kept.insert(at, path);
                kept.truncate(SKIPPED_PATHS_SHOWN);
            }
        }
    }
}

/// One line per reason, for people: `  skipped (binary): 3: a.png, b.png,
/// c.bin`, with `and N more` where the list was cut.
impl std::fmt::Display for SkipList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (kind, count) in &self.counts {
            let shown = self.paths.get(kind).map(Vec::as_slice).unwrap_or_default();
            write!(f, "  skipped ({kind}): {count}")?;
            if !shown.is_empty() {
                write!(f, ": {}", shown.join(", "))?;
            }
            if *count > shown.len() {
                write!(f, " and {} more", count - shown.len())?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

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

impl Unreadable {
    /// The path for a skip list; the error where it names no path.
    pub fn shown(self) -> String {
        if self.path.is_empty() {
            format!("({})", self.reason)
        } else {
            self.path
        }
    }
}

/// Why the project's rules exclude a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exclusion {
    /// Git's directory and files, the index, or a line of the project's
    /// ignore file: decided, not reported.
    Written,
    /// A default exclude that git's rules did not decide: reported as
    /// [`SkipKind::IgnoredByDefault`].
    Default,
}

/// The project-level exclusion rules, shared by the indexer and the watcher:
/// git's data and the index, the default excludes where git's rules say
/// nothing, and the project's own ignore file. Git's rules themselves are
/// applied by the walk.
pub struct ProjectIgnore {
    /// [`ALWAYS_EXCLUDED`].
    always: Gitignore,
    /// The defaults, then the lines of `.mcp-vector-search/ignore` (last
    /// match wins, so its `!` lines re-include what a default excludes).
    rules: Gitignore,
    /// The top of the git work tree holding the root, else the root: ignore
    /// files are looked for up to there.
    top: PathBuf,
    /// Re-includes of the files that are not per directory: the project's
    /// ignore file, `.git/info/exclude`, the global excludes file.
    fixed_reincludes: Vec<Reincludes>,
    /// Re-includes of the per-directory ignore files, by directory, read
    /// when a default first matches below it (an instance lives for one
    /// walk, or for one watcher).
    reincludes: Mutex<HashMap<PathBuf, Arc<Vec<Reincludes>>>>,
}

impl ProjectIgnore {
    /// The rules of `project`; reads its ignore file and git's exclude
    /// files.
    pub fn new(project: &Project) -> Self {
        let root = project.root();
        let git_top = root.ancestors().find(|dir| dir.join(".git").exists());
        let outside_git = if git_top.is_none() {
            DEFAULT_EXCLUDES_OUTSIDE_GIT
        } else {
            &[]
        };
        let mut builder = GitignoreBuilder::new(root);
        for pattern in DEFAULT_EXCLUDES.iter().chain(outside_git) {
            builder
                .add_line(None, pattern)
                .expect("default exclude patterns are valid globs");
        }
        let project_file = project.index_dir().join("ignore");
        if let Some(err) = project_file.is_file().then(|| builder.add(&project_file)).flatten() {
            tracing::warn!("{}: {err}", project_file.display());
        }
        let rules = builder.build().unwrap_or_else(|err| {
            tracing::warn!("project ignore rules unusable, using none: {err}");
            Gitignore::empty()
        });
        let mut always = GitignoreBuilder::new(root);
        for name in ALWAYS_EXCLUDED {
            always.add_line(None, name).expect("valid glob");
        }
        let top = git_top.unwrap_or(root).to_path_buf();
        let fixed_reincludes = [
            (root.to_path_buf(), Some(project_file)),
            (top.clone(), Some(top.join(".git").join("info").join("exclude"))),
            (top.clone(), ignore::gitignore::gitconfig_excludes_path()),
        ]
        .into_iter()
        .filter_map(|(dir, file)| Reincludes::read(&dir, &file?))
        .collect();
        Self {
            always: always.build().expect("valid globs"),
            rules,
            top,
            fixed_reincludes,
            reincludes: Mutex::default(),
        }
    }

    /// Whether `path` (absolute, inside the project) is excluded, itself or
    /// by a directory above it.
    pub fn is_excluded(&self, path: &Path, is_dir: bool) -> bool {
        self.exclusion(path, is_dir).is_some()
    }

    /// Why `path` (absolute, inside the project) is excluded, itself or by
    /// a directory above it, if it is.
    fn exclusion(&self, path: &Path, is_dir: bool) -> Option<Exclusion> {
        if !path.starts_with(self.always.path()) {
            return None;
        }
        if self.always.matched_path_or_any_parents(path, is_dir).is_ignore() {
            return Some(Exclusion::Written);
        }
        match self.rules.matched_path_or_any_parents(path, is_dir) {
            ignore::Match::Ignore(glob) if glob.from().is_some() => Some(Exclusion::Written),
            ignore::Match::Ignore(_) if !self.reincluded(path, is_dir) => Some(Exclusion::Default),
            _ => None,
        }
    }

    /// Whether a `!` rule re-includes `path` or something below it: the
    /// project's ignore file, git's exclude files, or an ignore file of a
    /// directory above `path` (up to the top of the work tree).
    fn reincluded(&self, path: &Path, is_dir: bool) -> bool {
        self.fixed_reincludes.iter().any(|rules| rules.covers(path, is_dir))
            || path
                .ancestors()
                .skip(1)
                .take_while(|dir| dir.starts_with(&self.top))
                .any(|dir| self.reincludes_in(dir).iter().any(|rules| rules.covers(path, is_dir)))
    }

    /// The re-includes of `dir`'s own ignore files ([`IGNORE_FILES`]).
    fn reincludes_in(&self, dir: &Path) -> Arc<Vec<Reincludes>> {
        let read = || {
            Arc::new(
                IGNORE_FILES
                    .iter()
                    .filter_map(|name| Reincludes::read(dir, &dir.join(name)))
                    .collect(),
            )
        };
        match self.reincludes.lock() {
            Ok(mut cache) => Arc::clone(cache.entry(dir.to_path_buf()).or_insert_with(read)),
            Err(_) => read(),
        }
    }
}

/// What the `!` rules of one ignore file re-include, so that a default
/// exclude does not prune it: `!node_modules/local/` keeps `node_modules/`
/// walked (where git's rules, and the defaults for everything else in it,
/// still apply) and `node_modules/local/` indexed.
struct Reincludes {
    /// The re-included paths (with everything below them).
    targets: Gitignore,
    /// The directories on the way to an anchored target (only these).
    ways: Gitignore,
}

impl Reincludes {
    /// The `!` rules of the ignore file `file` in `dir`; `None` when it is
    /// missing or has none.
    fn read(dir: &Path, file: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(file).ok()?;
        let mut targets = GitignoreBuilder::new(dir);
        let mut ways = GitignoreBuilder::new(dir);
        let mut any = false;
        for line in text.lines() {
            let Some(rule) = line.trim_end().strip_prefix('!') else {
                continue;
            };
            let (rule, only_dir) = rule.strip_suffix('/').map_or((rule, ""), |rule| (rule, "/"));
            // As in git: a slash at the start or in the middle anchors a rule
            // to its file's directory; without one it names a path anywhere.
            let anchor = if rule.contains('/') { "/" } else { "" };
            let parts: Vec<&str> = rule.trim_start_matches('/').split('/').collect();
            if parts.iter().all(|part| part.is_empty()) {
                continue;
            }
            any |= targets
                .add_line(None, &format!("{anchor}{}{only_dir}", parts.join("/")))
                .is_ok();
            for end in 1..parts.len() {
                // A way made only of `**` would lead everywhere.
                if parts[..end].iter().any(|part| *part != "**") {
                    let _ = ways.add_line(None, &format!("/{}/", parts[..end].join("/")));
                }
            }
        }
        any.then(|| {
            Some(Self {
                targets: targets.build().ok()?,
                ways: ways.build().ok()?,
            })
        })
        .flatten()
    }

    /// Whether `path` is re-included, lies below a re-included path, or is
    /// a directory on the way to one.
    fn covers(&self, path: &Path, is_dir: bool) -> bool {
        self.targets.matched_path_or_any_parents(path, is_dir).is_ignore()
            || self.ways.matched(path, is_dir).is_ignore()
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
/// be read. Symbolic links inside the root are followed once (see
/// [`discover_with_skips`]), so loops cannot occur.
pub fn discover(project: &Project) -> (Vec<Discovered>, Vec<Unreadable>) {
    discover_in(project, None)
}

/// [`discover`] limited to a scope: the same walk and rules, pruned to the
/// directories that lead to the scope's paths, so checking a few changed
/// files costs a few directory listings, and an ignored path stays ignored
/// however it is named.
pub fn discover_in(project: &Project, scope: Option<&Scope>) -> (Vec<Discovered>, Vec<Unreadable>) {
    let found = discover_with_skips(project, scope);
    (found.files, found.unreadable)
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The files to consider, in path order.
    pub files: Vec<Discovered>,
    /// Paths the walk skipped for a reason nobody wrote down (defaults,
    /// secrets, symlinks), in walk order; a directory ends with `/`. What
    /// git's rules or the project's ignore file exclude is not listed.
    pub skipped: Vec<(SkipKind, String)>,
    /// Paths the walk could not read.
    pub unreadable: Vec<Unreadable>,
    /// The symbolic links followed, as (link, target) relative to the root:
    /// the target's files are indexed under the link's path, so a change
    /// to the target is a change to the link (the watcher maps one to the
    /// other).
    pub followed_links: Vec<(String, String)>,
}

impl Discovery {
    /// The skips as a [`SkipList`], with the unreadable paths as
    /// [`SkipKind::Unreadable`].
    pub fn skip_list(&self) -> SkipList {
        let mut list = SkipList::default();
        for (kind, path) in &self.skipped {
            list.add(*kind, path.clone());
        }
        for unreadable in &self.unreadable {
            list.add(SkipKind::Unreadable, unreadable.clone().shown());
        }
        list
    }
}

/// [`discover_in`], also returning what the walk skipped and why.
///
/// Symbolic links are resolved once each, after the walk, in path order:
/// - a missing target (or a loop of links): [`SkipKind::DanglingSymlink`];
/// - a target outside the root: [`SkipKind::SymlinkOutsideRoot`];
/// - a target the walk reaches under its own path (git's rules, the
///   defaults and the project's ignore file let it and its directories
///   in), one an earlier link already led to, or a directory holding the
///   link (a loop): [`SkipKind::SymlinkDuplicate`], indexed once under the
///   other path;
/// - else (the target is excluded, e.g. a git-ignored `impl/` that
///   `Sources/` links into) the link is indexed under its own path: a file
///   as it is, a directory walked under the link's path with the rules
///   applying to those paths (links inside it resolved the same way).
///
/// The secret-name rule applies to a link's name and its target's; links
/// into git's directory or the index are dropped as those paths are. A link
/// to a directory is listed with a trailing `/`. Whether a link duplicates
/// its target does not depend on the scope.
pub fn discover_with_skips(project: &Project, scope: Option<&Scope>) -> Discovery {
    let walker = Walker::new(project, scope);
    let mut found = Discovery::default();
    let mut links = BTreeMap::new();
    walker.walk(project.root(), &mut found, &mut links, None);
    walker.follow(links, &mut found);
    let by_default = std::mem::take(
        &mut *walker
            .by_default
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    found
        .skipped
        .extend(by_default.into_iter().map(|path| (SkipKind::IgnoredByDefault, path)));
    found.files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    let generated = GeneratedMarks::for_files(project.root(), &found.files);
    for file in &mut found.files {
        file.generated = generated.is_generated(&file.path);
    }
    found
}

/// The walks of one discovery: the root's, those of linked directories
/// (under their links' paths) and the probes that decide whether a link's
/// target is indexed under its own path, all under the project's rules.
struct Walker {
    project: Project,
    excludes: Arc<ProjectIgnore>,
    scope: Option<Arc<Scope>>,
    /// Paths a default excludes, filled by the walks' filters (a walk owns
    /// its filter), read once the walks are over.
    by_default: Arc<Mutex<Vec<String>>>,
}

/// What a symbolic link leads to, once resolved.
enum LinkTarget {
    /// A file to index under the link's path (its path relative to the root).
    File(String),
    /// A directory to walk under the link's path (its path relative to the root).
    Dir(String),
    /// Not followed, for a reason listed under the path shown.
    Skipped(SkipKind, String),
    /// Into git's directory or the index: dropped, as those paths are.
    Dropped,
}

impl Walker {
    fn new(project: &Project, scope: Option<&Scope>) -> Self {
        Self {
            project: project.clone(),
            excludes: Arc::new(ProjectIgnore::new(project)),
            scope: scope.cloned().map(Arc::new),
            by_default: Arc::default(),
        }
    }

    /// A walk from `start` under git's rules and [`ProjectIgnore`]'s,
    /// entering only the paths `wants` accepts (the start is always
    /// entered); with `record`, what a default excludes is recorded.
    fn build(&self, start: &Path, wants: impl Fn(&Path) -> bool + Send + Sync + 'static, record: bool) -> ignore::Walk {
        let excludes = Arc::clone(&self.excludes);
        let by_default = record.then(|| Arc::clone(&self.by_default));
        let project = self.project.clone();
        WalkBuilder::new(start)
            .hidden(false)
            .git_ignore(true)
            .git_global(true)
            .git_exclude(true)
            .ignore(true)
            .parents(true)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |entry: &DirEntry| {
                if !wants(entry.path()) {
                    return false;
                }
                // A link to a directory is a directory to the defaults:
                // `node_modules/` excludes a linked `node_modules` too.
                let is_dir =
                    entry.file_type().is_some_and(|t| t.is_dir()) || (entry.path_is_symlink() && entry.path().is_dir());
                match excludes.exclusion(entry.path(), is_dir) {
                    None => true,
                    Some(Exclusion::Written) => false,
                    Some(Exclusion::Default) => {
                        if let (Some(by_default), Some(rel_path)) = (&by_default, project.relative(entry.path()))
                            && let Ok(mut skipped) = by_default.lock()
                        {
                            skipped.push(if is_dir { format!("{rel_path}/") } else { rel_path });
                        }
                        false
                    }
                }
            })
            .build()
    }

    /// Walks `start` (the root, or a linked directory under its link's
    /// path) in the scope: files go to `found`, links to `links` (by path
    /// relative to the root) for [`Walker::follow`]. In a linked directory
    /// (`taken`: the real paths already indexed through links), a file
    /// whose real path was taken is a duplicate.
    fn walk(
        &self,
        start: &Path,
        found: &mut Discovery,
        links: &mut BTreeMap<String, PathBuf>,
        mut taken: Option<&mut HashSet<PathBuf>>,
    ) {
        let scope = self.scope.clone();
        let wants = move |path: &Path| scope.as_ref().is_none_or(|scope| scope.wants(path));
        for result in self.build(start, wants, true) {
            let entry = match result {
                Ok(entry) => entry,
                Err(err) => {
                    found.unreadable.push(Unreadable {
                        path: error_path(&err)
                            .and_then(|p| self.project.relative(p))
                            .unwrap_or_default(),
                        reason: err.to_string(),
                    });
                    continue;
                }
            };
            // The start: the root, or the link being followed.
            if entry.depth() == 0 {
                continue;
            }
            let Some(rel_path) = self.project.relative(entry.path()) else {
                continue;
            };
            if entry.path_is_symlink() {
                links.insert(rel_path, entry.path().to_path_buf());
                continue;
            }
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            // Keys and credentials never enter the index, whatever the ignore files say.
            if is_secret_name(&rel_path) {
                found.skipped.push((SkipKind::Secret, rel_path));
                continue;
            }
            if let Some(taken) = taken.as_deref_mut()
                && let Ok(real) = entry.path().canonicalize()
                && !taken.insert(real)
            {
                found.skipped.push((SkipKind::SymlinkDuplicate, rel_path));
                continue;
            }
            push_file(found, entry.path(), rel_path);
        }
    }

    /// Resolves `links` in path order, and the links found in the
    /// directories they lead to: each real path is indexed at most once.
    fn follow(&self, mut links: BTreeMap<String, PathBuf>, found: &mut Discovery) {
        let mut taken = HashSet::new();
        while let Some((rel_path, link)) = links.pop_first() {
            match self.resolve(&link, &rel_path, &mut taken) {
                LinkTarget::File(target) => {
                    found.followed_links.push((rel_path.clone(), target));
                    push_file(found, &link, rel_path);
                }
                LinkTarget::Dir(target) => {
                    found.followed_links.push((rel_path, target));
                    self.walk(&link, found, &mut links, Some(&mut taken));
                }
                LinkTarget::Skipped(kind, shown) => found.skipped.push((kind, shown)),
                LinkTarget::Dropped => {}
            }
        }
    }

    /// What the link at `link` (`rel_path`) leads to; a target it is
    /// followed to is added to `taken` (real paths indexed through links).
    fn resolve(&self, link: &Path, rel_path: &str, taken: &mut HashSet<PathBuf>) -> LinkTarget {
        let Ok(target) = link.canonicalize() else {
            return LinkTarget::Skipped(SkipKind::DanglingSymlink, rel_path.to_string());
        };
        let is_dir = target.is_dir();
        let shown = if is_dir {
            format!("{rel_path}/")
        } else {
            rel_path.to_string()
        };
        let Some(target_rel) = self.project.relative(&target) else {
            // The root itself is a directory holding the link.
            let kind = if target == self.project.root() {
                SkipKind::SymlinkDuplicate
            } else {
                SkipKind::SymlinkOutsideRoot
            };
            return LinkTarget::Skipped(kind, shown);
        };
        if self
            .excludes
            .always
            .matched_path_or_any_parents(&target, is_dir)
            .is_ignore()
        {
            return LinkTarget::Dropped;
        }
        if !is_dir && (is_secret_name(rel_path) || is_secret_name(&target_rel)) {
            return LinkTarget::Skipped(SkipKind::Secret, shown);
        }
        let holds_link = is_dir
            && link
                .parent()
                .and_then(|parent| parent.canonicalize().ok())
                .is_some_and(|parent| parent.starts_with(&target));
        if holds_link || target.ancestors().any(|dir| taken.contains(dir)) || self.reaches(&target) {
            return LinkTarget::Skipped(SkipKind::SymlinkDuplicate, shown);
        }
        taken.insert(target);
        if is_dir {
            LinkTarget::Dir(target_rel)
        } else {
            LinkTarget::File(target_rel)
        }
    }

    /// Whether the walk of the root reaches `target` (a real path inside
    /// the root) under its own path: a probe that lists only the
    /// directories on the way to it, whatever the scope.
    fn reaches(&self, target: &Path) -> bool {
        let wanted = target.to_path_buf();
        self.build(self.project.root(), move |path| wanted.starts_with(path), false)
            .filter_map(Result::ok)
            .any(|entry| entry.path() == target)
    }
}

/// Adds the file at `path` (followed if it is a link) to `found`.
fn push_file(found: &mut Discovery, path: &Path, rel_path: String) {
    match std::fs::metadata(path) {
        Ok(metadata) => found.files.push(Discovered {
            path: path.to_path_buf(),
            rel_path,
            size: metadata.len(),
            mtime_ns: mtime_ns(&metadata),
            generated: false,
        }),
        Err(err) => found.unreadable.push(Unreadable {
            path: rel_path,
            reason: err.to_string(),
        }),
    }
}

/// The paths `rel` (relative to the root) also has under the `links`
/// ((link, target) pairs, [`Discovery::followed_links`]) whose target is
/// `rel` or a directory above it.
pub(crate) fn paths_under_links(links: &[(String, String)], rel: &str) -> Vec<String> {
    links
        .iter()
        .filter_map(|(link, target)| match rel.strip_prefix(target.as_str())? {
            "" => Some(link.clone()),
            rest => rest.strip_prefix('/').map(|rest| format!("{link}/{rest}")),
        })
        .collect()
}

/// Whether the file at `rel`, which discovery does not yield under its own
/// path, is indexed under the path of a link the last full run followed
/// (reading tools resolve links before they ask).
fn indexed_through_link(project: &Project, rel: &str) -> bool {
    let Some(discovery) = run_record::load(project).and_then(|record| record.discovery) else {
        return false;
    };
    paths_under_links(&discovery.followed_links, rel)
        .into_iter()
        .any(|linked| {
            let scope = Scope::new(project, [project.root().join(&linked)]);
            discover_in(project, Some(&scope))
                .0
                .iter()
                .any(|file| file.rel_path == linked)
        })
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

/// A file's content hash as its record stores it (blake3, hex): what
/// change detection compares, and what tells a file apart from a shared
/// index's copy of it.
pub(crate) fn content_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
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

/// File names that hold credentials by convention (compared in lower case).
const SECRET_NAMES: &[&str] = &[
    ".env",
    ".netrc",
    ".pgpass",
    ".htpasswd",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "credentials",
    "credentials.json",
    "credentials.yml",
    "credentials.yaml",
    "secrets.json",
    "secrets.yml",
    "secrets.yaml",
    "secrets.toml",
];

/// Extensions of key stores and private keys (compared in lower case).
const SECRET_EXTENSIONS: &[&str] = &["pem", "key", "p12", "pfx", "jks", "keystore", "tfstate"];

/// Whether the file at `rel_path` (`/`-separated) looks like it holds
/// secrets by its name: `.env` and `.env.*`, private keys (`id_rsa`,
/// `*.pem`, `*.key`, ...), credentials and secrets files. Such files are
/// never indexed, and `get_chunk` refuses them.
pub fn is_secret_name(rel_path: &str) -> bool {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path).to_ascii_lowercase();
    let extension = name
        .rsplit_once('.')
        .map(|(stem, ext)| (!stem.is_empty()).then_some(ext));
    SECRET_NAMES.contains(&name.as_str())
        || name.starts_with(".env.")
        || extension.flatten().is_some_and(|ext| SECRET_EXTENSIONS.contains(&ext))
}

/// Why discovery would not yield the file at `path` (absolute, inside the
/// project), or `None` when an indexing run would consider it: the same
/// walk and rules as [`discover_in`], so reading tools serve exactly what
/// the index may hold. The reason is a phrase ("its name looks like a
/// secret ...") to follow "`path` is not served: ".
pub fn exclusion_reason(project: &Project, path: &Path) -> Option<String> {
    let Some(rel) = project.relative(path) else {
        return Some("it is not a file inside the project".into());
    };
    if is_secret_name(&rel) {
        return Some("its name looks like a secret (keys, credentials, .env files are never indexed)".into());
    }
    let scope = Scope::new(project, [path.to_path_buf()]);
    let found = discover_with_skips(project, Some(&scope));
    if found.files.iter().any(|file| file.rel_path == rel) || indexed_through_link(project, &rel) {
        return None;
    }
    // A skipped directory is listed once, ending with `/`.
    let skipped = found
        .skipped
        .iter()
        .find(|(_, skipped)| *skipped == rel || (skipped.ends_with('/') && rel.starts_with(skipped.as_str())));
    Some(match skipped.map(|(kind, _)| *kind) {
        Some(SkipKind::IgnoredByDefault) => "it is excluded by default (dependencies, build output, caches, \
                                             minified bundles; see the README)"
            .into(),
        Some(kind) => format!("discovery skips it ({kind})"),
        None => "it is ignored by the project's ignore files (.gitignore, .ignore, .git/info/exclude, \
                 .mcp-vector-search/ignore) or is not a regular file"
            .into(),
    })
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
            [".hidden/h.rs", "a.rs", "keep.log", "other/deep.gen.rs", "sub/y.rs"],
            "nested rules apply below their directory only; hidden directories are walked"
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

    /// A real git work tree (`git init`) holding `files`.
    fn git_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(dir.path())
            .status()
            .expect("git runs");
        assert!(status.success(), "git init failed");
        write_tree(dir.path(), files);
        dir
    }

    /// The paths a walk skipped for `kind`, sorted.
    fn skipped(found: &Discovery, kind: SkipKind) -> Vec<&str> {
        let mut paths: Vec<&str> = found
            .skipped
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, path)| path.as_str())
            .collect();
        paths.sort_unstable();
        paths
    }

    fn files(found: &Discovery) -> Vec<&str> {
        found.files.iter().map(|f| f.rel_path.as_str()).collect()
    }

    /// The example: an anchored `/dist/` does not reach `pkg/dist/`,
    /// `vendor/*` + `!vendor/keep/` keeps `vendor/keep/`, a tracked
    /// dot-directory is code; the defaults fill in where git says nothing,
    /// each listed once as ignored by default.
    #[test]
    fn in_a_git_work_tree_git_decides_and_defaults_fill_in() {
        let dir = git_tree(&[
            (".gitignore", "/dist/\nvendor/*\n!vendor/keep/\n"),
            ("dist/bundle.js", "x"),
            ("pkg/dist/lib.js", "export function lib() {}"),
            ("vendor/other/x.py", "def x(): pass"),
            ("vendor/keep/y.py", "def y(): pass"),
            (".github/scripts/release.py", "def release(): pass"),
            ("build/gen.go", "package build"),
            ("src/main.rs", "fn main() {}"),
            ("node_modules/left-pad/index.js", "x"),
            ("web/node_modules/react/index.js", "x"),
            ("app/__pycache__/m.pyc", "x"),
            ("nb/.ipynb_checkpoints/a-checkpoint.ipynb", "{}"),
            (".venv/lib/site.py", "x"),
            ("target/debug/t.rs", "x"),
            ("Cargo.lock", "x"),
            ("web/app.min.js", "x"),
        ]);
        let project = Project::new(dir.path()).unwrap();
        let found = discover_with_skips(&project, None);
        assert_eq!(
            files(&found),
            [
                ".github/scripts/release.py",
                "build/gen.go",
                "pkg/dist/lib.js",
                "src/main.rs",
                "vendor/keep/y.py"
            ]
        );
        assert_eq!(
            skipped(&found, SkipKind::IgnoredByDefault),
            [
                ".venv/",
                "Cargo.lock",
                "app/__pycache__/",
                "nb/.ipynb_checkpoints/",
                "node_modules/",
                "target/",
                "web/app.min.js",
                "web/node_modules/"
            ],
            "what git ignores itself is not listed"
        );
        let excludes = ProjectIgnore::new(&project);
        let root = project.root();
        assert!(excludes.is_excluded(&root.join("web/node_modules/react/index.js"), false));
        assert!(!excludes.is_excluded(&root.join("pkg/dist/lib.js"), false));
        assert!(!excludes.is_excluded(&root.join("vendor/keep/y.py"), false));
        let scope = Scope::new(
            &project,
            ["vendor/keep/y.py", "node_modules/left-pad/index.js", "dist/bundle.js"]
                .iter()
                .map(|p| root.join(p)),
        );
        let scoped = discover_with_skips(&project, Some(&scope));
        assert_eq!(
            files(&scoped),
            ["vendor/keep/y.py"],
            "a scoped walk applies the same rules"
        );
        assert_eq!(skipped(&scoped, SkipKind::IgnoredByDefault), ["node_modules/"]);
    }

    /// A project inside a work tree: the repository's rules above the root
    /// count, anchored where they are written.
    #[test]
    fn rules_above_the_root_count_for_a_project_inside_a_work_tree() {
        let dir = git_tree(&[
            (".gitignore", "!app/node_modules/local/\n"),
            ("app/node_modules/local/i.js", "export const i = 1;"),
            ("app/node_modules/other/o.js", "x"),
            ("app/dist/x.js", "export const x = 1;"),
        ]);
        let found = discover_with_skips(&Project::new(&dir.path().join("app")).unwrap(), None);
        assert_eq!(files(&found), ["dist/x.js", "node_modules/local/i.js"]);
        assert_eq!(skipped(&found, SkipKind::IgnoredByDefault), ["node_modules/other/"]);
    }

    /// Outside a git work tree, build output names are defaults too.
    #[test]
    fn outside_git_build_output_is_excluded_by_default() {
        let dir = tempfile::tempdir().unwrap();
        write_tree(
            dir.path(),
            &[
                ("dist/x.js", "x"),
                ("build/y.go", "package y"),
                ("vendor/z.go", "package z"),
                ("src/a.rs", "fn a() {}"),
            ],
        );
        let found = discover_with_skips(&Project::new(dir.path()).unwrap(), None);
        assert_eq!(files(&found), ["src/a.rs"]);
        assert_eq!(
            skipped(&found, SkipKind::IgnoredByDefault),
            ["build/", "dist/", "vendor/"]
        );
    }

    /// A `!` rule wins over every default: in `.gitignore` (anchored or
    /// not, nested or not) and in the project's ignore file; a default still
    /// covers what the rule does not re-include.
    #[test]
    fn a_reinclude_beats_the_defaults() {
        let dir = git_tree(&[
            (".gitignore", "node_modules/*\n!node_modules/local-pkg/\n!Cargo.lock\n"),
            ("py/.gitignore", "!.venv/tools/\n"),
            (".mcp-vector-search/ignore", "!target/\n"),
            ("node_modules/local-pkg/index.js", "export const a = 1;"),
            ("node_modules/other/x.js", "x"),
            ("Cargo.lock", "x"),
            ("sub/Cargo.lock", "x"),
            ("py/.venv/tools/t.py", "def t(): pass"),
            ("py/.venv/lib/l.py", "def l(): pass"),
            ("target/t.rs", "fn t() {}"),
        ]);
        let project = Project::new(dir.path()).unwrap();
        let found = discover_with_skips(&project, None);
        assert_eq!(
            files(&found),
            [
                "Cargo.lock",
                "node_modules/local-pkg/index.js",
                "py/.venv/tools/t.py",
                "sub/Cargo.lock",
                "target/t.rs"
            ]
        );
        assert_eq!(skipped(&found, SkipKind::IgnoredByDefault), ["py/.venv/lib/"]);
        let excludes = ProjectIgnore::new(&project);
        assert!(excludes.is_excluded(&project.root().join("py/.venv/lib/l.py"), false));
        assert!(!excludes.is_excluded(&project.root().join("py/.venv/tools/t.py"), false));
    }

    /// Links to paths indexed under their own path, out of the root or to
    /// nothing are not followed, and say why; secrets are listed by name.
    #[test]
    fn symlinks_and_secrets_are_listed_with_their_reason() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("elsewhere.rs"), "fn e() {}").unwrap();
        let dir = git_tree(&[("src/a.rs", "fn a() {}"), (".env", "TOKEN=x")]);
        let root = dir.path();
        let link = |target: &Path, link: &str| std::os::unix::fs::symlink(target, root.join(link)).unwrap();
        link(&root.join("missing.rs"), "dangling.rs");
        link(&outside.path().join("elsewhere.rs"), "outside.rs");
        link(outside.path(), "outside_dir");
        link(&root.join("src/a.rs"), "within.rs");
        link(&root.join("src"), "lib");
        link(Path::new(".."), "src/up");
        link(Path::new(".git/config"), "git_config");
        let found = discover_with_skips(&Project::new(root).unwrap(), None);
        assert_eq!(files(&found), ["src/a.rs"]);
        assert_eq!(skipped(&found, SkipKind::DanglingSymlink), ["dangling.rs"]);
        assert_eq!(
            skipped(&found, SkipKind::SymlinkOutsideRoot),
            ["outside.rs", "outside_dir/"]
        );
        assert_eq!(
            skipped(&found, SkipKind::SymlinkDuplicate),
            ["lib/", "src/up/", "within.rs"],
            "indexed under the target's path; a link to an ancestor does not loop"
        );
        assert_eq!(skipped(&found, SkipKind::Secret), [".env"]);
    }

    /// The example: `Sources/` links into a git-ignored `impl/`.
    /// A link whose target is excluded is indexed under its own path, a
    /// linked directory walked under it; a real path is indexed once
    /// (through the first link in path order); loops end; the secret rule
    /// applies to the target's name; a scoped walk follows the links it
    /// meets the same way.
    #[test]
    fn links_to_excluded_targets_are_indexed_under_the_links_path() {
        let dir = git_tree(&[
            (".gitignore", "impl/\n"),
            ("impl/App.swift", "func app() {}"),
            ("impl/Model.swift", "struct Model {}"),
            ("impl/nested/Deep.swift", "func deep() {}"),
            ("impl/server.pem", "KEY"),
            ("impl/node_modules/dep/index.js", "x"),
            ("main.swift", "app()"),
        ]);
        let root = dir.path();
        let link = |target: &str, link: &str| {
            let link = root.join(link);
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(target, link).unwrap();
        };
        link("../../impl/App.swift", "Sources/App/App.swift");
        link("../impl", "Sources/Model");
        link("../impl", "Sources/Zlink");
        link("../main.swift", "Sources/main.swift");
        link("..", "impl/nested/up");
        link("server.pem", "impl/cert.txt");
        link("../impl/Model.swift", "Sources/Model.swift");
        let project = Project::new(root).unwrap();
        let found = discover_with_skips(&project, None);
        assert_eq!(
            files(&found),
            [
                "Sources/App/App.swift",
                "Sources/Model/Model.swift",
                "Sources/Model/nested/Deep.swift",
                "main.swift"
            ]
        );
        assert_eq!(
            skipped(&found, SkipKind::SymlinkDuplicate),
            [
                "Sources/Model.swift",
                "Sources/Model/App.swift",
                "Sources/Model/nested/up/",
                "Sources/Zlink/",
                "Sources/main.swift"
            ]
        );
        assert_eq!(
            skipped(&found, SkipKind::Secret),
            ["Sources/Model/cert.txt", "Sources/Model/server.pem"]
        );
        assert_eq!(
            skipped(&found, SkipKind::IgnoredByDefault),
            ["Sources/Model/node_modules/"],
            "the rules apply to the paths under the link"
        );
        assert_eq!(
            found.followed_links,
            [
                ("Sources/App/App.swift".to_string(), "impl/App.swift".to_string()),
                ("Sources/Model".to_string(), "impl".to_string())
            ]
        );
        let file = &found.files[0];
        assert_eq!(file.path, root.join("Sources/App/App.swift"));
        assert_eq!(file.size, "func app() {}".len() as u64, "the target's size");

        let scope = Scope::new(&project, [root.join("Sources/App"), root.join("Sources/Model/nested")]);
        let scoped = discover_with_skips(&project, Some(&scope));
        assert_eq!(
            files(&scoped),
            ["Sources/App/App.swift", "Sources/Model/nested/Deep.swift"]
        );
        assert_eq!(
            exclusion_reason(&project, &root.join("Sources/main.swift")).as_deref(),
            Some("discovery skips it (symlink_duplicate)")
        );
        assert_eq!(
            exclusion_reason(&project, &root.join("Sources/Model/nested/Deep.swift")),
            None
        );

        // Reading tools resolve links: a target indexed under a link's path
        // is served once a run recorded the link.
        assert!(exclusion_reason(&project, &root.join("impl/nested/Deep.swift")).is_some());
        project.ensure_index_dir().unwrap();
        let record = crate::run_record::DiscoveryRecord::of(&found);
        crate::run_record::save(&project, &crate::IndexReport::default(), Some(record)).unwrap();
        assert_eq!(exclusion_reason(&project, &root.join("impl/nested/Deep.swift")), None);
        assert_eq!(exclusion_reason(&project, &root.join("impl/App.swift")), None);
        assert!(exclusion_reason(&project, &root.join("impl/server.pem")).is_some());
    }

    /// A change to a link's target is a change under the link's path: the
    /// file itself, or a path inside a linked directory; a sibling whose
    /// name merely starts like the target is not.
    #[test]
    fn changes_to_a_links_target_are_changes_under_the_link() {
        let links = [
            ("Sources/App/App.swift".to_string(), "impl/App.swift".to_string()),
            ("Sources/Model".to_string(), "impl".to_string()),
        ];
        assert_eq!(
            paths_under_links(&links, "impl/App.swift"),
            ["Sources/App/App.swift", "Sources/Model/App.swift"]
        );
        assert_eq!(
            paths_under_links(&links, "impl/deep/M.swift"),
            ["Sources/Model/deep/M.swift"]
        );
        assert_eq!(paths_under_links(&links, "impl"), ["Sources/Model"]);
        assert!(paths_under_links(&links, "implementation/x.swift").is_empty());
        assert!(paths_under_links(&links, "src/main.swift").is_empty());
    }

    /// Every reason counted, the first paths kept in order, lists merged.
    #[test]
    fn skip_lists_count_everything_and_keep_the_first_paths() {
        let mut list = SkipList::default();
        for n in (0..25).rev() {
            list.add(SkipKind::Binary, format!("b{n:02}.bin"));
        }
        list.add_counted(SkipKind::Binary, 100, ["a.bin".to_string()]);
        assert_eq!(list.counts[&SkipKind::Binary], 125);
        let kept = &list.paths[&SkipKind::Binary];
        assert_eq!(kept.len(), SKIPPED_PATHS_SHOWN);
        assert_eq!((kept[0].as_str(), kept[19].as_str()), ("a.bin", "b18.bin"));
        let text = list.to_string();
        assert!(text.starts_with("  skipped (binary): 125: a.bin, b00.bin,"), "{text}");
        assert!(text.ends_with(" and 105 more\n"), "{text}");
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(json["skipped"]["binary"], 125);
        assert_eq!(json["skipped_paths"]["binary"][0], "a.bin");
    }

    /// Reason names are stable, and the chunker's are the files table's.
    #[test]
    fn skip_kind_names_are_stable() {
        for kind in SkipKind::ALL {
            assert_eq!(SkipKind::from_name(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for reason in [
            SkipReason::Binary,
            SkipReason::TooLarge,
            SkipReason::Empty,
            SkipReason::UnsupportedLanguage,
            SkipReason::Generated,
            SkipReason::LinguistGenerated,
            SkipReason::Minified,
        ] {
            assert_eq!(SkipKind::from(reason).as_str(), reason.as_str());
        }
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
