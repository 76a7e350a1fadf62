//! `patchwatch init`: the one command besides `serve` that creates a
//! database.

use std::process::ExitCode;

use super::Context;
use crate::database::Location;
use crate::output::{Format, print_json};

pub async fn run(ctx: Context) -> anyhow::Result<ExitCode> {
    let existed = match &ctx.location {
        Location::Sqlite(path) => path.exists(),
        Location::Postgres(_) => true,
    };
    // Opening runs the migrations: a new file gets the whole schema, an
    // existing database whatever it lacks.
    let db = ctx.open_or_create().await?;
    let sites = db.sites().await?;
    if ctx.format == Format::Json {
        return print_json(&serde_json::json!({
            "database": ctx.location.display(),
            "source": ctx.location_source,
            "created": !existed,
            "sites": sites.len(),
        }))
        .map(|()| ExitCode::SUCCESS);
    }
    if existed {
        println!(
            "Database {} ({}) exists; its schema is up to date ({} sites).",
            ctx.location.display(),
            ctx.location_source,
            sites.len()
        );
    } else {
        println!(
            "Created the database {} ({}).",
            ctx.location.display(),
            ctx.location_source
        );
        println!("Next: `patchwatch serve`, then `patchwatch sites add NAME` for an ingest token.");
    }
    Ok(ExitCode::SUCCESS)
}
