//! Clients that attack the server itself rather than its API, against the real binary:
//! invented HTTP methods (metric series, memory), connections that never finish their
//! headers, and enough of them to exhaust a small open-file limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "process/mod.rs"]
mod process;

use process::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Send one raw HTTP/1.1 request and read the status line.
fn raw_request(addr: &str, head: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).to_string()
}

fn invented_method(i: usize) -> String {
    // A valid token, 30 KB long, different each time.
    format!("X{i:06}{}", "M".repeat(30 * 1024))
}

async fn metrics_len(client: &reqwest::Client, base: &str) -> usize {
    client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn invented_methods_are_refused_and_grow_neither_metrics_nor_memory() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], None);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    let addr = server.addr.clone();
    let send = |from: usize, n: usize| {
        let addr = addr.clone();
        std::thread::spawn(move || {
            for i in from..from + n {
                let answer = raw_request(
                    &addr,
                    &format!(
                        "{} /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        invented_method(i)
                    ),
                );
                assert!(
                    answer.starts_with("HTTP/1.1 501"),
                    "{}",
                    &answer[..answer.len().min(200)]
                );
                assert!(answer.contains("\"method_not_implemented\""), "{answer}");
            }
        })
    };
    // Warm up: the `other` series, the series of `/metrics` itself and the connection
    // buffers exist after this.
    send(0, 100).join().unwrap();
    metrics_len(&client, &server.base).await;
    let (metrics_before, rss_before) = (metrics_len(&client, &server.base).await, server.rss_kib());
    send(100, 1000).join().unwrap();
    let (metrics_after, rss_after) = (metrics_len(&client, &server.base).await, server.rss_kib());
    println!(
        "1000 invented methods: /metrics {metrics_before} -> {metrics_after} bytes, RSS {rss_before} -> {rss_after} KiB"
    );
    let body = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("method=\"other\""),
        "the refusals are counted as `other`"
    );
    assert!(!body.contains("MMMM"), "no invented method became a label");
    // Only counter digits may change: a few bytes, never a series per request.
    assert!(
        metrics_after.abs_diff(metrics_before) < 200,
        "{metrics_before} -> {metrics_after}"
    );
    assert!(
        (rss_after as f64) < rss_before as f64 * 1.05,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
}

/// Wait until the server closes `s` (read returns 0 or an error); false at the deadline.
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            // The 408 hyper may send before closing.
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn a_request_whose_headers_never_finish_is_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--header-timeout-secs", "1"], None);
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    // The deadline only bounds a broken server; the event waited for is the close.
    assert!(
        closed_within(&mut slow, Duration::from_secs(30)),
        "held open"
    );
    // And an idle kept-alive connection goes the same way after its answer.
    let mut idle = TcpStream::connect(&server.addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(
        closed_within(&mut idle, Duration::from_secs(30)),
        "idle connection held open"
    );
}

#[tokio::test]
async fn slow_clients_cannot_starve_a_server_with_few_file_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    // 256 descriptors, as in the probe that starved the server with 300 slow clients.
    let server = Server::start(dir.path(), &["--header-timeout-secs", "1"], Some(256));
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut s = TcpStream::connect(&server.addr).unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        slow.push(s);
    }
    // A real client still gets an answer: slots free up as the slow ones time out.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = reqwest::Client::new()
            .get(format!("{}/healthz", server.base))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if matches!(&r, Ok(r) if r.status() == 200) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server stayed starved: {r:?}"
        );
    }
    drop(slow);
}
