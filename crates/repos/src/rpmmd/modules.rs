//! `modules.yaml`: the modulemd v2 streams of a repository and the
//! modulemd-defaults naming each module's default stream, as one YAML file
//! of many documents.

use std::collections::HashMap;

use yaml_rust2::{Yaml, YamlLoader};

use crate::{AvailablePackage, ModuleStream, RepoError};

/// Reads every `modulemd` (v2) and `modulemd-defaults` document; other
/// documents (`modulemd-obsoletes`, translations) are skipped. A stream
/// named as its module's default in any defaults document is marked so.
pub fn parse_modules(text: &str, file: &str) -> Result<Vec<ModuleStream>, RepoError> {
    let docs = YamlLoader::load_from_str(text)
        .map_err(|e| RepoError::malformed(file, format!("invalid YAML: {e}")))?;
    let mut streams = Vec::new();
    let mut defaults: HashMap<String, String> = HashMap::new();
    for (i, doc) in docs.iter().enumerate() {
        let what = |m: &str| RepoError::malformed(file, format!("document #{}: {m}", i + 1));
        let data = &doc["data"];
        match doc["document"].as_str() {
            Some("modulemd") => {
                let version = scalar(&doc["version"]);
                if version.as_deref() != Some("2") {
                    return Err(what(&format!(
                        "modulemd version {} is not supported (only 2)",
                        version.unwrap_or_default()
                    )));
                }
                let name = scalar(&data["name"]).ok_or_else(|| what("modulemd without a name"))?;
                let stream =
                    scalar(&data["stream"]).ok_or_else(|| what("modulemd without a stream"))?;
                let artifacts = match &data["artifacts"]["rpms"] {
                    Yaml::Array(items) => items.iter().filter_map(scalar).collect(),
                    _ => Vec::new(),
                };
                streams.push(ModuleStream {
                    name,
                    stream,
                    version: scalar(&data["version"])
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0),
                    context: scalar(&data["context"]).unwrap_or_default(),
                    arch: scalar(&data["arch"]).unwrap_or_default(),
                    artifacts,
                    is_default: false,
                });
            }
            Some("modulemd-defaults") => {
                let module = scalar(&data["module"])
                    .ok_or_else(|| what("modulemd-defaults without a module"))?;
                if let Some(stream) = scalar(&data["stream"]) {
                    defaults.insert(module, stream);
                }
            }
            _ => {}
        }
    }
    for s in &mut streams {
        s.is_default = defaults.get(&s.name) == Some(&s.stream);
    }
    Ok(streams)
}

/// A scalar as written (streams such as `10.11` or `18` must stay strings).
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The `name-epoch:version-release.arch` modulemd uses for artifacts.
pub(crate) fn nevra(p: &patchwatch_reports::Package) -> String {
    let epoch = if p.epoch.is_empty() { "0" } else { &p.epoch };
    format!("{}-{epoch}:{}-{}.{}", p.name, p.version, p.release, p.arch)
}

/// Marks every package a stream lists among its artifacts with that
/// stream's `name:stream`. Packages no stream lists stay non-modular, as
/// they are for dnf (whatever their release string looks like).
pub fn mark_modular(packages: &mut [AvailablePackage], streams: &[ModuleStream]) {
    let mut owner: HashMap<&str, String> = HashMap::new();
    for s in streams {
        for a in &s.artifacts {
            owner
                .entry(a.as_str())
                .or_insert_with(|| format!("{}:{}", s.name, s.stream));
        }
    }
    if owner.is_empty() {
        return;
    }
    for p in packages {
        if let Some(m) = owner.get(nevra(&p.package).as_str()) {
            p.module = Some(m.clone());
        }
    }
}
