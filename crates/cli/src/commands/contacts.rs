//! `patchwatch users import FILE`: site contacts in bulk, as GOCDB lists
//! them (a site's administrators and security officers, an NGI's security
//! officers), from JSON or CSV. Every row is checked (role, site or group
//! known) before anything is written, so a bad file changes nothing.

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use patchwatch_auth::Role;
use patchwatch_store::users::{ORIGIN_LOCAL, validate_user_name};
use patchwatch_store::{Database, NewGrant, NewUser, StoreError};
use serde::Deserialize;

/// One contact: `name` is how the person logs in (SSO user name, e-mail
/// or certificate DN).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    name: String,
    role: String,
    #[serde(default)]
    site: Option<String>,
    #[serde(default)]
    group: Option<String>,
}

/// Our roles by name, and GOCDB's contact roles: administrators read,
/// security officers triage.
fn role(text: &str) -> Option<Role> {
    if let Ok(r) = Role::parse(text) {
        return Some(r);
    }
    match text.trim().to_ascii_lowercase().as_str() {
        "site administrator" | "site operations manager" | "site operations deputy manager" => {
            Some(Role::Viewer)
        }
        "site security officer" | "ngi security officer" | "security officer" => {
            Some(Role::Triager)
        }
        _ => None,
    }
}

fn read_rows(path: &Path) -> anyhow::Result<Vec<Row>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(&text)
            .with_context(|| format!("{}: not a JSON array of contacts", path.display()));
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        // Line 1 is the header.
        rows.push(row.with_context(|| format!("{}: line {}", path.display(), i + 2))?);
    }
    Ok(rows)
}

#[derive(Debug, Default, serde::Serialize)]
pub struct ImportStats {
    pub contacts: usize,
    pub users_created: usize,
    pub roles_granted: usize,
    pub already_present: usize,
}

pub async fn import(db: &dyn Database, path: &Path) -> anyhow::Result<ImportStats> {
    let rows = read_rows(path)?;
    let sites = db.sites().await?;
    let groups = db.site_groups().await?;
    let mut plan = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let at = || format!("{} contact {}", path.display(), i + 1);
        let empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let (site, group) = (empty(row.site), empty(row.group));
        let role = role(&row.role).ok_or_else(|| {
            anyhow!(
                "{}: unknown role {:?} (admin, auditor, viewer, triager, or GOCDB's \
                 \"Site Administrator\", \"Site Security Officer\", \"NGI Security Officer\")",
                at(),
                row.role
            )
        })?;
        validate_user_name(&row.name).with_context(at)?;
        if let Some(s) = &site
            && !sites.iter().any(|x| &x.name == s)
        {
            bail!("{}: no site named {s:?}; see `patchwatch sites list`", at());
        }
        if let Some(g) = &group
            && !groups.iter().any(|x| &x.name == g)
        {
            bail!(
                "{}: no site group named {g:?}; see `patchwatch groups list`",
                at()
            );
        }
        let grant = NewGrant { role, site, group };
        grant.validate().with_context(at)?;
        plan.push((row.name, grant));
    }
    let mut stats = ImportStats {
        contacts: plan.len(),
        ..ImportStats::default()
    };
    for (name, grant) in plan {
        if db.user(&name).await?.is_none() {
            db.add_user(&NewUser {
                name: name.clone(),
                password_hash: None,
                origin: ORIGIN_LOCAL.into(),
            })
            .await?;
            stats.users_created += 1;
        }
        match db.grant(&name, &grant).await {
            Ok(_) => stats.roles_granted += 1,
            Err(StoreError::AlreadyExists(_)) => stats.already_present += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(stats)
}
