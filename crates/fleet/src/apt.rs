//! Debian's own apt as a reference for tests: a private apt root holding
//! the real bookworm lists and the real Debian 12 host's status file, and
//! `apt list --upgradable` parsed. Used by `patchwatch-repos`' library
//! test and by the CLI's `hosts updates` test, so both compare with apt
//! the same way.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::shared_data_dir;

/// The three bookworm suites as `(apt lists prefix, suite)`, in
/// sources.list order.
pub const SUITES: [(&str, &str); 3] = [
    ("deb.debian.org_debian_dists_bookworm", "bookworm"),
    (
        "deb.debian.org_debian_dists_bookworm-updates",
        "bookworm-updates",
    ),
    (
        "deb.debian.org_debian-security_dists_bookworm-security",
        "bookworm-security",
    ),
];

/// The shared apt lists directory (real InRelease and Packages.xz files).
pub fn apt_lists() -> PathBuf {
    shared_data_dir().join("debian/apt-lists")
}

/// The real Debian 12 host's dpkg status file.
pub const DEBIAN12_STATUS: &str = "hosts/this-machine_debian12_dpkg-status.xz";

/// apt's `lists/` naming: the path under `dists/SUITE` with `/` as `_`.
pub fn in_lists(dir: &Path, prefix: &str, listed: &str) -> PathBuf {
    dir.join(format!("{prefix}_{}", listed.replace('/', "_")))
}

/// Lays out a private apt root in `root` (lists, the real Debian 12
/// status, sources.list, empty configuration) and returns the
/// `APT_CONFIG` file pointing apt at it. `security_flags` is inserted
/// into the security suite's InRelease (`NotAutomatic: yes` ...); apt
/// reads downloaded lists without checking their signature again.
pub fn apt_root(root: &Path, security_flags: &str) -> std::io::Result<PathBuf> {
    let lists = root.join("lists");
    std::fs::create_dir_all(lists.join("partial"))?;
    for dir in [
        "cache",
        "etc/apt.conf.d",
        "etc/preferences.d",
        "state",
        "log",
    ] {
        std::fs::create_dir_all(root.join(dir))?;
    }
    let mut sources = String::new();
    for (prefix, dist) in SUITES {
        let mut release = std::fs::read_to_string(apt_lists().join(format!("{prefix}_InRelease")))?;
        if dist.ends_with("-security") && !security_flags.is_empty() {
            release = release.replacen(
                "\nOrigin: Debian\n",
                &format!("\nOrigin: Debian\n{security_flags}"),
                1,
            );
        }
        std::fs::write(lists.join(format!("{prefix}_InRelease")), release)?;
        let packages = in_lists(&apt_lists(), prefix, "main/binary-amd64/Packages.xz");
        let mut text = Vec::new();
        xz2::read::XzDecoder::new(std::fs::File::open(&packages)?).read_to_end(&mut text)?;
        std::fs::write(in_lists(&lists, prefix, "main/binary-amd64/Packages"), text)?;
        let archive = if dist.ends_with("-security") {
            "debian-security"
        } else {
            "debian"
        };
        sources.push_str(&format!(
            "deb [trusted=yes] http://deb.debian.org/{archive} {dist} main\n"
        ));
    }
    std::fs::write(root.join("etc/sources.list"), sources)?;
    let status = crate::inventory::read_maybe_xz(&shared_data_dir().join(DEBIAN12_STATUS))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    std::fs::write(root.join("state/status"), status)?;
    let r = root.display();
    let config = format!(
        "Dir \"{r}\";\nDir::State \"{r}/state\";\nDir::State::lists \"{r}/lists\";\n\
         Dir::State::status \"{r}/state/status\";\nDir::Cache \"{r}/cache\";\n\
         Dir::Etc \"{r}/etc\";\nDir::Etc::sourcelist \"{r}/etc/sources.list\";\n\
         Dir::Etc::sourceparts \"{r}/etc/sources.list.d\";\nDir::Etc::parts \"{r}/etc/apt.conf.d\";\n\
         Dir::Etc::preferences \"{r}/etc/preferences\";\n\
         Dir::Etc::preferencesparts \"{r}/etc/preferences.d\";\nDir::Log \"{r}/log\";\n\
         APT::Architecture \"amd64\";\nAPT::Architectures {{ \"amd64\"; }};\n\
         Debug::NoLocking \"true\";\nAcquire::Check-Valid-Until \"false\";\n"
    );
    let path = root.join("apt.conf");
    std::fs::write(&path, config)?;
    Ok(path)
}

/// Runs an apt program against the root `config` points at; panics with
/// apt's stderr when it fails (a test helper).
pub fn run_apt(config: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env("APT_CONFIG", config)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("apt prints UTF-8 under C.UTF-8")
}

/// Whether apt is installed (`apt-get --version` runs).
pub fn apt_installed() -> bool {
    Command::new("apt-get")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One line of `apt list --upgradable`:
/// `name/archive1,archive2 candidate arch [upgradable from: installed]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Upgradable {
    pub name: String,
    pub candidate: String,
    pub candidate_arch: String,
    pub archives: BTreeSet<String>,
    pub installed: String,
}

/// `apt list --upgradable`'s output, sorted; panics on a line of another
/// shape (a test helper).
pub fn parse_upgradable(text: &str) -> Vec<Upgradable> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line == "Listing..." {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(
            fields.len() == 6 && fields[3] == "[upgradable" && fields[4] == "from:",
            "unexpected apt list line {line:?}"
        );
        let (name, archives) = fields[0].split_once('/').expect("name/archives");
        out.push(Upgradable {
            name: name.to_owned(),
            candidate: fields[1].to_owned(),
            candidate_arch: fields[2].to_owned(),
            archives: archives.split(',').map(str::to_owned).collect(),
            installed: fields[5].trim_end_matches(']').to_owned(),
        });
    }
    out.sort();
    out
}

/// Whether each upgradable package is a security update by apt's own rule
/// (`IsSecurityUpdate`: the candidate, or any version between the
/// installed one and it, comes from a `*-security` archive), applied to
/// apt's own version tables (`apt-cache policy` and `madison`); apt 2.6
/// does not print it.
pub fn security_by_apts_rule(config: &Path, upgradable: &[Upgradable]) -> BTreeMap<String, bool> {
    let archive_of = file_archives(&run_apt(config, "apt-cache", &["policy"]));
    let mut args = vec!["madison"];
    args.extend(upgradable.iter().map(|u| u.name.as_str()));
    let madison = run_apt(config, "apt-cache", &args);
    let mut versions: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for line in madison.lines() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let [name, version, file] = f[..] else {
            panic!("unexpected madison line {line:?}")
        };
        let archive = archive_of
            .get(file)
            .unwrap_or_else(|| panic!("no archive for {file:?}"));
        versions.entry(name).or_default().push((version, archive));
    }
    upgradable
        .iter()
        .map(|u| {
            let security =
                versions
                    .get(u.name.as_str())
                    .into_iter()
                    .flatten()
                    .any(|(v, archive)| {
                        archive.ends_with("-security")
                            && patchwatch_versions::deb::compare(v, &u.installed).is_gt()
                            && patchwatch_versions::deb::compare(v, &u.candidate).is_le()
                    });
            (u.name.clone(), security)
        })
        .collect()
}

/// `apt-cache policy`'s file table: `http://... bookworm-security/main amd64
/// Packages` to that file's archive (`a=` of its release line).
fn file_archives(policy: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut file: Option<String> = None;
    for line in policy.lines() {
        let t = line.trim();
        if let Some(release) = t.strip_prefix("release ") {
            if let (Some(f), Some(a)) = (
                file.take(),
                release.split(',').find_map(|kv| kv.strip_prefix("a=")),
            ) {
                out.insert(f, a.to_owned());
            }
        } else if let Some((prio, rest)) = t.split_once(' ')
            && prio.parse::<i32>().is_ok()
        {
            file = Some(rest.to_owned());
        }
    }
    out
}
