//! What the evaluator needs to know about a host, and a ready-made
//! in-memory implementation ([`HostInventory`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The package database the host keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackageFormat {
    Rpm,
    Dpkg,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPackage {
    pub name: String,
    /// `None` when the package has no epoch (rpm's `(none)`, dpkg's
    /// implicit 0).
    pub epoch: Option<String>,
    pub version: String,
    /// rpm release or Debian revision; `None` for a native Debian package.
    pub release: Option<String>,
    pub arch: String,
    /// rpm: the 16-hex-digit id of the key that signed the package,
    /// lower-case. `None` when the inventory does not report it.
    pub signature_keyid: Option<String>,
}

impl InstalledPackage {
    /// An rpm package from its separate fields.
    pub fn rpm(name: &str, epoch: Option<&str>, version: &str, release: &str, arch: &str) -> Self {
        InstalledPackage {
            name: name.to_owned(),
            epoch: epoch
                .filter(|e| !e.is_empty() && *e != "(none)")
                .map(str::to_owned),
            version: version.to_owned(),
            release: Some(release.to_owned()),
            arch: arch.to_owned(),
            signature_keyid: None,
        }
    }

    /// A package from a full `[epoch:]version[-release]` string (rpm EVR or
    /// dpkg version): the release is what follows the last `-`.
    pub fn from_evr(name: &str, evr: &str, arch: &str) -> Self {
        let (epoch, rest) = match evr.split_once(':') {
            Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
                (Some(e), rest)
            }
            _ => (None, evr),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, Some(r.to_owned())),
            None => (rest, None),
        };
        InstalledPackage {
            name: name.to_owned(),
            epoch: epoch.map(str::to_owned),
            version: version.to_owned(),
            release,
            arch: arch.to_owned(),
            signature_keyid: None,
        }
    }

    pub fn with_signature_keyid(mut self, key: &str) -> Self {
        self.signature_keyid = Some(key.to_ascii_lowercase());
        self
    }

    /// `epoch:version[-release]`, epoch defaulting to 0 (the form OVAL's
    /// `evr` entity has).
    pub fn evr(&self) -> String {
        let epoch = self.epoch.as_deref().unwrap_or("0");
        match &self.release {
            Some(r) => format!("{epoch}:{}-{r}", self.version),
            None => format!("{epoch}:{}", self.version),
        }
    }

    /// The version as the package manager prints it (no `0:` epoch).
    pub fn display_evr(&self) -> String {
        let mut s = String::new();
        if let Some(e) = &self.epoch {
            s.push_str(e);
            s.push(':');
        }
        s.push_str(&self.version);
        if let Some(r) = &self.release {
            s.push('-');
            s.push_str(r);
        }
        s
    }
}

/// `uname` facts of the running system.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uname {
    pub os_name: String,
    pub node_name: String,
    /// The running kernel's release (`5.14.0-362.8.1.el9_3.x86_64`).
    pub os_release: String,
    pub os_version: String,
    pub machine_class: String,
    pub processor_type: String,
}

/// Facts about the operating system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsFacts {
    /// OVAL family (`unix` for every Linux).
    pub family: String,
    /// `None` when the running kernel is not known: uname tests give
    /// unknown.
    pub uname: Option<Uname>,
}

impl Default for OsFacts {
    fn default() -> Self {
        OsFacts {
            family: "unix".into(),
            uname: None,
        }
    }
}

/// The evaluator's view of a host. Callbacks avoid allocating a list per
/// query: evaluation of a full feed asks tens of thousands of times.
pub trait Host {
    fn package_format(&self) -> PackageFormat;
    /// Calls `f` for each installed package with this exact name (several
    /// for multi-arch or install-only packages such as `kernel`).
    fn for_each_package_named<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a InstalledPackage));
    /// Calls `f` for every installed package.
    fn for_each_package<'a>(&'a self, f: &mut dyn FnMut(&'a InstalledPackage));
    /// Calls `f` for each package owning `path` (rpmverifyfile). Red Hat asks
    /// for the owner of `/etc/redhat-release`.
    fn for_each_file_owner<'a>(&'a self, path: &str, f: &mut dyn FnMut(&'a InstalledPackage)) {
        let _ = (path, f);
    }
    /// Content of a text file (textfilecontent54): `/etc/os-release`,
    /// `/etc/debian_version`, and `manifest`, the package list of Ubuntu OCI
    /// images (`name version` per line). `None` when absent or unknown.
    fn file_content(&self, path: &str) -> Option<Cow<'_, str>> {
        let _ = path;
        None
    }
    fn os(&self) -> &OsFacts;
    /// CPEs of the enabled repositories (Red Hat). When `Some`, definitions
    /// carrying an `affected_cpe_list` that names none of them are not
    /// applicable to the host.
    fn repository_cpes(&self) -> Option<&[String]> {
        None
    }
}

/// An in-memory [`Host`] built from an inventory.
#[derive(Debug, Clone)]
pub struct HostInventory {
    format: PackageFormat,
    packages: Vec<InstalledPackage>,
    by_name: HashMap<String, Vec<usize>>,
    files: HashMap<String, String>,
    owners: HashMap<String, Vec<String>>,
    os: OsFacts,
    cpes: Option<Vec<String>>,
    /// `manifest` synthesised from the packages when not given.
    manifest: OnceLock<String>,
}

impl HostInventory {
    pub fn new(format: PackageFormat) -> Self {
        HostInventory {
            format,
            packages: Vec::new(),
            by_name: HashMap::new(),
            files: HashMap::new(),
            owners: HashMap::new(),
            os: OsFacts::default(),
            cpes: None,
            manifest: OnceLock::new(),
        }
    }

    pub fn add_package(&mut self, p: InstalledPackage) -> &mut Self {
        self.by_name
            .entry(p.name.clone())
            .or_default()
            .push(self.packages.len());
        self.packages.push(p);
        self.manifest = OnceLock::new();
        self
    }

    pub fn packages(&self) -> &[InstalledPackage] {
        &self.packages
    }

    /// Sets a file's content (path as the OVAL object names it, e.g.
    /// `/etc/debian_version`; `./manifest` and `manifest` are the same).
    pub fn set_file(&mut self, path: &str, content: &str) -> &mut Self {
        self.files
            .insert(normalize_path(path).into_owned(), content.to_owned());
        self
    }

    /// Records that the installed package `package` owns `path`.
    pub fn set_file_owner(&mut self, path: &str, package: &str) -> &mut Self {
        self.owners
            .entry(path.to_owned())
            .or_default()
            .push(package.to_owned());
        self
    }

    pub fn set_uname(&mut self, uname: Uname) -> &mut Self {
        self.os.uname = Some(uname);
        self
    }

    pub fn set_repository_cpes(&mut self, cpes: Vec<String>) -> &mut Self {
        self.cpes = Some(cpes);
        self
    }
}

/// `./manifest` → `manifest`; OVAL joins `path` and `filename` with `/`.
pub(crate) fn normalize_path(p: &str) -> Cow<'_, str> {
    match p.strip_prefix("./") {
        Some(rest) => rest.into(),
        None => p.into(),
    }
}

impl Host for HostInventory {
    fn package_format(&self) -> PackageFormat {
        self.format
    }

    fn for_each_package_named<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a InstalledPackage)) {
        for &i in self.by_name.get(name).map_or(&[][..], |v| v) {
            f(&self.packages[i]);
        }
    }

    fn for_each_package<'a>(&'a self, f: &mut dyn FnMut(&'a InstalledPackage)) {
        self.packages.iter().for_each(f);
    }

    fn for_each_file_owner<'a>(&'a self, path: &str, f: &mut dyn FnMut(&'a InstalledPackage)) {
        for name in self.owners.get(path).map_or(&[][..], |v| v) {
            self.for_each_package_named(name, f);
        }
    }

    fn file_content(&self, path: &str) -> Option<Cow<'_, str>> {
        let path = normalize_path(path);
        if let Some(c) = self.files.get(&*path) {
            return Some(Cow::Borrowed(c));
        }
        if path == "manifest" && self.format == PackageFormat::Dpkg {
            // Ubuntu OCI images list `name[:arch]<TAB>version` lines.
            let m = self.manifest.get_or_init(|| {
                let mut s = String::new();
                for p in &self.packages {
                    s.push_str(&p.name);
                    s.push('\t');
                    s.push_str(&p.display_evr());
                    s.push('\n');
                }
                s
            });
            return Some(Cow::Borrowed(m));
        }
        None
    }

    fn os(&self) -> &OsFacts {
        &self.os
    }

    fn repository_cpes(&self) -> Option<&[String]> {
        self.cpes.as_deref()
    }
}
