//! Tables for people, JSON and CSV for scripts. Everything a host or an
//! API client wrote passes through [`escape`] before it reaches a terminal.
//!
//! One style everywhere: an empty table prints nothing on stdout and a
//! `(no ...)` line on stderr; CSV always has its header; times are relative
//! (`3m ago`) in tables and RFC 3339 in CSV and JSON.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Rows with a header, printed as an aligned table or as CSV.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    empty: String,
}

impl Table {
    pub fn new(header: Vec<&'static str>) -> Table {
        Table {
            header,
            rows: Vec::new(),
            empty: "nothing to show".to_owned(),
        }
    }

    /// What an empty table says instead (`no hosts match`).
    pub fn when_empty(mut self, message: impl Into<String>) -> Table {
        self.empty = message.into();
        self
    }

    /// Adds a row; its cells are [`escape`]d.
    pub fn row(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len());
        let row = row
            .into_iter()
            .map(|cell| match escape(&cell) {
                Cow::Borrowed(_) => cell,
                Cow::Owned(escaped) => escaped,
            })
            .collect();
        self.rows.push(row);
    }

    pub fn print(&self, format: Format) -> anyhow::Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&self.header)?;
                for r in &self.rows {
                    w.write_record(r)?;
                }
                w.flush()?;
            }
            Format::Table | Format::Json if self.rows.is_empty() => {
                eprintln!("({})", self.empty);
            }
            Format::Table | Format::Json => {
                let mut widths: Vec<usize> = self.header.iter().map(|h| h.len()).collect();
                for r in &self.rows {
                    for (w, cell) in widths.iter_mut().zip(r) {
                        *w = (*w).max(cell.chars().count());
                    }
                }
                let line = |cells: &mut dyn Iterator<Item = &str>| {
                    let mut s = String::new();
                    for (i, (cell, w)) in cells.zip(&widths).enumerate() {
                        if i + 1 == widths.len() {
                            s.push_str(cell);
                        } else {
                            s.push_str(cell);
                            s.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 2));
                        }
                    }
                    s.trim_end().to_owned()
                };
                writeln!(out, "{}", line(&mut self.header.iter().copied()))?;
                for r in &self.rows {
                    writeln!(out, "{}", line(&mut r.iter().map(String::as_str)))?;
                }
            }
        }
        Ok(())
    }
}

/// Text from the database as it may be shown on a terminal: control
/// characters (ESC, BEL, CR, C1 controls, ...) and the invisible characters
/// that reorder or hide text (bidi overrides and isolates, zero-width
/// characters) are written as `\u{1b}`-style escapes, and a backslash as
/// `\\` so an escape can't be forged. The server refuses control characters
/// in new reports; rows stored before that, and text from other sources
/// (tag reasons, feed names), still pass through here.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// `3m ago`, `2h ago`, `5d ago`: how long since a timestamp.
pub fn ago(ms: i64) -> String {
    let secs = (patchwatch_store::now_millis() - ms).max(0) / 1000;
    match secs {
        s if s < 60 => format!("{s}s ago"),
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86_400 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}

/// A time as a cell: relative for people, RFC 3339 (whole seconds, UTC)
/// for CSV, so a spreadsheet or script can read it.
pub fn when(format: Format, ms: i64) -> String {
    match format {
        Format::Csv => timestamp(ms),
        Format::Table | Format::Json => ago(ms),
    }
}

/// RFC 3339 in whole seconds, UTC: always 20 characters, so columns of
/// them line up.
pub fn timestamp(ms: i64) -> String {
    patchwatch_store::format_millis(ms.div_euclid(1000) * 1000)
}

/// `1 finding`, `2 findings`.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_are_made_visible() {
        assert!(matches!(
            escape("Debian GNU/Linux 12 (bookworm)"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            escape("Debian\u{1b}]0;owned\u{7}\u{1b}[2J"),
            "Debian\\u{1b}]0;owned\\u{7}\\u{1b}[2J"
        );
        assert_eq!(escape("a\u{9b}31mb\r"), "a\\u{9b}31mb\\u{d}");
        assert_eq!(escape("web1\u{202e}gro"), "web1\\u{202e}gro");
        assert_eq!(escape("zero\u{200b}width"), "zero\\u{200b}width");
        // A backslash doubles only when the text needs escaping at all.
        assert_eq!(escape("a\\b"), "a\\b");
        assert_eq!(escape("a\\u{7}\u{7}"), "a\\\\u{7}\\u{7}");
    }

    #[test]
    fn table_cells_are_escaped() {
        let mut t = Table::new(vec!["OS"]);
        t.row(vec!["evil\u{1b}[31m".into()]);
        assert_eq!(t.rows[0][0], "evil\\u{1b}[31m");
    }

    #[test]
    fn timestamps_have_one_width_and_counts_agree() {
        assert_eq!(timestamp(1_700_000_000_123), "2023-11-14T22:13:20Z");
        assert_eq!(timestamp(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(count(1, "finding", "findings"), "1 finding");
        assert_eq!(count(0, "finding", "findings"), "0 findings");
        assert_eq!(when(Format::Csv, 1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert!(when(Format::Table, 1_700_000_000_999).ends_with("d ago"));
    }

    #[test]
    fn shortening_marks_the_cut() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
