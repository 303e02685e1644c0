//! Accepting connections: at most `max_connections` open at once, and a deadline for a
//! request's headers, so clients that connect and never finish a request (or sit idle on
//! a kept-alive connection) cannot hold the server's file descriptors.
//!
//! axum's `serve` has neither (a connection that never finished its headers was held
//! for as long as the client liked), so this is the accept loop, on hyper directly.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

/// Limits on connections, from `serve`'s flags.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers. hyper starts this clock
    /// whenever it waits for a request, so it is also how long a kept-alive connection may
    /// sit idle between requests. Bodies are bounded by the request timeout.
    pub header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
        }
    }
}

impl ConnectionLimits {
    /// The limit kept below the process's open-file limit (Linux), leaving room for the
    /// store's files and the listener: a limit above it would let clients exhaust the
    /// descriptors the store needs. Returns the limit and whether it was lowered.
    pub fn within_open_files(mut self) -> (Self, bool) {
        const RESERVED: usize = 64;
        let Some(open_files) = soft_open_file_limit() else {
            return (self, false);
        };
        let room = open_files.saturating_sub(RESERVED).max(1);
        let lowered = self.max_connections > room;
        self.max_connections = self.max_connections.min(room);
        (self, lowered)
    }
}

/// `Max open files` (soft) from `/proc/self/limits`; `None` elsewhere or when unlimited.
fn soft_open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serve `app` on `listener` until `shutdown` completes, then stop accepting, let open
/// connections finish their requests, and return.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    // Bounded so `acquire_many` below can name them all.
    let max = limits.max_connections.clamp(1, 1 << 20);
    let slots = Arc::new(Semaphore::new(max));
    // Dropped at shutdown: every connection sees it and shuts down gracefully.
    let (stop_tx, stop_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait a
                    // moment rather than spin; the listener itself is still fine.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(move |req: Request<Incoming>| {
            let mut req = req.map(Body::new);
            // The peer address, for limits that count per source (webhook signatures).
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let conn =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.changed() => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        });
    }
    drop(stop_tx);
    // Every connection gives its slot back when it ends: holding all of them means none
    // is left.
    let _ = slots
        .acquire_many(u32::try_from(max).unwrap_or(u32::MAX))
        .await;
}

/// The peer of a request served by `serve` (absent for requests made in-process).
pub fn peer(req: &axum::http::request::Parts) -> Option<SocketAddr> {
    req.extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a)
}
