//! A session in a process of its own: started per connection by the gate
//! when sessions are isolated (`serve --max-memory`), its output copied
//! into the gate's log, stopped when its connection ends.

use super::Connection;
use crate::backend::remote::{TOKEN_VARIABLE, failure};
use crate::error::Result;
use crate::resources::readable_bytes;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// How to start one session's own server: a command that serves on a free
/// loopback port and prints a line starting `serving ` with its `ws://` URL
/// (what `backprop serve --session-process` does). The secret it accepts
/// reaches it in [`TOKEN_VARIABLE`](crate::backend::remote::TOKEN_VARIABLE),
/// never on its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCommand {
    /// The program, usually the running executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// The heap limit the command applies to its session, for the log line
    /// when a session reaches it; the process's data segment is also held by
    /// the operating system to this plus [`RUNTIME_ALLOWANCE`].
    pub max_memory: Option<u64>,
}

/// What a session's process may hold beyond its heap limit: its threads'
/// stacks, the allocator's arenas, the runtime and the C libraries a backend
/// calls into. Generous, because an allocation refused here kills the process
/// without the heap limit's clear message; small next to what a session that
/// ignores the heap limit (a C library's buffers) could otherwise take.
pub const RUNTIME_ALLOWANCE: u64 = 1 << 30;

/// Holds the data segment of process `pid` (its heap and private writable
/// mappings, C allocations included: `RLIMIT_DATA`) to `bytes`, so that an
/// allocation past it fails in that process alone. The process has only
/// just started: it has accepted no client yet.
#[cfg(target_os = "linux")]
fn limit_data(pid: u32, bytes: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    // SAFETY: `prlimit` reads `limit` and writes nothing (the old limit's
    // pointer is null); `pid` names a child of this process.
    let done = unsafe { libc::prlimit(pid, libc::RLIMIT_DATA, &limit, std::ptr::null_mut()) };
    match done {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Elsewhere only the heap limit holds a session (docs/gpu-and-remote.md).
#[cfg(not(target_os = "linux"))]
fn limit_data(_pid: u32, _bytes: u64) -> std::io::Result<()> {
    Ok(())
}

/// A process serving one session.
pub(super) struct SessionProcess {
    child: Child,
    /// Held open for the life of the session: the process ends when it closes.
    _stdin: Option<tokio::process::ChildStdin>,
    /// The task copying its stderr, which notes a failed allocation.
    stderr: Option<tokio::task::JoinHandle<()>>,
    /// The allocation that failed against the session's limit, if one did.
    refused_allocation: Arc<Mutex<Option<String>>>,
    max_memory: Option<u64>,
}

/// How long a session's process may take to listen (a GPU backend opens
/// its device first).
const PROCESS_START: Duration = Duration::from_secs(60);

impl SessionProcess {
    pub(super) async fn start(
        command: &SessionCommand,
        secret: &str,
        name: &str,
        peer: SocketAddr,
    ) -> Result<Connection> {
        let program = command.program.display().to_string();
        let mut process = Command::new(&command.program);
        process
            .args(&command.args)
            .env_remove(TOKEN_VARIABLE)
            // Its stdin closing (this process gone) ends it.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .env(TOKEN_VARIABLE, secret);
        let mut child = process
            .spawn()
            .map_err(|e| failure(&program, format!("cannot start a session's process: {e}")))?;
        if let (Some(bytes), Some(pid)) = (command.max_memory, child.id()) {
            limit_data(pid, bytes.saturating_add(RUNTIME_ALLOWANCE))
                .map_err(|e| failure(&program, format!("cannot limit a session's memory: {e}")))?;
        }
        let refused_allocation = Arc::new(Mutex::new(None));
        let prefix = format!("{name}: session of {peer}:");
        let (announce, announced) = tokio::sync::oneshot::channel();
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(relay_log(stdout, prefix.clone(), Some(announce), None));
        }
        let stderr = child
            .stderr
            .take()
            .map(|e| tokio::spawn(relay_log(e, prefix, None, Some(refused_allocation.clone()))));
        let url = tokio::time::timeout(PROCESS_START, announced)
            .await
            .map_err(|_| failure(&program, "a session's process did not start listening"))?
            .map_err(|_| failure(&program, "a session's process ended before listening"))?;
        let address = url.trim_start_matches("ws://");
        let stream = TcpStream::connect(address)
            .await
            .map_err(|e| failure(&url, format!("cannot reach a session's process: {e}")))?;
        let _ = stream.set_nodelay(true);
        let process = SessionProcess {
            _stdin: child.stdin.take(),
            stderr,
            child,
            refused_allocation,
            max_memory: command.max_memory,
        };
        Ok(Connection::isolated(stream, process))
    }

    /// Stops the process (its session is over: nothing of it is kept) and
    /// logs a session that ended at its memory limit.
    pub(super) async fn finish(mut self, name: &str, peer: SocketAddr) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        // Its last lines (an allocation failure among them) are read once
        // the pipe closes with the process.
        if let Some(stderr) = self.stderr.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), stderr).await;
        }
        let refused = self
            .refused_allocation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(bytes) = refused {
            let limit = self.max_memory.map_or_else(
                || "its limit".to_string(),
                |b| format!("the limit of {}", readable_bytes(b as f64)),
            );
            tracing::warn!(
                "{name}: session of {peer} ended at its memory limit: an allocation of {bytes} \
                 bytes would have passed {limit}"
            );
        }
    }
}

/// Copies a session process's output into this one's log, each line after
/// `prefix` (to the end: a process whose pipe closes dies on its next line),
/// telling `announce` the `ws://` URL of the first line starting `serving `
/// and noting in `refused_allocation` an allocation that failed.
async fn relay_log(
    output: impl tokio::io::AsyncRead + Unpin,
    prefix: String,
    mut announce: Option<tokio::sync::oneshot::Sender<String>>,
    refused_allocation: Option<Arc<Mutex<Option<String>>>>,
) {
    let mut lines = BufReader::new(output).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.starts_with("serving ") {
            let url = line.split_whitespace().find(|w| w.starts_with("ws://"));
            if let (Some(url), Some(announce)) = (url, announce.take()) {
                let _ = announce.send(url.to_string());
            }
            continue;
        }
        if let (Some(bytes), Some(refused)) = (failed_allocation(&line), &refused_allocation) {
            *refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(bytes.to_string());
        }
        tracing::info!("{prefix} {}", without_escapes(&line));
    }
}

/// `line` without terminal colour codes (ESC `[` … letter), which burn's log
/// writes whatever the terminal.
fn without_escapes(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// The byte count of Rust's "memory allocation of N bytes failed".
fn failed_allocation(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix("memory allocation of ")?
        .strip_suffix(" bytes failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The operating system's data-segment limit of process `pid`, as
    /// `/proc/PID/limits` shows it.
    #[cfg(target_os = "linux")]
    fn data_limit(pid: u32) -> String {
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max data size"))
            .unwrap()
            .to_string();
        line.split_whitespace().nth(3).unwrap().to_string()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_session_process_runs_under_the_os_data_limit_of_its_heap_limit_and_allowance() {
        // A stand-in for `backprop serve --session-process`: it announces a
        // listener of this test's and waits for its stdin to close.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let command = SessionCommand {
            program: "sh".into(),
            args: vec![
                "-c".into(),
                format!("echo serving ws://{address}; cat").into(),
            ],
            max_memory: Some(64 << 20),
        };
        let peer: SocketAddr = "192.0.2.1:1".parse().unwrap();
        let connection = SessionProcess::start(&command, "the-secret", "test", peer)
            .await
            .unwrap();
        let process = connection.process.as_ref().unwrap();
        let pid = process.child.id().unwrap();
        assert_eq!(
            data_limit(pid),
            ((64u64 << 20) + RUNTIME_ALLOWANCE).to_string()
        );
        connection.finish("test", peer).await;
    }

    #[test]
    fn an_allocation_failure_is_read_from_rusts_message() {
        assert_eq!(
            failed_allocation("memory allocation of 4294967296 bytes failed"),
            Some("4294967296")
        );
        assert_eq!(failed_allocation("memory allocation failed"), None);
    }

    #[test]
    fn colour_codes_are_taken_out_of_relayed_lines() {
        assert_eq!(
            without_escapes("\u{1b}[2m12:00\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m admitted"),
            "12:00  INFO admitted"
        );
    }
}
