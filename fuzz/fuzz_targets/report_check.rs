// Shared by the report targets (included with `include!`): what every
// accepted report must satisfy, whatever the input was.

fn check_accepted(report: &patchwatch_reports::Report) {
    assert_eq!(
        patchwatch_reports::hostname::normalise(&report.hostname).as_deref(),
        Ok(report.hostname.as_str()),
        "accepted a hostname that is not in its normal form"
    );
    let mut again = report.clone();
    patchwatch_reports::validate::report(&mut again).expect("an accepted report validates again");
    assert_eq!(&again, report, "validation changed an accepted report");
}
