//! Updates for a whole fleet. Each distinct installed package is looked up
//! in the index once: stored package sets name their packages by id (as
//! `Database::package_set_members` returns them), so a set costs an array
//! walk; hosts given as package lists are deduplicated by set, then by
//! (name, architecture, version).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use patchwatch_reports::{Package, PackageType};

use super::policy::{AptIndex, AptUpdate};

/// The updates of many hosts or package sets: each distinct update once,
/// each input as indexes into them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetUpdates {
    /// Every distinct update of the fleet.
    pub updates: Vec<AptUpdate>,
    /// Per input (host or set, in input order), indexes into `updates` in
    /// the order of its packages; identical inputs share one `Arc`.
    pub sets: Vec<Arc<[u32]>>,
}

impl FleetUpdates {
    /// The updates of input `i`.
    pub fn set(&self, i: usize) -> impl Iterator<Item = &AptUpdate> + '_ {
        self.sets[i].iter().map(|&u| &self.updates[u as usize])
    }
}

/// See [`AptIndex::updates_for_sets`].
pub(super) fn updates_for_sets(
    index: &AptIndex,
    packages: &[(i64, Package)],
    sets: &[(i64, Vec<i64>)],
) -> FleetUpdates {
    let mut updates = Vec::new();
    let mut evr = String::new();
    let update_of: FastMap<i64, u32> = packages
        .iter()
        .filter(|(_, p)| p.kind == PackageType::Deb)
        .filter_map(|(id, p)| {
            evr.clear();
            super::policy::push_evr(&mut evr, p);
            let u = index.update(p, &evr)?;
            updates.push(u);
            Some((*id, (updates.len() - 1) as u32))
        })
        .collect();
    let sets = sets
        .iter()
        .map(|(_, members)| {
            members
                .iter()
                .filter_map(|id| update_of.get(id).copied())
                .collect()
        })
        .collect();
    FleetUpdates { updates, sets }
}

/// See [`AptIndex::updates_many`].
pub(super) fn updates_many(index: &AptIndex, hosts: &[&[Package]]) -> FleetUpdates {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Hashing every host's set is the larger part of the work: spread it.
    let hashes: Vec<u64> = in_parallel(hosts, threads, |chunk| {
        chunk.iter().map(|p| set_hash(p)).collect()
    });
    let mut by_hash: FastMap<u64, Vec<usize>> = FastMap::default();
    let mut set_of_host = Vec::with_capacity(hosts.len());
    let mut distinct: Vec<&[Package]> = Vec::new();
    for (packages, hash) in hosts.iter().zip(hashes) {
        let same_hash = by_hash.entry(hash).or_default();
        // A hash match is confirmed by comparison.
        let set = match same_hash
            .iter()
            .copied()
            .find(|&s| same_set(distinct[s], packages))
        {
            Some(s) => s,
            None => {
                distinct.push(packages);
                same_hash.push(distinct.len() - 1);
                distinct.len() - 1
            }
        };
        set_of_host.push(set);
    }

    let (updates, ids) = memoised(index, &distinct);
    let results: Vec<Arc<[u32]>> = ids.into_iter().map(Arc::from).collect();
    FleetUpdates {
        updates,
        sets: set_of_host
            .into_iter()
            .map(|s| Arc::clone(&results[s]))
            .collect(),
    }
}

/// The updates of `sets`, each distinct (name, arch, version) computed once.
fn memoised(index: &AptIndex, sets: &[&[Package]]) -> (Vec<AptUpdate>, Vec<Vec<u32>>) {
    let mut updates = Vec::new();
    let mut memo: FastMap<(&str, &str, &str, &str, &str), Option<u32>> = FastMap::default();
    let mut evr = String::new();
    let ids = sets
        .iter()
        .map(|set| {
            let mut ids = Vec::new();
            for p in set.iter().filter(|p| p.kind == PackageType::Deb) {
                let key = (
                    p.name.as_str(),
                    p.arch.as_str(),
                    p.epoch.as_str(),
                    p.version.as_str(),
                    p.release.as_str(),
                );
                let id = *memo.entry(key).or_insert_with(|| {
                    evr.clear();
                    super::policy::push_evr(&mut evr, p);
                    index.update(p, &evr).map(|u| {
                        updates.push(u);
                        (updates.len() - 1) as u32
                    })
                });
                ids.extend(id);
            }
            ids
        })
        .collect();
    (updates, ids)
}

/// `work` over `threads` contiguous chunks of `items`, results in order.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    if items.is_empty() {
        return Vec::new();
    }
    let per_thread = items.len().div_ceil(threads.max(1));
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(per_thread)
            .map(|chunk| scope.spawn(|| work(chunk)))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("fleet worker panicked"))
            .collect()
    })
}

/// Hosts whose sets the caller already shares (one stored set, many hosts)
/// are recognised without comparing their packages.
fn same_set(a: &[Package], b: &[Package]) -> bool {
    std::ptr::eq(a, b) || a == b
}

pub(super) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// FxHash-style: for grouping package sets (every match is confirmed by
/// comparison) and for package-name lookups, where speed matters more than
/// resistance to crafted collisions (the keys come from repositories and
/// reports the site already accepted).
#[derive(Default)]
pub(super) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut tail = [0u8; 8];
            tail[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte) | 0x100);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

fn set_hash(packages: &[Package]) -> u64 {
    let mut h = FastHasher(packages.len() as u64);
    for p in packages {
        for field in [&p.name, &p.epoch, &p.version, &p.release, &p.arch] {
            h.write(field.as_bytes());
            h.write_u8(0xff);
        }
    }
    h.finish()
}
