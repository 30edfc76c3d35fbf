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
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Without the `remote` feature there is nothing to serve with.
#[cfg(not(feature = "remote"))]
pub fn run(args: ServeRequest) -> Result<ExitCode, Error> {
    Err(Error::Remote {
        server: args.listen.to_string(),
        message: "this build has no remote backend: rebuild with `--features remote`".into(),
    })
}
