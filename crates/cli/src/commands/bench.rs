//! `patchwatch bench ingest`: report ingest under load, over loopback HTTP.
//!
//! The server runs as a child process (this same binary, `serve`) so its
//! peak memory is measured alone; this process only sends. Both share the
//! machine's cores, as a real deployment's load balancer and server would
//! not: the numbers are a lower bound.

use std::io::Write;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use patchwatch_fleet::{Fleet, Image};
use patchwatch_reports::pakiti::{self, Mode};
use patchwatch_reports::{Report, native, patchman};
use patchwatch_store::{NewToken, TokenKind};
use serde::Serialize;

use super::Context;
use crate::cli::{BenchCommand, BenchIngestArgs, BenchProtocol};
use crate::database::Location;
use crate::output::{Format, print_json};

pub async fn run(ctx: Context, cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Ingest(args) => ingest(ctx, args).await,
        BenchCommand::Assess(args) => super::bench_assess::run(ctx, args).await,
        BenchCommand::Web(args) => super::bench_web::run(ctx, args).await,
        BenchCommand::Updates(args) => super::bench_updates::run(ctx, args).await,
    }
}

/// Without `--database` a benchmark gets a fresh SQLite file of its own in
/// `scratch`, never the user's default database.
pub(super) fn scratch_location(ctx: &Context, scratch: &tempfile::TempDir) -> Location {
    if std::env::args().any(|a| a == "--database" || a.starts_with("--database="))
        || std::env::var_os("PATCHWATCH_DATABASE").is_some()
    {
        ctx.location.clone()
    } else {
        Location::Sqlite(scratch.path().join("bench.sqlite"))
    }
}

#[derive(Debug, Serialize)]
struct Round {
    name: String,
    reports: usize,
    seconds: f64,
    reports_per_second: f64,
    /// Server CPU (user + system) per report: steadier than wall time on a
    /// shared machine.
    server_cpu_ms_per_report: f64,
    /// What the server could take if it had both cores to itself.
    server_capacity_per_second_on_2_cores: f64,
    server_peak_rss_mib: f64,
}

async fn ingest(ctx: Context, args: BenchIngestArgs) -> anyhow::Result<ExitCode> {
    if args.hosts == 0 || args.concurrency == 0 {
        bail!("--hosts and --concurrency must be at least 1");
    }
    let scratch = tempfile::tempdir()?;
    let location = scratch_location(&ctx, &scratch);

    let site = format!("BENCH-{}", std::process::id());
    let token = {
        let db = location.open().await?;
        let site = db.create_site(&site).await?;
        let token = NewToken::generate(
            &format!("{}-ingest", site.name),
            TokenKind::Ingest,
            Some(site.id),
        );
        db.add_token(&token).await?;
        token.secret
    };

    eprintln!(
        "Building {} reports from the real inventories...",
        args.hosts
    );
    let wire = Wire::new(args.protocol, &token, args.no_gzip);
    let bodies = Arc::new(build_bodies(&site, &args, &wire)?);
    let avg = bodies.iter().map(Vec::len).sum::<usize>() / bodies.len();
    eprintln!("Average body {avg} bytes ({}).", wire.describe);

    // Every report comes from this machine on behalf of thousands of
    // hosts: for the protocols without credentials it is a trusted proxy.
    // Patchman reports name no site: they go to the benchmark's.
    let config = scratch.path().join("bench.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\npatchman_site = \"{site}\"\n[server.sources]\n\
             trusted_proxies = [\"127.0.0.0/8\", \"::1\"]\n"
        ),
    )?;
    let port = free_port()?;
    let mut server = std::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--config")
        .arg(&config)
        .arg("--database")
        .arg(location_url(&location))
        .env("PATCHWATCH_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the server")?;
    let result = drive(&args, port, &wire, bodies, server.id()).await;
    let _ = server.kill();
    let _ = server.wait();
    let rounds = result?;

    if ctx.format == Format::Json {
        print_json(&serde_json::json!({
            "database": location.display(),
            "hosts": args.hosts,
            "concurrency": args.concurrency,
            "average_body_bytes": avg,
            "gzip": wire.gzip,
            "protocol": wire.name,
            "rounds": rounds,
        }))?;
    } else {
        println!(
            "database {}, {} hosts, concurrency {}, protocol {}, body {avg} bytes{}",
            location.display(),
            args.hosts,
            args.concurrency,
            wire.name,
            if wire.gzip { " (gzip)" } else { "" }
        );
        for r in &rounds {
            println!(
                "{:<10} {:>7} reports in {:>6.2} s = {:>7.0} reports/s | server {:.3} ms CPU/report \
                 = {:>6.0}/s on 2 cores | peak RSS {:.0} MiB",
                r.name,
                r.reports,
                r.seconds,
                r.reports_per_second,
                r.server_cpu_ms_per_report,
                r.server_capacity_per_second_on_2_cores,
                r.server_peak_rss_mib
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn location_url(l: &Location) -> String {
    match l {
        Location::Sqlite(p) => format!("sqlite:{}", p.display()),
        Location::Postgres(url) => url.clone(),
    }
}

/// How one protocol's requests look on the wire.
struct Wire {
    name: &'static str,
    protocol: BenchProtocol,
    path: &'static str,
    content_type: String,
    authorization: Option<String>,
    gzip: bool,
    describe: &'static str,
}

/// The multipart boundary of Patchman 1 bodies, as curl makes them.
const BOUNDARY: &str = "------------------------patchwatchbench";

impl Wire {
    fn new(protocol: BenchProtocol, token: &str, no_gzip: bool) -> Wire {
        let form = "application/x-www-form-urlencoded".to_owned();
        let (name, path, content_type, authorization, describe) = match protocol {
            BenchProtocol::Native => (
                "native",
                "/api/v1/reports",
                "application/json".to_owned(),
                Some(format!("Bearer {token}")),
                if no_gzip { "JSON" } else { "gzip JSON" },
            ),
            // pakiti-client labels its raw body as a form.
            BenchProtocol::Pakiti5 => ("pakiti5", "/feed/?protocol=5", form, None, "Pakiti 5 text"),
            BenchProtocol::Pakiti4 => ("pakiti4", "/feed/", form, None, "Pakiti 4 form"),
            BenchProtocol::Patchman1 => (
                "patchman1",
                "/reports/upload/",
                format!("multipart/form-data; boundary={BOUNDARY}"),
                None,
                "Patchman 1 multipart",
            ),
            BenchProtocol::Patchman2 => (
                "patchman2",
                "/api/report/",
                "application/json".to_owned(),
                Some(format!("Api-Key {token}")),
                "Patchman 2 JSON",
            ),
        };
        Wire {
            name,
            protocol,
            path,
            content_type,
            authorization,
            gzip: protocol == BenchProtocol::Native && !no_gzip,
            describe,
        }
    }

    fn body(&self, report: &Report) -> Vec<u8> {
        match self.protocol {
            BenchProtocol::Native => native::to_json(report),
            BenchProtocol::Pakiti5 => pakiti::to_v5(report).into_bytes(),
            BenchProtocol::Pakiti4 => {
                urlencode(&pakiti::to_v4_fields(report, Mode::StoreOnly, false))
            }
            BenchProtocol::Patchman1 => multipart(&patchman::to_v1_fields(report, false)),
            BenchProtocol::Patchman2 => patchman::to_v2_json(report),
        }
    }
}

fn urlencode(fields: &[(String, String)]) -> Vec<u8> {
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        for (j, s) in [k, v].into_iter().enumerate() {
            if j == 1 {
                out.push('=');
            }
            for b in s.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out.into_bytes()
}

fn multipart(fields: &[(String, String)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(v.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn build_bodies(site: &str, args: &BenchIngestArgs, wire: &Wire) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut fleet =
        Fleet::new(vec![Image::debian12()?, Image::rhel9()?], 42).with_drift(args.drift);
    fleet.site = site.to_owned();
    (0..args.hosts)
        .map(|i| {
            let body = wire.body(&fleet.report(i));
            if !wire.gzip {
                return Ok(body);
            }
            // Like `gzip -n`: no name, no time, so unchanged reports are
            // byte-identical.
            let mut gz = flate2::GzBuilder::new()
                .mtime(0)
                .write(Vec::new(), flate2::Compression::new(6));
            gz.write_all(&body)?;
            Ok(gz.finish()?)
        })
        .collect()
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn drive(
    args: &BenchIngestArgs,
    port: u16,
    wire: &Wire,
    bodies: Arc<Vec<Vec<u8>>>,
    server_pid: u32,
) -> anyhow::Result<Vec<Round>> {
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(120))
        .build()?;
    wait_ready(&client, &base).await?;
    let mut rounds =
        vec![send_all(&client, &base, wire, &bodies, args, "first", server_pid).await?];
    for n in 0..args.rounds {
        let name = if args.rounds == 1 {
            "unchanged".to_owned()
        } else {
            format!("unchanged{}", n + 1)
        };
        rounds.push(send_all(&client, &base, wire, &bodies, args, &name, server_pid).await?);
    }
    Ok(rounds)
}

async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the server did not become ready within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn send_all(
    client: &reqwest::Client,
    base: &str,
    wire: &Wire,
    bodies: &Arc<Vec<Vec<u8>>>,
    args: &BenchIngestArgs,
    name: &str,
    server_pid: u32,
) -> anyhow::Result<Round> {
    let next = Arc::new(AtomicUsize::new(0));
    let url = Arc::new(format!("{base}{}", wire.path));
    let auth = Arc::new(wire.authorization.clone());
    let content_type = Arc::new(wire.content_type.clone());
    let cpu_before = cpu_seconds(server_pid);
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, next, bodies, url, auth, content_type) = (
                client.clone(),
                next.clone(),
                bodies.clone(),
                url.clone(),
                auth.clone(),
                content_type.clone(),
            );
            let gzip = wire.gzip;
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else {
                        return Ok::<(), anyhow::Error>(());
                    };
                    let mut req = client
                        .post(url.as_str())
                        .header("Content-Type", content_type.as_str())
                        .body(body.clone());
                    if let Some(auth) = auth.as_deref() {
                        req = req.header("Authorization", auth);
                    }
                    if gzip {
                        req = req.header("Content-Encoding", "gzip");
                    }
                    let resp = req.send().await?;
                    let status = resp.status();
                    if !status.is_success() {
                        let text = resp.text().await.unwrap_or_default();
                        bail!("report {i}: HTTP {status}: {text}");
                    }
                    resp.bytes().await?;
                }
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu_ms = (cpu_seconds(server_pid) - cpu_before) * 1000.0 / bodies.len() as f64;
    Ok(Round {
        name: name.to_owned(),
        reports: bodies.len(),
        seconds,
        reports_per_second: bodies.len() as f64 / seconds,
        server_cpu_ms_per_report: cpu_ms,
        server_capacity_per_second_on_2_cores: 2000.0 / cpu_ms,
        server_peak_rss_mib: peak_rss_mib(server_pid),
    })
}

/// CPU seconds (user + system) a process has used: fields 14 and 15 of
/// /proc/PID/stat, in clock ticks of 1/100 s on Linux.
fn cpu_seconds(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // The command name (field 2) may contain spaces: count from its end.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

/// The process's peak resident memory (VmHWM), Linux only.
fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
