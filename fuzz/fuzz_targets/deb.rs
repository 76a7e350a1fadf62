#![no_main]

use libfuzzer_sys::fuzz_target;
use patchwatch_versions::deb::{self, Version};

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let Some((a, b, _)) = check_laws(Scheme::Deb, data, true) else {
        return;
    };
    assert_eq!(deb::check(a).is_ok(), Version::parse(a).is_ok());
    if let Ok(x) = Version::parse(a) {
        // The canonical spelling must mean the same version.
        let shown = x.to_string();
        let again = Version::parse(&shown).expect("canonical form parses");
        assert_eq!(x.cmp(&again), Ordering::Equal, "{a:?} shown as {shown:?}");
        // "<unknown>" is dpkg's blank version in comparisons only (and, as
        // in C, nothing after a NUL counts).
        let blank = |v: &str| v.split('\0').next() == Some("<unknown>");
        if let Ok(y) = Version::parse(b) {
            if !blank(a) && !blank(b) {
                assert_eq!(x.cmp(&y), compare(Scheme::Deb, a, b), "{a:?} {b:?}");
            }
        }
    }
});
