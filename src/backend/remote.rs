//! Devices on other machines, through burn's remote backend (cargo feature
//! `remote`): [`connect`] gives an ordinary [`Device`] for a server's URL, and
//! `serve` (feature `remote`) hosts this machine's devices for such clients.
//!
//! burn does the transport, the protocol and the authorisation; this module
//! only adds what a command-line user needs around them: a bounded connect
//! time, a token that never appears on a command line, a loopback default,
//! and one log line per client admitted or refused.
//!
//! WebSocket carries tensors and operation descriptions unencrypted: use it on
//! a trusted network or through an SSH tunnel.

use crate::error::{Error, Result};
use burn::tensor::Device;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// How long [`connect`] waits for a server to answer before giving up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A session silent this long has been left open by a client that is done
/// with it (a training job waiting on its server sends a request at least
/// every step): half an hour frees its place without cutting a person who
/// paused.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A day: longer than the training runs this serves, short enough that a
/// place held by a forgotten client comes back by the next morning.
pub const MAX_SESSION: Duration = Duration::from_secs(24 * 60 * 60);

/// The environment variable holding the token, for clients and servers alike.
pub const TOKEN_VARIABLE: &str = "BACKPROP_TOKEN";

/// The token clients present: set once by the command line ([`read_token`]),
/// read by every [`connect`].
static TOKEN: Mutex<Option<String>> = Mutex::new(None);

/// Devices connected so far, by URL: burn keeps a session per device for the
/// life of the process, and reports name the server by its URL.
static CONNECTED: Mutex<Vec<(String, Device)>> = Mutex::new(Vec::new());

/// The token from `file` (its first line), else from [`TOKEN_VARIABLE`], else
/// none. Never from a command-line argument, which `ps` shows to every user.
pub fn read_token(file: Option<&Path>) -> Result<Option<String>> {
    let token = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                action: "read the token file",
                path: path.to_path_buf(),
                source,
            })?;
            let token = text.lines().next().unwrap_or("").trim().to_string();
            if token.is_empty() {
                return Err(Error::InvalidParameter {
                    name: "token_file",
                    value: path.display().to_string(),
                    reason: "the file is empty: put the token on its first line".into(),
                });
            }
            Some(token)
        }
        None => std::env::var(TOKEN_VARIABLE)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
    };
    Ok(token)
}

/// Sets the token every later [`connect`] presents (`None`: no credential).
pub fn set_token(token: Option<String>) {
    *TOKEN.lock().unwrap_or_else(|e| e.into_inner()) = token;
}

/// Rejects anything but `ws://HOST:PORT` (burn's WebSocket transport).
pub fn check_url(url: &str) -> Result<()> {
    let invalid = |reason: &str| Error::InvalidParameter {
        name: "remote",
        value: url.to_string(),
        reason: reason.to_string(),
    };
    let Some(rest) = url.strip_prefix("ws://") else {
        return Err(invalid(
            "expected ws://HOST:PORT, the address `backprop serve` prints (wss:// is not \
             supported: tunnel the connection, e.g. with ssh -L)",
        ));
    };
    let authority = rest.trim_end_matches('/');
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
            Ok(())
        }
        _ => Err(invalid(
            "expected ws://HOST:PORT with a port between 1 and 65535",
        )),
    }
}

/// The URL a connected remote device was reached at.
pub fn url_of(device: &Device) -> Option<String> {
    CONNECTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(_, d)| d == device)
        .map(|(url, _)| url.clone())
}

/// The device served at `url`, connected with the token of [`set_token`].
///
/// A server that does not answer within [`CONNECT_TIMEOUT`] (a firewall that
/// drops packets, a host that is down) is an error, not a hang; so is a
/// refused token, with what to do about it. A device already connected is
/// returned at once.
pub fn connect(url: &str) -> Result<Device> {
    check_url(url)?;
    if let Some((_, device)) = CONNECTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(u, _)| u == url)
    {
        return Ok(device.clone());
    }
    let device = open(url)?;
    CONNECTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((url.to_string(), device.clone()));
    Ok(device)
}

/// An error about the server at `url`.
pub(crate) fn failure(url: &str, message: impl Into<String>) -> Error {
    Error::Remote {
        server: url.to_string(),
        message: message.into(),
    }
}

#[cfg(feature = "remote")]
fn open(url: &str) -> Result<Device> {
    use burn::remote::{ConnectError, RemoteHost};

    let token = TOKEN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut host = RemoteHost::websocket(url);
    if let Some(token) = token.clone() {
        host = host.with_credential(token.into_bytes().as_slice());
    }
    // burn's connect has no deadline of its own (it retries a closed port,
    // and a TCP connect to a host that drops packets waits minutes), so it
    // runs on a thread we stop waiting for; that thread ends with burn's
    // retries or with the process.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(Device::remote_options(&host).init());
    });
    match receiver.recv_timeout(CONNECT_TIMEOUT) {
        Ok(Ok(device)) => Ok(device),
        Ok(Err(ConnectError::Unauthorized)) => Err(failure(
            url,
            if token.is_some() {
                format!(
                    "the server refused this client's token: use the server's token \
                     (`token_file` or {TOKEN_VARIABLE})"
                )
            } else {
                format!("the server requires a token: give `token_file` or set {TOKEN_VARIABLE}")
            },
        )),
        Ok(Err(e)) if e.to_string().contains("503") => Err(failure(
            url,
            refusal(url).unwrap_or_else(|| {
                "the server is busy (too many clients are connecting): try again shortly".into()
            }),
        )),
        // A gate that admitted the request but then had no place left (or
        // could not start the session) says why in its close frame, which
        // burn's client does not show: its door tells the same.
        Ok(Err(e @ ConnectError::Handshake { .. })) => Err(failure(
            url,
            refusal(url).unwrap_or_else(|| {
                format!("the server ended the session as it opened ({e}): its log says why")
            }),
        )),
        Ok(Err(e)) => Err(failure(
            url,
            format!("cannot connect: {e}; is `backprop serve` running there?"),
        )),
        Err(_) => Err(failure(
            url,
            format!(
                "no answer within {} s: check the address, that `backprop serve` runs there \
                 and that the port is open",
                CONNECT_TIMEOUT.as_secs()
            ),
        )),
    }
}

/// Why the server at `url` refuses a session now, as its gate answers a
/// plain request for one (`503` and a reason); `None` when it would not
/// refuse, or does not answer within a second.
#[cfg(feature = "remote")]
fn refusal(url: &str) -> Option<String> {
    let (head, body) = ask(url, "GET /session ", None)?;
    head.starts_with("HTTP/1.1 503").then(|| {
        body.trim()
            .trim_start_matches("backprop serve: ")
            .to_string()
    })
}

/// One HTTP request (`request_line` up to its version) to the server at
/// `url`, with the token of [`set_token`] when `bearer` is set: the
/// response's head and body, if it answers within a second.
#[cfg(feature = "remote")]
fn ask(url: &str, request_line: &str, bearer: Option<&str>) -> Option<(String, String)> {
    use std::io::{Read, Write};
    use std::net::ToSocketAddrs;
    let authority = url.strip_prefix("ws://")?.trim_end_matches('/');
    let address = authority.to_socket_addrs().ok()?.next()?;
    let wait = Duration::from_secs(1);
    let mut stream = std::net::TcpStream::connect_timeout(&address, wait).ok()?;
    stream.set_read_timeout(Some(wait)).ok()?;
    stream.set_write_timeout(Some(wait)).ok()?;
    let authorization = bearer
        .map(|token| format!("authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{request_line}HTTP/1.1\r\nhost: {authority}\r\n{authorization}connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    let _ = stream.take(64 * 1024).read_to_end(&mut response);
    let text = String::from_utf8(response).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.to_string(), body.to_string()))
}

/// What the server at `url` allows and holds (its gate's answer to
/// [`gate::STATUS_REQUEST`], in full when this client's token is the
/// server's); `None` from a server without a gate, or one that does not
/// answer within a second.
#[cfg(feature = "remote")]
pub fn server_status(url: &str) -> Option<gate::ServerStatus> {
    let token = TOKEN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let (head, body) = ask(url, gate::STATUS_REQUEST, token.as_deref())?;
    head.starts_with("HTTP/1.1 200")
        .then(|| serde_json::from_str(&body).ok())
        .flatten()
}

/// What to add to the error of a session lost on the server at `url` when
/// that server limits a session's memory: the likely cause.
pub fn memory_limit_hint(url: &str) -> Option<String> {
    #[cfg(feature = "remote")]
    if let Some(limit) = server_status(url).and_then(|l| l.max_memory) {
        return Some(format!(
            "; the server ends a session whose memory would pass its limit of {} (its log \
             says whether this one did): a smaller batch or network fits",
            crate::resources::readable_bytes(limit as f64)
        ));
    }
    let _ = url;
    None
}

/// Stops with [`Error::Memory`] when `bytes` of work on `device` would pass
/// the memory a session may hold on its server (a remote device whose server
/// limits it); other devices pass.
pub fn ensure_fits(device: &Device, what: &str, bytes: f64) -> Result<()> {
    #[cfg(feature = "remote")]
    if let Some(url) = url_of(device)
        && let Some(limit) = server_status(&url).and_then(|l| l.max_memory)
    {
        return crate::resources::within(
            what,
            bytes,
            limit,
            &format!("the memory limit of a session on the server at {url}"),
        );
    }
    let _ = (device, what, bytes);
    Ok(())
}

#[cfg(not(feature = "remote"))]
fn open(url: &str) -> Result<Device> {
    Err(failure(
        url,
        "this build has no remote backend: rebuild with `--features remote`",
    ))
}

#[cfg(feature = "remote")]
pub mod gate;
#[cfg(feature = "remote")]
mod server;

#[cfg(feature = "remote")]
pub use server::{GateOptions, MIN_TOKEN_BYTES, ServeOptions, Server, serve};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_websocket_urls_with_a_port_are_accepted() {
        assert!(check_url("ws://127.0.0.1:3000").is_ok());
        assert!(check_url("ws://gpu-box:3000/").is_ok());
        for bad in [
            "http://h:1",
            "ws://h",
            "ws://:3000",
            "ws://h:0",
            "ws://h:70000",
            "h:3000",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
