//! Splitting a streamed NDJSON body into lines, wherever its chunks end: shared by the
//! customer and the order importers. Blank lines are skipped; a line longer than
//! `MAX_LINE` is kept only up to the limit (enough to refuse it) and handed on as an
//! error naming the limit, so one huge line never grows memory.

use crate::domain::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// Longest accepted line.
pub const MAX_LINE: usize = 64 * 1024;

/// One rejected line, by its number (from 1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

/// The unfinished line of a stream and how many lines have ended so far.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
    lines: u64,
}

/// A line's bytes, or why it was refused before parsing.
pub type Line<'a> = Result<&'a [u8], FieldError>;

impl LineSplitter {
    /// Take the next chunk; `on_line(number, line)` runs for every line it completes that
    /// is not blank, numbered from 1 over the whole stream.
    pub fn feed<E>(
        &mut self,
        chunk: &[u8],
        mut on_line: impl FnMut(u64, Line<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        for part in chunk.split_inclusive(|b| *b == b'\n') {
            if self.pending.len() <= MAX_LINE {
                self.pending.extend_from_slice(part);
            }
            if part.ends_with(b"\n") {
                self.end_line(&mut on_line)?;
            }
        }
        Ok(())
    }

    /// The last line, when the stream did not end with a newline.
    pub fn finish<E>(
        &mut self,
        mut on_line: impl FnMut(u64, Line<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.end_line(&mut on_line)
    }

    fn end_line<E>(
        &mut self,
        on_line: &mut impl FnMut(u64, Line<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.lines += 1;
        let result = if self.pending.iter().all(u8::is_ascii_whitespace) {
            Ok(())
        } else if self.pending.len() > MAX_LINE {
            on_line(self.lines, Err(too_long()))
        } else {
            on_line(self.lines, Ok(&self.pending))
        };
        // The buffer is reused: its capacity stays for the next line.
        self.pending.clear();
        result
    }
}

/// The error for a line over the limit.
pub fn too_long() -> FieldError {
    FieldError::new("$", format!("line longer than {MAX_LINE} bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<(u64, Result<String, String>)> {
        let mut out = Vec::new();
        let mut s = LineSplitter::default();
        let mut take = |n: u64, l: Line<'_>| -> Result<(), ()> {
            out.push((
                n,
                l.map(|b| String::from_utf8_lossy(b).into_owned())
                    .map_err(|e| e.to_string()),
            ));
            Ok(())
        };
        for c in chunks {
            s.feed(c, &mut take).unwrap();
        }
        s.finish(&mut take).unwrap();
        out
    }

    #[test]
    fn lines_are_numbered_across_chunks_and_blank_ones_skipped() {
        let got = split(&[b"{\"a\"", b":1}\n\n  \n{\"b\":2}\n{\"c\"", b":3}"]);
        assert_eq!(
            got,
            vec![
                (1, Ok("{\"a\":1}\n".to_string())),
                (4, Ok("{\"b\":2}\n".to_string())),
                (5, Ok("{\"c\":3}".to_string())),
            ]
        );
    }

    #[test]
    fn an_over_long_line_is_refused_and_the_next_one_read() {
        let long = vec![b'x'; MAX_LINE + 10];
        let got = split(&[&long, &long, b"\n{}\n"]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 1);
        assert!(got[0].1.as_ref().unwrap_err().contains("longer than"));
        assert_eq!(got[1], (2, Ok("{}\n".to_string())));
    }
}
