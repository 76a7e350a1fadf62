//! Tables for people, JSON and CSV for scripts.

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
}

impl Table {
    pub fn new(header: Vec<&'static str>) -> Table {
        Table {
            header,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len());
        self.rows.push(row);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
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
