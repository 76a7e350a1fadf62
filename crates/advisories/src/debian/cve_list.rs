//! The tracker's `data/CVE/list`: entries headed `CVE-ID (summary …)` or
//! `CVE-YYYY-XXXX [description]` (not yet assigned), followed by indented
//! lines: `- srcpkg version (notes)` (unstable), `[release] - srcpkg tag`,
//! `{DSA-… DLA-…}` (advisories that fixed it -> aliases), `NOTE:` (dropped),
//! and CVE-level markers.
//!
//! CVE-level markers: `REJECTED` -> [`Advisory::withdrawn`]; `RESERVED`,
//! `NOT-FOR-US: …` and `TODO: …` are kept in [`Advisory::notes`] and give no
//! affected rows (`NOT-FOR-US` means no Debian package; `TODO` means the
//! tracker has not looked at it yet). Placeholder ids (`CVE-2023-XXXX`) keep
//! the placeholder as id with an empty `cves` list: the tracker itself
//! assigns such entries hashed `TEMP-` ids that cannot be derived here.
//! Advisory severity is the highest urgency of the package lines.

use std::io::BufRead;

use crate::advisory::{Advisory, Source};
use crate::error::Error;

/// Iterator over the entries of a `data/CVE/list` file.
pub struct CveList<R> {
    reader: R,
    name: String,
    line_no: usize,
    raw: Vec<u8>,
    line: String,
    pending: Option<Advisory>,
    stashed: Option<Error>,
    done: bool,
}

impl<R: BufRead> CveList<R> {
    pub fn new(reader: R, name: &str) -> CveList<R> {
        CveList {
            reader,
            name: name.to_owned(),
            line_no: 0,
            raw: Vec::new(),
            line: String::new(),
            pending: None,
            stashed: None,
            done: false,
        }
    }

    fn header(&self) -> Advisory {
        let line = self.line.trim_end();
        let (id, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let mut adv = Advisory::new(id, Source::DebianCveList);
        adv.add_id(id);
        // Drop anything that is not a real id (the XXXX placeholders).
        adv.aliases.clear();
        let rest = rest.trim();
        adv.title = rest
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .or_else(|| rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')))
            .unwrap_or(rest)
            .to_owned();
        adv
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
        } else if t == "REJECTED" {
            adv.withdrawn = true;
            adv.notes.push(t.to_owned());
        } else if t == "RESERVED" || t.starts_with("NOT-FOR-US:") || t.starts_with("TODO:") {
            adv.notes.push(t.to_owned());
        } else if t.starts_with("NOTE:") || t.is_empty() {
        } else if let Some(row) = super::package_line(t) {
            adv.affected.push(row);
        } else {
            adv.notes.push(t.to_owned());
        }
    }

    fn finish(mut adv: Advisory) -> Advisory {
        adv.severity = adv.max_affected_severity().unwrap_or_default();
        adv
    }
}

impl<R: BufRead> Iterator for CveList<R> {
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
                    return self.pending.take().map(|a| Ok(Self::finish(a)));
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(Error::io(format!("{}:{}", self.name, self.line_no), e)));
                }
            }
            self.line_no += 1;
            if self.line.starts_with("CVE-") {
                let previous = self.pending.replace(self.header());
                if let Some(prev) = previous {
                    return Some(Ok(Self::finish(prev)));
                }
            } else if self.line.starts_with([' ', '\t']) || self.line.trim().is_empty() {
                self.body_line();
            } else {
                let e = Error::format(
                    format!("{}:{}", self.name, self.line_no),
                    format!("unexpected line: {}", self.line),
                );
                // Lines up to the next header cannot be attributed.
                match self.pending.take() {
                    Some(prev) => {
                        self.stashed = Some(e);
                        return Some(Ok(Self::finish(prev)));
                    }
                    None => return Some(Err(e)),
                }
            }
        }
    }
}
