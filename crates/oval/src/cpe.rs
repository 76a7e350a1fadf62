//! CPE matching for Red Hat's `affected_cpe_list` and the repository-to-CPE
//! map.

use std::collections::HashMap;

/// Does the definition's CPE `want` cover the host's repository CPE `have`?
/// CPE 2.2 URIs are compared component by component; a component missing
/// or empty in `want` matches anything (so `cpe:/a:redhat:enterprise_linux:9`
/// covers `cpe:/a:redhat:enterprise_linux:9::appstream`), and the reverse
/// holds too, since repository CPEs are sometimes the shorter ones.
pub fn matches(want: &str, have: &str) -> bool {
    let (Some(w), Some(h)) = (want.strip_prefix("cpe:/"), have.strip_prefix("cpe:/")) else {
        return want == have;
    };
    let mut w = w.split(':');
    let mut h = h.split(':');
    loop {
        match (w.next(), h.next()) {
            (None, _) | (_, None) => return true,
            (Some(a), Some(b)) => {
                if !a.is_empty() && !b.is_empty() && !a.eq_ignore_ascii_case(b) {
                    return false;
                }
            }
        }
    }
}

/// Red Hat's `repository-to-cpe.json`: `{"data": {"repo-id": {"cpes": [...]}}}`
/// into repository id -> CPEs.
pub fn parse_repository_to_cpe(
    json: &str,
) -> Result<HashMap<String, Vec<String>>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct File {
        data: HashMap<String, Repo>,
    }
    #[derive(serde::Deserialize)]
    struct Repo {
        #[serde(default)]
        cpes: Vec<String>,
    }
    let f: File = serde_json::from_str(json)?;
    Ok(f.data.into_iter().map(|(k, v)| (k, v.cpes)).collect())
}

/// The CPEs of the given enabled repositories (unknown ids are skipped).
pub fn repository_cpes(map: &HashMap<String, Vec<String>>, repositories: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in repositories {
        for c in map.get(*r).map_or(&[][..], |v| v) {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
    }
    out
}
