//! `patchwatch exceptions ...`: CVEs excepted for one installed package
//! version on an OS group or a site.

use std::process::ExitCode;

use patchwatch_store::{NewException, now_millis, parse_expiry};

use super::{Context, default_author};
use crate::cli::ExceptionsCommand;
use crate::output::{Format, Table, print_json, timestamp};

pub async fn run(ctx: Context, cmd: ExceptionsCommand) -> anyhow::Result<ExitCode> {
    // A malformed date is answered before the database is opened.
    let expires = match &cmd {
        ExceptionsCommand::Add {
            expires: Some(e), ..
        } => Some(parse_expiry(e)?),
        _ => None,
    };
    let db = ctx.open().await?;
    match cmd {
        ExceptionsCommand::List => {
            let list = db.exceptions().await?;
            if ctx.format == Format::Json {
                print_json(&list)?;
                return Ok(ExitCode::SUCCESS);
            }
            let now = now_millis();
            let mut t = Table::new(vec![
                "ID", "CVE", "PACKAGE", "VERSION", "SCOPE", "EXPIRES", "AUTHOR", "REASON",
            ])
            .when_empty("no exceptions");
            for e in &list {
                let scope = match (&e.os_group, &e.site) {
                    (Some(g), _) => format!("os-group:{g}"),
                    (None, Some(s)) => format!("site:{s}"),
                    (None, None) => "-".into(),
                };
                let expires = match e.expires_at {
                    None => "never".to_owned(),
                    Some(at) if !e.is_active(now) => format!("{} (expired)", expiry(at)),
                    Some(at) => expiry(at),
                };
                t.row(vec![
                    e.id.to_string(),
                    e.cve.clone(),
                    e.package.clone(),
                    e.version.clone(),
                    scope,
                    expires,
                    e.author.clone(),
                    e.reason.clone(),
                ]);
            }
            t.print(ctx.format)?;
        }
        ExceptionsCommand::Add {
            cve,
            package,
            version,
            os_group,
            site,
            reason,
            author,
            expires: _,
        } => {
            let e = db
                .add_exception(&NewException {
                    cve,
                    package,
                    version,
                    os_group,
                    site,
                    reason,
                    author: author.unwrap_or_else(default_author),
                    expires_at: expires,
                })
                .await?;
            if ctx.format == Format::Json {
                print_json(&e)?;
            } else {
                println!(
                    "Added exception {} for {} in {} {}.",
                    e.id, e.cve, e.package, e.version
                );
            }
        }
        ExceptionsCommand::Remove { id } => {
            db.remove_exception(id).await?;
            if ctx.format == Format::Json {
                print_json(&serde_json::json!({ "removed": id }))?;
            } else {
                println!("Removed exception {id}.");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How an expiry reads: `--expires 2027-01-31` holds through that day and
/// is stored as the next midnight (UTC), so a midnight is shown as the end
/// of the day before; any other time as it was given.
fn expiry(at: i64) -> String {
    const DAY_MS: i64 = 86_400_000;
    if at.rem_euclid(DAY_MS) == 0 {
        let day = timestamp(at - DAY_MS);
        format!("end of {}", &day[..10])
    } else {
        timestamp(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_reads_as_that_day() {
        assert_eq!(
            expiry(parse_expiry("2027-01-31").unwrap()),
            "end of 2027-01-31"
        );
        assert_eq!(
            expiry(parse_expiry("2027-01-31T12:00:00Z").unwrap()),
            "2027-01-31T12:00:00Z"
        );
    }
}
