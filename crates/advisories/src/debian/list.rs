//! `data/DSA/list`, `data/DLA/list` and `data/DTSA/list`: one advisory per
//! header line `[DD Mon YYYY] DSA-NNNN-N srcpkg - title` (DTSA dates are
//! written `[August 26th, 2005]`), followed by indented `{CVE-… …}` and
//! `[release] - srcpkg fixed-version` lines (tags as in [`super`]).
//!
//! The advisory id is the header's second field; the title is the rest of
//! the header (`xorg-server - security update`; announcements such as
//! `jessie end-of-life` have no package lines and so no affected rows).
//! `published` is the header date as `YYYY-MM-DD`. A header whose second
//! field is not an advisory id of the list's kind is reported as an error
//! naming its line, and its indented lines are skipped; parsing resumes at the
//! next header.

use std::io::BufRead;

use crate::advisory::{Advisory, Source};
use crate::error::Error;

/// Which list is being read; decides the expected id prefix and [`Source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Dsa,
    Dla,
    Dtsa,
}

impl ListKind {
    fn prefix(self) -> &'static str {
        match self {
            ListKind::Dsa => "DSA-",
            ListKind::Dla => "DLA-",
            ListKind::Dtsa => "DTSA-",
        }
    }

    fn source(self) -> Source {
        match self {
            ListKind::Dsa => Source::DebianDsa,
            ListKind::Dla => Source::DebianDla,
            ListKind::Dtsa => Source::DebianDtsa,
        }
    }
}

/// Iterator over the advisories of a DSA/DLA/DTSA list.
pub struct AdvisoryList<R> {
    reader: R,
    kind: ListKind,
    name: String,
    line_no: usize,
    raw: Vec<u8>,
    line: String,
    pending: Option<Advisory>,
    /// Indented lines belong to a rejected header and are skipped.
    skipping: bool,
    /// An error found while finishing the previous advisory, returned next.
    stashed: Option<Error>,
    done: bool,
}

impl<R: BufRead> AdvisoryList<R> {
    /// `name` labels errors (`DSA_list:123`).
    pub fn new(reader: R, kind: ListKind, name: &str) -> AdvisoryList<R> {
        AdvisoryList {
            reader,
            kind,
            name: name.to_owned(),
            line_no: 0,
            raw: Vec::new(),
            line: String::new(),
            pending: None,
            skipping: false,
            stashed: None,
            done: false,
        }
    }

    fn at(&self) -> String {
        format!("{}:{}", self.name, self.line_no)
    }

    /// Parses a header; `Err` names the line.
    fn header(&self) -> Result<Advisory, Error> {
        let line = self.line.trim_end();
        let (date, rest) = line[1..]
            .split_once(']')
            .ok_or_else(|| Error::format(self.at(), "header without closing `]`"))?;
        let rest = rest.trim();
        let (id, title) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let digits = id.strip_prefix(self.kind.prefix()).unwrap_or("");
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
            return Err(Error::format(
                self.at(),
                format!("malformed header: {line}"),
            ));
        }
        let mut adv = Advisory::new(id, self.kind.source());
        adv.title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        adv.published = Some(
            parse_date(date)
                .ok_or_else(|| Error::format(self.at(), format!("unreadable date [{date}]")))?,
        );
        Ok(adv)
    }

    fn body_line(&mut self) {
        let Some(adv) = self.pending.as_mut() else {
            return;
        };
        let t = self.line.trim();
        if let Some(ids) = t.strip_prefix('{') {
            for id in ids.trim_end_matches('}').split_whitespace() {
                adv.add_id(id);
            }
        } else if let Some(mut row) = super::package_line(t) {
            // Rows in an advisory list state what the advisory shipped.
            row.vendor_status = format!("{} {}", adv.id, row.vendor_status);
            adv.affected.push(row);
        } else if !t.is_empty() {
            adv.notes.push(t.to_owned());
        }
    }
}

impl<R: BufRead> Iterator for AdvisoryList<R> {
    type Item = Result<Advisory, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.stashed.take() {
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        loop {
            match super::next_line(&mut self.reader, &mut self.raw, &mut self.line) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return self.pending.take().map(Ok);
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(Error::io(self.at(), e)));
                }
            }
            self.line_no += 1;
            if self.line.starts_with('[') {
                let previous = self.pending.take();
                match self.header() {
                    Ok(adv) => {
                        self.skipping = false;
                        self.pending = Some(adv);
                    }
                    Err(e) => {
                        self.skipping = true;
                        // Hand out the advisory before the bad header first.
                        match previous {
                            Some(prev) => {
                                self.stashed = Some(e);
                                return Some(Ok(prev));
                            }
                            None => return Some(Err(e)),
                        }
                    }
                }
                if let Some(prev) = previous {
                    return Some(Ok(prev));
                }
            } else if self.line.starts_with([' ', '\t']) {
                if !self.skipping {
                    self.body_line();
                }
            } else if !self.line.trim().is_empty() {
                let e = Error::format(self.at(), format!("unexpected line: {}", self.line));
                self.skipping = true;
                match self.pending.take() {
                    Some(prev) => {
                        self.stashed = Some(e);
                        return Some(Ok(prev));
                    }
                    None => return Some(Err(e)),
                }
            }
        }
    }
}

/// `29 Mar 2023` or `August 26th, 2005` -> `2023-03-29` / `2005-08-26`.
pub fn parse_date(s: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let [a, b, year] = words.as_slice() else {
        return None;
    };
    let month_of = |w: &str| {
        let w = w.to_ascii_lowercase();
        MONTHS
            .iter()
            .position(|m| w.len() >= 3 && w.starts_with(m))
            .map(|i| i + 1)
    };
    let (day, month) = match (month_of(a), month_of(b)) {
        (None, Some(m)) => (*a, m),
        (Some(m), None) => (*b, m),
        _ => return None,
    };
    let day: u32 = day
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .ok()?;
    let year: u32 = year.parse().ok()?;
    if !(1..=31).contains(&day) || year < 1990 {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}
