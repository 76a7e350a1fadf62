//! Matching a package set against the index.
//!
//! For every installed package, in every data scope that applies to the OS:
//! 1. Names: statements that name source packages are looked up under the
//!    source name the client reported ([`NameUsed::Source`], Debian's signed
//!    kernel sources aliased to `linux`), else under the binary name
//!    ([`NameUsed::BinaryAsSource`]); statements that name binary packages
//!    (rpm data) under the binary name ([`NameUsed::Binary`]).
//! 2. Applicability: the statement's scheme must be the package's; its
//!    architecture list (empty = all) must name the package's architecture
//!    (`x86_64`/`amd64` and `aarch64`/`arm64` are the same; `noarch`/`all`
//!    packages match every list); an rpm fixed version built in a module
//!    stream (release contains `.module`) applies only to installed packages
//!    built in a module stream, and a non-modular one only to non-modular
//!    packages, because the two release lines do not order against each
//!    other (`1.module+el8.9.0+…` vs `2.el8`).
//! 3. Verdict of one statement: outside its `introduced`..`last_affected`
//!    range it says nothing; at or above its fixed version, or
//!    `NotAffected`, it clears the package; below the fixed version it is
//!    [`FindingState::FixAvailable`]; any other state is vulnerable with that
//!    state. Versions compare with the package manager's own ordering
//!    ([`patchwatch_versions::compare`]); a missing epoch is epoch 0, as rpm
//!    and dpkg read it (the explanation says so when it decided).
//! 4. One finding per (CVE, installed package):
//!    * the highest-ranked feed with something to say decides, clear or not
//!      (the Debian tracker, per CVE and current, over the DSA/DLA lists);
//!    * the rows of one advisory are a union of ranges (OSV): vulnerable if
//!      any range holds the installed version;
//!    * across advisories of that rank, the earliest fix wins: a package at
//!      or above any advisory's fixed version is clear. Errata list a CVE
//!      again when the next minor release carries the fix (AlmaLinux
//!      `ALSA-2023:5763` fixes CVE-2023-38545 in curl `7.76.1-23.el9_2.4`,
//!      `ALSA-2023:6745` lists it again for `7.76.1-26.el9_3.2`); that does not
//!      reopen it. A vulnerable package is reported with the lowest fixed
//!      version above it (the smallest upgrade that clears the CVE), else
//!      with the most actionable other state.
//! 5. Kernel instances get a [`KernelStatus`](crate::KernelStatus); the other binaries of the
//!    Debian kernel source (`linux-libc-dev`, `linux-perf`) are not matched
//!    against the kernel's statements ([`crate::kernel`]).
//!
//! Known gap: module streams are not told apart (package sets do not say
//! which stream is enabled), so a `nodejs:18` module build below a
//! `nodejs:20` fix is reported.
//!
//! Results come out in a canonical order (packages sorted, then CVE ids),
//! so the same set gives the same findings whatever the order of its
//! packages.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use patchwatch_advisories::NameKind;
use patchwatch_reports::model::{OsRelease, Package};
use patchwatch_versions::{Scheme, compare};

use crate::finding::{Finding, FindingState, InstalledRef, NameUsed};
use crate::index::{AdvisoryIndex, RowState, RuleRow, ScopeId, scheme_of};
use crate::kernel;

/// What to assess: a package set in the context of an OS and a running
/// kernel. Hosts with the same three share one result.
#[derive(Debug, Clone, Copy)]
pub struct PackageSet<'a> {
    pub os: &'a OsRelease,
    /// `uname -r`; empty when the host did not report it.
    pub kernel: &'a str,
    pub packages: &'a [Package],
}

/// Assesses one package set.
pub fn assess(index: &AdvisoryIndex, set: &PackageSet<'_>) -> Vec<Finding> {
    let scopes = index.scopes_for(set.os);
    assess_in_scopes(index, &scopes, set.kernel, set.packages)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Clear,
    Vulnerable { epoch_defaulted: bool },
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Global CVE id (in CVE string order).
    cve: u32,
    /// Position of the CVE in the statement's list.
    pos: u32,
    rank: u8,
    adv: u32,
    rule: u32,
    name_used: NameUsed,
    verdict: Verdict,
}

/// Debian and rpm spell two architectures differently.
fn norm_arch(s: &str) -> &str {
    match s {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        other => other,
    }
}

fn same_arch(a: &str, b: &str) -> bool {
    a == b || norm_arch(a) == norm_arch(b)
}

fn arch_applies(list: &[Box<str>], arch: &str) -> bool {
    list.is_empty() || matches!(arch, "noarch" | "all") || list.iter().any(|a| same_arch(a, arch))
}

fn has_epoch(v: &str) -> bool {
    v.split_once(':')
        .is_some_and(|(e, _)| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()))
}

fn evaluate(rule: &RuleRow, scheme: Scheme, installed: &str, p: &Package) -> Option<Verdict> {
    if rule.scheme != scheme || !arch_applies(&rule.arch, &p.arch) {
        return None;
    }
    if scheme == Scheme::Rpm
        && matches!(rule.state, RowState::Fixed(_))
        && rule.modular != p.release.contains(".module")
    {
        return None;
    }
    // Outside the statement's range: it says nothing about this version
    // (another range of the same advisory may hold it).
    if let Some(i) = &rule.introduced
        && compare(scheme, installed, i) == Ordering::Less
    {
        return None;
    }
    if let Some(l) = &rule.last_affected
        && compare(scheme, installed, l) == Ordering::Greater
    {
        return None;
    }
    Some(match &rule.state {
        RowState::Fixed(v) => {
            if compare(scheme, installed, v) == Ordering::Less {
                Verdict::Vulnerable {
                    epoch_defaulted: !has_epoch(installed) && has_epoch(v),
                }
            } else {
                Verdict::Clear
            }
        }
        RowState::NotAffected => Verdict::Clear,
        RowState::Vulnerable(_) => Verdict::Vulnerable {
            epoch_defaulted: false,
        },
    })
}

fn row_state(rule: &RuleRow) -> FindingState {
    rule.statement.state
}

/// Of two vulnerable statements for one CVE and package, the one to report:
/// a fixed version before any other state, the lowest fixed version first
/// (the smallest upgrade that clears the CVE).
fn better(index: &AdvisoryIndex, scheme: Scheme, a: &Candidate, b: &Candidate) -> bool {
    let (ra, rb) = (&index.rules[a.rule as usize], &index.rules[b.rule as usize]);
    match (&ra.state, &rb.state) {
        (RowState::Fixed(va), RowState::Fixed(vb)) => compare(scheme, va, vb) == Ordering::Less,
        _ => row_state(ra) < row_state(rb),
    }
}

/// The statement to report for one CVE, from its candidates (sorted by rank
/// descending, then advisory), or `None` when the package is clear.
fn decide<'c>(
    index: &AdvisoryIndex,
    scheme: Scheme,
    group: &'c [Candidate],
) -> Option<&'c Candidate> {
    let top = group.first()?.rank;
    let mut best: Option<&Candidate> = None;
    let mut k = 0;
    while k < group.len() && group[k].rank == top {
        // One advisory's rows: vulnerable if any range holds the version.
        let adv = group[k].adv;
        let mut vulnerable: Option<&Candidate> = None;
        let mut cleared = false;
        while k < group.len() && group[k].rank == top && group[k].adv == adv {
            let c = &group[k];
            match c.verdict {
                Verdict::Clear => cleared = true,
                Verdict::Vulnerable { .. }
                    if vulnerable.is_none_or(|b| better(index, scheme, c, b)) =>
                {
                    vulnerable = Some(c);
                }
                Verdict::Vulnerable { .. } => {}
            }
            k += 1;
        }
        match vulnerable {
            Some(v) if best.is_none_or(|b| better(index, scheme, v, b)) => best = Some(v),
            Some(_) => {}
            // The earliest fix wins: one advisory clearing it is enough.
            None if cleared => return None,
            None => {}
        }
    }
    best
}

/// Assesses `packages` against the given scopes. [`assess`] and the batch
/// functions resolve the scopes from the OS first.
///
/// Findings come out in canonical order: packages sorted (name, version,
/// arch...), then CVE ids in string order; so the order of `packages` does
/// not matter.
pub fn assess_in_scopes(
    index: &AdvisoryIndex,
    scopes: &[ScopeId],
    running_kernel: &str,
    packages: &[Package],
) -> Vec<Finding> {
    assess_refs_in_scopes(index, scopes, running_kernel, packages.iter().collect())
}

/// [`assess_in_scopes`] on borrowed packages. Each package is matched on
/// its own, so assessing part of a set gives exactly that part's findings:
/// after a feed update only the packages it names need assessing again.
pub fn assess_refs_in_scopes(
    index: &AdvisoryIndex,
    scopes: &[ScopeId],
    running_kernel: &str,
    mut order: Vec<&Package>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut cands: Vec<Candidate> = Vec::new();
    order.sort_unstable();
    for p in order {
        let Some(scheme) = scheme_of(p.kind) else {
            continue;
        };
        let (source, source_used): (Cow<'_, str>, NameUsed) = if p.source_name.is_empty() {
            (Cow::Borrowed(p.name.as_str()), NameUsed::BinaryAsSource)
        } else {
            (kernel::source_alias(&p.source_name), NameUsed::Source)
        };
        let skip_source = kernel::is_kernel_tool(p, &source);
        cands.clear();
        let mut installed: Option<String> = None;
        for &scope in scopes {
            let by_source = if skip_source {
                &[][..]
            } else {
                index.bucket(scope, NameKind::Source, &source)
            };
            let by_binary = index.bucket(scope, NameKind::Binary, &p.name);
            for (bucket, name_used) in [(by_source, source_used), (by_binary, NameUsed::Binary)] {
                for &r in bucket {
                    let rule = &index.rules[r as usize];
                    let evr = installed.get_or_insert_with(|| p.evr());
                    let Some(verdict) = evaluate(rule, scheme, evr, p) else {
                        continue;
                    };
                    let adv = &index.advisories[rule.adv as usize];
                    for (pos, &cve) in adv.cves.iter().enumerate() {
                        cands.push(Candidate {
                            cve,
                            pos: pos as u32,
                            rank: adv.rank,
                            adv: rule.adv,
                            rule: r,
                            name_used,
                            verdict,
                        });
                    }
                }
            }
        }
        if !cands
            .iter()
            .any(|c| matches!(c.verdict, Verdict::Vulnerable { .. }))
        {
            continue;
        }
        cands.sort_unstable_by(|a, b| {
            a.cve
                .cmp(&b.cve)
                .then(b.rank.cmp(&a.rank))
                .then(a.adv.cmp(&b.adv))
                .then(a.rule.cmp(&b.rule))
        });
        let kernel_status = kernel::kernel_status(p, running_kernel);
        let mut shared: Option<Arc<InstalledRef>> = None;
        let mut i = 0;
        while i < cands.len() {
            let cve = cands[i].cve;
            let mut j = i;
            while j < cands.len() && cands[j].cve == cve {
                j += 1;
            }
            let group = &cands[i..j];
            i = j;
            let Some(c) = decide(index, scheme, group) else {
                continue;
            };
            let package = shared.get_or_insert_with(|| {
                Arc::new(InstalledRef {
                    name: p.name.clone(),
                    arch: p.arch.clone(),
                    installed: installed.clone().unwrap_or_default(),
                    source: (!p.source_name.is_empty()).then(|| source.clone().into_owned()),
                })
            });
            out.push(Finding::new(
                index.rules[c.rule as usize].statement.clone(),
                c.pos,
                package.clone(),
                c.name_used,
                kernel_status,
                matches!(
                    c.verdict,
                    Verdict::Vulnerable {
                        epoch_defaulted: true
                    }
                ),
            ));
        }
    }
    out
}

/// A canonical order for findings built elsewhere (OVAL): by package,
/// arch, installed version, then CVE and advisory.
pub(crate) fn sort_findings(v: &mut [Finding]) {
    v.sort_by(|a, b| {
        a.package()
            .cmp(b.package())
            .then_with(|| a.arch().cmp(b.arch()))
            .then_with(|| a.installed().cmp(b.installed()))
            .then_with(|| a.cve().cmp(b.cve()))
            .then_with(|| a.advisory().cmp(b.advisory()))
    });
}
