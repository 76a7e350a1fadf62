//! OSV parsing on the real AlmaLinux database and the vendor samples.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use patchwatch_advisories::osv::{self, TarFeed};
use patchwatch_advisories::{Advisory, FixState, NameKind, SeverityLevel, decompressed};
use patchwatch_reports::model::PackageType;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn read_all(rel: &str) -> Vec<Advisory> {
    let mut out = Vec::new();
    let n = osv::read_path(Path::new(&format!("{DATA}/{rel}")), |r| {
        out.push(r.unwrap())
    })
    .unwrap();
    assert_eq!(n, out.len());
    out
}

fn find<'a>(all: &'a [Advisory], id: &str) -> &'a Advisory {
    all.iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

/// The whole AlmaLinux database, streamed from the tar.xz: one record in
/// memory at a time; only the advisories checked below are kept.
#[test]
fn almalinux_complete_database() {
    let path = format!("{DATA}/osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz");
    let reader = decompressed(BufReader::new(File::open(&path).unwrap())).unwrap();
    let mut feed = TarFeed::new(reader, "alma");
    let (mut records, mut rows, mut errors) = (0, 0, 0);
    let mut per_release = [0usize; 3];
    let mut high = 0;
    let mut kept = Vec::new();
    for r in feed.records().unwrap() {
        let Ok(a) = r else {
            errors += 1;
            continue;
        };
        records += 1;
        rows += a.affected.len();
        high += usize::from(a.severity.level == SeverityLevel::High);
        match a.affected[0].release.as_str() {
            "8" => per_release[0] += 1,
            "9" => per_release[1] += 1,
            "10" => per_release[2] += 1,
            other => panic!("{}: release {other}", a.id),
        }
        assert!(!a.withdrawn);
        assert!(a.affected.iter().all(|r| r.distro == "almalinux"
            && r.scheme == PackageType::Rpm
            && r.name_kind == NameKind::Binary
            && matches!(r.state, FixState::Fixed { .. })));
        if ["ALSA-2023:6938", "ALSA-2025:10073", "ALSA-2023:7549"].contains(&a.id.as_str()) {
            kept.push(a);
        }
    }
    assert_eq!((records, errors), (5680, 0));
    // By the records' own ecosystem. The directories hold 3237/1783/660 files,
    // but 43 files sit in another release's directory (e.g. 28 `AlmaLinux:8`
    // records under `almalinux9/`): the ecosystem field is what counts.
    assert_eq!(per_release, [3259, 1746, 675]);
    assert_eq!(rows, 71329);
    // Titles starting `Important:`.
    assert_eq!(high, 2386);

    let a = find(&kept, "ALSA-2023:6938");
    assert_eq!(
        a.title,
        "Moderate: container-tools:4.0 security and bug fix update"
    );
    assert_eq!(
        (a.severity.level, a.severity.raw.as_deref()),
        (SeverityLevel::Medium, Some("Moderate"))
    );
    assert_eq!(a.modules, ["container-tools:4.0"]);
    assert_eq!(a.cves.len(), 17);
    assert!(a.cves.contains(&"CVE-2022-3064".to_owned()));
    assert_eq!(a.published.as_deref(), Some("2023-11-14T00:00:00Z"));
    assert_eq!(a.modified.as_deref(), Some("2023-11-24T13:34:19Z"));
    let r = &a.affected[0];
    assert_eq!(
        (r.package.as_str(), r.release.as_str()),
        ("aardvark-dns", "8")
    );
    assert_eq!(
        r.state,
        FixState::Fixed {
            version: "2:1.0.1-38.module_el8.9.0+3627+db8ec155".into()
        }
    );
    assert!(r.modular);
    assert_eq!(r.introduced, None);

    let a = find(&kept, "ALSA-2025:10073");
    assert_eq!(a.severity.level, SeverityLevel::High);
    assert_eq!(a.affected.len(), 1);
    assert_eq!(a.affected[0].release, "10");
    assert_eq!(
        a.affected[0].state.fixed_version(),
        Some("128.12.0-1.el10_0")
    );
    assert!(!a.affected[0].modular && a.modules.is_empty());

    let a = find(&kept, "ALSA-2023:7549");
    assert_eq!(a.affected.len(), 24);
    let k = a.affected.iter().find(|r| r.package == "kernel").unwrap();
    assert_eq!(k.state.fixed_version(), Some("4.18.0-513.9.1.el8_9"));
    assert_eq!(a.cves.len(), 7);
}

#[test]
fn almalinux_zip_sample() {
    let all = read_all("osv/almalinux/vuls-data-update_alma-osv-all.zip");
    assert_eq!(all.len(), 4);
    let a = find(&all, "ALSA-2023:7465");
    assert_eq!(a.cves, ["CVE-2023-5824"]);
    assert_eq!(
        (
            a.affected[0].package.as_str(),
            a.affected[0].release.as_str()
        ),
        ("squid", "9")
    );
    assert_eq!(a.affected[0].state.fixed_version(), Some("7:5.5-6.el9_3.2"));
    assert_eq!(find(&all, "ALEA-2022:2093").affected.len(), 5);
}

#[test]
fn rocky_records() {
    let all = read_all("osv/rocky/vunnel_RLSA-2021_3891.json");
    let a = &all[0];
    assert_eq!(a.id, "RLSA-2021:3891");
    assert_eq!(
        (a.severity.level, a.severity.raw.as_deref()),
        (SeverityLevel::High, Some("Important"))
    );
    assert_eq!(a.cves.len(), 10);
    let r = &a.affected[0];
    assert_eq!(
        (r.distro.as_str(), r.release.as_str(), r.package.as_str()),
        ("rocky", "8", "java-11-openjdk")
    );
    assert_eq!(r.repository.as_deref(), Some("AppStream"));
    assert_eq!(r.state.fixed_version(), Some("1:11.0.13.0.8-1.el8_4"));

    let all = read_all("osv/rocky/vunnel_RLSA-2024_3671.json");
    assert_eq!(all[0].affected.len(), 3);
    assert!(
        all[0]
            .affected
            .iter()
            .all(|r| r.modular && r.release == "9")
    );

    let all = read_all("osv/rocky/vuls-data-update_rocky-osv-all.zip");
    assert_eq!(all.len(), 2);
    let a = find(&all, "RXSA-2023:0101");
    assert_eq!(
        a.affected[0].state.fixed_version(),
        Some("0:4.18.0-425.10.1.el8_7.cloud")
    );
    let a = find(&all, "RLSA-2023:0005");
    // No title prefix: rated from the CVSS vector (8.1).
    assert_eq!(a.severity.level, SeverityLevel::High);
}

#[test]
fn ubuntu_records() {
    let all = read_all("ubuntu/osv/vuls-data-update_ubuntu-osv-all.tar.xz");
    let ids: Vec<&str> = all.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&"USN-7095-1") && ids.contains(&"LSN-0108-1"));
    let a = find(&all, "UBUNTU-CVE-2024-51988");
    assert_eq!(a.affected.len(), 4);
    let jammy = a.affected.iter().find(|r| r.release == "22.04").unwrap();
    assert_eq!(jammy.codename.as_deref(), Some("jammy"));
    assert_eq!(jammy.state.fixed_version(), Some("3.9.27-0ubuntu0.1"));
    assert_eq!(
        (jammy.name_kind, jammy.scheme),
        (NameKind::Source, PackageType::Deb)
    );
    assert_eq!(jammy.binaries, ["rabbitmq-server"]);
    assert_eq!(
        jammy.severity.as_ref().unwrap().level,
        SeverityLevel::Medium
    );
    assert!(a.affected.iter().any(|r| r.release == "24.10"));

    let a = &read_all("ubuntu/osv/vunnel_UBUNTU-CVE-2013-2208.json")[0];
    assert!(a.withdrawn);
    assert_eq!(a.severity.raw.as_deref(), Some("medium"));

    let a = &read_all("ubuntu/osv/vunnel_UBUNTU-CVE-2014-9913.json")[0];
    assert_eq!(a.severity.level, SeverityLevel::Negligible);
    let trusty = &a.affected[0];
    assert_eq!(
        (trusty.release.as_str(), trusty.repository.as_deref()),
        ("14.04", Some("esm"))
    );

    let a = &read_all("ubuntu/osv/vunnel_UBUNTU-CVE-2022-24823.json")[0];
    assert_eq!(a.severity.level, SeverityLevel::Low);
    let xenial = a.affected.iter().find(|r| r.release == "16.04").unwrap();
    assert_eq!(xenial.repository.as_deref(), Some("esm-apps"));
    assert_eq!(
        xenial.state.fixed_version(),
        Some("1:4.0.34-1ubuntu0.1~esm2")
    );
    assert_eq!(
        xenial.note.as_deref(),
        Some("Available with Ubuntu Pro: https://ubuntu.com/pro")
    );
    let trusty = a.affected.iter().find(|r| r.release == "14.04").unwrap();
    assert_eq!(trusty.state, FixState::Affected);

    let a = &read_all("ubuntu/osv/osv.dev_USN-6332-1.json")[0];
    assert!(a.affected.is_empty());
    assert!(a.cves.contains(&"CVE-2023-20593".to_owned()));
}

#[test]
fn debian_and_alpine_records() {
    let a = &read_all("osv/debian/osv.dev_DSA-3029-1.osv.json")[0];
    assert_eq!(a.cves, ["CVE-2014-3616"]);
    let r = &a.affected[0];
    assert_eq!(
        (r.release.as_str(), r.codename.as_deref()),
        ("7", Some("wheezy"))
    );
    assert_eq!(r.state.fixed_version(), Some("1.2.1-2.2+wheezy3"));

    let all = read_all("osv/debian/vuls-data-update_debian-osv-all.zip");
    assert_eq!(all.len(), 3);
    let r = &find(&all, "DSA-135").affected[0];
    assert_eq!(
        (r.release.as_str(), r.codename.as_deref()),
        ("3.0", Some("woody"))
    );

    let all = read_all("osv/alpine/vuls-data-update_alpine-osv-all.zip");
    let a = find(&all, "CVE-2024-10524");
    assert_eq!(a.affected.len(), 5);
    let r = &a.affected[0];
    assert_eq!(
        (r.distro.as_str(), r.release.as_str(), r.scheme),
        ("alpine", "3.21", PackageType::Apk)
    );
    assert_eq!(r.state.fixed_version(), Some("1.25.0-r0"));
    let bullseye = a.affected.iter().find(|r| r.release == "11").unwrap();
    assert_eq!(bullseye.state, FixState::Affected);
    assert_eq!(
        bullseye.severity.as_ref().unwrap().raw.as_deref(),
        Some("not yet assigned")
    );
    let trixie = a.affected.iter().find(|r| r.release == "13").unwrap();
    assert_eq!(
        (trixie.codename.as_deref(), trixie.state.fixed_version()),
        (Some("trixie"), Some("1.25.0-1"))
    );
    // CVSS 9.8 -> critical.
    assert_eq!(
        find(&all, "ALPINE-CVE-2023-46850").severity.level,
        SeverityLevel::Critical
    );
    assert_eq!(find(&all, "ALPINE-CVE-2023-46850").cves, ["CVE-2023-46850"]);
}

#[test]
fn ecosystems_and_ranges() {
    let e = osv::ecosystem("SUSE:Linux Enterprise Server 15 SP5").unwrap();
    assert_eq!((e.distro.as_str(), e.release.as_str()), ("sles", "15.5"));
    let e = osv::ecosystem("openSUSE:Leap 15.5").unwrap();
    assert_eq!(
        (e.distro.as_str(), e.release.as_str()),
        ("opensuse-leap", "15.5")
    );
    let e = osv::ecosystem("Ubuntu:Pro:16.04:LTS").unwrap();
    assert_eq!(
        (e.release.as_str(), e.repository.as_deref()),
        ("16.04", Some("pro"))
    );
    assert!(osv::ecosystem("PyPI").is_none());

    // Two ranges, last_affected and withdrawn, in one record.
    let rec = br#"{"id":"X-1","withdrawn":"2024-01-01T00:00:00Z","affected":[
      {"package":{"ecosystem":"Debian:12","name":"foo"},"ranges":[{"type":"ECOSYSTEM","events":[
        {"introduced":"1.0-1"},{"fixed":"1.2-1"},{"introduced":"2.0-1"},{"last_affected":"2.1-1"}]}]},
      {"package":{"ecosystem":"npm","name":"bar"},"ranges":[]}]}"#;
    let a = osv::parse_record(rec, "inline").unwrap();
    assert!(a.withdrawn);
    assert_eq!(a.affected.len(), 2);
    assert_eq!(a.affected[0].introduced.as_deref(), Some("1.0-1"));
    assert_eq!(a.affected[0].state.fixed_version(), Some("1.2-1"));
    assert_eq!(a.affected[1].last_affected.as_deref(), Some("2.1-1"));
    assert_eq!(a.affected[1].state, FixState::Affected);
    assert_eq!(a.notes, ["skipped ecosystem npm"]);

    let err = osv::parse_record(br#"{"id": 5}"#, "feed.zip: all/X.json").unwrap_err();
    assert_eq!(err.location(), "feed.zip: all/X.json");
}
