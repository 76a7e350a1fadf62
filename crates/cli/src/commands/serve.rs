//! `patchwatch serve`

use std::process::ExitCode;

use anyhow::Context as _;

use super::Context;
use crate::cli::ServeArgs;
use crate::config::DEFAULT_LISTEN;

pub async fn run(ctx: Context, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let listen = args
        .listen
        .or_else(|| ctx.config.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let db = ctx.open_or_create().await?;
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let sites = db.sites().await?;
    let hosts: i64 = sites.iter().map(|s| s.hosts).sum();
    // Keys, certificates and paths are checked before anything is printed.
    let server = patchwatch_server::Server::new(db, ctx.config.server.clone())?
        .with_ui(patchwatch_web::routes());
    let scheme = if server.tls() { "https" } else { "http" };
    println!(
        "Patchwatch {} listening on {scheme}://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(tls) = &ctx.config.server.tls {
        println!(
            "TLS: certificate {}{}",
            tls.cert.display(),
            match &tls.client_ca {
                Some(ca) => format!(", client certificates verified against {}", ca.display()),
                None => ", no client certificates".to_owned(),
            }
        );
    }
    println!("{}", server.describe_sources());
    println!("{}", server.describe_limits());
    match &ctx.config.server.metrics_listen {
        Some(m) => println!("Metrics: http://{m}/metrics (no token: keep that address private)"),
        None => println!(
            "Metrics: {scheme}://{addr}/metrics (API token; or set [server] metrics_listen)"
        ),
    }
    println!("Web UI: {scheme}://{addr}/ (log in as a user made with `patchwatch users add`)");
    let server_config = &ctx.config.server;
    println!(
        "{}",
        server_config.auth.describe(
            server_config.sources.trusted_proxies.len(),
            server_config
                .tls
                .as_ref()
                .is_some_and(|t| t.client_ca.is_some())
        )
    );
    if let Some(every) = ctx.config.server.feed_sync_interval {
        println!(
            "Feed sync: enabled URL feeds every {} s (see `patchwatch feeds list`)",
            every.as_secs()
        );
    }
    println!(
        "Database: {} ({}; {} sites, {hosts} hosts)",
        ctx.location.display(),
        ctx.location_source,
        sites.len()
    );
    // Other commands find the same database by themselves unless it was
    // named on this command line.
    let db_flag = match &ctx.location {
        _ if ctx.cli_database.is_none() => String::new(),
        crate::database::Location::Sqlite(p) => {
            format!(" --database sqlite:{}", std::path::absolute(p)?.display())
        }
        crate::database::Location::Postgres(_) => " --database ...".to_owned(),
    };
    // The command as it was run (`target/release/patchwatch` after `cargo
    // run`), so the hints can be pasted as they are.
    let me = std::env::args()
        .next()
        .filter(|a| a.contains('/'))
        .unwrap_or_else(|| "patchwatch".to_owned());
    if sites.is_empty() {
        println!(
            "\nNo sites yet. In another terminal, create one and send this machine's report:\n\
             \n  TOKEN=$({me}{db_flag} sites add MYSITE | tail -n1)\
             \n  client/patchwatch-client --server {scheme}://{addr} --token \"$TOKEN\"\
             \n  {me}{db_flag} hosts list\n"
        );
    } else {
        println!(
            "\nSend a report: client/patchwatch-client --server {scheme}://{addr} --token INGEST_TOKEN\
             \nRead the API: {me}{db_flag} tokens add reader, then\
             \n  curl -H \"Authorization: Bearer TOKEN\" {scheme}://{addr}/api/v1/hosts\n"
        );
    }
    tracing::info!(%addr, database = %ctx.location.display(), "serving");
    server.run(listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
