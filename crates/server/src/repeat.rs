//! Recognising a resubmission without parsing it.
//!
//! A host that hasn't changed sends the same bytes it sent last time (the
//! native client's output is deterministic, and `gzip -n` output too). The
//! same bytes under the same credentials parse to the same report, so a
//! hash of them is enough to know it is unchanged: no decompression, no JSON,
//! no package hashing. The store still records the report in the history,
//! and refuses the shortcut if the host has reported something else since.

use std::collections::HashMap;
use std::sync::Mutex;

/// Which stored report a body produced last time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub host_id: i64,
    pub report_id: i64,
}

impl From<&patchwatch_store::IngestOutcome> for Seen {
    fn from(outcome: &patchwatch_store::IngestOutcome) -> Seen {
        Seen {
            host_id: outcome.host_id,
            report_id: outcome.report_id,
        }
    }
}

#[derive(Default)]
pub struct RepeatCache {
    entries: Mutex<HashMap<[u8; 32], Seen>>,
}

/// One entry a host; a fleet of this many hosts fits, then it starts over.
const MAX_ENTRIES: usize = 1_000_000;

impl RepeatCache {
    pub fn key(token_id: i64, encoding: u8, body: &[u8]) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(&token_id.to_le_bytes());
        h.update(&[encoding]);
        h.update(body);
        *h.finalize().as_bytes()
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<Seen> {
        self.entries.lock().expect("repeat cache").get(key).copied()
    }

    pub fn insert(&self, key: [u8; 32], seen: Seen) {
        let mut entries = self.entries.lock().expect("repeat cache");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, seen);
    }

    pub fn forget(&self, key: &[u8; 32]) {
        self.entries.lock().expect("repeat cache").remove(key);
    }
}
