//! A buffered reader that can also jump over raw bytes up to a marker, so
//! the primary reader passes over each package's dependency and file lists
//! (most of `primary.xml`) with a substring search instead of XML parsing.

use std::io::{self, BufRead, Read};

/// Enough for several packages' worth of dependency lists per refill.
const CAPACITY: usize = 256 * 1024;

pub(crate) struct SkipReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
}

impl<R: Read> SkipReader<R> {
    pub(crate) fn new(inner: R) -> SkipReader<R> {
        SkipReader {
            inner,
            buf: vec![0; CAPACITY],
            pos: 0,
            end: 0,
            eof: false,
        }
    }

    /// Consumes the input up to, not including, the next `needle`.
    /// Returns `false` when the input ends first (all of it consumed).
    pub(crate) fn skip_until(&mut self, needle: &memchr::memmem::Finder<'_>) -> io::Result<bool> {
        let keep_max = needle.needle().len().saturating_sub(1);
        loop {
            if let Some(i) = needle.find(&self.buf[self.pos..self.end]) {
                self.pos += i;
                return Ok(true);
            }
            if self.eof {
                self.pos = self.end;
                return Ok(false);
            }
            // The last bytes may be the start of the needle: keep them.
            let keep = (self.end - self.pos).min(keep_max);
            self.buf.copy_within(self.end - keep..self.end, 0);
            self.pos = 0;
            self.end = keep;
            self.refill()?;
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Read for SkipReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for SkipReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end && !self.eof {
            self.pos = 0;
            self.end = 0;
            self.refill()?;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, Read};

    use super::SkipReader;

    /// A reader handing out a few bytes at a time, so needles straddle reads.
    struct Trickle<'a>(&'a [u8]);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(out.len()).min(3);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn skips_to_a_needle_across_reads_and_keeps_it() {
        let finder = memchr::memmem::Finder::new(b"</format>");
        let mut r = SkipReader::new(Trickle(b"<a>xx</forma</format>tail"));
        assert_eq!(r.fill_buf().unwrap(), b"<a>");
        r.consume(3);
        assert!(r.skip_until(&finder).unwrap());
        let mut rest = String::new();
        r.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "</format>tail");

        let mut r = SkipReader::new(Trickle(b"no marker here"));
        assert!(!r.skip_until(&finder).unwrap());
        assert!(r.fill_buf().unwrap().is_empty());
    }
}
