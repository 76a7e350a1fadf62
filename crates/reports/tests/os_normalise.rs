//! Real OS strings as clients send them, normalised.

use patchwatch_reports::os::{self, normalise};
use patchwatch_reports::{OsInfo, OsRelease, PackageType};

/// Free-form strings: `/etc/redhat-release` texts, os-release PRETTY_NAMEs,
/// Pakiti `system:` values (`NAME VERSION_ID`) and Patchman `os` values.
const FREE_FORM: &[(&str, &str, &str)] = &[
    // RHEL and rebuilds, /etc/redhat-release.
    ("Red Hat Enterprise Linux release 9.4 (Plow)", "rhel", "9.4"),
    (
        "Red Hat Enterprise Linux release 9.4 (Plow) [cpe:/o:redhat:enterprise_linux:9::baseos]",
        "rhel",
        "9.4",
    ),
    (
        "Red Hat Enterprise Linux Server release 7.9 (Maipo)",
        "rhel",
        "7.9",
    ),
    (
        "Red Hat Enterprise Linux Workstation release 7.9 (Maipo)",
        "rhel",
        "7.9",
    ),
    (
        "Red Hat Enterprise Linux release 8.10 (Ootpa)",
        "rhel",
        "8.10",
    ),
    ("Red Hat Enterprise Linux 9.4", "rhel", "9.4"),
    ("Rocky Linux release 9.3 (Blue Onyx)", "rocky", "9.3"),
    (
        "Rocky Linux release 8.9 (Green Obsidian) [cpe:/o:rocky:rocky:8:GA]",
        "rocky",
        "8.9",
    ),
    ("Rocky Linux 9.3", "rocky", "9.3"),
    (
        "AlmaLinux release 9.3 (Shamrock Pampas Cat)",
        "almalinux",
        "9.3",
    ),
    ("AlmaLinux 9.3", "almalinux", "9.3"),
    (
        "AlmaLinux release 8.9 (Midnight Oncilla)",
        "almalinux",
        "8.9",
    ),
    ("CentOS Linux release 7.9.2009 (Core)", "centos", "7.9.2009"),
    ("CentOS Linux release 8.5.2111", "centos", "8.5.2111"),
    ("CentOS release 6.10 (Final)", "centos", "6.10"),
    ("CentOS Linux 7", "centos", "7"),
    ("CentOS Stream release 9", "centos-stream", "9"),
    ("CentOS Stream release 8", "centos-stream", "8"),
    ("CentOS Stream 9", "centos-stream", "9"),
    ("Oracle Linux Server release 8.9", "ol", "8.9"),
    ("Oracle Linux Server 8.9", "ol", "8.9"),
    (
        "Scientific Linux release 7.9 (Nitrogen)",
        "scientific",
        "7.9",
    ),
    (
        "Scientific Linux release 6.10 (Carbon)",
        "scientific",
        "6.10",
    ),
    (
        "CloudLinux release 8.9 (Valery Rozhdestvensky)",
        "cloudlinux",
        "8.9",
    ),
    ("Fedora release 39 (Thirty Nine)", "fedora", "39"),
    ("Fedora Linux 39 (Server Edition)", "fedora", "39"),
    ("Fedora Linux 40", "fedora", "40"),
    ("Amazon Linux release 2 (Karoo)", "amzn", "2"),
    ("Amazon Linux 2", "amzn", "2"),
    ("Amazon Linux 2023", "amzn", "2023"),
    ("Amazon Linux AMI release 2018.03", "amzn", "2018.03"),
    // Debian family.
    ("Debian GNU/Linux 12", "debian", "12"),
    ("Debian GNU/Linux 12 (bookworm)", "debian", "12"),
    ("Debian 12.5", "debian", "12.5"),
    ("Debian 11.9", "debian", "11.9"),
    ("Debian GNU/Linux 11 (bullseye)", "debian", "11"),
    ("Debian GNU/Linux bookworm/sid", "debian", "sid"),
    ("Debian trixie/sid", "debian", "sid"),
    ("Debian GNU/Linux buster", "debian", "10"),
    ("Raspbian GNU/Linux 11 (bullseye)", "raspbian", "11"),
    ("Raspbian GNU/Linux 12", "raspbian", "12"),
    ("Ubuntu 22.04.4 LTS", "ubuntu", "22.04"),
    ("Ubuntu 22.04", "ubuntu", "22.04"),
    ("Ubuntu 24.04 LTS", "ubuntu", "24.04"),
    ("Ubuntu 20.04.6 LTS", "ubuntu", "20.04"),
    ("Ubuntu 23.10", "ubuntu", "23.10"),
    ("Linux Mint 21.3", "linuxmint", "21.3"),
    ("Pop!_OS 22.04 LTS", "pop", "22.04"),
    ("Kali GNU/Linux Rolling", "kali", "rolling"),
    // SUSE.
    ("openSUSE Leap 15.5", "opensuse-leap", "15.5"),
    ("openSUSE Tumbleweed", "opensuse-tumbleweed", "rolling"),
    (
        "openSUSE Tumbleweed 20240301",
        "opensuse-tumbleweed",
        "rolling",
    ),
    ("SUSE Linux Enterprise Server 15 SP5", "sles", "15.5"),
    ("SUSE Linux Enterprise Server 15", "sles", "15"),
    ("SUSE Linux Enterprise Server 12 SP5", "sles", "12.5"),
    ("SUSE Linux Enterprise Server 11 (x86_64)", "sles", "11"),
    ("SLES 15.5", "sles", "15.5"),
    (
        "SUSE Linux Enterprise Server for SAP Applications 15 SP4",
        "sles_sap",
        "15.4",
    ),
    ("SUSE Linux Enterprise Desktop 15 SP5", "sled", "15.5"),
    // Others.
    ("Alpine Linux v3.19", "alpine", "3.19"),
    ("Alpine Linux 3.19.1", "alpine", "3.19.1"),
    ("Arch Linux", "arch", "rolling"),
    ("Manjaro Linux", "manjaro", "rolling"),
    ("Gentoo Linux", "gentoo", "rolling"),
    ("Gentoo Base System release 2.14", "gentoo", "rolling"),
    // Quoted, padded.
    ("  \"Rocky Linux 9.3\"  ", "rocky", "9.3"),
];

#[test]
fn free_form_strings() {
    assert!(FREE_FORM.len() >= 40);
    let mut failures = Vec::new();
    for &(raw, distro, release) in FREE_FORM {
        let got = normalise(&OsInfo::default(), raw);
        if (got.distro.as_str(), got.release.as_str()) != (distro, release) {
            failures.push(format!("{raw:?}: got {got}, expected {distro} {release}"));
        }
        assert!(os::package_type(&got).is_some(), "{raw}: no package type");
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// os-release `ID`, `VERSION_ID`, `PRETTY_NAME` as the native client sends
/// them; the result must match what the free-form path gives for the same OS.
const OS_RELEASE: &[(&str, &str, &str, &str, &str)] = &[
    (
        "rhel",
        "9.4",
        "Red Hat Enterprise Linux 9.4 (Plow)",
        "rhel",
        "9.4",
    ),
    (
        "rocky",
        "9.3",
        "Rocky Linux 9.3 (Blue Onyx)",
        "rocky",
        "9.3",
    ),
    (
        "almalinux",
        "9.3",
        "AlmaLinux 9.3 (Shamrock Pampas Cat)",
        "almalinux",
        "9.3",
    ),
    ("ol", "8.9", "Oracle Linux Server 8.9", "ol", "8.9"),
    ("centos", "7", "CentOS Linux 7 (Core)", "centos", "7"),
    ("centos", "8", "CentOS Stream 8", "centos-stream", "8"),
    ("centos", "9", "CentOS Stream 9", "centos-stream", "9"),
    (
        "opensuse-leap",
        "15.5",
        "openSUSE Leap 15.5",
        "opensuse-leap",
        "15.5",
    ),
    (
        "opensuse",
        "42.3",
        "openSUSE Leap 42.3",
        "opensuse-leap",
        "42.3",
    ),
    (
        "opensuse-tumbleweed",
        "20240301",
        "openSUSE Tumbleweed",
        "opensuse-tumbleweed",
        "rolling",
    ),
    (
        "sles",
        "15.5",
        "SUSE Linux Enterprise Server 15 SP5",
        "sles",
        "15.5",
    ),
    ("arch", "", "Arch Linux", "arch", "rolling"),
    ("gentoo", "2.15", "Gentoo Linux", "gentoo", "rolling"),
    ("alpine", "3.19.1", "Alpine Linux v3.19", "alpine", "3.19.1"),
    (
        "debian",
        "12",
        "Debian GNU/Linux 12 (bookworm)",
        "debian",
        "12",
    ),
    ("debian", "", "Debian GNU/Linux trixie/sid", "debian", "sid"),
    ("ubuntu", "22.04", "Ubuntu 22.04.4 LTS", "ubuntu", "22.04"),
    ("amzn", "2", "Amazon Linux 2", "amzn", "2"),
    (
        "fedora",
        "39",
        "Fedora Linux 39 (Server Edition)",
        "fedora",
        "39",
    ),
    ("RHEL", "\"9.4\"", "", "rhel", "9.4"),
    ("nixos", "23.11", "NixOS 23.11 (Tapir)", "nixos", "23.11"),
];

#[test]
fn os_release_fields() {
    for &(id, version_id, pretty, distro, release) in OS_RELEASE {
        let info = OsInfo {
            id: id.into(),
            version_id: version_id.into(),
            pretty_name: pretty.into(),
            ..OsInfo::default()
        };
        let got = normalise(&info, "");
        assert_eq!(
            (got.distro.as_str(), got.release.as_str()),
            (distro, release),
            "{id} {version_id} {pretty}"
        );
    }
    // A bare codename in VERSION_CODENAME.
    let info = OsInfo {
        id: "debian".into(),
        version_codename: "bookworm".into(),
        ..OsInfo::default()
    };
    assert_eq!(normalise(&info, "").to_string(), "debian 12");
}

#[test]
fn pretty_name_is_used_when_there_is_no_string_and_no_id() {
    let info = OsInfo {
        pretty_name: "Rocky Linux 9.3 (Blue Onyx)".into(),
        ..OsInfo::default()
    };
    assert_eq!(normalise(&info, "").to_string(), "rocky 9.3");
}

#[test]
fn unknown_strings_never_fail() {
    for raw in [
        "",
        "Windows Server 2022",
        "Plan 9",
        "\u{0}\u{ff}",
        "Linux",
        "(",
        " [cpe",
    ] {
        let got = normalise(&OsInfo::default(), raw);
        assert!(got.is_unknown(), "{raw:?} gave {got}");
        assert_eq!(got.to_string(), format!("unknown: {}", raw.trim()));
    }
    assert_eq!(os::package_type(&OsRelease::unknown("x")), None);
    assert_eq!(
        os::package_type(&normalise(&OsInfo::default(), "Alpine Linux v3.19")),
        Some(PackageType::Apk)
    );
}

#[test]
fn major_and_branch() {
    let debian = normalise(&OsInfo::default(), "Debian 12.5");
    assert_eq!((debian.release.as_str(), debian.major()), ("12.5", "12"));
    let centos = normalise(&OsInfo::default(), "CentOS Linux release 7.9.2009 (Core)");
    assert_eq!((centos.major(), centos.major_minor()), ("7", "7.9"));
    let alpine = normalise(
        &OsInfo {
            id: "alpine".into(),
            version_id: "3.19.1".into(),
            ..OsInfo::default()
        },
        "",
    );
    assert_eq!(alpine.major_minor(), "3.19");
}

/// Normalisation is on the hot path of every report: keep it cheap.
#[test]
fn normalising_is_fast() {
    let start = std::time::Instant::now();
    for _ in 0..200 {
        for &(raw, _, _) in FREE_FORM {
            std::hint::black_box(normalise(&OsInfo::default(), raw));
        }
    }
    let per_call = start.elapsed() / (200 * FREE_FORM.len() as u32);
    assert!(per_call.as_micros() < 200, "{per_call:?} per string");
}
