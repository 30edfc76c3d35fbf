//! `backprop serve`: this machine's devices, hosted with burn's remote server.

use super::failure;
use super::gate::{self, GateConfig, Limits, Peers, SessionCommand, Upstream};
use crate::backend::Backend;
use crate::error::{Error, Result};
use burn::server::{
    AuthorizationRequest, ClientId, RemoteServer, TokenAuthorizer, WebSocketTransport,
};
use std::net::{SocketAddr, TcpListener};

/// What [`serve`] and [`Server::start`] host, where, and for whom.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The local backends to host. burn serves one backend per server, so the
    /// i-th listens on the port of `listen` plus i (or on a free port each
    /// when that port is 0).
    pub backends: Vec<Backend>,
    /// Address and first port; `127.0.0.1:3000` unless the user says otherwise.
    pub listen: SocketAddr,
    /// The token clients must present. Without one, only a loopback address
    /// may be served (any local user can then connect).
    pub token: Option<String>,
    /// The front door every connection passes first (`None`: clients reach
    /// burn's server directly, with none of the gate's limits).
    pub gate: Option<GateOptions>,
}

/// The front door of a served backend ([`gate`](super::gate)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateOptions {
    /// What each connection is allowed.
    pub limits: Limits,
    /// Run each session in a process of its own, started with this command
    /// and `--backend NAME` (`None`: every session in this process).
    pub isolation: Option<SessionCommand>,
}

/// A running server, hosting [`ServeOptions::backends`] until dropped;
/// dropping it ends every client's session (what a dying server does).
pub struct Server {
    /// `(backend, ws:// URL)` of each hosted backend.
    pub urls: Vec<(Backend, String)>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// Binds every backend's port and starts serving in the background.
    ///
    /// Errors: a remote backend (a server cannot host another), a non-loopback
    /// address without a token, a port that cannot be bound.
    pub fn start(options: &ServeOptions) -> Result<Server> {
        check(options)?;
        let listen = options.listen;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("backprop-serve")
            .build()
            .map_err(|e| failure(&listen.to_string(), format!("cannot start the server: {e}")))?;
        let mut urls = Vec::new();
        for (i, backend) in options.backends.iter().enumerate() {
            let listener = bind(listen, i)?;
            let url = format!(
                "ws://{}",
                listener
                    .local_addr()
                    .map_err(|e| failure(&listen.to_string(), e.to_string()))?
            );
            match &options.gate {
                None => {
                    let token = options.token.clone();
                    runtime.spawn(burn_server(backend, listener, token, Peers::default())?);
                }
                Some(front) => host_gated(&runtime, backend, listener, options, front)?,
            }
            urls.push((backend.clone(), url));
        }
        Ok(Server {
            urls,
            runtime: Some(runtime),
        })
    }

    /// Stops serving now: clients see their sessions end.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The shortest token a server accepts: 16 bytes of a random hex string
/// carry 64 bits, beyond any guessing at the gate's pace; shorter ones
/// ("t", "secret") are the tokens people guess first.
pub const MIN_TOKEN_BYTES: usize = 16;

/// Refuses what cannot be served: no backend, a remote one (a server hosts
/// this machine's devices), a non-loopback address without a token, a token
/// shorter than [`MIN_TOKEN_BYTES`].
fn check(options: &ServeOptions) -> Result<()> {
    let listen = options.listen;
    if options.backends.is_empty() {
        return Err(Error::InvalidParameter {
            name: "backend",
            value: String::new(),
            reason: "name at least one backend to serve".into(),
        });
    }
    if let Some(Backend::Remote(url)) = options
        .backends
        .iter()
        .find(|b| matches!(b, Backend::Remote(_)))
    {
        return Err(Error::InvalidParameter {
            name: "backend",
            value: format!("remote {url}"),
            reason: "a server hosts this machine's devices, not another server's".into(),
        });
    }
    if let Some(token) = &options.token
        && token.len() < MIN_TOKEN_BYTES
    {
        return Err(Error::InvalidParameter {
            name: "token",
            value: format!("{} bytes", token.len()),
            reason: format!(
                "a token needs at least {MIN_TOKEN_BYTES} bytes, or it can be guessed: make one \
                 with `openssl rand -hex 32 > ~/.backprop-token` (and give the file to each \
                 client)"
            ),
        });
    }
    if options.token.is_none() && !listen.ip().is_loopback() {
        return Err(Error::InvalidParameter {
            name: "listen",
            value: listen.to_string(),
            reason: format!(
                "serving beyond this machine needs a token, or anyone who reaches the port \
                 runs code on your devices: give `token_file` or set {}",
                super::TOKEN_VARIABLE
            ),
        });
    }
    Ok(())
}

/// The listener of the `i`-th backend: `listen`'s port plus `i` (or a free
/// port when that port is 0).
fn bind(listen: SocketAddr, i: usize) -> Result<TcpListener> {
    let port = match listen.port() {
        0 => 0,
        first => u16::try_from(i)
            .ok()
            .and_then(|i| first.checked_add(i))
            .ok_or_else(|| Error::InvalidParameter {
                name: "listen",
                value: listen.to_string(),
                reason: "no room above this port for one port per backend".into(),
            })?,
    };
    let address = SocketAddr::new(listen.ip(), port);
    TcpListener::bind(address).map_err(|e| {
        failure(
            &address.to_string(),
            format!(
                "cannot listen: {e} (is another server on this port? give `listen` another \
                 port)"
            ),
        )
    })
}

/// Serves `backend` behind a gate on `listener`: burn's server on a
/// loopback port, accepting only a secret drawn now that only the gate
/// presents, or one process per session with a secret of its own.
fn host_gated(
    runtime: &tokio::runtime::Runtime,
    backend: &Backend,
    listener: TcpListener,
    options: &ServeOptions,
    front: &GateOptions,
) -> Result<()> {
    let peers = Peers::default();
    let upstream = match &front.isolation {
        Some(command) => Upstream::Isolated(with_backend(command, backend)),
        None => {
            let inner = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
                .and_then(|l| l.local_addr().map(|a| (l, a)))
                .map_err(|e| failure("127.0.0.1:0", format!("cannot listen: {e}")))?;
            let secret = gate::fresh_secret();
            runtime.spawn(burn_server(
                backend,
                inner.0,
                Some(secret.clone()),
                peers.clone(),
            )?);
            tracing::info!(
                "{backend}: burn's server on {} behind the gate (it admits only the gate)",
                inner.1
            );
            Upstream::Shared(inner.1, secret)
        }
    };
    let public = {
        let _entered = runtime.enter();
        listener
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpListener::from_std(listener))
            .map_err(|e| failure(&backend.to_string(), e.to_string()))?
    };
    runtime.spawn(gate::run(
        public,
        GateConfig {
            name: backend.to_string(),
            limits: front.limits.clone(),
            upstream,
            token: options.token.clone(),
            peers,
        },
    ));
    Ok(())
}

/// burn's server for `backend` on `listener`, admitting clients that present
/// `token`, as a task to spawn: it serves until the runtime stops.
fn burn_server(
    backend: &Backend,
    listener: TcpListener,
    token: Option<String>,
    peers: Peers,
) -> Result<impl std::future::Future<Output = ()> + Send + 'static> {
    let announce = listener
        .local_addr()
        .map_or_else(|_| backend.to_string(), |a| a.to_string());
    let server = RemoteServer::new([backend.device()?]).with_authorizer(authorizer(
        token,
        backend.clone(),
        peers,
    )?);
    let serving = server.serve_async(WebSocketTransport::from_listener(listener));
    Ok(async move {
        if let Err(e) = serving.await {
            tracing::error!("server {announce} stopped: {e}");
        }
    })
}

/// `command` serving `backend`.
fn with_backend(command: &SessionCommand, backend: &Backend) -> SessionCommand {
    let mut command = command.clone();
    command.args.push("--backend".into());
    command.args.push(backend.name().into());
    command
}

/// Admits the clients that present `token` (every client when there is none,
/// which [`Server::start`] allows on loopback only), logging each decision
/// with the client's address (through `peers` when a gate relays it).
///
/// burn's [`TokenAuthorizer`] keeps only the token's BLAKE3 digest and
/// compares digests with `blake3::Hash`'s constant-time equality, so the
/// time a refusal takes says nothing about how much of a guess was right.
fn authorizer(
    token: Option<String>,
    backend: Backend,
    peers: Peers,
) -> Result<
    impl Fn(AuthorizationRequest<'_>) -> std::result::Result<(), String> + Send + Sync + 'static,
> {
    let check = token
        .map(|t| {
            TokenAuthorizer::new(t.into_bytes().as_slice()).map_err(|e| Error::InvalidParameter {
                name: "token",
                value: String::new(),
                reason: e.to_string(),
            })
        })
        .transpose()?;
    Ok(move |request: AuthorizationRequest<'_>| {
        use burn::server::PeerAuthorizer;
        let client = match request.client {
            ClientId::WebSocket(seen) => peers.client(seen).to_string(),
            #[allow(unreachable_patterns)]
            other => other.to_string(),
        };
        let verdict = check.as_ref().map_or(Ok(()), |c| c.authorize(request));
        match &verdict {
            Ok(()) => tracing::info!("{backend}: admitted {client}"),
            Err(reason) => tracing::warn!("{backend}: refused {client}: {reason}"),
        }
        verdict
    })
}

/// Hosts `options.backends` until Ctrl-C or SIGTERM, then ends every session
/// and returns. `ready` is told each backend's URL once all are listening.
pub fn serve(options: &ServeOptions, ready: impl FnOnce(&[(Backend, String)])) -> Result<()> {
    burn::server::ServerLogging::install();
    let server = Server::start(options)?;
    ready(&server.urls);
    let runtime = server.runtime.as_ref().expect("running");
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut terminate = signal(SignalKind::terminate())
                .map_err(|e| failure("serve", format!("cannot handle SIGTERM: {e}")))?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        Ok::<(), Error>(())
    })?;
    tracing::info!("stopping: ending every session");
    server.stop();
    Ok(())
}
