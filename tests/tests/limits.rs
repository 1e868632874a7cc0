//! Limits and isolation: the connection limit, and a slow subscriber that
//! never blocks a publisher or other subscribers.

use courtier_e2e::{RawClient, connect_packet, publish, start_broker};
use courtier_proto::{ProtocolVersion, QoS};

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;

#[tokio::test]
async fn connections_beyond_the_limit_are_closed() {
    let b = start_broker(&["--max-connections", "1"]);
    let (_first, _) = RawClient::connect(b.addr, connect_packet(V4, "first")).await;
    let mut second = RawClient::open(b.addr, V4).await;
    second
        .send(&courtier_proto::Packet::Connect(Box::new(connect_packet(
            V4, "second",
        ))))
        .await;
    assert!(second.expect_closed().await.is_empty());
}

#[tokio::test]
async fn a_subscriber_that_never_reads_does_not_block_the_publisher() {
    // Queues large enough that the fast subscriber never overflows, so it must see every message.
    let b = start_broker(&["--max-queued-messages", "10000"]);
    // `stuck` subscribes and then never reads again: its socket buffers fill up.
    let (mut stuck, _) = RawClient::connect(b.addr, connect_packet(V4, "stuck")).await;
    stuck.subscribe("firehose", QoS::AtMostOnce).await;
    let (mut fast, _) = RawClient::connect(b.addr, connect_packet(V4, "fast")).await;
    fast.subscribe("firehose", QoS::AtMostOnce).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    static CHUNK: [u8; 16 * 1024] = [b'x'; 16 * 1024];
    const COUNT: usize = 2000; // 32 MiB: far beyond any socket buffer
    let reader = tokio::spawn(async move {
        for _ in 0..COUNT {
            fast.recv_publish().await;
        }
        fast
    });
    for _ in 0..COUNT {
        p.send(&publish("firehose", &CHUNK, QoS::AtMostOnce, 0))
            .await;
    }
    // QoS 1 round trip proves the publisher's connection is still served promptly.
    p.send(&publish("elsewhere", b"ping", QoS::AtLeastOnce, 1))
        .await;
    p.recv().await;
    let _fast = tokio::time::timeout(std::time::Duration::from_secs(30), reader)
        .await
        .expect("fast subscriber got every message in time")
        .expect("reader task");
    drop(stuck);
}
