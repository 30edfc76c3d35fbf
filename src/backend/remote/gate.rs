//! The front door of a served device: every client connection passes through
//! here before burn's server reads a byte of it.
//!
//! burn 0.22.1's WebSocket server (axum with tungstenite) accepts every
//! connection, lets each one send frames of up to 1 GiB before the session's
//! first message is read (so an unauthenticated client can make it buffer
//! that much), and waits without a deadline for a client that never speaks.
//! The gate bounds all of that before authentication, counts sessions, and
//! logs one line per event. A connection goes through three phases:
//!
//! 1. **Admission**: a server with [`Limits::max_pending`] connections still
//!    authenticating answers `503 Service Unavailable` at once; one at
//!    [`Limits::max_clients`] sessions answers it once the request is read
//!    (a [`STATUS_REQUEST`] is answered even then).
//! 2. **Handshake**, relayed under watch: the HTTP upgrade, the session's
//!    first frame (its credential) and the server's answer must complete
//!    within [`Limits::handshake_deadline`], with at most
//!    [`Limits::preauth_bytes`] from the client. burn's server answers the
//!    first frame only after checking the token, so the first byte it sends
//!    after its `101 Switching Protocols` ends this phase.
//! 3. **Session**: bytes are copied both ways until either side closes.
//!
//! Behind the gate is either burn's server in this process, on a loopback
//! port only the gate dials ([`Upstream::Shared`]), or a fresh process per
//! session ([`Upstream::Isolated`]), which is how a session's memory is
//! capped: its allocations fail alone, and its exit frees all it held.

use super::failure;
use crate::error::Result;
use crate::resources::readable_bytes;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// What the gate allows each connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Sessions served at once.
    pub max_clients: usize,
    /// Connections still authenticating at once: bounds what a flood of
    /// connections that never authenticate can hold.
    pub max_pending: usize,
    /// Time a connection has to complete its handshake.
    pub handshake_deadline: Duration,
    /// Bytes a client may send before the server has answered its first
    /// frame; a real client sends well under a kilobyte.
    pub preauth_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_clients: 32,
            max_pending: 16,
            handshake_deadline: Duration::from_secs(10),
            preauth_bytes: 64 * 1024,
        }
    }
}

/// How to start one session's own server: a command that serves on a free
/// loopback port and prints a line starting `serving ` with its `ws://` URL
/// (what `backprop serve --session-process` does). The token reaches it in
/// [`super::TOKEN_VARIABLE`], never on its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCommand {
    /// The program, usually the running executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// The heap limit the command applies to its session, for the log line
    /// when a session reaches it.
    pub max_memory: Option<u64>,
}

/// What the gate relays admitted connections to.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// burn's server in this process, listening on this loopback address.
    Shared(SocketAddr),
    /// One process per session, each started with this command and this token.
    Isolated(SessionCommand, Option<String>),
}

/// Who is behind each of the gate's connections to a shared server, so that
/// the server's own log lines name the client rather than the gate.
#[derive(Debug, Clone, Default)]
pub struct Peers(Arc<Mutex<HashMap<SocketAddr, SocketAddr>>>);

impl Peers {
    /// The client behind the gate's connection from `seen`, or `seen` itself.
    pub fn client(&self, seen: SocketAddr) -> SocketAddr {
        self.lock().get(&seen).copied().unwrap_or(seen)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, SocketAddr>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One gate: a public listener, its limits and what it relays to.
struct Gate {
    name: String,
    limits: Limits,
    upstream: Upstream,
    peers: Peers,
    active: AtomicUsize,
    pending: AtomicUsize,
}

/// Accepts connections on `listener` forever, relaying them to `upstream`
/// under `limits`; `name` starts every log line.
pub async fn run(
    listener: TcpListener,
    name: String,
    limits: Limits,
    upstream: Upstream,
    peers: Peers,
) {
    let gate = Arc::new(Gate {
        name,
        limits,
        upstream,
        peers,
        active: AtomicUsize::new(0),
        pending: AtomicUsize::new(0),
    });
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(gate.clone().connection(stream, peer));
            }
            // Out of file descriptors, typically: wait for some to close
            // rather than spin.
            Err(e) => {
                tracing::warn!("{}: cannot accept a connection: {e}", gate.name);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A place in a count, given back when dropped.
struct Slot<'a>(&'a AtomicUsize);

impl<'a> Slot<'a> {
    fn take(count: &'a AtomicUsize, limit: usize) -> Option<Slot<'a>> {
        count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(count))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Why a connection ended before its session began.
#[derive(Debug)]
enum Dropped {
    Deadline(Duration),
    TooManyBytes(usize),
    HeadTooLong,
    ClientLeft,
    ServerClosed,
    NotWebSocket(String),
    Io(std::io::Error),
    /// The session's server could not be reached or started.
    Upstream(crate::error::Error),
    /// A status query, answered by the gate itself.
    Answered,
    /// The server is serving its limit of clients.
    Full,
    /// The first bytes were not an HTTP GET.
    NotHttp,
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dropped::Deadline(limit) => write!(
                f,
                "no complete handshake within {} s (a stalled or silent client)",
                limit.as_secs_f64()
            ),
            Dropped::TooManyBytes(n) => write!(
                f,
                "sent {n} bytes before authenticating, more than a handshake needs"
            ),
            Dropped::HeadTooLong => f.write_str("the server's HTTP answer had no end"),
            Dropped::ClientLeft => f.write_str("left before authenticating"),
            Dropped::ServerClosed => f.write_str("the server closed the connection"),
            Dropped::NotWebSocket(status) => {
                write!(f, "not a WebSocket session (the server answered {status})")
            }
            Dropped::Io(e) => write!(f, "{e}"),
            Dropped::Upstream(e) => write!(f, "{e}"),
            Dropped::Answered => f.write_str("answered a status query"),
            Dropped::Full => f.write_str("the server is serving its limit of clients"),
            Dropped::NotHttp => f.write_str("not an HTTP request"),
        }
    }
}

impl From<std::io::Error> for Dropped {
    fn from(e: std::io::Error) -> Dropped {
        Dropped::Io(e)
    }
}

/// The longest HTTP head burn's server sends (a `101` is about 130 bytes).
const MAX_HEAD: usize = 16 * 1024;

impl Gate {
    async fn connection(self: Arc<Self>, mut client: TcpStream, peer: SocketAddr) {
        let name = &self.name;
        let Some(pending) = Slot::take(&self.pending, self.limits.max_pending) else {
            let reason = format!(
                "{} connections are already authenticating",
                self.limits.max_pending
            );
            tracing::warn!("{name}: refused {peer}: {reason}");
            return refuse(client, &reason).await;
        };
        let _ = client.set_nodelay(true);
        keep_alive(&client);
        let deadline = self.limits.handshake_deadline;
        let opened = tokio::time::timeout(deadline, self.authenticate(&mut client, peer))
            .await
            .unwrap_or(Err(Dropped::Deadline(deadline)));
        drop(pending);
        match opened {
            Ok((mut upstream, answer, seen)) => {
                self.session(client, peer, &mut upstream, answer).await;
                drop(seen);
                upstream.finish(name, peer).await;
            }
            Err(Dropped::Answered) => {}
            Err(Dropped::Full) => {
                let reason = format!("serving its limit of {} clients", self.limits.max_clients);
                tracing::warn!("{name}: refused {peer}: {reason}");
                refuse(client, &reason).await;
            }
            Err(Dropped::Upstream(e)) => {
                tracing::error!("{name}: refused {peer}: {e}");
                refuse(client, "cannot start a session").await;
            }
            Err(dropped) => tracing::warn!("{name}: dropped {peer}: {dropped}"),
        }
    }

    /// Reads the client's HTTP request, answers a status query itself, and
    /// relays anything else to the server until it answers the session's
    /// first frame: the connection to it, that answer (not yet sent), and the
    /// entry naming the client in [`Peers`].
    async fn authenticate(
        &self,
        client: &mut TcpStream,
        peer: SocketAddr,
    ) -> std::result::Result<(Connection, Vec<u8>, Seen), Dropped> {
        let head = read_request_head(client, self.limits.preauth_bytes).await?;
        if head.starts_with(STATUS_REQUEST.as_bytes()) {
            answer(client, "200 OK", "application/json", &self.status_json()).await;
            return Err(Dropped::Answered);
        }
        if self.active.load(Ordering::SeqCst) >= self.limits.max_clients {
            return Err(Dropped::Full);
        }
        let mut upstream = self.open(peer).await.map_err(Dropped::Upstream)?;
        let seen = Seen::new(&self.peers, upstream.stream.local_addr().ok(), peer);
        upstream.stream.write_all(&head).await?;
        let budget = self.limits.preauth_bytes - head.len();
        let answer = relay_handshake(client, &mut upstream.stream, budget).await?;
        Ok((upstream, answer, seen))
    }

    /// What [`STATUS_REQUEST`] is answered: [`ServerStatus`] as JSON.
    fn status_json(&self) -> String {
        let limits = ServerStatus {
            max_clients: self.limits.max_clients,
            clients: self.active.load(Ordering::SeqCst),
            max_memory: match &self.upstream {
                Upstream::Isolated(command, _) => command.max_memory,
                Upstream::Shared(_) => None,
            },
            heap_bytes: crate::heap::in_use(),
        };
        serde_json::to_string(&limits).unwrap_or_default()
    }

    /// Relays an authenticated session until either side closes, with one
    /// log line at each end.
    async fn session(
        &self,
        mut client: TcpStream,
        peer: SocketAddr,
        upstream: &mut Connection,
        answer: Vec<u8>,
    ) {
        let name = &self.name;
        let Some(_active) = Slot::take(&self.active, self.limits.max_clients) else {
            tracing::warn!(
                "{name}: refused {peer}: serving its limit of {} clients",
                self.limits.max_clients
            );
            return;
        };
        if let Err(e) = client.write_all(&answer).await {
            tracing::warn!("{name}: dropped {peer}: {e}");
            return;
        }
        let started = Instant::now();
        tracing::info!(
            "{name}: session of {peer} opened ({} of {} clients)",
            self.active.load(Ordering::SeqCst),
            self.limits.max_clients
        );
        let copied = tokio::io::copy_bidirectional(&mut client, &mut upstream.stream).await;
        let seconds = started.elapsed().as_secs_f64();
        match copied {
            Ok((sent, received)) => tracing::info!(
                "{name}: session of {peer} ended after {seconds:.1} s ({sent} bytes in, \
                 {received} out)"
            ),
            Err(e) => tracing::info!("{name}: session of {peer} ended after {seconds:.1} s: {e}"),
        }
    }

    async fn open(&self, peer: SocketAddr) -> Result<Connection> {
        match &self.upstream {
            Upstream::Shared(address) => {
                let stream = TcpStream::connect(address)
                    .await
                    .map_err(|e| failure(&address.to_string(), e.to_string()))?;
                let _ = stream.set_nodelay(true);
                Ok(Connection {
                    stream,
                    process: None,
                })
            }
            Upstream::Isolated(command, token) => {
                SessionProcess::start(command, token.as_deref(), &self.name, peer).await
            }
        }
    }
}

/// Probes an idle client after 10 s, then every 5 s, and drops it after 4
/// unanswered probes, as burn's server does with its own connections (the
/// gate's, here): a client that vanished without closing (a crash of its
/// machine, a dropped network, a sleeping laptop) would otherwise hold its
/// place among the clients forever.
fn keep_alive(client: &TcpStream) {
    let probes = socket2::TcpKeepalive::new().with_time(Duration::from_secs(10));
    // Elsewhere only the first probe's delay can be set (burn sets the same).
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "windows",
    ))]
    let probes = probes.with_interval(Duration::from_secs(5)).with_retries(4);
    if let Err(e) = socket2::SockRef::from(client).set_tcp_keepalive(&probes) {
        tracing::warn!("cannot set TCP keep-alive, so a vanished client will not be noticed: {e}");
    }
}

/// Relays the handshake until burn's server sends its first byte after the
/// HTTP `101` (its answer to the session's first frame), which it returns
/// unsent, so that the caller decides whether the session opens.
async fn relay_handshake(
    client: &mut TcpStream,
    upstream: &mut TcpStream,
    preauth_bytes: usize,
) -> std::result::Result<Vec<u8>, Dropped> {
    let mut from_client = 0usize;
    let mut head = Vec::new();
    let mut head_sent = false;
    let mut client_buffer = [0u8; 4096];
    let mut upstream_buffer = [0u8; 4096];
    loop {
        tokio::select! {
            read = client.read(&mut client_buffer) => {
                let n = read?;
                if n == 0 {
                    return Err(Dropped::ClientLeft);
                }
                from_client += n;
                if from_client > preauth_bytes {
                    return Err(Dropped::TooManyBytes(from_client));
                }
                upstream.write_all(&client_buffer[..n]).await?;
            }
            read = upstream.read(&mut upstream_buffer) => {
                let n = read?;
                if n == 0 {
                    if !head_sent {
                        client.write_all(&head).await?;
                    }
                    return Err(Dropped::ServerClosed);
                }
                if head_sent {
                    return Ok(upstream_buffer[..n].to_vec());
                }
                head.extend_from_slice(&upstream_buffer[..n]);
                let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                    if head.len() > MAX_HEAD {
                        return Err(Dropped::HeadTooLong);
                    }
                    continue;
                };
                let status = String::from_utf8_lossy(&head[..head.iter().position(|&b| b == b'\r').unwrap_or(0)]).into_owned();
                client.write_all(&head[..end + 4]).await?;
                head_sent = true;
                if !status.starts_with("HTTP/1.1 101") {
                    return Err(Dropped::NotWebSocket(status));
                }
                if head.len() > end + 4 {
                    return Ok(head[end + 4..].to_vec());
                }
            }
        }
    }
}

/// The request line of a status query, answered by the gate itself.
pub const STATUS_REQUEST: &str = "GET /backprop/status ";

/// What a gate allows and holds, as [`STATUS_REQUEST`] answers it: a client
/// reads it to say why it was refused, and to check a job against the memory
/// a session may hold before sending it; a soak test reads the heap.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerStatus {
    /// Sessions served at once.
    pub max_clients: usize,
    /// Sessions served when asked.
    pub clients: usize,
    /// Heap bytes one session may hold, if limited.
    pub max_memory: Option<u64>,
    /// Heap bytes the serving process holds now (0 unless its binary
    /// installs [`crate::heap::CountingAllocator`]); with sessions in
    /// processes of their own, the gate's alone.
    pub heap_bytes: usize,
}

/// Reads an HTTP request head (up to its blank line), and whatever came
/// with it, refusing more than `budget` bytes.
async fn read_request_head(
    client: &mut TcpStream,
    budget: usize,
) -> std::result::Result<Vec<u8>, Dropped> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = client.read(&mut buffer).await?;
        if n == 0 {
            return Err(Dropped::ClientLeft);
        }
        head.extend_from_slice(&buffer[..n]);
        // Every request a client of burn's server sends is a GET: anything
        // else is refused at its first bytes rather than at the deadline.
        let start = &head[..head.len().min(4)];
        if !b"GET ".starts_with(start) {
            return Err(Dropped::NotHttp);
        }
        if head.len() > budget.min(MAX_HEAD) {
            return Err(Dropped::TooManyBytes(head.len()));
        }
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(head);
        }
    }
}

/// Answers `503 Service Unavailable` with `reason`.
async fn refuse(mut client: TcpStream, reason: &str) {
    let body = format!("backprop serve: {reason}\n");
    answer(&mut client, "503 Service Unavailable", "text/plain", &body).await;
}

/// Sends one HTTP response and closes, without waiting long for a client
/// that does not read.
async fn answer(client: &mut TcpStream, status: &str, kind: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = client.write_all(response.as_bytes()).await;
        let _ = client.shutdown().await;
    })
    .await;
}

/// The entry naming the client behind one of the gate's connections to a
/// server, removed when the session ends.
struct Seen {
    peers: Peers,
    seen: Option<SocketAddr>,
}

impl Seen {
    fn new(peers: &Peers, seen: Option<SocketAddr>, client: SocketAddr) -> Seen {
        if let Some(seen) = seen {
            peers.lock().insert(seen, client);
        }
        Seen {
            peers: peers.clone(),
            seen,
        }
    }
}

impl Drop for Seen {
    fn drop(&mut self) {
        if let Some(seen) = self.seen {
            self.peers.lock().remove(&seen);
        }
    }
}

/// The gate's connection to the server of one session.
struct Connection {
    stream: TcpStream,
    process: Option<SessionProcess>,
}

impl Connection {
    /// Ends the session's own process, if it has one, logging how it ended.
    async fn finish(self, name: &str, peer: SocketAddr) {
        drop(self.stream);
        if let Some(process) = self.process {
            process.finish(name, peer).await;
        }
    }
}

/// A process serving one session.
struct SessionProcess {
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
    async fn start(
        command: &SessionCommand,
        token: Option<&str>,
        name: &str,
        peer: SocketAddr,
    ) -> Result<Connection> {
        let program = command.program.display().to_string();
        let mut process = Command::new(&command.program);
        process
            .args(&command.args)
            .env_remove(super::TOKEN_VARIABLE)
            // Its stdin closing (this process gone) ends it.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(token) = token {
            process.env(super::TOKEN_VARIABLE, token);
        }
        let mut child = process
            .spawn()
            .map_err(|e| failure(&program, format!("cannot start a session's process: {e}")))?;
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
        Ok(Connection {
            stream,
            process: Some(SessionProcess {
                _stdin: child.stdin.take(),
                stderr,
                child,
                refused_allocation,
                max_memory: command.max_memory,
            }),
        })
    }

    /// Stops the process (its session is over: nothing of it is kept) and
    /// logs a session that ended at its memory limit.
    async fn finish(mut self, name: &str, peer: SocketAddr) {
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

    #[test]
    fn a_slot_is_refused_at_the_limit_and_given_back_when_dropped() {
        let count = AtomicUsize::new(0);
        let first = Slot::take(&count, 2).unwrap();
        let second = Slot::take(&count, 2).unwrap();
        assert!(Slot::take(&count, 2).is_none());
        drop(first);
        assert!(Slot::take(&count, 2).is_some());
        drop(second);
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }
}
