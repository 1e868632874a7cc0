//! The generator's WebSocket client: byte-literal checks of the handshake answer and frame
//! headers, and a loopback conversation with tungstenite's server, an independent
//! implementation that refuses unmasked client frames.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{
    Callback, ErrorResponse, Request, Response,
};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use super::*;

/// RFC 6455 section 1.3's key and the accept key derived from it.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn response(lines: &[&str]) -> String {
    format!("{}\r\n\r\n", lines.join("\r\n"))
}

#[test]
fn the_handshake_answer_is_checked() {
    let accept = format!("Sec-WebSocket-Accept: {ACCEPT}");
    let good = [
        "HTTP/1.1 101 Switching Protocols",
        "upgrade: WebSocket",
        "Connection: keep-alive, Upgrade",
        &accept,
        "Sec-WebSocket-Protocol: mqtt",
    ];
    check_response(&response(&good), KEY).expect("a valid answer");
    let broken: [(usize, &str, &str); 5] = [
        (0, "HTTP/1.1 200 OK", "not upgraded"),
        (1, "Upgrade: h2c", "Upgrade"),
        (
            3,
            "Sec-WebSocket-Accept: x3JJHMbDL1EzLkh9GBhXDw==",
            "Accept",
        ),
        (4, "Sec-WebSocket-Protocol: mqttv3.1", "subprotocol"),
        (
            4,
            "Sec-WebSocket-Extensions: permessage-deflate",
            "extension",
        ),
    ];
    for (line, replacement, complaint) in broken {
        let mut lines = good.to_vec();
        lines[line] = replacement;
        let err = check_response(&response(&lines), KEY).expect_err(replacement);
        assert!(err.to_string().contains(complaint), "{err}");
    }
}

#[test]
fn server_frame_headers() {
    let parse = |b: &[u8]| parse_header(b).map_err(|e| e.to_string());
    let header = |opcode, fin, len, size| {
        Ok(Some(Header {
            opcode,
            fin,
            len,
            size,
        }))
    };
    assert_eq!(parse(&[0x82, 5]), header(0x2, true, 5, 2));
    assert_eq!(parse(&[0x02, 126, 1, 0]), header(0x2, false, 256, 4));
    let long = [0x80, 127, 0, 0, 0, 0, 0, 1, 0, 0];
    assert_eq!(parse(&long), header(0x0, true, 65_536, 10));
    assert_eq!(parse(&long[..9]), Ok(None), "incomplete");
    assert_eq!(parse(&[0x89, 0]), header(0x9, true, 0, 2));
    let huge = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
    for bad in [
        &huge[..],
        &[0x82, 0x85],
        &[0xC2, 1],
        &[0x09, 0],
        &[0x89, 126, 0, 126],
    ] {
        assert!(parse(bad).is_err(), "{bad:02x?}");
    }
}

#[test]
fn client_frames_are_masked_with_the_shortest_length() {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    // RFC 6455 section 5.7: "Hello", masked.
    let mut hello = *b"Hello";
    mask(&mut hello, key);
    assert_eq!(hello, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    let (h, n) = client_header(0x1, 5, key);
    assert_eq!(h[..n], [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
    let (h, n) = client_header(0x2, 300, key);
    assert_eq!(h[..n], [0x82, 0xFE, 0x01, 0x2C, 0x37, 0xfa, 0x21, 0x3d]);
    let (h, n) = client_header(0x2, 70_000, key);
    assert_eq!(h[..n - 4], [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
    // Word by word and byte by byte agree, whatever the length.
    let plain: Vec<u8> = (0..=255).collect();
    for len in [0, 1, 7, 8, 9, 255] {
        let mut data = plain[..len].to_vec();
        mask(&mut data, key);
        let bytewise: Vec<u8> = plain[..len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        assert_eq!(data, bytewise, "{len} bytes");
    }
}

/// Answers the upgrade with subprotocol `mqtt`, as a broker must.
struct Mqtt;

impl Callback for Mqtt {
    fn on_request(self, _: &Request, mut answer: Response) -> Result<Response, ErrorResponse> {
        let protocol = HeaderValue::from_static("mqtt");
        answer
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol);
        Ok(answer)
    }
}

/// Our client against tungstenite's server: masked frames in, and out of it a message in
/// fragments with a Ping between them, one message longer than a read, then (written raw,
/// all at once) a long frame whose last read runs into the next frame's header.
#[tokio::test]
async fn a_conversation_with_an_independent_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let long: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let expect = long.clone();
    let (written, all_written) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut ws = tokio_tungstenite::accept_hdr_async(tcp, Mqtt)
            .await
            .expect("handshake");
        let Some(Ok(Message::Binary(first))) = ws.next().await else {
            panic!("a binary message from the client");
        };
        assert_eq!(&first[..], b"\x10\x02hi", "unmasked by the server");
        let part =
            |data: &'static [u8], opcode, fin| Message::Frame(Frame::message(data, opcode, fin));
        ws.send(part(b"ab", OpCode::Data(Data::Binary), false))
            .await
            .expect("send");
        ws.send(Message::Ping(b"are you there".to_vec().into()))
            .await
            .expect("ping");
        ws.send(part(b"cd", OpCode::Data(Data::Continue), true))
            .await
            .expect("send");
        ws.send(Message::Binary(long.into())).await.expect("send");
        // The Pong comes before the client's next message.
        let Some(Ok(Message::Pong(pong))) = ws.next().await else {
            panic!("a pong");
        };
        assert_eq!(&pong[..], b"are you there");
        let Some(Ok(Message::Binary(last))) = ws.next().await else {
            panic!("the client's last message");
        };
        assert_eq!(&last[..], b"bye");
        let mut raw = vec![0x82, 127];
        raw.extend(70_000u64.to_be_bytes());
        raw.extend([7; 70_000]);
        raw.extend(b"\x82\x04tail");
        ws.get_mut().write_all(&raw).await.expect("raw frames");
        written.send(()).expect("the client waits");
    });
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut ws = WsWire::connect(tcp, addr, "/mqtt")
        .await
        .expect("handshake");
    ws.send(&mut b"\x10\x02hi".to_vec()).await.expect("send");
    let mut read_buf = BytesMut::new();
    while read_buf.len() < 4 + expect.len() {
        ws.fill(&mut read_buf, 64 * 1024).await.expect("read");
    }
    assert_eq!(&read_buf[..4], b"abcd");
    assert!(read_buf[4..] == expect[..], "the long message intact");
    ws.send(&mut b"bye".to_vec()).await.expect("send");
    all_written.await.expect("written");
    read_buf.clear();
    while read_buf.len() < 70_004 {
        ws.fill(&mut read_buf, 64 * 1024).await.expect("read");
    }
    assert!(read_buf[..70_000] == [7; 70_000] && &read_buf[70_000..] == b"tail");
    server.await.expect("the server saw it all");
}
