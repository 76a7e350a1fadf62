//! Updates for a whole fleet: hosts with identical package sets (most of a
//! site) are computed once, the distinct sets on every core.

use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::Arc;

use patchwatch_reports::Package;

use super::policy::{AptIndex, AptUpdate};

/// See [`AptIndex::updates_many`].
pub(super) fn updates_many(index: &AptIndex, hosts: &[&[Package]]) -> Vec<Arc<[AptUpdate]>> {
    // Distinct sets, by a fast hash confirmed by comparison.
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut set_of_host = Vec::with_capacity(hosts.len());
    let mut distinct: Vec<usize> = Vec::new();
    for (h, packages) in hosts.iter().enumerate() {
        let candidates = by_hash.entry(set_hash(packages)).or_default();
        let set = match candidates
            .iter()
            .copied()
            .find(|&s| hosts[distinct[s]] == *packages)
        {
            Some(s) => s,
            None => {
                distinct.push(h);
                candidates.push(distinct.len() - 1);
                distinct.len() - 1
            }
        };
        set_of_host.push(set);
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(distinct.len().max(1));
    let per_thread = distinct.len().div_ceil(threads.max(1)).max(1);
    let results: Vec<Arc<[AptUpdate]>> = std::thread::scope(|scope| {
        let workers: Vec<_> = distinct
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&h| Arc::from(index.updates(hosts[h])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("update worker panicked"))
            .collect()
    });
    set_of_host
        .into_iter()
        .map(|s| Arc::clone(&results[s]))
        .collect()
}

/// FxHash-style: the sets are hashed for grouping only (every match is
/// confirmed by comparison), so speed matters more than distribution
/// guarantees.
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn set_hash(packages: &[Package]) -> u64 {
    let mut h = FastHasher(packages.len() as u64);
    for p in packages {
        h.write(p.name.as_bytes());
        h.write(p.epoch.as_bytes());
        h.write(p.version.as_bytes());
        h.write(p.release.as_bytes());
        h.write(p.arch.as_bytes());
    }
    h.finish()
}
