use std::cmp::Ordering;
use std::io::{BufRead, BufWriter, Write};

use crate::{BatchError, Scheme, compare_bytes};

/// Answers a stream of comparisons: each non-blank input line `A B` (fields
/// separated by ASCII whitespace) produces one output line `<`, `=` or `>`
/// saying how `A` compares with `B` under `scheme`.
///
/// Blank (or all-whitespace) lines are skipped and produce no output. A line
/// with fewer or more than two fields stops the batch with
/// [`BatchError::Malformed`] naming the 1-based line number; answers for the
/// earlier lines have been written by then. Lines need not be UTF-8: the
/// versions are compared as the tools would compare the bytes.
///
/// Returns the number of comparisons written. Output is buffered and flushed
/// before returning; the line buffer is reused, so the only allocations are
/// the two buffers.
pub fn run_batch(
    scheme: Scheme,
    mut input: impl BufRead,
    output: impl Write,
) -> Result<u64, BatchError> {
    let mut out = BufWriter::with_capacity(64 * 1024, output);
    let mut line = Vec::with_capacity(256);
    let mut line_no: u64 = 0;
    let mut answered: u64 = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        line_no += 1;
        let mut fields = line
            .split(|c| c.is_ascii_whitespace())
            .filter(|f| !f.is_empty());
        let (a, b) = match (fields.next(), fields.next(), fields.next()) {
            (None, _, _) => continue,
            (Some(a), Some(b), None) => (a, b),
            _ => return Err(malformed(&line, line_no)),
        };
        let answer: &[u8] = match compare_bytes(scheme, a, b) {
            Ordering::Less => b"<\n",
            Ordering::Equal => b"=\n",
            Ordering::Greater => b">\n",
        };
        out.write_all(answer)?;
        answered += 1;
    }
    out.flush()?;
    Ok(answered)
}

#[cold]
fn malformed(line: &[u8], line_no: u64) -> BatchError {
    let content = line.strip_suffix(b"\n").unwrap_or(line);
    let content = content.strip_suffix(b"\r").unwrap_or(content);
    BatchError::Malformed {
        line: line_no,
        fields: line
            .split(|c| c.is_ascii_whitespace())
            .filter(|f| !f.is_empty())
            .count(),
        content: String::from_utf8_lossy(content).into_owned(),
    }
}
