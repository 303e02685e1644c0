//! Logging: pretty for people, JSON for machines; level from `RUST_LOG` (default `info`).
//! Nothing logs request bodies, secrets or raw customer ids.

use crate::log_buffer::LogBuffer;
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// The server's log output (stderr, buffered: log_buffer.rs), once `init` ran.
static OUTPUT: OnceLock<LogBuffer<std::io::Stderr>> = OnceLock::new();
/// The same buffer when the format is JSON: request lines are then written here directly
/// (`request_line`), not through the formatter.
static JSON_OUTPUT: OnceLock<LogBuffer<std::io::Stderr>> = OnceLock::new();

/// Log output format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Install the global subscriber (once; later calls are ignored). Info lines are written
/// within 100 ms, warnings and errors at once; call `flush` before the process ends.
pub fn init(format: LogFormat) {
    if OUTPUT.get().is_some() {
        return;
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let output = LogBuffer::new(std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // Without a thread for the timer, info lines could wait for ever: write each line as
    // it comes instead.
    let _ = match (output.flush_periodically(), format) {
        (Ok(()), LogFormat::Pretty) => builder.with_writer(output.clone()).try_init(),
        (Ok(()), LogFormat::Json) => {
            let _ = JSON_OUTPUT.set(output.clone());
            builder.json().with_writer(output.clone()).try_init()
        }
        (Err(_), LogFormat::Pretty) => builder.with_writer(std::io::stderr).try_init(),
        (Err(_), LogFormat::Json) => builder.json().with_writer(std::io::stderr).try_init(),
    };
    let _ = OUTPUT.set(output);
    // A panic's message (stderr, unbuffered) comes after the lines that led to it.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(output) = OUTPUT.get() {
            output.try_flush();
        }
        previous(info)
    }));
}

/// Write out every log line still held.
pub fn flush() {
    if let Some(output) = OUTPUT.get() {
        output.flush();
    }
}

/// The line every request logs when it is answered: method, route template, status and
/// microseconds, at info level with target `kulanz::http` (so `RUST_LOG=kulanz::http=warn`
/// silences it).
///
/// In JSON it is written here, byte for byte as the JSON formatter writes that event
/// (`tests` below compare the two), straight into the log buffer. Why: through the
/// formatter this one line cost 3.7% of the server's CPU under load (its fields visited
/// as `dyn Debug`, the map serialised through `tracing_serde`), about ten times what this
/// costs (docs/performance.md). The pretty format, for people, goes through the formatter.
pub fn request_line(method: &str, route: &str, status: u16, micros: u64) {
    if !tracing::enabled!(target: "kulanz::http", tracing::Level::INFO) {
        return;
    }
    match JSON_OUTPUT.get() {
        Some(out) => {
            let mut line = Vec::with_capacity(192);
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            json_request_line(&mut line, &now, method, route, status, micros);
            out.append(&line, false);
        }
        None => tracing::info!(
            target: "kulanz::http",
            method,
            route,
            status,
            micros,
            "request"
        ),
    }
}

/// `request_line`'s JSON, with its newline.
fn json_request_line(
    out: &mut Vec<u8>,
    timestamp: &str,
    method: &str,
    route: &str,
    status: u16,
    micros: u64,
) {
    use std::io::Write;
    let text = |out: &mut Vec<u8>, s: &str| {
        // Writing a `str` into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    };
    out.extend_from_slice(b"{\"timestamp\":");
    text(out, timestamp);
    out.extend_from_slice(b",\"level\":\"INFO\",\"fields\":{\"message\":\"request\",\"method\":");
    text(out, method);
    out.extend_from_slice(b",\"route\":");
    text(out, route);
    let _ = writeln!(
        out,
        ",\"status\":{status},\"micros\":{micros}}},\"target\":\"kulanz::http\"}}"
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The line the JSON formatter writes for the request event.
    fn formatted(method: &str, route: &str, status: u16, micros: u64) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            request_line(method, route, status, micros)
        });
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn the_json_request_line_is_the_formatters_line() {
        for (method, route, status, micros) in [
            ("POST", "/v1/decisions", 200, 8794),
            ("GET", "/v1/customers/{customer_id}", 404, 0),
            ("DELETE", "unmatched", 503, u64::MAX),
            ("PATCH", "/odd \"route\"\\ \u{7}", 422, 17),
        ] {
            let theirs = formatted(method, route, status, micros);
            let v: serde_json::Value = serde_json::from_str(&theirs).unwrap();
            let timestamp = v["timestamp"].as_str().unwrap();
            let mut ours = Vec::new();
            json_request_line(&mut ours, timestamp, method, route, status, micros);
            assert_eq!(String::from_utf8(ours).unwrap(), theirs);
        }
    }

    #[test]
    fn the_timestamp_has_the_formatters_shape() {
        let theirs = formatted("GET", "/healthz", 200, 1);
        let v: serde_json::Value = serde_json::from_str(&theirs).unwrap();
        let theirs = v["timestamp"].as_str().unwrap();
        let ours = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        assert_eq!(ours.len(), theirs.len(), "{ours} against {theirs}");
        assert_eq!(
            ours.bytes().map(|b| b.is_ascii_digit()).collect::<Vec<_>>(),
            theirs
                .bytes()
                .map(|b| b.is_ascii_digit())
                .collect::<Vec<_>>(),
            "{ours} against {theirs}"
        );
    }
}
