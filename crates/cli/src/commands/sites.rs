//! `patchwatch sites ...` and `patchwatch tokens ...`

use std::process::ExitCode;

use anyhow::{anyhow, bail};
use patchwatch_auth::{TokenAccess, TokenScope};
use patchwatch_store::{NewToken, Revocation, StoreError, TokenKind, TokenRecord};

use super::Context;
use crate::cli::{SitesCommand, TokensCommand};
use crate::output::{Format, Table, print_json, timestamp};

pub async fn sites(ctx: Context, cmd: SitesCommand) -> anyhow::Result<ExitCode> {
    let db = ctx.open().await?;
    match cmd {
        SitesCommand::Add { name } => {
            let site = db.create_site(&name).await.map_err(|e| match e {
                StoreError::AlreadyExists(_) => anyhow!("site {name:?} already exists"),
                StoreError::Invalid(why) => anyhow!(why),
                e => e.into(),
            })?;
            let token =
                NewToken::generate(&format!("{name}-ingest"), TokenKind::Ingest, Some(site.id));
            db.add_token(&token).await?;
            if ctx.format == Format::Json {
                print_json(
                    &serde_json::json!({ "site": site, "token_name": token.name, "token": token.secret }),
                )?;
            } else {
                println!("Created site {name:?} with ingest token {:?}.", token.name);
                println!("Hosts send reports with it (it is shown only now):");
                println!("{}", token.secret);
            }
        }
        SitesCommand::List => {
            let sites = db.sites().await?;
            if ctx.format == Format::Json {
                print_json(&sites)?;
            } else {
                let mut t = Table::new(vec!["SITE", "HOSTS", "CREATED"])
                    .when_empty("no sites; create one with `patchwatch sites add NAME`");
                for s in sites {
                    t.row(vec![s.name, s.hosts.to_string(), timestamp(s.created_at)]);
                }
                t.print(ctx.format)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tokens(ctx: Context, cmd: TokensCommand) -> anyhow::Result<ExitCode> {
    let db = ctx.open().await?;
    match cmd {
        TokensCommand::Add {
            name,
            site,
            access,
            group,
            user,
        } => {
            let site_id = match &site {
                Some(s) => Some(
                    db.site(s)
                        .await?
                        .ok_or_else(|| anyhow!("no site named {s:?}; see `patchwatch sites list`"))?
                        .id,
                ),
                None => None,
            };
            let api = access.is_some() || group.is_some() || user.is_some() || site.is_none();
            let token = if api {
                let access = TokenAccess::parse(access.as_deref().unwrap_or("read"))?;
                let scope = if let Some(g) = &group {
                    let groups = db.site_groups().await?;
                    let id = groups.iter().find(|x| &x.name == g).map(|x| x.id);
                    TokenScope::Group(id.ok_or_else(|| {
                        anyhow!("no site group named {g:?}; see `patchwatch groups list`")
                    })?)
                } else if let Some(u) = &user {
                    let found = db.user(u).await?;
                    TokenScope::User(
                        found
                            .ok_or_else(|| {
                                anyhow!("no user named {u:?}; see `patchwatch users list`")
                            })?
                            .id,
                    )
                } else if let Some(id) = site_id {
                    TokenScope::Site(id)
                } else {
                    TokenScope::Everywhere
                };
                NewToken::api(&name, access, scope)
            } else {
                NewToken::generate(&name, TokenKind::Ingest, site_id)
            };
            let record = db.add_token(&token).await.map_err(|e| match e {
                StoreError::AlreadyExists(_) => anyhow!("a token named {name:?} already exists"),
                e => e.into(),
            })?;
            if ctx.format == Format::Json {
                print_json(&serde_json::json!({ "token": record, "secret": token.secret }))?;
            } else {
                match (&record.access, &site) {
                    (None, Some(s)) => {
                        println!("Created ingest token {name:?} for site {s:?} (shown only now):")
                    }
                    _ => println!(
                        "Created API token {name:?}, {} on {} (shown only now):",
                        record.access.map_or("read", |a| a.as_str()),
                        token_scope(&record)
                    ),
                }
                println!("{}", token.secret);
            }
        }
        TokensCommand::List => {
            let tokens = db.tokens().await?;
            if ctx.format == Format::Json {
                print_json(&tokens)?;
            } else {
                let mut t = Table::new(vec![
                    "NAME",
                    "KIND",
                    "ACCESS",
                    "SCOPE",
                    "CREATED",
                    "LAST USED",
                    "STATE",
                ])
                .when_empty("no tokens");
                for tok in tokens {
                    t.row(vec![
                        tok.name.clone(),
                        tok.kind.to_string(),
                        tok.access.map(|a| a.to_string()).unwrap_or_default(),
                        token_scope(&tok),
                        timestamp(tok.created_at),
                        tok.last_used_at.map_or_else(|| "never".into(), timestamp),
                        token_state(&tok),
                    ]);
                }
                t.print(ctx.format)?;
            }
        }
        // The command line is the local administrator: no user revokes.
        TokensCommand::Revoke { name } => match db.revoke_token(&name, None).await? {
            Revocation::Revoked => println!("Revoked token {name:?}."),
            Revocation::AlreadyRevoked => println!("Token {name:?} was already revoked."),
            Revocation::NotFound => bail!("no token named {name:?}"),
        },
        TokensCommand::Delete { name } => {
            let token = db.tokens().await?.into_iter().find(|t| t.name == name);
            match token {
                None => bail!("no token named {name:?}"),
                Some(t) if !t.is_revoked() => bail!(
                    "token {name:?} is active: revoke it first (`patchwatch tokens revoke {name}`)"
                ),
                Some(_) => {
                    if !db.delete_token(&name).await? {
                        bail!("no token named {name:?}");
                    }
                    println!("Deleted token {name:?}.");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `active`, or `revoked TIME` with ` by USER` when a user revoked it.
fn token_state(t: &TokenRecord) -> String {
    match (t.revoked_at, &t.revoked_by) {
        (None, _) => "active".to_owned(),
        (Some(at), Some(by)) => format!("revoked {} by {by}", timestamp(at)),
        (Some(at), None) => format!("revoked {}", timestamp(at)),
    }
}

/// Where a token applies, for people: `site X`, `group G`, `user U`,
/// `every site`.
fn token_scope(t: &TokenRecord) -> String {
    match (&t.user, &t.group, &t.site) {
        (Some(u), _, _) => format!("user {u}"),
        (None, Some(g), _) => format!("group {g}"),
        (None, None, Some(s)) => format!("site {s}"),
        (None, None, None) => "every site".to_owned(),
    }
}
