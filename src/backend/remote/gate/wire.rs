//! The bytes a gate reads and writes before a session opens: the client's
//! HTTP request, the WebSocket frames of RFC 6455 in both directions, and the
//! two messages of burn's remote protocol it needs, the session's `Init`
//! (which carries the credential) and the refusal of a credential.
//!
//! Everything here is a pure function of its input, so that the parsers can
//! be fuzzed (`fuzz/fuzz_targets/gate.rs`) without sockets.
//!
//! burn 0.22.1 encodes its messages with `rmp_serde`'s defaults: a struct is
//! an array of its fields in order, an enum variant a one-entry map keyed by
//! its name (burn pins that encoding in its own tests, since a client on
//! another protocol version must still read a refusal). The types below mirror
//! the shapes of burn's `RemoteMessage::Init(SessionInit)` and
//! `TaskResponse { content: InitRefused(Unauthorized), id }`, and the remote
//! tests check them against burn's own client and server.

use serde::{Deserialize, Serialize};

/// The longest request head a client of burn's server sends (about 250 bytes).
pub const MAX_HEAD: usize = 16 * 1024;

/// The route of burn's sessions, the only one the gate relays.
pub const SESSION_ROUTE: &str = "/session";

/// What was wrong with a client's bytes before authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The first bytes were not an HTTP GET.
    NotHttp,
    /// The request head has no end within [`MAX_HEAD`] or the client's budget.
    HeadTooLong(usize),
    /// A frame announced more bytes than the client may still send.
    FrameTooLong(u64),
    /// A client frame without a mask (RFC 6455 § 5.1 requires one).
    Unmasked,
    /// A frame RFC 6455 does not allow (reserved bits or opcode, a long or
    /// fragmented control frame, a continuation with nothing to continue).
    Malformed(&'static str),
    /// The session's first message is not burn's `Init`.
    NotInit(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::NotHttp => f.write_str("not an HTTP request"),
            WireError::HeadTooLong(n) => write!(
                f,
                "sent {n} bytes of HTTP head before authenticating, more than a handshake needs"
            ),
            WireError::FrameTooLong(n) => write!(
                f,
                "announced a frame of {n} bytes before authenticating, more than a handshake \
                 needs"
            ),
            WireError::Unmasked => f.write_str("sent an unmasked frame"),
            WireError::Malformed(what) => write!(f, "sent a malformed frame ({what})"),
            WireError::NotInit(why) => write!(f, "did not open with a session's Init ({why})"),
        }
    }
}

/// A client's HTTP request head, as far as the gate reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The request target without its query (`/session`).
    pub path: String,
    /// `Sec-WebSocket-Key`, when the request is a WebSocket upgrade
    /// (`Upgrade: websocket` and `Sec-WebSocket-Version: 13`).
    pub websocket_key: Option<String>,
    /// `Authorization: Bearer TOKEN`, which a status query may carry.
    pub bearer: Option<String>,
    /// The whole head, blank line included, as the client sent it.
    pub head: Vec<u8>,
    /// Bytes the client sent after the head.
    pub rest: Vec<u8>,
}

/// Reads a request head from the start of `bytes`: `Ok(None)` while its
/// blank line has not arrived; an error as soon as the bytes cannot start a
/// GET, or pass `budget` (at most [`MAX_HEAD`]) without ending.
pub fn parse_request(bytes: &[u8], budget: usize) -> Result<Option<Request>, WireError> {
    // Every request a client of burn's server sends is a GET: anything else
    // is refused at its first bytes rather than at the deadline.
    let start = &bytes[..bytes.len().min(4)];
    if !b"GET ".starts_with(start) {
        return Err(WireError::NotHttp);
    }
    let limit = budget.min(MAX_HEAD);
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return match bytes.len() > limit {
            true => Err(WireError::HeadTooLong(bytes.len())),
            false => Ok(None),
        };
    };
    let head_len = end + 4;
    if head_len > limit {
        return Err(WireError::HeadTooLong(head_len));
    }
    let text = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = text.split("\r\n");
    let target = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or("");
    let path = target.split('?').next().unwrap_or("").to_string();
    let mut upgrade = false;
    let mut version = false;
    let mut key = None;
    let mut bearer = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "upgrade" => upgrade = value.eq_ignore_ascii_case("websocket"),
            "sec-websocket-version" => version = value == "13",
            "sec-websocket-key" => key = Some(value.to_string()),
            "authorization" => {
                bearer = value
                    .strip_prefix("Bearer ")
                    .map(|token| token.trim().to_string())
            }
            _ => {}
        }
    }
    Ok(Some(Request {
        path,
        websocket_key: key.filter(|_| upgrade && version),
        bearer,
        head: bytes[..head_len].to_vec(),
        rest: bytes[head_len..].to_vec(),
    }))
}

/// The server's `101 Switching Protocols` for a client's `Sec-WebSocket-Key`
/// (RFC 6455 § 4.2.2: base64 of the SHA-1 of the key and a fixed GUID).
pub fn switching_protocols(key: &str) -> Vec<u8> {
    use base64::Engine;
    use sha1::Digest;
    const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let digest = sha1::Sha1::new()
        .chain_update(key.as_bytes())
        .chain_update(GUID.as_bytes())
        .finalize();
    let accept = base64::engine::general_purpose::STANDARD.encode(digest);
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
         sec-websocket-accept: {accept}\r\n\r\n"
    )
    .into_bytes()
}

/// The kinds of frame RFC 6455 § 5.2 defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// More of a fragmented message.
    Continuation,
    /// A text message.
    Text,
    /// A binary message: burn's every message.
    Binary,
    /// The end of the connection.
    Close,
    /// A keep-alive question.
    Ping,
    /// A keep-alive answer.
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// One client frame, unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Whether it ends its message.
    pub fin: bool,
    /// Its kind.
    pub opcode: Opcode,
    /// Its payload, unmasked.
    pub payload: Vec<u8>,
}

/// The frame at the start of `bytes`, with the number of bytes it took;
/// `Ok(None)` while it is incomplete. A header announcing more than `budget`
/// payload bytes is refused as soon as its length is complete, before any
/// of that payload is waited for.
pub fn parse_client_frame(
    bytes: &[u8],
    budget: usize,
) -> Result<Option<(Frame, usize)>, WireError> {
    let (Some(&first), Some(&second)) = (bytes.first(), bytes.get(1)) else {
        return Ok(None);
    };
    if first & 0x70 != 0 {
        return Err(WireError::Malformed("reserved bits set"));
    }
    let opcode =
        Opcode::from_bits(first & 0x0f).ok_or(WireError::Malformed("a reserved opcode"))?;
    let fin = first & 0x80 != 0;
    if second & 0x80 == 0 {
        return Err(WireError::Unmasked);
    }
    let (extended, short) = match second & 0x7f {
        126 => (2, None),
        127 => (8, None),
        n => (0, Some(u64::from(n))),
    };
    if bytes.len() < 2 + extended {
        return Ok(None);
    }
    let length = short.unwrap_or_else(|| {
        bytes[2..2 + extended]
            .iter()
            .fold(0, |length, &byte| length << 8 | u64::from(byte))
    });
    if opcode.is_control() && (length > 125 || !fin) {
        return Err(WireError::Malformed(
            "a control frame longer than 125 bytes or fragmented",
        ));
    }
    if length > budget as u64 {
        return Err(WireError::FrameTooLong(length));
    }
    let header = 2 + extended + 4;
    let total = header + length as usize;
    if bytes.len() < total {
        return Ok(None);
    }
    let mask = &bytes[header - 4..header];
    let payload = bytes[header..total]
        .iter()
        .enumerate()
        .map(|(i, byte)| byte ^ mask[i % 4])
        .collect();
    Ok(Some((
        Frame {
            fin,
            opcode,
            payload,
        },
        total,
    )))
}

/// An unmasked frame, as a server sends it.
pub fn server_frame(opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    frame(opcode, payload, None)
}

/// A masked frame, as a client sends it.
pub fn client_frame(opcode: Opcode, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    frame(opcode, payload, Some(mask))
}

fn frame(opcode: Opcode, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let bits = match opcode {
        Opcode::Continuation => 0x0,
        Opcode::Text => 0x1,
        Opcode::Binary => 0x2,
        Opcode::Close => 0x8,
        Opcode::Ping => 0x9,
        Opcode::Pong => 0xA,
    };
    let masked = if mask.is_some() { 0x80 } else { 0 };
    let mut out = vec![0x80 | bits];
    match payload.len() {
        n if n < 126 => out.push(masked | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(masked | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(masked | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(mask) => {
            out.extend_from_slice(&mask);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A close frame with `code` (RFC 6455 § 7.4) and a reason, cut to fit a
/// control frame at a character boundary.
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    server_frame(Opcode::Close, &payload)
}

/// burn's `SessionId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct SessionId {
    id: u64,
}

/// burn's `SessionInit`: the first message of a session.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Init {
    version: u16,
    session_id: SessionId,
    device_index: u32,
    #[serde(with = "serde_bytes")]
    authorization: Vec<u8>,
}

impl std::fmt::Debug for Init {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credential.
        f.debug_struct("Init")
            .field("version", &self.version)
            .field("session_id", &self.session_id.id)
            .field("device_index", &self.device_index)
            .finish_non_exhaustive()
    }
}

/// The variant of burn's `RemoteMessage` a session opens with.
#[derive(Serialize, Deserialize)]
enum RemoteMessage {
    Init(Init),
}

impl Init {
    /// The credential the client presents.
    pub fn credential(&self) -> &[u8] {
        &self.authorization
    }

    /// The same session's `Init` presenting `credential` instead.
    pub fn with_credential(&self, credential: &[u8]) -> Init {
        Init {
            authorization: credential.to_vec(),
            ..self.clone()
        }
    }

    /// The message as burn's client encodes it: a batch of one.
    pub fn encode(&self) -> Vec<u8> {
        rmp_serde::to_vec(&[RemoteMessage::Init(self.clone())])
            .expect("a struct of integers and bytes encodes")
    }
}

/// The `Init` a session's first message carries.
pub fn decode_init(message: &[u8]) -> Result<Init, WireError> {
    let mut batch: Vec<RemoteMessage> =
        rmp_serde::from_slice(message).map_err(|e| WireError::NotInit(e.to_string()))?;
    match (batch.pop(), batch.is_empty()) {
        (Some(RemoteMessage::Init(init)), true) => Ok(init),
        _ => Err(WireError::NotInit("not a batch of one message".into())),
    }
}

/// burn's `SessionRefusal`, of which the gate gives one.
#[derive(Serialize)]
enum Refusal {
    Unauthorized,
}

/// burn's `TaskResponseContent`, of which the gate sends one variant.
#[derive(Serialize)]
enum Content {
    InitRefused(Refusal),
}

/// burn's `TaskResponse`.
#[derive(Serialize)]
struct Response {
    content: Content,
    id: u64,
}

/// The message burn's server sends a client whose credential it refuses,
/// which burn's client reports as `ConnectError::Unauthorized`.
pub fn unauthorized() -> Vec<u8> {
    rmp_serde::to_vec(&Response {
        content: Content::InitRefused(Refusal::Unauthorized),
        id: 0,
    })
    .expect("a unit variant encodes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_read_to_its_blank_line_with_its_route_and_key() {
        let request = b"GET /session?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\n\
            Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nrest";
        for cut in 0..request.len() - 8 {
            assert_eq!(parse_request(&request[..cut], 1024), Ok(None), "{cut}");
        }
        let parsed = parse_request(request, 1024).unwrap().unwrap();
        assert_eq!(parsed.path, "/session");
        assert_eq!(
            parsed.websocket_key.as_deref(),
            Some("dGhlIHNhbXBsZSBub25jZQ==")
        );
        assert_eq!(parsed.rest, b"rest");
        assert_eq!(parsed.head.len(), request.len() - 4);
        // Without the upgrade, there is no key to answer.
        let plain = b"GET /session HTTP/1.1\r\nSec-WebSocket-Key: k\r\n\r\n";
        let parsed = parse_request(plain, 1024).unwrap().unwrap();
        assert_eq!(parsed.websocket_key, None);
        let status = b"GET /backprop/status HTTP/1.1\r\nAuthorization: Bearer abc \r\n\r\n";
        let parsed = parse_request(status, 1024).unwrap().unwrap();
        assert_eq!(parsed.bearer.as_deref(), Some("abc"));
    }

    #[test]
    fn anything_but_a_short_get_is_refused_at_once() {
        // The start of a TLS ClientHello: a wss:// client.
        assert_eq!(parse_request(&[0x16, 0x03], 1024), Err(WireError::NotHttp));
        assert_eq!(parse_request(b"POST /", 1024), Err(WireError::NotHttp));
        let endless = [b"GET /".as_slice(), &[b'a'; 2000]].concat();
        assert_eq!(
            parse_request(&endless, 1024),
            Err(WireError::HeadTooLong(2005))
        );
    }

    #[test]
    fn the_accept_key_is_rfc_6455s_example() {
        let answer = String::from_utf8(switching_protocols("dGhlIHNhbXBsZSBub25jZQ==")).unwrap();
        assert!(answer.starts_with("HTTP/1.1 101 "), "{answer}");
        assert!(
            answer.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            "{answer}"
        );
    }

    #[test]
    fn frames_are_read_across_cuts_and_unmasked() {
        let mask = [1, 2, 3, 4];
        for length in [0usize, 5, 125, 126, 300, 70_000] {
            let payload: Vec<u8> = (0..length).map(|i| i as u8).collect();
            let bytes = client_frame(Opcode::Binary, &payload, mask);
            for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
                if cut < bytes.len() {
                    assert_eq!(parse_client_frame(&bytes[..cut], 1 << 20), Ok(None));
                }
            }
            let (frame, used) = parse_client_frame(&bytes, 1 << 20).unwrap().unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(frame.payload, payload);
            assert!(frame.fin && frame.opcode == Opcode::Binary);
        }
    }

    #[test]
    fn a_frame_announcing_more_than_the_budget_is_refused_at_its_header() {
        let mut huge = vec![0x82, 0xff];
        huge.extend_from_slice(&(1u64 << 30).to_be_bytes());
        assert_eq!(parse_client_frame(&huge[..9], 1024), Ok(None));
        assert_eq!(
            parse_client_frame(&huge, 1024),
            Err(WireError::FrameTooLong(1 << 30))
        );
        let medium = client_frame(Opcode::Binary, &[0; 300], [0; 4]);
        assert!(parse_client_frame(&medium, 300).unwrap().is_some());
        assert_eq!(
            parse_client_frame(&medium, 299),
            Err(WireError::FrameTooLong(300))
        );
    }

    #[test]
    fn frames_rfc_6455_forbids_are_refused() {
        assert_eq!(
            parse_client_frame(&server_frame(Opcode::Binary, b"x"), 1024),
            Err(WireError::Unmasked)
        );
        assert!(matches!(
            parse_client_frame(&[0xC2, 0x80], 1024),
            Err(WireError::Malformed(_))
        ));
        assert!(matches!(
            parse_client_frame(&[0x83, 0x80], 1024),
            Err(WireError::Malformed(_))
        ));
        let long_ping = client_frame(Opcode::Ping, &[0; 126], [0; 4]);
        assert!(matches!(
            parse_client_frame(&long_ping, 1024),
            Err(WireError::Malformed(_))
        ));
        let ping = client_frame(Opcode::Ping, b"hi", [9; 4]);
        let (frame, _) = parse_client_frame(&ping, 1024).unwrap().unwrap();
        assert_eq!(
            (frame.opcode, frame.payload.as_slice()),
            (Opcode::Ping, &b"hi"[..])
        );
    }

    #[test]
    fn a_close_frame_carries_its_code_and_a_reason_cut_to_fit() {
        let frame = close_frame(1013, &"é".repeat(100));
        assert_eq!(frame[0], 0x88);
        assert!(usize::from(frame[1]) <= 125);
        assert_eq!(&frame[2..4], &1013u16.to_be_bytes());
        assert!(std::str::from_utf8(&frame[4..]).is_ok());
    }

    #[test]
    fn an_init_decodes_re_encodes_and_keeps_its_credential_out_of_debug() {
        let init = Init {
            version: 2,
            session_id: SessionId { id: 7 },
            device_index: 0,
            authorization: b"secret".to_vec(),
        };
        let bytes = init.encode();
        // `[{"Init": [2, [7], 0, bin "secret"]}]`, as burn's client writes it.
        let expected = [
            &[0x91, 0x81, 0xa4][..],
            b"Init",
            &[0x94, 0x02, 0x91, 0x07, 0x00, 0xc4, 0x06],
            b"secret",
        ]
        .concat();
        assert_eq!(bytes, expected);
        let decoded = decode_init(&bytes).unwrap();
        assert_eq!(decoded, init);
        assert_eq!(decoded.credential(), b"secret");
        assert!(!format!("{decoded:?}").contains("secret"));
        let swapped = decode_init(&init.with_credential(b"inner").encode()).unwrap();
        assert_eq!(swapped.credential(), b"inner");
        assert_eq!(swapped.session_id, init.session_id);
        assert!(decode_init(b"\x90").is_err());
        assert!(decode_init(&[0xff; 8]).is_err());
    }

    #[test]
    fn the_refusal_is_burns_init_refused_unauthorized() {
        // `[{"InitRefused": "Unauthorized"}, 0]`.
        let expected = [
            &[0x92, 0x81, 0xab][..],
            b"InitRefused",
            &[0xac],
            b"Unauthorized",
            &[0x00],
        ]
        .concat();
        assert_eq!(unauthorized(), expected);
    }
}
