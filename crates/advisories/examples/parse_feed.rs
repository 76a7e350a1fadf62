//! Parses one feed file and prints counts; used to measure import time and
//! peak memory (`/usr/bin/time -v target/release/examples/parse_feed osv FILE`).
//!
//! Usage: `parse_feed KIND FILE` with KIND one of `osv`, `debian-json`, `dsa`,
//! `dla`, `dtsa`, `cve-list`, `alpine-json`, `alpine-yaml`, `ubuntu-uct`.
//! FILE may be compressed (gzip, bzip2, xz, zstd); `osv` also takes zip/tar.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use patchwatch_advisories::debian::cve_list::CveList;
use patchwatch_advisories::debian::list::{AdvisoryList, ListKind};
use patchwatch_advisories::{Advisory, Error, FixState, alpine, debian, decompressed, osv, ubuntu};

#[derive(Default)]
struct Counts {
    advisories: usize,
    rows: usize,
    withdrawn: usize,
    errors: usize,
    states: BTreeMap<&'static str, usize>,
}

impl Counts {
    fn add(&mut self, r: Result<Advisory, Error>) {
        match r {
            Ok(a) => {
                self.advisories += 1;
                self.rows += a.affected.len();
                self.withdrawn += usize::from(a.withdrawn);
                for row in &a.affected {
                    let s = match row.state {
                        FixState::Fixed { .. } => "fixed",
                        FixState::Affected => "affected",
                        FixState::NoAdvisory => "no-advisory",
                        FixState::Deferred => "deferred",
                        FixState::WillNotFix => "will-not-fix",
                        FixState::UnderInvestigation => "under-investigation",
                        FixState::NotAffected => "not-affected",
                        FixState::EndOfLife => "end-of-life",
                    };
                    *self.states.entry(s).or_default() += 1;
                }
            }
            Err(e) => {
                self.errors += 1;
                if self.errors <= 5 {
                    eprintln!("error: {e}");
                }
            }
        }
    }
}

fn open(path: &Path) -> Result<Box<dyn Read>, Error> {
    let file = File::open(path).map_err(|e| Error::Io {
        at: path.display().to_string(),
        source: e,
    })?;
    decompressed(BufReader::new(file)).map_err(|e| Error::Io {
        at: path.display().to_string(),
        source: e,
    })
}

fn run(kind: &str, path: &Path) -> Result<Counts, Error> {
    let name = path.display().to_string();
    let mut c = Counts::default();
    match kind {
        "osv" => {
            osv::read_path(path, |r| c.add(r))?;
        }
        "debian-json" => {
            debian::tracker::parse(open(path)?, &name, |a| c.add(Ok(a)))?;
        }
        "dsa" | "dla" | "dtsa" => {
            let k = match kind {
                "dsa" => ListKind::Dsa,
                "dla" => ListKind::Dla,
                _ => ListKind::Dtsa,
            };
            AdvisoryList::new(BufReader::new(open(path)?), k, &name).for_each(|r| c.add(r));
        }
        "cve-list" => CveList::new(BufReader::new(open(path)?), &name).for_each(|r| c.add(r)),
        "alpine-json" => {
            alpine::parse_json(open(path)?, &name, |a| c.add(Ok(a)))?;
        }
        "alpine-yaml" => {
            alpine::parse_yaml(BufReader::new(open(path)?), &name, |a| c.add(Ok(a)))?;
        }
        "ubuntu-uct" => {
            let mut archive = ubuntu::TrackerArchive::new(open(path)?, &name);
            archive.records()?.for_each(|r| c.add(r));
        }
        other => {
            return Err(Error::Format {
                at: other.to_owned(),
                message: "unknown KIND".to_owned(),
            });
        }
    }
    Ok(c)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, kind, file] = args.as_slice() else {
        eprintln!("usage: parse_feed KIND FILE");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    match run(kind, Path::new(file)) {
        Ok(c) => {
            let secs = start.elapsed().as_secs_f64();
            println!(
                "advisories {} affected-rows {} withdrawn {} errors {} seconds {secs:.3}",
                c.advisories, c.rows, c.withdrawn, c.errors
            );
            for (s, n) in &c.states {
                println!("  {s:20} {n}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fatal: {e}");
            ExitCode::FAILURE
        }
    }
}
