//! `patchwatch users ...` and `patchwatch groups ...`: the command line is
//! the local administrator (it holds the database), so it needs no role.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use patchwatch_auth::{Role, password};
use patchwatch_store::users::ORIGIN_LOCAL;
use patchwatch_store::{NewGrant, NewUser, StoreError, UserGrant, format_millis};

use super::Context;
use crate::cli::{GrantArgs, GroupsCommand, UsersCommand};
use crate::output::{Format, Table, print_json};

/// The first line of standard input, hashed: passwords are never command
/// line arguments (they would show in `ps` and shell history).
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let line = line.trim_end_matches(['\n', '\r']);
    Ok(password::hash(line)?)
}

fn grant_of(args: &GrantArgs) -> anyhow::Result<NewGrant> {
    let grant = NewGrant {
        role: Role::parse(&args.role)?,
        site: args.site.clone(),
        group: args.group.clone(),
    };
    grant.validate()?;
    Ok(grant)
}

fn describe(g: &UserGrant) -> String {
    match (&g.site, &g.group) {
        (Some(s), _) => format!("{} on site {s}", g.role),
        (None, Some(grp)) => format!("{} on group {grp}", g.role),
        (None, None) => g.role.to_string(),
    }
}

pub async fn users(ctx: Context, cmd: UsersCommand) -> anyhow::Result<ExitCode> {
    let db = ctx.open().await?;
    match cmd {
        UsersCommand::Add {
            name,
            password_stdin,
        } => {
            let password_hash = if password_stdin {
                Some(password_from_stdin()?)
            } else {
                None
            };
            let user = db
                .add_user(&NewUser {
                    name: name.clone(),
                    password_hash,
                    origin: ORIGIN_LOCAL.into(),
                })
                .await
                .map_err(|e| match e {
                    StoreError::AlreadyExists(_) => anyhow!("a user named {name:?} already exists"),
                    e => e.into(),
                })?;
            if ctx.format == Format::Json {
                print_json(&user)?;
            } else {
                println!(
                    "Created user {name:?} with no roles; grant one with \
                     `patchwatch users grant {name:?} ROLE`."
                );
            }
        }
        UsersCommand::List => {
            let users = db.users().await?;
            if ctx.format == Format::Json {
                print_json(&users)?;
            } else {
                let mut t = Table::new(vec!["USER", "ORIGIN", "PASSWORD", "ROLES", "CREATED"]);
                for u in users {
                    let roles: Vec<String> = u.grants.iter().map(describe).collect();
                    t.row(vec![
                        u.name,
                        u.origin,
                        if u.has_password { "yes" } else { "no" }.into(),
                        roles.join(", "),
                        format_millis(u.created_at),
                    ]);
                }
                t.print(ctx.format)?;
            }
        }
        UsersCommand::Remove { name } => {
            if !db.remove_user(&name).await? {
                bail!("no user named {name:?}");
            }
            println!("Removed user {name:?}, their roles and their tokens.");
        }
        UsersCommand::Passwd { name, clear } => {
            let hash = if clear {
                None
            } else {
                Some(password_from_stdin()?)
            };
            if !db.set_password(&name, hash.as_deref()).await? {
                bail!("no user named {name:?}");
            }
            println!(
                "{} the password of {name:?}.",
                if clear { "Removed" } else { "Set" }
            );
        }
        UsersCommand::Grant(args) => {
            let grant = db.grant(&args.name, &grant_of(&args)?).await?;
            println!("Granted {} to {:?}.", describe(&grant), args.name);
        }
        UsersCommand::Import { file } => {
            let stats = super::contacts::import(db.as_ref(), &file).await?;
            if ctx.format == Format::Json {
                print_json(&stats)?;
            } else {
                println!(
                    "Imported {} contacts: {} users created, {} roles granted, {} already present.",
                    stats.contacts, stats.users_created, stats.roles_granted, stats.already_present
                );
            }
        }
        UsersCommand::Revoke(args) => {
            if !db.revoke(&args.name, &grant_of(&args)?).await? {
                bail!("{:?} has no such role", args.name);
            }
            println!("Revoked {} from {:?}.", args.role, args.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn groups(ctx: Context, cmd: GroupsCommand) -> anyhow::Result<ExitCode> {
    let db = ctx.open().await?;
    match cmd {
        GroupsCommand::Add { name, parent } => {
            let group = db.add_site_group(&name, parent.as_deref()).await?;
            if ctx.format == Format::Json {
                print_json(&group)?;
            } else {
                println!("Created site group {name:?}.");
            }
        }
        GroupsCommand::List => {
            let groups = db.site_groups().await?;
            if ctx.format == Format::Json {
                print_json(&groups)?;
            } else {
                let mut t = Table::new(vec!["GROUP", "PARENT", "SITES"]);
                for g in groups {
                    t.row(vec![
                        g.name,
                        g.parent.unwrap_or_default(),
                        g.sites.join(", "),
                    ]);
                }
                t.print(ctx.format)?;
            }
        }
        GroupsCommand::Remove { name } => {
            if !db.remove_site_group(&name).await? {
                bail!("no site group named {name:?}");
            }
            println!("Removed site group {name:?}.");
        }
        GroupsCommand::AddSite { group, sites } => {
            for site in &sites {
                db.set_group_member(&group, site, true).await?;
            }
            println!("Site group {group:?} now includes {}.", sites.join(", "));
        }
        GroupsCommand::RemoveSite { group, sites } => {
            for site in &sites {
                db.set_group_member(&group, site, false).await?;
            }
            println!("Removed {} from site group {group:?}.", sites.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
