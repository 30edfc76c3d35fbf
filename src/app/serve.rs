//! `backprop serve`: host this machine's devices for `--backend remote`
//! clients, with burn's remote server, until Ctrl-C or SIGTERM.

use crate::backend::Backend;
use crate::error::Error;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// What `backprop serve` does.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeRequest {
    /// Local backends to host, one port each from --listen's: flex, ndarray, wgpu.
    #[arg(
        long = "backend",
        value_name = "BACKEND",
        value_delimiter = ',',
        default_value = "flex"
    )]
    pub backends: Vec<Backend>,
    /// Address and first port to listen on. Anything but a loopback address needs a
    /// token (--token-file or BACKPROP_TOKEN).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Sessions served at once, per backend; a client beyond them is told the server
    /// is busy. (With the global --max-memory, each session may hold that much heap,
    /// in a process of its own.)
    #[arg(long, default_value_t = 32)]
    pub max_clients: usize,
    /// Seconds a connection has to authenticate (HTTP upgrade, token, the server's
    /// answer); a silent or stalled client is dropped after them.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub handshake_timeout: f64,
    /// Seconds an authenticated session may pass with no byte either way before
    /// it is ended and its place freed.
    #[arg(long, default_value_t = crate::backend::remote::IDLE_TIMEOUT.as_secs_f64(), value_name = "SECONDS")]
    pub idle_timeout: f64,
    /// Seconds a session may last at most, however busy.
    #[arg(long, default_value_t = crate::backend::remote::MAX_SESSION.as_secs_f64(), value_name = "SECONDS")]
    pub max_session: f64,
    /// Serve on a free loopback port until stdin closes, with the global
    /// --max-memory as a hard heap limit: one session of a server started with
    /// --max-memory.
    #[arg(long, hide = true)]
    pub session_process: bool,
    /// The token file of the global `--token-file` (filled in from it).
    #[arg(skip)]
    pub token_file: Option<PathBuf>,
    /// The global `--max-memory`, in bytes (filled in from it).
    #[arg(skip)]
    pub max_memory: Option<u64>,
}

/// Serves until a signal, printing each backend's URL once it listens.
#[cfg(feature = "remote")]
pub fn run(args: ServeRequest) -> Result<ExitCode, Error> {
    use crate::backend::remote::{self, ServeOptions};
    let token = remote::read_token(args.token_file.as_deref())?;
    if args.session_process {
        return serve_one_session(args, token);
    }
    let options = ServeOptions {
        backends: args.backends.clone(),
        listen: args.listen,
        token: token.clone(),
        gate: Some(gate_options(&args)?),
    };
    remote::serve(&options, |urls| {
        for (backend, url) in urls {
            println!("serving {backend} at {url}");
        }
        if token.is_none() {
            println!(
                "no token: any local user can connect (set {} or --token-file to require one)",
                remote::TOKEN_VARIABLE
            );
        }
        println!(
            "clients: backprop <command> --backend remote --remote URL; Ctrl-C stops the server"
        );
        if let Some(warning) = cleartext_warning(args.listen) {
            eprintln!("{warning}");
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The gate's limits from the command line; with `--max-memory`, each
/// session in a process of its own, this executable again.
#[cfg(feature = "remote")]
fn gate_options(args: &ServeRequest) -> Result<crate::backend::remote::GateOptions, Error> {
    use crate::backend::remote::GateOptions;
    use crate::backend::remote::gate::{Limits, SessionCommand};
    use std::time::Duration;
    if args.max_clients == 0 {
        return Err(Error::InvalidParameter {
            name: "max_clients",
            value: "0".into(),
            reason: "a server needs room for at least one client".into(),
        });
    }
    let seconds = |name: &'static str, value: f64| {
        Duration::try_from_secs_f64(value)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| Error::InvalidParameter {
                name,
                value: value.to_string(),
                reason: "must be a positive number of seconds".into(),
            })
    };
    let handshake_deadline = seconds("handshake_timeout", args.handshake_timeout)?;
    let idle_timeout = seconds("idle_timeout", args.idle_timeout)?;
    let max_session = seconds("max_session", args.max_session)?;
    let isolation = match args.max_memory {
        None => None,
        Some(bytes) => {
            let program = std::env::current_exe().map_err(|source| Error::Io {
                action: "find this executable to run sessions with",
                path: PathBuf::from("/proc/self/exe"),
                source,
            })?;
            Some(SessionCommand {
                program,
                args: vec![
                    "--max-memory".into(),
                    bytes.to_string().into(),
                    "serve".into(),
                    "--session-process".into(),
                    "--listen".into(),
                    "127.0.0.1:0".into(),
                ],
                max_memory: Some(bytes),
            })
        }
    };
    Ok(GateOptions {
        limits: Limits {
            max_clients: args.max_clients,
            handshake_deadline,
            idle_timeout,
            max_session,
            ..Limits::default()
        },
        isolation,
    })
}

/// One session's process: burn's server on a free loopback port, under the
/// heap limit, until the gate that started it closes our stdin (or dies).
#[cfg(feature = "remote")]
fn serve_one_session(args: ServeRequest, token: Option<String>) -> Result<ExitCode, Error> {
    use crate::backend::remote::{self, ServeOptions};
    crate::heap::set_hard_limit(args.max_memory.and_then(|b| usize::try_from(b).ok()));
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    let options = ServeOptions {
        backends: args.backends,
        listen: "127.0.0.1:0".parse().expect("a valid address"),
        token,
        gate: None,
    };
    remote::serve(&options, |urls| {
        for (backend, url) in urls {
            println!("serving {backend} at {url}");
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The warning for a server reachable beyond this machine: burn 0.22.1's
/// remote server speaks plain WebSocket (no TLS), so the token and every
/// tensor cross the network readable by anyone on the path.
pub fn cleartext_warning(listen: SocketAddr) -> Option<String> {
    match listen.ip().is_loopback() {
        true => None,
        false => Some(format!(
            "warning: {listen} is reachable beyond this machine over ws://, which burn's remote \
             server cannot encrypt: the token and all tensor data cross the network in the clear. \
             Prefer the default 127.0.0.1 and an SSH tunnel from each client \
             (ssh -L 3000:localhost:3000 THIS_HOST, then --remote ws://127.0.0.1:3000)"
        )),
    }
}

/// Without the `remote` feature there is nothing to serve with.
#[cfg(not(feature = "remote"))]
pub fn run(args: ServeRequest) -> Result<ExitCode, Error> {
    Err(Error::Remote {
        server: args.listen.to_string(),
        message: "this build has no remote backend: rebuild with `--features remote`".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::cleartext_warning;

    #[test]
    fn only_a_server_beyond_loopback_is_warned_about_cleartext() {
        assert_eq!(cleartext_warning("127.0.0.1:3000".parse().unwrap()), None);
        assert_eq!(cleartext_warning("[::1]:3000".parse().unwrap()), None);
        let warning = cleartext_warning("0.0.0.0:3000".parse().unwrap()).unwrap();
        assert!(
            warning.contains("in the clear") && warning.contains("ssh -L"),
            "{warning}"
        );
    }
}
