#![no_main]

use libfuzzer_sys::fuzz_target;
use patchwatch_versions::pacman::Version;

include!("common.rs");

// libalpm's vercmp is not transitive (pkgrel rule, separator quirks), so
// only reflexivity and antisymmetry are laws here.
fuzz_target!(|data: &[u8]| {
    let Some((a, b, _)) = check_laws(Scheme::Pacman, data, false) else {
        return;
    };
    let (x, y) = (Version::split(a), Version::split(b));
    assert_eq!(x.vercmp(&y), compare(Scheme::Pacman, a, b));
    if Version::parse(a).is_ok() {
        assert!(validate(Scheme::Pacman, a).is_ok());
    }
});
