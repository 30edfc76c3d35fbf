//! The front door of a served device: every client connection passes through
//! here, and nothing a client sends reaches burn's server before the gate
//! has checked its token.
//!
//! burn 0.22.1's WebSocket server (axum with tungstenite) accepts every
//! connection on every route, reserves the whole length a frame's header
//! announces (up to 1 GiB) before it has read the credential, answers a Ping
//! at any time, and waits without a deadline for a client that never speaks.
//! So the gate speaks the session's opening itself. A connection goes
//! through four phases:
//!
//! 1. **Admission** ([`Limits::max_pending`] connections at once, else `503`
//!    at once): the HTTP request is read within the client's byte budget; a
//!    [`STATUS_REQUEST`] is answered by the gate; any route but `/session`
//!    is answered `404`; an address that keeps presenting wrong tokens
//!    ([`admission::Strikes`]) and a server at [`Limits::max_clients`] are
//!    answered `503` with the reason.
//! 2. **Authentication**, by the gate alone: it answers the WebSocket upgrade
//!    (`101`), reads frames (masked, announcing no more than the budget;
//!    a Ping is answered with a Pong and changes nothing), decodes the
//!    session's `Init` and compares the BLAKE3 digest of its credential with
//!    the token's, in constant time. Phases 1 and 2 must end within
//!    [`Limits::handshake_deadline`] and [`Limits::preauth_bytes`]; a wrong
//!    token is answered as burn answers it (`Unauthorized`). Nothing is
//!    started and no byte reaches burn's server until the token is right.
//! 3. **Opening**: a client place is taken atomically (a client that lost
//!    the race for the last one is told why in the close frame); the session's
//!    server is dialled (or its process started), handed the client's
//!    request and its `Init` carrying the server's own secret in place of
//!    the token.
//! 4. **Session**: bytes are relayed both ways until either side closes, the
//!    session is idle for [`Limits::idle_timeout`], or it reaches
//!    [`Limits::max_session`].
//!
//! Behind the gate is either burn's server in this process, on a loopback
//! port ([`Upstream::Shared`]), or a fresh process per session
//! ([`Upstream::Isolated`]), which is how a session's memory is capped. Each
//! accepts only a secret drawn when it starts, which only the gate knows: a
//! local user who dials its port directly, around the gate, cannot open a
//! session even with the clients' token (docs/gpu-and-remote.md argues the
//! choice).

use super::{IDLE_TIMEOUT, MAX_SESSION, failure};
use crate::error::Result;
use admission::{Slot, Strikes, Verdict};
pub use process::SessionCommand;
use process::SessionProcess;
use relay::Ended;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wire::{Opcode, WireError};

mod admission;
mod process;
mod relay;
pub mod wire;

/// What the gate allows each connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Sessions served at once.
    pub max_clients: usize,
    /// Connections still authenticating at once: bounds what a flood of
    /// connections that never authenticate can hold.
    pub max_pending: usize,
    /// Time a connection has to present its token, from its first byte.
    pub handshake_deadline: Duration,
    /// Bytes a client may send before its token is checked; a real client
    /// sends well under a kilobyte.
    pub preauth_bytes: usize,
    /// A session with no byte either way for this long is ended.
    pub idle_timeout: Duration,
    /// The longest a session may last.
    pub max_session: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_clients: 32,
            max_pending: 16,
            handshake_deadline: Duration::from_secs(10),
            preauth_bytes: 64 * 1024,
            idle_timeout: IDLE_TIMEOUT,
            max_session: MAX_SESSION,
        }
    }
}

/// What the gate relays authenticated sessions to.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// burn's server in this process, listening on this loopback address and
    /// accepting only this secret.
    Shared(SocketAddr, String),
    /// One process per session, each started with this command and a secret
    /// of its own.
    Isolated(SessionCommand),
}

/// A secret for a server behind a gate: 32 random bytes, in hex so that it
/// travels in an environment variable.
pub fn fresh_secret() -> String {
    rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

/// One gate's settings: its name in log lines, its limits, what it relays
/// to, the clients' token (`None`: every client is admitted, which a server
/// allows on loopback only) and the table of client addresses.
#[derive(Debug, Clone)]
pub struct GateConfig {
    /// Starts every log line (the backend served).
    pub name: String,
    /// What each connection is allowed.
    pub limits: Limits,
    /// What authenticated sessions are relayed to.
    pub upstream: Upstream,
    /// The token clients must present.
    pub token: Option<String>,
    /// Filled in with the client behind each connection to a shared server.
    pub peers: Peers,
}

/// One gate at work.
struct Gate {
    name: String,
    limits: Limits,
    upstream: Upstream,
    /// The token's BLAKE3 digest: compared in constant time
    /// (`blake3::Hash`'s equality), so the time a refusal takes says nothing
    /// about how much of a guess was right.
    token: Option<blake3::Hash>,
    peers: Peers,
    strikes: Strikes,
    active: AtomicUsize,
    pending: AtomicUsize,
}

/// Accepts connections on `listener` forever, relaying them as `config` says.
pub async fn run(listener: TcpListener, config: GateConfig) {
    let gate = Arc::new(Gate {
        name: config.name,
        limits: config.limits,
        upstream: config.upstream,
        token: config.token.map(|t| blake3::hash(t.as_bytes())),
        peers: config.peers,
        strikes: Strikes::default(),
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

/// Why a connection ended before its session began.
#[derive(Debug)]
enum Dropped {
    Deadline(Duration),
    TooManyBytes(usize),
    ClientLeft,
    Wire(WireError),
    WrongToken,
    Io(std::io::Error),
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
            Dropped::ClientLeft => f.write_str("left before authenticating"),
            Dropped::Wire(e) => write!(f, "{e}"),
            Dropped::WrongToken => f.write_str("presented the wrong token"),
            Dropped::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<std::io::Error> for Dropped {
    fn from(e: std::io::Error) -> Dropped {
        Dropped::Io(e)
    }
}

impl From<WireError> for Dropped {
    fn from(e: WireError) -> Dropped {
        match e {
            WireError::HeadTooLong(n) => Dropped::TooManyBytes(n),
            other => Dropped::Wire(other),
        }
    }
}

/// What became of a connection that did not authenticate.
#[derive(Debug)]
enum Outcome {
    /// Dropped, and logged.
    Dropped(Dropped),
    /// Answered `503` with this reason.
    Refused(String),
    /// Answered `404`: a route the gate does not relay.
    NotFound(String),
    /// Answered `400`: a request to `/session` that is no WebSocket upgrade.
    NotUpgrade,
    /// A status query, answered.
    Answered,
}

impl From<Dropped> for Outcome {
    fn from(e: Dropped) -> Outcome {
        Outcome::Dropped(e)
    }
}

impl From<WireError> for Outcome {
    fn from(e: WireError) -> Outcome {
        Outcome::Dropped(e.into())
    }
}

impl From<std::io::Error> for Outcome {
    fn from(e: std::io::Error) -> Outcome {
        Outcome::Dropped(e.into())
    }
}

/// An authenticated client: its request, its `Init`, and the bytes it sent
/// after it.
struct Heard {
    head: Vec<u8>,
    init: wire::Init,
    rest: Vec<u8>,
}

/// How long burn's server behind the gate has to answer the upgrade.
const UPSTREAM_HANDSHAKE: Duration = Duration::from_secs(10);

/// The path of a status query.
const STATUS_PATH: &str = "/backprop/status";

impl Gate {
    async fn connection(self: Arc<Self>, mut client: TcpStream, peer: SocketAddr) {
        let name = &self.name;
        let Some(pending) = Slot::take(&self.pending, self.limits.max_pending) else {
            let reason = format!(
                "{} connections are already authenticating: try again shortly",
                self.limits.max_pending
            );
            tracing::warn!("{name}: refused {peer}: {reason}");
            return refuse(client, &reason).await;
        };
        let _ = client.set_nodelay(true);
        keep_alive(&client);
        let deadline = self.limits.handshake_deadline;
        let heard = tokio::time::timeout(deadline, self.hear(&mut client, peer))
            .await
            .unwrap_or(Err(Outcome::Dropped(Dropped::Deadline(deadline))));
        drop(pending);
        match heard {
            Ok(heard) => self.serve(client, peer, heard).await,
            Err(Outcome::Answered) => {}
            Err(Outcome::Refused(reason)) => {
                tracing::warn!("{name}: refused {peer}: {reason}");
                refuse(client, &reason).await;
            }
            Err(Outcome::NotFound(path)) => {
                tracing::warn!("{name}: refused {peer}: no route {path:?}");
                let body =
                    format!("backprop serve: no route {path:?}; sessions open at /session\n");
                answer(&mut client, "404 Not Found", "text/plain", &body).await;
            }
            Err(Outcome::NotUpgrade) => {
                let body = "backprop serve: /session expects a WebSocket upgrade\n";
                answer(&mut client, "400 Bad Request", "text/plain", body).await;
            }
            Err(Outcome::Dropped(Dropped::WrongToken)) => {
                tracing::warn!("{name}: refused {peer}: {}", Dropped::WrongToken)
            }
            Err(Outcome::Dropped(dropped)) => tracing::warn!("{name}: dropped {peer}: {dropped}"),
        }
    }

    /// Reads the client's request and, for a session, its `Init`, until its
    /// token is checked.
    async fn hear(
        &self,
        client: &mut TcpStream,
        peer: SocketAddr,
    ) -> std::result::Result<Heard, Outcome> {
        let budget = self.limits.preauth_bytes;
        let mut bytes = Vec::new();
        let request = loop {
            read_more(client, &mut bytes, budget).await?;
            if let Some(request) = wire::parse_request(&bytes, budget)? {
                break request;
            }
        };
        if request.path == STATUS_PATH {
            let status = self.status_json(request.bearer.as_deref(), peer);
            answer(client, "200 OK", "application/json", &status).await;
            return Err(Outcome::Answered);
        }
        if request.path != wire::SESSION_ROUTE {
            return Err(Outcome::NotFound(request.path));
        }
        if let Some(wait) = self.strikes.waiting(peer.ip(), Instant::now()) {
            return Err(Outcome::Refused(format!(
                "too many wrong tokens from {}: try again in {} s",
                peer.ip(),
                wait.as_secs() + 1
            )));
        }
        if self.active.load(Ordering::SeqCst) >= self.limits.max_clients {
            return Err(Outcome::Refused(self.full()));
        }
        let Some(key) = &request.websocket_key else {
            return Err(Outcome::NotUpgrade);
        };
        client.write_all(&wire::switching_protocols(key)).await?;
        let mut bytes = request.rest;
        let mut message: Vec<u8> = Vec::new();
        let mut received = request.head.len() + bytes.len();
        loop {
            let left = budget.saturating_sub(request.head.len() + message.len());
            while let Some((frame, used)) = wire::parse_client_frame(&bytes, left)? {
                bytes.drain(..used);
                match frame.opcode {
                    Opcode::Ping => {
                        let pong = wire::server_frame(Opcode::Pong, &frame.payload);
                        client.write_all(&pong).await?;
                    }
                    Opcode::Pong => {}
                    Opcode::Close => return Err(Dropped::ClientLeft.into()),
                    Opcode::Text => return Err(WireError::Malformed("a text frame").into()),
                    Opcode::Continuation if message.is_empty() => {
                        return Err(WireError::Malformed("a continuation of nothing").into());
                    }
                    Opcode::Binary | Opcode::Continuation => {
                        message.extend_from_slice(&frame.payload);
                        if frame.fin {
                            let init = self.check_token(client, peer, &message).await?;
                            return Ok(Heard {
                                head: request.head,
                                init,
                                rest: bytes,
                            });
                        }
                    }
                }
            }
            received += read_more(client, &mut bytes, budget - received.min(budget)).await?;
        }
    }

    /// The `Init` in `message`, if it carries the token; a wrong token is
    /// answered as burn answers it, counted against the client's address,
    /// and logged once per burst when the address starts to wait.
    async fn check_token(
        &self,
        client: &mut TcpStream,
        peer: SocketAddr,
        message: &[u8],
    ) -> std::result::Result<wire::Init, Dropped> {
        let init = wire::decode_init(message)?;
        let Some(token) = &self.token else {
            return Ok(init);
        };
        if blake3::hash(init.credential()) == *token {
            self.strikes.forgive(peer.ip());
            return Ok(init);
        }
        if let Verdict::Starts(wait) = self.strikes.strike(peer.ip(), Instant::now()) {
            tracing::warn!(
                "{}: {} presented {} wrong tokens in a row: its next request waits {} s, twice \
                 as long after each further wrong token, up to {} s (not logged again in this \
                 burst)",
                self.name,
                peer.ip(),
                admission::FREE_STRIKES + 1,
                wait.as_secs(),
                admission::LONGEST_WAIT.as_secs()
            );
        }
        let refusal = wire::server_frame(Opcode::Binary, &wire::unauthorized());
        let _ = client.write_all(&refusal).await;
        let _ = client
            .write_all(&wire::close_frame(1008, "wrong token"))
            .await;
        Err(Dropped::WrongToken)
    }

    /// The reason a client is refused when the server is full.
    fn full(&self) -> String {
        format!(
            "the server is serving its limit of {} clients: try again when one has ended",
            self.limits.max_clients
        )
    }

    /// Opens an authenticated client's session and relays it to its end.
    async fn serve(&self, mut client: TcpStream, peer: SocketAddr, heard: Heard) {
        let name = &self.name;
        let Some(_active) = Slot::take(&self.active, self.limits.max_clients) else {
            // It passed the check on reading its request, but others took the
            // last places since: the upgrade is done, so it is told in the
            // close frame (1013: try again later).
            let reason = self.full();
            tracing::warn!("{name}: refused {peer}: {reason}");
            let _ = client.write_all(&wire::close_frame(1013, &reason)).await;
            return;
        };
        let (connection, early, _seen) = match self.open(peer, &heard).await {
            Ok(opened) => opened,
            Err(e) => {
                tracing::error!("{name}: refused {peer}: {e}");
                let reason = "the server cannot start a session: its log says why";
                let _ = client.write_all(&wire::close_frame(1011, reason)).await;
                return;
            }
        };
        if let Err(e) = client.write_all(&early).await {
            tracing::warn!("{name}: dropped {peer}: {e}");
            return connection.finish(name, peer).await;
        }
        let started = Instant::now();
        tracing::info!(
            "{name}: session of {peer} opened ({} of {} clients)",
            self.active.load(Ordering::SeqCst),
            self.limits.max_clients
        );
        let Connection { stream, process } = connection;
        let Some(stream) = stream else { return };
        let limits = &self.limits;
        let ended = relay::relay(client, stream, limits.idle_timeout, limits.max_session).await;
        let seconds = started.elapsed().as_secs_f64();
        match ended {
            Ended::Closed(..) => {
                tracing::info!("{name}: session of {peer} ended after {seconds:.1} s ({ended})")
            }
            _ => tracing::warn!("{name}: session of {peer} ended after {seconds:.1} s: {ended}"),
        }
        Connection {
            stream: None,
            process,
        }
        .finish(name, peer)
        .await;
    }

    /// Connects `heard`'s session to its server (starting its process when
    /// sessions are isolated), passes on the request and the `Init` with the
    /// server's secret: the connection, the bytes the server sent after its
    /// `101`, and the entry naming the client in [`Peers`].
    async fn open(&self, peer: SocketAddr, heard: &Heard) -> Result<(Connection, Vec<u8>, Seen)> {
        let (mut connection, secret) = match &self.upstream {
            Upstream::Shared(address, secret) => {
                let stream = TcpStream::connect(address)
                    .await
                    .map_err(|e| failure(&address.to_string(), e.to_string()))?;
                let _ = stream.set_nodelay(true);
                (Connection::shared(stream), secret.clone())
            }
            Upstream::Isolated(command) => {
                let secret = fresh_secret();
                let connection = SessionProcess::start(command, &secret, &self.name, peer).await?;
                (connection, secret)
            }
        };
        let stream = connection.stream.as_mut().expect("a new connection");
        let local = stream.local_addr().ok();
        let seen = Seen::new(&self.peers, local, peer);
        let init = wire::client_frame(
            Opcode::Binary,
            &heard.init.with_credential(secret.as_bytes()).encode(),
            rand::random(),
        );
        let handshake = async {
            stream.write_all(&heard.head).await?;
            let early = read_response_head(stream).await?;
            stream.write_all(&init).await?;
            stream.write_all(&heard.rest).await?;
            Ok::<_, std::io::Error>(early)
        };
        let server = self.name.as_str();
        match tokio::time::timeout(UPSTREAM_HANDSHAKE, handshake).await {
            Ok(Ok(early)) => Ok((connection, early, seen)),
            Ok(Err(e)) => {
                connection.finish(server, peer).await;
                Err(failure(server, format!("the session's server: {e}")))
            }
            Err(_) => {
                connection.finish(server, peer).await;
                Err(failure(
                    server,
                    "the session's server did not answer its upgrade",
                ))
            }
        }
    }

    /// What [`STATUS_REQUEST`] is answered: [`ServerStatus`] as JSON, with
    /// only what a refused client needs (places taken and allowed) unless the
    /// request presents the token (`Authorization: Bearer TOKEN`) or the
    /// server has none. A wrong token here counts as one at a session's door.
    fn status_json(&self, bearer: Option<&str>, peer: SocketAddr) -> String {
        let trusted = match (&self.token, bearer) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(_), Some(_)) if self.strikes.waiting(peer.ip(), Instant::now()).is_some() => {
                false
            }
            (Some(token), Some(bearer)) => {
                let right = blake3::hash(bearer.as_bytes()) == *token;
                match right {
                    true => self.strikes.forgive(peer.ip()),
                    false => {
                        self.strikes.strike(peer.ip(), Instant::now());
                    }
                }
                right
            }
        };
        let status = ServerStatus {
            max_clients: self.limits.max_clients,
            clients: self.active.load(Ordering::SeqCst),
            max_memory: match &self.upstream {
                Upstream::Isolated(command) if trusted => command.max_memory,
                _ => None,
            },
            heap_bytes: trusted.then(crate::heap::in_use),
        };
        serde_json::to_string(&status).unwrap_or_default()
    }
}

/// Reads more of the client's bytes into `bytes`, refusing more than
/// `budget` in all: how many came.
async fn read_more(
    client: &mut TcpStream,
    bytes: &mut Vec<u8>,
    budget: usize,
) -> std::result::Result<usize, Dropped> {
    let mut buffer = [0u8; 4096];
    let n = client.read(&mut buffer).await?;
    if n == 0 {
        return Err(Dropped::ClientLeft);
    }
    bytes.extend_from_slice(&buffer[..n]);
    if n > budget {
        return Err(Dropped::TooManyBytes(bytes.len()));
    }
    Ok(n)
}

/// Reads the server's answer to the upgrade: it must be `101`; returns
/// whatever came after its head.
async fn read_response_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Err(std::io::Error::other("it closed before answering"));
        }
        head.extend_from_slice(&buffer[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let status_line = head.split(|&b| b == b'\r').next().unwrap_or_default();
            if !status_line.starts_with(b"HTTP/1.1 101") {
                let status = String::from_utf8_lossy(status_line).into_owned();
                return Err(std::io::Error::other(format!("it answered {status:?}")));
            }
            return Ok(head.split_off(end + 4));
        }
        if head.len() > wire::MAX_HEAD {
            return Err(std::io::Error::other("its HTTP answer had no end"));
        }
    }
}

/// Probes an idle client after 10 s, then every 5 s, and drops it after 4
/// unanswered probes, as burn's server does with its own connections (the
/// gate's, here): a client that vanished without closing (a crash of its
/// machine, a dropped network, a sleeping laptop) would otherwise hold its
/// place among the clients until the idle timeout.
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

/// The request line of a status query, answered by the gate itself.
pub const STATUS_REQUEST: &str = "GET /backprop/status ";

/// What a gate allows and holds, as [`STATUS_REQUEST`] answers it: a client
/// reads it to say why it was refused and, presenting the token, to check a
/// job against the memory a session may hold before sending it; a soak test
/// reads the heap.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerStatus {
    /// Sessions served at once.
    pub max_clients: usize,
    /// Sessions served when asked.
    pub clients: usize,
    /// Heap bytes one session may hold, if limited (told only to a request
    /// presenting the token).
    #[serde(default)]
    pub max_memory: Option<u64>,
    /// Heap bytes the serving process holds now (0 unless its binary
    /// installs [`crate::heap::CountingAllocator`]); with sessions in
    /// processes of their own, the gate's alone. Told only to a request
    /// presenting the token.
    #[serde(default)]
    pub heap_bytes: Option<usize>,
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
    stream: Option<TcpStream>,
    process: Option<SessionProcess>,
}

impl Connection {
    /// A connection to a server this process runs.
    fn shared(stream: TcpStream) -> Connection {
        Connection {
            stream: Some(stream),
            process: None,
        }
    }

    /// A connection to the process of one session.
    fn isolated(stream: TcpStream, process: SessionProcess) -> Connection {
        Connection {
            stream: Some(stream),
            process: Some(process),
        }
    }

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

    /// A gate on a free loopback port in front of `upstream`, with `limits`
    /// and the token "a-token-of-16-bytes".
    async fn gate(limits: Limits, upstream: Upstream) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(run(
            listener,
            GateConfig {
                name: "test".into(),
                limits,
                upstream,
                token: Some(TOKEN.into()),
                peers: Peers::default(),
            },
        ));
        address
    }

    const TOKEN: &str = "a-token-of-16-bytes";

    /// An upstream that counts the connections it is given and never answers.
    async fn counting_upstream() -> (Upstream, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let dialled = Arc::new(AtomicUsize::new(0));
        let count = dialled.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        (Upstream::Shared(address, fresh_secret()), dialled)
    }

    const UPGRADE: &str = "GET /session HTTP/1.1\r\nhost: h\r\nupgrade: websocket\r\n\
        connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        sec-websocket-version: 13\r\n\r\n";

    async fn read_all(stream: &mut TcpStream) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
        out
    }

    #[tokio::test]
    async fn a_ping_before_the_token_is_answered_and_changes_nothing() {
        let (upstream, dialled) = counting_upstream().await;
        let limits = Limits {
            handshake_deadline: Duration::from_millis(500),
            ..Limits::default()
        };
        let address = gate(limits, upstream).await;
        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(UPGRADE.as_bytes()).await.unwrap();
        let ping = wire::client_frame(Opcode::Ping, b"", [1, 2, 3, 4]);
        client.write_all(&ping).await.unwrap();
        let started = Instant::now();
        let seen = read_all(&mut client).await;
        let text = String::from_utf8_lossy(&seen);
        assert!(text.starts_with("HTTP/1.1 101"), "{text}");
        assert!(seen.ends_with(&[0x8a, 0x00]), "a pong: {seen:?}");
        // Closed at the deadline, with no byte for the server.
        assert!(started.elapsed() >= Duration::from_millis(400));
        assert_eq!(dialled.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_wrong_token_is_refused_as_burn_refuses_it_and_nothing_is_dialled() {
        let (upstream, dialled) = counting_upstream().await;
        let address = gate(Limits::default(), upstream).await;
        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(UPGRADE.as_bytes()).await.unwrap();
        let init = wire::decode_init(
            &[
                &[0x91, 0x81, 0xa4][..],
                b"Init",
                &[0x94, 0x02, 0x91, 0x07, 0x00, 0xc4, 0x05],
                b"guess",
            ]
            .concat(),
        )
        .unwrap();
        let frame = wire::client_frame(Opcode::Binary, &init.encode(), [5, 6, 7, 8]);
        client.write_all(&frame).await.unwrap();
        let seen = read_all(&mut client).await;
        let refusal = wire::server_frame(Opcode::Binary, &wire::unauthorized());
        assert!(
            seen.windows(refusal.len()).any(|w| w == refusal),
            "{seen:?}"
        );
        assert_eq!(dialled.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn only_the_session_route_is_served_and_the_status_tells_strangers_little() {
        let (upstream, dialled) = counting_upstream().await;
        let address = gate(Limits::default(), upstream).await;
        let mut client = TcpStream::connect(address).await.unwrap();
        client
            .write_all(UPGRADE.replace("/session", "/data").as_bytes())
            .await
            .unwrap();
        let seen = String::from_utf8(read_all(&mut client).await).unwrap();
        assert!(seen.starts_with("HTTP/1.1 404"), "{seen}");
        let status = |bearer: &str| {
            let request = format!("GET /backprop/status HTTP/1.1\r\n{bearer}\r\n");
            async move {
                let mut client = TcpStream::connect(address).await.unwrap();
                client.write_all(request.as_bytes()).await.unwrap();
                let seen = String::from_utf8(read_all(&mut client).await).unwrap();
                let body = seen.split_once("\r\n\r\n").unwrap().1.to_string();
                serde_json::from_str::<ServerStatus>(&body).unwrap()
            }
        };
        let stranger = status("").await;
        assert_eq!((stranger.max_clients, stranger.heap_bytes), (32, None));
        let wrong = status("authorization: Bearer nope\r\n").await;
        assert_eq!(wrong.heap_bytes, None);
        let trusted = status(&format!("authorization: Bearer {TOKEN}\r\n")).await;
        assert!(trusted.heap_bytes.is_some(), "{trusted:?}");
        assert_eq!(dialled.load(Ordering::SeqCst), 0);
    }
}
