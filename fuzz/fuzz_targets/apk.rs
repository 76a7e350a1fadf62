#![no_main]

use libfuzzer_sys::fuzz_target;
use patchwatch_versions::apk::Version;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let Some((a, b, _)) = check_laws(Scheme::Apk, data, true) else {
        return;
    };
    assert_eq!(Version::parse(a).is_ok(), validate(Scheme::Apk, a).is_ok());
    if let (Ok(x), Ok(y)) = (Version::parse(a), Version::parse(b)) {
        assert_eq!(x.cmp(&y), compare(Scheme::Apk, a, b));
    }
});
