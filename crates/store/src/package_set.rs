//! Package sets, content-addressed.
//!
//! A thousand identical cluster nodes report the same packages; storing the
//! list once per distinct content is what makes ingest cheap. A set's hash
//! is computed from the packages themselves (not from database ids), so an
//! unchanged report is recognised before anything is written, and the same
//! content hashes the same in every backend.
//!
//! Stored sets are a sorted list of package ids, delta-encoded as LEB128
//! varints: about 1.5 bytes a package instead of a row each.

use patchwatch_reports::Package;

use crate::error::StoreError;

/// 16 bytes of BLAKE3 over one package's fields: the package's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageKey(pub [u8; 16]);

/// 32 bytes of BLAKE3 over a set's sorted package keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SetHash(pub [u8; 32]);

impl PackageKey {
    pub fn of(p: &Package) -> PackageKey {
        PackageKey::of_with(p, &mut Vec::new())
    }

    /// [`PackageKey::of`] with a scratch buffer the caller reuses: one hash
    /// call over the joined fields is several times cheaper than one
    /// update a field, and this runs for every package of every report.
    pub fn of_with(p: &Package, buf: &mut Vec<u8>) -> PackageKey {
        buf.clear();
        // Field separators keep ("ab","c") and ("a","bc") apart; every field
        // is included so a source change is a different package too.
        for field in [
            p.name.as_str(),
            p.epoch.as_str(),
            p.version.as_str(),
            p.release.as_str(),
            p.arch.as_str(),
            p.kind.as_str(),
            p.source_name.as_str(),
            p.source_version.as_str(),
        ] {
            buf.extend_from_slice(field.as_bytes());
            buf.push(0);
        }
        let mut key = [0u8; 16];
        key.copy_from_slice(&blake3::hash(buf).as_bytes()[..16]);
        PackageKey(key)
    }
}

/// A report's packages, deduplicated and in canonical order (by key).
#[derive(Debug, Clone)]
pub struct CanonicalSet {
    pub hash: SetHash,
    /// Sorted by key, no duplicates.
    pub entries: Vec<(PackageKey, Package)>,
}

impl CanonicalSet {
    pub fn new(packages: Vec<Package>) -> CanonicalSet {
        let mut buf = Vec::with_capacity(256);
        let mut entries: Vec<(PackageKey, Package)> = packages
            .into_iter()
            .map(|p| (PackageKey::of_with(&p, &mut buf), p))
            .collect();
        entries.sort_unstable_by_key(|e| e.0);
        entries.dedup_by(|a, b| a.0 == b.0);
        let mut h = blake3::Hasher::new();
        for (key, _) in &entries {
            h.update(&key.0);
        }
        CanonicalSet {
            hash: SetHash(*h.finalize().as_bytes()),
            entries,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Encodes package ids (any order) as a sorted delta-varint list.
pub fn encode_ids(ids: &mut [i64]) -> Vec<u8> {
    ids.sort_unstable();
    let mut out = Vec::with_capacity(ids.len() * 2);
    let mut prev = 0i64;
    for &id in ids.iter() {
        let mut delta = (id - prev) as u64;
        prev = id;
        loop {
            let byte = (delta & 0x7f) as u8;
            delta >>= 7;
            if delta == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

/// Decodes what [`encode_ids`] wrote; ids come back sorted.
pub fn decode_ids(bytes: &[u8]) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::with_capacity(bytes.len());
    let mut prev = 0i64;
    let mut delta = 0u64;
    let mut shift = 0u32;
    for &b in bytes {
        if shift > 63 {
            return Err(StoreError::Corrupt("package set varint too long".into()));
        }
        delta |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            prev += delta as i64;
            ids.push(prev);
            delta = 0;
            shift = 0;
        } else {
            shift += 7;
        }
    }
    if shift != 0 {
        return Err(StoreError::Corrupt(
            "package set ends inside a varint".into(),
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchwatch_reports::PackageType;

    fn pkg(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            epoch: String::new(),
            version: version.into(),
            release: String::new(),
            arch: "amd64".into(),
            kind: PackageType::Deb,
            source_name: String::new(),
            source_version: String::new(),
        }
    }

    #[test]
    fn set_hash_ignores_order_and_duplicates() {
        let a = CanonicalSet::new(vec![pkg("a", "1"), pkg("b", "2")]);
        let b = CanonicalSet::new(vec![pkg("b", "2"), pkg("a", "1"), pkg("a", "1")]);
        assert_eq!(a.hash, b.hash);
        assert_eq!(b.len(), 2);
        let c = CanonicalSet::new(vec![pkg("a", "1"), pkg("b", "3")]);
        assert_ne!(a.hash, c.hash);
        // The key is BLAKE3 over the fields, each followed by a NUL: stored
        // keys depend on it, so it must never change silently.
        let p = pkg("a", "1");
        let mut h = blake3::Hasher::new();
        for f in ["a", "", "1", "", "amd64", "deb", "", ""] {
            h.update(f.as_bytes());
            h.update(&[0]);
        }
        assert_eq!(PackageKey::of(&p).0, h.finalize().as_bytes()[..16]);
        // Field boundaries matter.
        assert_ne!(
            PackageKey::of(&pkg("ab", "1")),
            PackageKey::of(&pkg("a", "b1"))
        );
    }

    #[test]
    fn ids_round_trip() {
        let mut ids = vec![5, 1, 300, 70_000, 2, 1 << 40];
        let bytes = encode_ids(&mut ids);
        assert_eq!(
            decode_ids(&bytes).unwrap(),
            vec![1, 2, 5, 300, 70_000, 1 << 40]
        );
        assert!(decode_ids(&[0x80]).is_err());
        assert_eq!(decode_ids(&[]).unwrap(), Vec::<i64>::new());
    }
}
