//! The CVEs each update closes according to the imported vulnerability
//! feeds, and for each finding the update that fixes it: a finding with a
//! fixed version is closed by the host's update of that package when the
//! fixed version is at or below the candidate (`repos::closes`' rule; the
//! finding already says the installed version is older than the fix).

use patchwatch_assess::{Finding, FindingState};
use std::cmp::Ordering;

use patchwatch_repos::closes::Fix;
use patchwatch_versions::{Scheme, compare};

use crate::compute::HostUpdate;

/// The version a feed's fixed version is compared with: Debian's feeds
/// name fixed *source* versions, so apt updates use the candidate's source
/// version where the index gives one.
fn comparable(u: &HostUpdate) -> &str {
    if u.scheme == Scheme::Deb && !u.candidate_source_version.is_empty() {
        &u.candidate_source_version
    } else {
        &u.candidate
    }
}

/// Adds to every update the CVEs of `findings` it closes; returns, per
/// finding, the index into `updates` of the update that fixes it (`None`:
/// no update in the host's repositories does).
pub fn annotate(updates: &mut [HostUpdate], findings: &[Finding]) -> Vec<Option<usize>> {
    let mut fixed_by = vec![None; findings.len()];
    for (ui, u) in updates.iter_mut().enumerate() {
        let mut fixes: Vec<(usize, Fix<'_>)> = Vec::new();
        for (fi, f) in findings.iter().enumerate() {
            if f.state() != FindingState::FixAvailable || f.package() != u.name {
                continue;
            }
            if !(f.arch().is_empty() || f.arch() == u.arch || f.arch() == "all") {
                continue;
            }
            if let Some(fixed) = f.fixed() {
                fixes.push((
                    fi,
                    Fix {
                        cve: f.cve(),
                        fixed,
                    },
                ));
            }
        }
        let target = comparable(u).to_owned();
        let mut cves = Vec::new();
        for (fi, fix) in &fixes {
            // FixAvailable already says the installed version is below the
            // fix: what is left is "at or below the candidate".
            if compare(u.scheme, fix.fixed, &target) != Ordering::Greater {
                fixed_by[*fi] = Some(ui);
                cves.push(fix.cve.to_owned());
            }
        }
        if cves.is_empty() {
            continue;
        }
        cves.append(&mut u.cves);
        cves.sort_unstable();
        cves.dedup();
        u.cves = cves;
    }
    fixed_by
}
