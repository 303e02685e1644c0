//! Logging: pretty for people, JSON for machines; level from `RUST_LOG` (default `info`).
//! Nothing logs request bodies, secrets or raw customer ids.

use crate::log_buffer::LogBuffer;
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// The server's log output (stderr, buffered: log_buffer.rs), once `init` ran.
static OUTPUT: OnceLock<LogBuffer<std::io::Stderr>> = OnceLock::new();

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
        (Ok(()), LogFormat::Json) => builder.json().with_writer(output.clone()).try_init(),
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
