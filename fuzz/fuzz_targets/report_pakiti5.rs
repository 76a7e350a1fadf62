#![no_main]

use libfuzzer_sys::fuzz_target;

include!("report_check.rs");

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = patchwatch_reports::pakiti::parse_v5(data) {
        check_accepted(&report);
    }
});
