//! Assessing many package sets at once: identical work is done once, the
//! rest in parallel.
//!
//! Hosts are deduplicated into assessment keys before anything is matched:
//! (set id, data scopes, effective kernel). Two OS releases that read the
//! same data (`debian 12.4` and `debian 12.5`) share a result, and the
//! running kernel is only part of the key when the set holds a kernel
//! instance (containers and most images do not), so a fleet of identical
//! nodes costs one assessment whatever kernels they booted.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use patchwatch_reports::model::{OsRelease, Package};

use crate::assess::assess_in_scopes;
use crate::finding::Finding;
use crate::index::{AdvisoryIndex, ScopeId};
use crate::kernel;

/// One host's view of a set: the caller's set id (a content hash), its OS,
/// its running kernel and the packages.
#[derive(Debug, Clone, Copy)]
pub struct SetInput<'a, Id> {
    pub set_id: Id,
    pub os: &'a OsRelease,
    /// `uname -r`; empty when unknown.
    pub kernel: &'a str,
    pub packages: &'a [Package],
}

/// What a result depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssessKey<Id> {
    pub set_id: Id,
    /// The data scopes the OS reads (see [`AdvisoryIndex::scopes_for`]).
    pub scopes: Vec<ScopeId>,
    /// The running kernel, or empty when the set has no kernel instance.
    pub kernel: String,
}

/// The findings of one distinct key and the inputs that share them.
#[derive(Debug, Clone)]
pub struct SetResult<Id> {
    pub key: AssessKey<Id>,
    /// Indices into the inputs.
    pub members: Vec<usize>,
    pub findings: Vec<Finding>,
}

/// Counts of a batch run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    pub inputs: usize,
    pub distinct: usize,
    pub findings: usize,
}

/// A planned batch: distinct keys, each with its member inputs.
#[derive(Debug, Clone)]
pub struct Plan<Id> {
    pub jobs: Vec<(AssessKey<Id>, Vec<usize>)>,
}

/// Groups inputs by [`AssessKey`]. Cost: one hash per input, one scope
/// resolution per distinct OS, one kernel scan per distinct set id.
pub fn plan<Id: Clone + Eq + Hash>(index: &AdvisoryIndex, inputs: &[SetInput<'_, Id>]) -> Plan<Id> {
    let mut scopes: HashMap<&OsRelease, Vec<ScopeId>> = HashMap::new();
    let mut has_kernel: HashMap<&Id, bool> = HashMap::new();
    let mut slots: HashMap<AssessKey<Id>, usize> = HashMap::new();
    let mut jobs: Vec<(AssessKey<Id>, Vec<usize>)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let sc = scopes
            .entry(input.os)
            .or_insert_with(|| index.scopes_for(input.os))
            .clone();
        let k = *has_kernel
            .entry(&input.set_id)
            .or_insert_with(|| kernel::has_kernel_instance(input.packages));
        let key = AssessKey {
            set_id: input.set_id.clone(),
            scopes: sc,
            kernel: if k {
                input.kernel.to_owned()
            } else {
                String::new()
            },
        };
        match slots.get(&key) {
            Some(&slot) => jobs[slot].1.push(i),
            None => {
                slots.insert(key.clone(), jobs.len());
                jobs.push((key, vec![i]));
            }
        }
    }
    Plan { jobs }
}

fn thread_count(threads: usize, jobs: usize) -> usize {
    let t = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    t.clamp(1, jobs.max(1))
}

/// Runs the plan's jobs on `threads` threads, handing each job's index and
/// findings to `sink` from the worker that computed them.
fn run_indexed<Id, F>(
    index: &AdvisoryIndex,
    inputs: &[SetInput<'_, Id>],
    plan: &Plan<Id>,
    threads: usize,
    sink: F,
) -> BatchStats
where
    Id: Sync,
    F: Fn(usize, Vec<Finding>) + Sync,
{
    let next = AtomicUsize::new(0);
    let findings = AtomicUsize::new(0);
    let worker = || {
        loop {
            let j = next.fetch_add(1, Ordering::Relaxed);
            let Some((key, members)) = plan.jobs.get(j) else {
                break;
            };
            // Members share the key, so any of them stands for all.
            let input = &inputs[members[0]];
            let result = assess_in_scopes(index, &key.scopes, &key.kernel, input.packages);
            findings.fetch_add(result.len(), Ordering::Relaxed);
            sink(j, result);
        }
    };
    let n = thread_count(threads, plan.jobs.len());
    std::thread::scope(|s| {
        for _ in 1..n {
            s.spawn(worker);
        }
        worker();
    });
    BatchStats {
        inputs: inputs.len(),
        distinct: plan.jobs.len(),
        findings: findings.into_inner(),
    }
}

/// Runs `plan` on `threads` threads (0: all cores), calling `sink` with each
/// distinct key's findings as soon as they are ready (from worker threads,
/// in no particular order). Memory stays bounded by the results the sink
/// keeps.
pub fn run_plan_with<Id, F>(
    index: &AdvisoryIndex,
    inputs: &[SetInput<'_, Id>],
    plan: &Plan<Id>,
    threads: usize,
    sink: F,
) -> BatchStats
where
    Id: Sync,
    F: Fn(&AssessKey<Id>, &[usize], Vec<Finding>) + Sync,
{
    run_indexed(index, inputs, plan, threads, |j, findings| {
        let (key, members) = &plan.jobs[j];
        sink(key, members, findings);
    })
}

/// Plans and runs a batch, streaming results to `sink`.
pub fn assess_many_with<Id, F>(
    index: &AdvisoryIndex,
    inputs: &[SetInput<'_, Id>],
    threads: usize,
    sink: F,
) -> BatchStats
where
    Id: Clone + Eq + Hash + Sync,
    F: Fn(&AssessKey<Id>, &[usize], Vec<Finding>) + Sync,
{
    let plan = plan(index, inputs);
    run_plan_with(index, inputs, &plan, threads, sink)
}

/// Assesses many (set, OS, kernel) inputs and returns one result per
/// distinct [`AssessKey`], in order of first appearance.
pub fn assess_many<Id>(
    index: &AdvisoryIndex,
    inputs: &[SetInput<'_, Id>],
    threads: usize,
) -> Vec<SetResult<Id>>
where
    Id: Clone + Eq + Hash + Sync + Send,
{
    let plan = plan(index, inputs);
    let slots: Vec<Mutex<Option<Vec<Finding>>>> =
        plan.jobs.iter().map(|_| Mutex::new(None)).collect();
    run_indexed(index, inputs, &plan, threads, |j, findings| {
        // A poisoned slot only means another worker panicked; keep going.
        let mut slot = slots[j].lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some(findings);
    });
    plan.jobs
        .into_iter()
        .zip(slots)
        .map(|((key, members), slot)| SetResult {
            key,
            members,
            findings: slot
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_default(),
        })
        .collect()
}
