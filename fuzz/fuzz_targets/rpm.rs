#![no_main]

use libfuzzer_sys::fuzz_target;
use patchwatch_versions::rpm::{Evr, Nevra, vercmp};

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let Some((a, b, _)) = check_laws(Scheme::Rpm, data, true) else {
        return;
    };
    assert_eq!(vercmp(a, b), vercmp(b, a).reverse());
    let x = Evr::split(a);
    assert_eq!(x.cmp(&Evr::split(b)), compare(Scheme::Rpm, a, b));
    let shown = x.to_string();
    assert_eq!(
        Evr::split(&shown).cmp(&x),
        Ordering::Equal,
        "{a:?} shown as {shown:?}"
    );
    if Evr::parse(a).is_ok() {
        assert!(validate(Scheme::Rpm, a).is_ok());
    }
    if let Ok(n) = Nevra::parse(a) {
        // An arch spelled "rpm" would be read back as a file name suffix.
        if n.arch != "rpm" {
            assert_eq!(Nevra::parse(&n.to_string()).map(|m| m.evr()), Ok(n.evr()));
        }
    }
});
