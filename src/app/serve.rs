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
    /// The token file of the global `--token-file` (filled in from it).
    #[arg(skip)]
    pub token_file: Option<PathBuf>,
}

/// Serves until a signal, printing each backend's URL once it listens.
#[cfg(feature = "remote")]
pub fn run(args: ServeRequest) -> Result<ExitCode, Error> {
    use crate::backend::remote::{self, ServeOptions};
    let token = remote::read_token(args.token_file.as_deref())?;
    let options = ServeOptions {
        backends: args.backends,
        listen: args.listen,
        token: token.clone(),
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
