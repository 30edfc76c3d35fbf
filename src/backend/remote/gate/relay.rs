//! An authenticated session, relayed both ways until either side closes, it
//! stays silent past its idle timeout, or it reaches its longest lifetime.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How a relayed session ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// A side closed: bytes from the client, bytes to it.
    Closed(u64, u64),
    /// No byte either way for this long.
    Idle(Duration),
    /// The session lasted this long, its limit.
    Lifetime(Duration),
    /// A read or write failed.
    Failed(std::io::Error),
}

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ended::Closed(sent, received) => write!(f, "{sent} bytes in, {received} out"),
            Ended::Idle(limit) => write!(
                f,
                "idle for {} s, the server's idle timeout",
                limit.as_secs_f64()
            ),
            Ended::Lifetime(limit) => write!(
                f,
                "open for {} s, the longest a session may last on this server",
                limit.as_secs_f64()
            ),
            Ended::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// When the session last carried a byte, in milliseconds since it opened.
struct Activity {
    opened: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// Copies `client` ⇄ `upstream` until one side closes (the other direction
/// then finishes, as `tokio::io::copy_bidirectional` does), or a limit ends
/// the session; both connections are closed when this returns.
pub(super) async fn relay(
    client: TcpStream,
    upstream: TcpStream,
    idle: Duration,
    lifetime: Duration,
) -> Ended {
    let activity = Activity {
        opened: Instant::now(),
        last_ms: AtomicU64::new(0),
    };
    let (mut client_reader, mut client_writer) = client.into_split();
    let (mut upstream_reader, mut upstream_writer) = upstream.into_split();
    let copying = async {
        tokio::try_join!(
            pump(&mut client_reader, &mut upstream_writer, &activity),
            pump(&mut upstream_reader, &mut client_writer, &activity),
        )
    };
    tokio::select! {
        copied = copying => match copied {
            Ok((sent, received)) => Ended::Closed(sent, received),
            Err(e) => Ended::Failed(e),
        },
        ended = watch(&activity, idle, lifetime) => ended,
    }
}

/// Copies `from` to `to` until `from` ends, then closes `to`'s direction.
async fn pump(
    from: &mut (impl AsyncRead + Unpin),
    to: &mut (impl AsyncWrite + Unpin),
    activity: &Activity,
) -> std::io::Result<u64> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = from.read(&mut buffer).await?;
        if n == 0 {
            to.shutdown().await?;
            return Ok(total);
        }
        activity.touch();
        to.write_all(&buffer[..n]).await?;
        activity.touch();
        total += n as u64;
    }
}

/// Returns once the session has been silent for `idle` or open for
/// `lifetime`.
async fn watch(activity: &Activity, idle: Duration, lifetime: Duration) -> Ended {
    let end_of_life = activity.opened + lifetime;
    loop {
        let quiet_until = activity.last() + idle;
        let next = quiet_until.min(end_of_life);
        tokio::time::sleep_until(next).await;
        let now = Instant::now();
        if now >= end_of_life {
            return Ended::Lifetime(lifetime);
        }
        if now >= activity.last() + idle {
            return Ended::Idle(idle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let peer = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (near, _) = listener.accept().await.unwrap();
        (near, peer)
    }

    #[tokio::test]
    async fn bytes_go_both_ways_and_a_close_ends_the_session() {
        let (gate_client, mut client) = pair().await;
        let (gate_upstream, mut server) = pair().await;
        let relayed = tokio::spawn(relay(
            gate_client,
            gate_upstream,
            Duration::from_secs(10),
            Duration::from_secs(10),
        ));
        client.write_all(b"ping").await.unwrap();
        let mut seen = [0u8; 4];
        server.read_exact(&mut seen).await.unwrap();
        assert_eq!(&seen, b"ping");
        server.write_all(b"pong!").await.unwrap();
        let mut seen = [0u8; 5];
        client.read_exact(&mut seen).await.unwrap();
        assert_eq!(&seen, b"pong!");
        drop(client);
        drop(server);
        let ended = relayed.await.unwrap();
        assert!(matches!(ended, Ended::Closed(4, 5)), "{ended:?}");
    }

    #[tokio::test]
    async fn a_silent_session_ends_at_its_idle_timeout_and_a_busy_one_at_its_lifetime() {
        let (gate_client, mut client) = pair().await;
        let (gate_upstream, _server) = pair().await;
        let started = std::time::Instant::now();
        let ended = relay(
            gate_client,
            gate_upstream,
            Duration::from_millis(200),
            Duration::from_secs(10),
        )
        .await;
        assert!(matches!(ended, Ended::Idle(_)), "{ended:?}");
        assert!(started.elapsed() >= Duration::from_millis(200));
        // The gate closed the client's connection.
        assert_eq!(client.read(&mut [0u8; 8]).await.unwrap(), 0);

        let (gate_client, mut client) = pair().await;
        let (gate_upstream, mut server) = pair().await;
        let chatter = tokio::spawn(async move {
            let mut buffer = [0u8; 1];
            while client.write_all(b"x").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = client.read(&mut buffer).await;
        });
        let drain = tokio::spawn(async move {
            let mut buffer = [0u8; 64];
            while matches!(server.read(&mut buffer).await, Ok(n) if n > 0) {}
        });
        let started = std::time::Instant::now();
        let ended = relay(
            gate_client,
            gate_upstream,
            Duration::from_millis(200),
            Duration::from_millis(600),
        )
        .await;
        assert!(matches!(ended, Ended::Lifetime(_)), "{ended:?}");
        assert!(started.elapsed() >= Duration::from_millis(600));
        chatter.await.unwrap();
        drain.await.unwrap();
    }
}
