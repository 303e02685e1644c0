//! The HTTP baseline of `bench/http.sh`: a bare axum endpoint that parses a JSON body and
//! echoes it back, built with the same axum, tokio and serde_json as kulanz and run the
//! same way (multi-threaded runtime, loopback). Whatever kulanz does beyond this (auth,
//! validation, the engine, the store) is its own cost.
//!
//! `cargo run --release --example echo -- 127.0.0.1:9090`, then `POST /echo`.

use axum::routing::post;
use axum::{Json, Router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9090".to_string());
    let app = Router::new().route(
        "/echo",
        post(|Json(body): Json<serde_json::Value>| async move { Json(body) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("echo listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
