//! The NATS cluster harness (tests/cluster_support/nats.rs) against a real 3-node
//! nats-server 2.15.1 cluster run from the shipped configuration: the durability setting
//! is in force on every node; a replicated file stream keeps every acknowledged message
//! when its leader is killed with SIGKILL, takes writes again once a new leader is
//! elected, and the killed node catches up after a restart. Needs the nats-server that
//! `scripts/install-test-deps.sh` installs; without it the test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "cluster_support/nats.rs"]
mod nats;

use async_nats::jetstream::{self, consumer, message::PublishMessage, stream};
use futures_util::StreamExt;
use nats::NatsCluster;
use std::time::{Duration, Instant};

const STREAM: &str = "HARNESS";

/// Publishes message `n` (id `m-n`) and waits for its ack, retrying through a leader
/// election until `deadline`. The message id makes a retry of a publish that was stored
/// but not acknowledged a duplicate the stream drops. Returns the time spent failing.
async fn publish_acked(js: &jetstream::Context, n: u32, deadline: Instant) -> Duration {
    let started = Instant::now();
    let mut failing_since = None;
    loop {
        let msg = PublishMessage::build()
            .message_id(format!("m-{n}"))
            .payload(format!("{n}").into());
        let attempt = async { js.send_publish(format!("harness.{n}"), msg).await?.await };
        match tokio::time::timeout(Duration::from_secs(2), attempt).await {
            Ok(Ok(ack)) => {
                assert_eq!(ack.stream, STREAM);
                return failing_since.map_or(Duration::ZERO, |t: Instant| t.elapsed());
            }
            Ok(Err(e)) => {
                assert!(Instant::now() < deadline, "message {n} never acked: {e}");
            }
            Err(_) => assert!(
                Instant::now() < deadline,
                "message {n} never acked: timeout"
            ),
        }
        failing_since.get_or_insert(started);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replicated_stream_keeps_acknowledged_messages_when_its_leader_is_killed() {
    let test_started = Instant::now();
    let mut cluster = NatsCluster::start(3);
    println!("3 nodes healthy after {:?}", test_started.elapsed());

    // The documented durability setting is what the nodes run with.
    for i in 0..3 {
        let config = &cluster.jsz(i, "")["config"];
        assert_eq!(config["sync_always"], true, "node {i}: {config}");
    }

    let client = async_nats::ConnectOptions::new()
        .connect(cluster.client_urls())
        .await
        .unwrap();
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(2))
        .build(client);
    let mut s = js
        .create_stream(stream::Config {
            name: STREAM.to_string(),
            subjects: vec!["harness.>".to_string()],
            num_replicas: 3,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .unwrap();
    let info = s.info().await.unwrap();
    assert_eq!(info.config.num_replicas, 3);
    assert_eq!(info.config.storage, stream::StorageType::File);

    let deadline = Instant::now() + Duration::from_secs(30);
    for n in 0..50 {
        publish_acked(&js, n, deadline).await;
    }

    // SIGKILL the stream's leader: the other two must elect a new one and keep every
    // acknowledged message.
    let leader = cluster
        .stream_leader(STREAM)
        .expect("the stream has a leader");
    let killed_at = Instant::now();
    cluster.kill(leader);
    let mut unavailable = Duration::ZERO;
    for n in 50..100 {
        unavailable += publish_acked(&js, n, deadline).await;
    }
    println!(
        "killed n{} (stream leader): writes failed for {unavailable:?}; 50 more acked {:?} after the kill",
        leader + 1,
        killed_at.elapsed()
    );
    let new_leader = cluster.stream_leader(STREAM).expect("a new leader");
    assert_ne!(new_leader, leader);

    // The killed node comes back with its store and catches up.
    cluster.restart(leader);
    for i in 0..3 {
        assert_eq!(
            cluster.stream_messages_on(i, STREAM),
            Some(100),
            "replica on n{}",
            i + 1
        );
    }

    // A consumer reads every message once, in publish order.
    let consumer = s
        .create_consumer(consumer::pull::Config {
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer
        .fetch()
        .max_messages(200)
        .expires(Duration::from_secs(2))
        .messages()
        .await
        .unwrap();
    let mut read = Vec::new();
    while let Some(m) = messages.next().await {
        read.push(String::from_utf8(m.unwrap().payload.to_vec()).unwrap());
    }
    let expected: Vec<String> = (0..100).map(|n| n.to_string()).collect();
    assert_eq!(read, expected);
    println!("test took {:?}", test_started.elapsed());
}

#[test]
fn a_one_node_nats_starts_from_the_same_template_without_a_cluster_block() {
    let mut one = NatsCluster::start(1);
    assert_eq!(one.jsz(0, "")["config"]["sync_always"], true);
    one.stop(0);
    assert!(!one.is_running(0));
}

/// What kulanz's "once per subject" writes (an outcome, an approval) rely on when a
/// publish is retried because its acknowledgement was lost: the retry carries the same
/// message id and the same expected last subject sequence. The server answers it as a
/// duplicate of the stored entry, not as a conflict with it, so the retry is not told
/// `409 outcome_exists` about its own outcome. A different message id is the conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_conditional_publish_is_a_duplicate_not_a_conflict() {
    let cluster = NatsCluster::start(3);
    let client = async_nats::ConnectOptions::new()
        .connect(cluster.client_urls())
        .await
        .unwrap();
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(5))
        .build(client);
    js.create_stream(stream::Config {
        name: "ONCE".to_string(),
        subjects: vec!["once.>".to_string()],
        num_replicas: 3,
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .unwrap();
    let publish = |id: &str| {
        PublishMessage::build()
            .message_id(id)
            .expected_last_subject_sequence(0)
            .payload("outcome".into())
    };
    let first = js
        .send_publish("once.d1", publish("w-1"))
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(!first.duplicate);
    let retry = js
        .send_publish("once.d1", publish("w-1"))
        .await
        .unwrap()
        .await;
    println!("retry of the same write: {retry:?}");
    let retry = retry.expect("the retry is acknowledged");
    assert!(retry.duplicate, "{retry:?}");
    assert_eq!(retry.sequence, first.sequence);
    let other = js
        .send_publish("once.d1", publish("w-2"))
        .await
        .unwrap()
        .await;
    println!("another write: {other:?}");
    assert!(other.is_err(), "a second outcome is refused");
}
