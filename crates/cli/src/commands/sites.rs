//! `patchwatch sites ...` and `patchwatch tokens ...`

use std::process::ExitCode;

use anyhow::{anyhow, bail};
use patchwatch_store::{NewToken, StoreError, TokenKind};

use super::Context;
use crate::cli::{SitesCommand, TokensCommand};
use crate::output::{Format, Table, print_json, timestamp};

/// Site names appear in URLs, reports and Pakiti's `site:` header: keep
/// them to what all of those carry unharmed.
fn check_site_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name.len() > 100 {
        bail!("a site name must be 1 to 100 characters long");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        bail!("a site name may contain letters, digits, '-', '_' and '.', not {c:?}");
    }
    Ok(())
}

pub async fn sites(ctx: Context, cmd: SitesCommand) -> anyhow::Result<ExitCode> {
    let db = ctx.open().await?;
    match cmd {
        SitesCommand::Add { name } => {
            check_site_name(&name)?;
            let site = db.create_site(&name).await.map_err(|e| match e {
                StoreError::AlreadyExists(_) => anyhow!("site {name:?} already exists"),
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
        TokensCommand::Add { name, site } => {
            let (kind, site_id) = match &site {
                Some(s) => {
                    let site = db.site(s).await?.ok_or_else(|| {
                        anyhow!("no site named {s:?}; see `patchwatch sites list`")
                    })?;
                    (TokenKind::Ingest, Some(site.id))
                }
                None => (TokenKind::Api, None),
            };
            let token = NewToken::generate(&name, kind, site_id);
            let record = db.add_token(&token).await.map_err(|e| match e {
                StoreError::AlreadyExists(_) => anyhow!("a token named {name:?} already exists"),
                e => e.into(),
            })?;
            if ctx.format == Format::Json {
                print_json(&serde_json::json!({ "token": record, "secret": token.secret }))?;
            } else {
                match &site {
                    Some(s) => {
                        println!("Created ingest token {name:?} for site {s:?} (shown only now):")
                    }
                    None => println!("Created API token {name:?} (shown only now):"),
                }
                println!("{}", token.secret);
            }
        }
        TokensCommand::List => {
            let tokens = db.tokens().await?;
            if ctx.format == Format::Json {
                print_json(&tokens)?;
            } else {
                let mut t =
                    Table::new(vec!["NAME", "KIND", "SITE", "CREATED"]).when_empty("no tokens");
                for tok in tokens {
                    t.row(vec![
                        tok.name,
                        tok.kind.to_string(),
                        tok.site.unwrap_or_default(),
                        timestamp(tok.created_at),
                    ]);
                }
                t.print(ctx.format)?;
            }
        }
        TokensCommand::Revoke { name } => {
            if !db.revoke_token(&name).await? {
                bail!("no token named {name:?}");
            }
            println!("Revoked token {name:?}.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
