//! The front door of a served device: every client connection passes through
//! here before burn's server reads a byte of it.
//!
//! burn 0.22.1's WebSocket server (axum with tungstenite) accepts every
//! connection, reserves the whole length a frame's header announces (up to
//! 1 GiB) before the session's first message, its credential, is read, and
//! waits without a deadline for a client that never speaks.
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
//!    [`Limits::preauth_bytes`] from the client, in frames whose headers
//!    announce no more than that. burn's server answers the
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
pub use process::SessionCommand;
use process::SessionProcess;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod process;

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
    /// A frame announced more bytes than the client may still send.
    FrameTooLong(u64),
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
            Dropped::FrameTooLong(n) => write!(
                f,
                "announced a frame of {n} bytes before authenticating, more than a handshake \
                 needs"
            ),
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
        let budget = self.limits.preauth_bytes - head.len();
        let mut frames = FrameWatch::default();
        let end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
        frames.see(&head[end..], budget)?;
        let mut upstream = self.open(peer).await.map_err(Dropped::Upstream)?;
        let seen = Seen::new(&self.peers, upstream.stream.local_addr().ok(), peer);
        upstream.stream.write_all(&head).await?;
        let answer = relay_handshake(client, &mut upstream.stream, budget, frames).await?;
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
                Ok(Connection::shared(stream))
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
    mut frames: FrameWatch,
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
                frames.see(&client_buffer[..n], preauth_bytes - from_client)?;
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

/// Follows the WebSocket frames a client sends before it is authenticated,
/// to refuse a frame whose header announces more than the client may still
/// send, before that header reaches burn's server: tungstenite reserves a
/// frame's whole announced length (up to 1 GiB there) as soon as it has read
/// its header, so 14 bytes would make the server allocate a gigabyte.
#[derive(Debug, Default)]
struct FrameWatch {
    /// The header being read.
    header: Vec<u8>,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
}

impl FrameWatch {
    /// Follows `bytes`, refusing a frame longer than `budget`.
    fn see(&mut self, mut bytes: &[u8], budget: usize) -> std::result::Result<(), Dropped> {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let skipped = bytes.len().min(self.payload_left as usize);
                self.payload_left -= skipped as u64;
                bytes = &bytes[skipped..];
                continue;
            }
            self.header.push(bytes[0]);
            bytes = &bytes[1..];
            if let Some(length) = frame_length(&self.header) {
                if length > budget as u64 {
                    return Err(Dropped::FrameTooLong(length));
                }
                self.payload_left = length;
                self.header.clear();
            }
        }
        Ok(())
    }
}

/// The payload length a complete WebSocket frame header announces (RFC 6455
/// § 5.2: 7 bits, or 126 then 16 bits, or 127 then 64 bits; then a 4-byte
/// mask when masked), or `None` while the header is incomplete.
fn frame_length(header: &[u8]) -> Option<u64> {
    let second = *header.get(1)?;
    let (extended, short) = match second & 0x7f {
        126 => (2, None),
        127 => (8, None),
        n => (0, Some(u64::from(n))),
    };
    let mask = if second & 0x80 != 0 { 4 } else { 0 };
    if header.len() < 2 + extended + mask {
        return None;
    }
    Some(short.unwrap_or_else(|| {
        header[2..2 + extended]
            .iter()
            .fold(0, |length, &byte| length << 8 | u64::from(byte))
    }))
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
    /// A connection to a server this process runs.
    fn shared(stream: TcpStream) -> Connection {
        Connection {
            stream,
            process: None,
        }
    }

    /// A connection to the process of one session.
    fn isolated(stream: TcpStream, process: SessionProcess) -> Connection {
        Connection {
            stream,
            process: Some(process),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A connected pair of loopback sockets: (the gate's end, the peer's).
    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let peer = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (gate, _) = listener.accept().await.unwrap();
        (gate, peer)
    }

    #[tokio::test]
    async fn a_request_head_is_read_to_its_blank_line_and_anything_else_is_refused() {
        let (mut gate, mut client) = pair().await;
        let request = b"GET /session HTTP/1.1\r\nhost: x\r\n\r\n";
        client.write_all(request).await.unwrap();
        assert_eq!(read_request_head(&mut gate, 1024).await.unwrap(), request);

        let (mut gate, mut client) = pair().await;
        // The start of a TLS ClientHello: a wss:// client.
        client.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
        let refused = read_request_head(&mut gate, 1024).await;
        assert!(matches!(refused, Err(Dropped::NotHttp)), "{refused:?}");

        let (mut gate, mut client) = pair().await;
        let endless = [b"GET /".as_slice(), &[b'a'; 2000]].concat();
        client.write_all(&endless).await.unwrap();
        let refused = read_request_head(&mut gate, 1024).await;
        assert!(
            matches!(refused, Err(Dropped::TooManyBytes(n)) if n > 1024),
            "{refused:?}"
        );

        let (mut gate, client) = pair().await;
        drop(client);
        let refused = read_request_head(&mut gate, 1024).await;
        assert!(matches!(refused, Err(Dropped::ClientLeft)), "{refused:?}");
    }

    #[tokio::test]
    async fn the_handshake_ends_at_the_servers_first_byte_after_its_101() {
        let (mut gate_client, mut client) = pair().await;
        let (mut gate_upstream, mut server) = pair().await;
        let head = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n";
        let serve = tokio::spawn(async move {
            let mut init = [0u8; 5];
            server.read_exact(&mut init).await.unwrap();
            server.write_all(head).await.unwrap();
            server.write_all(&[0x82, 0x01, 0x2a]).await.unwrap();
            server
        });
        client.write_all(b"frame").await.unwrap();
        let answer = relay_handshake(
            &mut gate_client,
            &mut gate_upstream,
            1024,
            FrameWatch::default(),
        )
        .await
        .unwrap();
        // The frame is held back; the head went through.
        assert_eq!(answer, [0x82, 0x01, 0x2a]);
        let mut seen = vec![0u8; head.len()];
        client.read_exact(&mut seen).await.unwrap();
        assert_eq!(seen, head);
        drop(serve.await.unwrap());
    }

    #[tokio::test]
    async fn a_server_answer_other_than_101_is_passed_on_and_ends_the_connection() {
        let (mut gate_client, mut client) = pair().await;
        let (mut gate_upstream, mut server) = pair().await;
        let answer = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        server.write_all(answer).await.unwrap();
        drop(server);
        let dropped = relay_handshake(
            &mut gate_client,
            &mut gate_upstream,
            1024,
            FrameWatch::default(),
        )
        .await;
        assert!(
            matches!(&dropped, Err(Dropped::NotWebSocket(status)) if status == "HTTP/1.1 400 Bad Request"),
            "{dropped:?}"
        );
        let mut seen = vec![0u8; answer.len()];
        client.read_exact(&mut seen).await.unwrap();
        assert_eq!(seen, answer);
    }

    #[test]
    fn a_frame_announcing_more_than_the_budget_is_refused_at_its_header() {
        // Masked frames of 5, 300 (16-bit length) and 2^30 (64-bit) bytes.
        let small = [0x82, 0x85, 1, 2, 3, 4, b'h', b'e', b'l', b'l', b'o'];
        let medium = [[0x82, 0xfe, 0x01, 0x2c, 1, 2, 3, 4].as_slice(), &[0u8; 300]].concat();
        let mut huge = vec![0x82, 0xff];
        huge.extend_from_slice(&(1u64 << 30).to_be_bytes());
        huge.extend_from_slice(&[1, 2, 3, 4]);
        let mut watch = FrameWatch::default();
        // Split anywhere, the frames are followed across reads.
        for piece in small.chunks(3).chain(medium.chunks(7)) {
            watch.see(piece, 1024).unwrap();
        }
        assert!(watch.header.is_empty() && watch.payload_left == 0);
        let refused = watch.see(&huge[..7], 1024);
        assert!(refused.is_ok(), "the length is not complete yet");
        let refused = watch.see(&huge[7..], 1024);
        assert!(
            matches!(refused, Err(Dropped::FrameTooLong(n)) if n == 1 << 30),
            "{refused:?}"
        );
        // Within the budget, a 300-byte frame passes; beyond it, it does not.
        assert!(FrameWatch::default().see(&medium, 299).is_err());
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
