//! Views of the fleet derived from the kept assessment (the CVE list, the
//! hosts exposed to a CVE or carrying a CVE tag, one CVE's hosts), kept
//! and served again while everything they were computed from is the same.
//!
//! Each such view depends on exactly three things: the kept assessment
//! (its count of changes), the hosts' keys (the store's host keys
//! version) and the triage (tags and exceptions, compared whole). That is
//! [`Basis`]; [`Kept`] holds a few views of one kind, each with its basis
//! and the question it answers (a scope, a CVE, a tag). Both numbers only
//! grow, so a view of older ones is never served again and is dropped at
//! the next lookup.

use std::collections::VecDeque;
use std::sync::Mutex;

use patchwatch_vulndb::Triage;

/// What a view of the fleet was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    /// The kept assessment's count of changes
    /// ([`patchwatch_vulndb::FleetAssessment::changes`]).
    pub assessment: u64,
    /// The host keys version the hosts were read at
    /// ([`patchwatch_store::Database::host_keys_version`]).
    pub hosts: i64,
    /// Tags and exceptions as loaded for the request.
    pub triage: Triage,
}

impl Basis {
    /// Whether a view computed on `self` can still answer on `now`.
    fn same_numbers(&self, now: &Basis) -> bool {
        self.assessment == now.assessment && self.hosts == now.hosts
    }
}

/// Up to `capacity` views of one kind, the most recently used last.
pub struct Kept<Q, V> {
    capacity: usize,
    entries: Mutex<VecDeque<(Basis, Q, V)>>,
}

/// Views of one kind kept by default: enough for the scopes and filters
/// a few users ask in a row.
pub const DEFAULT_KEPT: usize = 8;

impl<Q, V> Default for Kept<Q, V> {
    fn default() -> Kept<Q, V> {
        Kept {
            capacity: DEFAULT_KEPT,
            entries: Mutex::new(VecDeque::new()),
        }
    }
}

impl<Q: PartialEq, V: Clone> Kept<Q, V> {
    pub fn new(capacity: usize) -> Kept<Q, V> {
        Kept {
            capacity: capacity.max(1),
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// The view answering `question` on `basis`, if one is kept.
    pub fn get(&self, basis: &Basis, question: &Q) -> Option<V> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(b, _, _)| b.same_numbers(basis));
        let at = entries
            .iter()
            .position(|(b, q, _)| q == question && b.triage == basis.triage)?;
        let entry = entries.remove(at)?;
        let view = entry.2.clone();
        entries.push_back(entry);
        Some(view)
    }

    /// Keeps `view` as the answer to `question` on `basis`, in place of
    /// the least recently used view when full.
    pub fn put(&self, basis: Basis, question: Q, view: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(b, q, _)| b.same_numbers(&basis) && !(*q == question && *b == basis));
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back((basis, question, view));
    }

    /// Views kept now.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis(assessment: u64, hosts: i64) -> Basis {
        Basis {
            assessment,
            hosts,
            triage: Triage::default(),
        }
    }

    #[test]
    fn a_view_is_served_only_on_its_own_basis_and_question() {
        let kept: Kept<&str, u32> = Kept::new(4);
        kept.put(basis(1, 10), "CVE-1", 7);
        assert_eq!(kept.get(&basis(1, 10), &"CVE-1"), Some(7));
        assert_eq!(kept.get(&basis(1, 10), &"CVE-2"), None);
        // New host keys: never valid again, and dropped.
        assert_eq!(kept.get(&basis(1, 11), &"CVE-1"), None);
        assert!(kept.is_empty());
        kept.put(basis(2, 11), "CVE-1", 8);
        assert_eq!(kept.get(&basis(3, 11), &"CVE-1"), None);
        assert!(kept.is_empty());
    }

    #[test]
    fn another_triage_is_another_view() {
        let kept: Kept<&str, u32> = Kept::new(4);
        kept.put(basis(1, 1), "q", 1);
        let mut tagged = basis(1, 1);
        tagged.triage = Triage::new(
            &[patchwatch_store::CveTag {
                id: 1,
                name: "urgent".into(),
                reason: "patch this week".into(),
                enabled: true,
                created_at: 0,
                cves: 0,
            }],
            &[],
            &[],
            0,
        );
        assert_eq!(kept.get(&tagged, &"q"), None);
        kept.put(tagged.clone(), "q", 2);
        assert_eq!(kept.get(&tagged, &"q"), Some(2));
        assert_eq!(kept.get(&basis(1, 1), &"q"), Some(1));
        // Putting the same question on the same basis replaces it.
        kept.put(basis(1, 1), "q", 3);
        assert_eq!((kept.get(&basis(1, 1), &"q"), kept.len()), (Some(3), 2));
    }

    #[test]
    fn the_least_recently_used_view_goes_first() {
        let kept: Kept<u32, u32> = Kept::new(2);
        kept.put(basis(1, 1), 1, 10);
        kept.put(basis(1, 1), 2, 20);
        assert_eq!(kept.get(&basis(1, 1), &1), Some(10));
        kept.put(basis(1, 1), 3, 30);
        assert_eq!(kept.get(&basis(1, 1), &2), None);
        assert_eq!(kept.get(&basis(1, 1), &1), Some(10));
        assert_eq!(kept.get(&basis(1, 1), &3), Some(30));
    }
}
