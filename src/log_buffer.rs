//! The log's output, buffered: lines collect in memory and go out in one write every
//! `EVERY` (or once `FULL` bytes wait), instead of one `write` to stderr per line.
//!
//! Why: every request logs a line, and that write was 3.5% of the server's CPU under load
//! (perf, docs/performance.md). Warnings and errors are not held: such a line is written at
//! once, after the lines before it, so nothing that needs attention waits and the order
//! stays. `flush` empties the buffer (the server calls it when it stops, and a panic does
//! first); a process killed outright loses at most the last `EVERY` of info lines.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// The longest an info line waits.
pub const EVERY: Duration = Duration::from_millis(100);
/// Held bytes that are written at once, without waiting for the timer.
pub const FULL: usize = 64 << 10;

struct State<W> {
    held: Vec<u8>,
    out: W,
}

/// A `MakeWriter` for `tracing_subscriber::fmt` over `out` (stderr in the server).
pub struct LogBuffer<W> {
    state: Arc<Mutex<State<W>>>,
}

impl<W> Clone for LogBuffer<W> {
    fn clone(&self) -> Self {
        LogBuffer {
            state: self.state.clone(),
        }
    }
}

impl<W: Write + Send + 'static> LogBuffer<W> {
    pub fn new(out: W) -> Self {
        LogBuffer {
            state: Arc::new(Mutex::new(State {
                held: Vec::with_capacity(FULL),
                out,
            })),
        }
    }

    /// Write out everything held.
    pub fn flush(&self) {
        let mut s = self.lock();
        write_held(&mut s);
    }

    /// `flush`, unless the buffer is in use: for the panic hook, where waiting could
    /// deadlock if the panic came while this thread held it.
    pub fn try_flush(&self) {
        let state = match self.state.try_lock() {
            Ok(s) => Some(s),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        };
        if let Some(mut s) = state {
            write_held(&mut s);
        }
    }

    /// Flush every `EVERY` on a thread of its own, for as long as the process runs.
    pub fn flush_periodically(&self) -> std::io::Result<()> {
        let me = self.clone();
        std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || loop {
                std::thread::sleep(EVERY);
                me.flush();
            })
            .map(|_| ())
    }

    /// Hold one whole line (ending in a newline); `urgent` writes it out at once, with
    /// everything held before it. The formatter's lines come here, and so does the request
    /// line `telemetry::request_line` writes itself.
    pub fn append(&self, line: &[u8], urgent: bool) {
        if line.is_empty() {
            return;
        }
        let mut s = self.lock();
        s.held.extend_from_slice(line);
        if urgent || s.held.len() >= FULL {
            write_held(&mut s);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<W>> {
        // A panic while a line was appended leaves at worst a partial line: keep logging.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn write_held<W: Write>(s: &mut State<W>) {
    if s.held.is_empty() {
        return;
    }
    // Nowhere to report a failed log write; the bytes are dropped, not retried forever.
    let _ = s.out.write_all(&s.held);
    let _ = s.out.flush();
    s.held.clear();
}

/// One log line's writer: the formatter writes the line into it, and it is handed over
/// when dropped.
pub struct Line<'a, W: Write + Send + 'static> {
    buffer: &'a LogBuffer<W>,
    urgent: bool,
    line: Vec<u8>,
}

impl<W: Write + Send + 'static> Write for Line<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<W: Write + Send + 'static> Drop for Line<'_, W> {
    fn drop(&mut self) {
        self.buffer.append(&self.line, self.urgent);
    }
}

impl<'a, W: Write + Send + 'static> MakeWriter<'a> for LogBuffer<W> {
    type Writer = Line<'a, W>;

    fn make_writer(&'a self) -> Self::Writer {
        Line {
            buffer: self,
            urgent: true,
            line: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        Line {
            buffer: self,
            // `Level` orders by verbosity: WARN and ERROR are "at most WARN".
            urgent: *meta.level() <= Level::WARN,
            line: Vec::with_capacity(256),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// An output that records what reached it, write by write.
    #[derive(Clone, Default)]
    struct Out(Arc<Mutex<Vec<Vec<u8>>>>);
    impl Write for Out {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn log(b: &LogBuffer<Out>, level: Level, text: &str) {
        let mut w = b.make_writer();
        w.urgent = level <= Level::WARN;
        w.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn info_lines_wait_and_go_out_together() {
        let out = Out::default();
        let b = LogBuffer::new(out.clone());
        log(&b, Level::INFO, "one\n");
        log(&b, Level::INFO, "two\n");
        assert!(out.0.lock().unwrap().is_empty());
        b.flush();
        assert_eq!(*out.0.lock().unwrap(), vec![b"one\ntwo\n".to_vec()]);
        b.flush();
        assert_eq!(
            out.0.lock().unwrap().len(),
            1,
            "nothing held, nothing written"
        );
    }

    #[test]
    fn a_warning_goes_out_at_once_after_the_lines_before_it() {
        let out = Out::default();
        let b = LogBuffer::new(out.clone());
        log(&b, Level::INFO, "request\n");
        log(&b, Level::WARN, "disk full\n");
        assert_eq!(
            *out.0.lock().unwrap(),
            vec![b"request\ndisk full\n".to_vec()]
        );
    }

    #[test]
    fn a_full_buffer_is_written_without_waiting() {
        let out = Out::default();
        let b = LogBuffer::new(out.clone());
        let line = "x".repeat(1023) + "\n";
        for _ in 0..(FULL / 1024) {
            log(&b, Level::INFO, &line);
        }
        assert_eq!(out.0.lock().unwrap().concat().len(), FULL);
    }

    #[test]
    fn try_flush_does_not_wait_for_a_held_buffer() {
        let out = Out::default();
        let b = LogBuffer::new(out.clone());
        log(&b, Level::INFO, "before the panic\n");
        {
            let _held = b.lock();
            b.try_flush(); // would deadlock with `flush`
            assert!(out.0.lock().unwrap().is_empty());
        }
        b.try_flush();
        assert_eq!(out.0.lock().unwrap().concat(), b"before the panic\n");
    }

    #[test]
    fn the_timer_writes_what_waits() {
        let out = Out::default();
        let b = LogBuffer::new(out.clone());
        b.flush_periodically().unwrap();
        log(&b, Level::INFO, "later\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while out.0.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(out.0.lock().unwrap().concat(), b"later\n");
    }

    #[test]
    fn events_through_a_subscriber_are_held_by_level() {
        let out = Out::default();
        let b = LogBuffer::new(out.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_writer(b.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("held");
            assert!(out.0.lock().unwrap().is_empty());
            tracing::error!("urgent");
        });
        let written = String::from_utf8(out.0.lock().unwrap().concat()).unwrap();
        let (held, urgent) = (written.find("held"), written.find("urgent"));
        assert!(
            held.is_some() && urgent.is_some() && held < urgent,
            "{written}"
        );
    }
}
