//! moto server as a child process on a free loopback port.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long moto may take to start listening (it imports every service first).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Another process may take the free port between our probe and moto's bind.
const START_ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("moto_server not found at {path}: run `bash scripts/setup` (it installs moto into .venv), or set STEWARD_MOTO_SERVER")]
    NotInstalled { path: String },
    #[error("could not start moto_server: {0}")]
    Spawn(std::io::Error),
    #[error("moto_server did not listen on {addr} within {seconds}s; its log is {log}")]
    NotReady {
        addr: String,
        seconds: u64,
        log: String,
    },
}

/// A running moto server; stopped when dropped.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Emulator {
    /// The moto_server the project's setup installed, or `STEWARD_MOTO_SERVER`.
    pub fn binary() -> PathBuf {
        std::env::var_os("STEWARD_MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join(".venv/bin/moto_server"))
    }

    /// Start moto server on a free loopback port and wait until it listens.
    pub fn start() -> Result<Self, EmulatorError> {
        let binary = Self::binary();
        if !binary.exists() {
            return Err(EmulatorError::NotInstalled {
                path: binary.display().to_string(),
            });
        }
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            match Self::start_once(&binary) {
                Ok(emulator) => return Ok(emulator),
                Err(e @ EmulatorError::NotReady { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(EmulatorError::Spawn(std::io::Error::other(
            "no start attempt was made",
        ))))
    }

    fn start_once(binary: &PathBuf) -> Result<Self, EmulatorError> {
        let port = free_port().map_err(EmulatorError::Spawn)?;
        let log = std::env::temp_dir().join(format!("steward-moto-{port}.log"));
        let log_file = std::fs::File::create(&log).map_err(EmulatorError::Spawn)?;
        let err_file = log_file.try_clone().map_err(EmulatorError::Spawn)?;
        let child = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(err_file))
            .spawn()
            .map_err(EmulatorError::Spawn)?;
        let mut emulator = Self { child, port, log };
        let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if TcpStream::connect_timeout(&addr.into(), Duration::from_millis(200)).is_ok() {
                return Ok(emulator);
            }
            if let Ok(Some(_)) = emulator.child.try_wait() {
                break; // exited: most likely the port was taken
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(EmulatorError::NotReady {
            addr: addr.to_string(),
            seconds: READY_TIMEOUT.as_secs(),
            log: emulator.log.display().to_string(),
        })
    }

    /// `http://127.0.0.1:<port>`: the endpoint URL for every SDK client.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where moto's own log goes.
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }

    /// Keep the server running after this handle is gone (for `steward local up`).
    pub fn detach(self) -> u32 {
        let pid = self.child.id();
        std::mem::forget(self);
        pid
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The repository root: this crate lives at `crates/steward-twin`.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
