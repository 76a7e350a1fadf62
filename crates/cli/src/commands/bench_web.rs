//! `patchwatch bench web`: every web UI page at fleet scale.
//!
//! Stores a synthetic fleet (100,000 hosts by default, in four sites, two
//! of them in a site group) straight into a scratch SQLite database,
//! imports the real AlmaLinux OSV database, starts the real server with
//! the UI on loopback, logs in as an administrator and requests each page
//! of a list many times, one request at a time, printing the median and
//! 95th percentile per page. The first request of each page (a warm-up:
//! caches filled, a snapshot read) is timed apart and not counted in them.
//! `--url PATH` adds pages to the list.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use patchwatch_auth::Role;
use patchwatch_fleet::shared_data_dir;
use patchwatch_store::users::ORIGIN_LOCAL;
use patchwatch_store::{Database, FeedKind, NewAssignment, NewFeed, NewGrant, NewUser};
use serde::Serialize;

use super::Context;
use super::bench::scratch_location;
use super::bench_assess::{ALMA, import, store_fleet};
use crate::cli::BenchWebArgs;
use crate::output::{Format, print_json};

const USER: &str = "bench-admin";
const PASSWORD: &str = "bench password, not a secret";
const SITES: [&str; 4] = ["BENCH-A", "BENCH-B", "BENCH-C", "BENCH-D"];
/// The p95 every page must stay under (issue 11).
const TARGET_MS: f64 = 200.0;

/// The pages requested: every page of the UI (`patchwatch_web::routes`),
/// the hosts list with each filter; `{host}` and `{cve}` are filled in
/// with a stored host and a CVE of the fleet. Pages of this list the
/// build does not have yet answer 404 and are reported as such.
const PAGES: &[&str] = &[
    "/hosts",
    "/hosts?site=BENCH-B",
    "/hosts?group=BENCH-GROUP",
    "/hosts?os=debian",
    "/hosts?os=almalinux+9",
    "/hosts?tag=service",
    "/hosts?domain=.example.org",
    "/hosts?cve={cve}",
    "/hosts?cve_tag=bench",
    "/hosts?cve_tag=Critical",
    "/hosts?tagged=yes",
    "/hosts?covered=no",
    "/hosts?covered=yes",
    "/hosts?site=BENCH-A&covered=yes&security_updates=yes",
    "/hosts?seen_within_days=1",
    "/hosts?not_seen_days=1",
    "/hosts?reboot=yes",
    "/hosts?security_updates=yes",
    "/hosts?sort=hostname",
    "/hosts?sort=hostname&order=desc",
    "/hosts?sort=os",
    "/hosts?sort=last_seen&order=desc",
    "/hosts?sort=packages",
    "/hosts?sort=hostname&page=1000",
    "/hosts?site=BENCH-C&cve={cve}&sort=last_seen",
    "/hosts.csv?site=BENCH-D",
    "/hosts/{host}",
    "/cves",
    "/cves/{cve}",
    "/exceptions",
    "/tags",
    "/admin/users",
    "/admin/tokens",
    "/",
    "/?days=90",
    "/sites",
    "/sites/BENCH-A",
    "/groups",
    "/os",
    "/feeds",
    "/repos",
    "/packages",
    "/packages?name=openssl",
    "/packages/openssl",
    "/packages/openssl-libs",
];

#[derive(Debug, Serialize)]
struct PageTimes {
    path: String,
    status: u16,
    /// Requests counted (after the warm-up).
    requests: usize,
    /// The warm-up: the page's first request, not counted.
    first_ms: f64,
    p50_ms: f64,
    p95_ms: f64,
    max_ms: f64,
    bytes: usize,
}

pub async fn run(ctx: Context, args: BenchWebArgs) -> anyhow::Result<ExitCode> {
    if args.hosts == 0 || args.requests == 0 {
        bail!("--hosts and --requests must be at least 1");
    }
    let scratch = tempfile::tempdir()?;
    let location = scratch_location(&ctx, &scratch);
    let db = location.open().await?;
    let sites = prepare(&db, &args).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = patchwatch_server::Server::new(db.clone(), ctx.config.server.clone())?
        .with_ui(patchwatch_web::routes());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));

    let client = Client::login(&base).await?;
    // The first fleet-wide page assesses every host once (the server
    // keeps the result): timed apart, it is not what a page costs.
    let start = Instant::now();
    let cves = client.get("/cves").await?;
    let first_assessment = start.elapsed();
    let cve = first_link(&cves.1, "href=\"/cves/").context("no CVE on the CVE list")?;
    let hosts = client.get("/hosts").await?;
    let host = first_link(&hosts.1, "href=\"/hosts/").context("no host on the hosts list")?;
    db.assign_tag(&NewAssignment {
        cve: cve.clone(),
        tag: "bench".into(),
        reason: "bench web".into(),
        author: "bench".into(),
    })
    .await?;

    let mut paths: Vec<String> = PAGES
        .iter()
        .map(|p| p.replace("{cve}", &cve).replace("{host}", &host))
        .collect();
    paths.extend(args.url.iter().cloned());
    let mut results = Vec::new();
    for path in &paths {
        let mut times = Vec::with_capacity(args.requests);
        let warm_up = Instant::now();
        let (mut status, body) = client.get(path).await?;
        let first = warm_up.elapsed();
        let mut bytes = body.len();
        let page_start = Instant::now();
        for i in 0..args.requests {
            // A very slow page is measured a few times, not for minutes.
            if i >= 3 && page_start.elapsed() > Duration::from_secs(args.max_seconds_per_page) {
                break;
            }
            let start = Instant::now();
            let (s, body) = client.get(path).await?;
            times.push(start.elapsed());
            status = s;
            bytes = body.len();
        }
        times.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let at =
            |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
        results.push(PageTimes {
            path: path.clone(),
            status,
            requests: times.len(),
            first_ms: ms(first),
            p50_ms: ms(at(0.5)),
            p95_ms: ms(at(0.95)),
            max_ms: ms(*times.last().expect("requests >= 1")),
            bytes,
        });
    }
    let _ = stop.send(());
    let _ = serving.await;

    let slow: Vec<&PageTimes> = results
        .iter()
        .filter(|r| r.status == 200 && r.p95_ms > TARGET_MS)
        .collect();
    if ctx.format == Format::Json {
        print_json(&serde_json::json!({
            "database": location.display(),
            "hosts": args.hosts,
            "sites": sites,
            "first_assessment_seconds": first_assessment.as_secs_f64(),
            "target_p95_ms": TARGET_MS,
            "pages": results,
        }))?;
    } else {
        println!(
            "database {}, {} hosts in {} sites; first fleet-wide page (assesses the fleet) {:.2} s",
            location.display(),
            args.hosts,
            sites,
            first_assessment.as_secs_f64()
        );
        println!(
            "{:<48} {:>6} {:>5} {:>9} {:>8} {:>8} {:>8} {:>9}",
            "page", "status", "n", "first ms", "p50 ms", "p95 ms", "max ms", "bytes"
        );
        for r in &results {
            println!(
                "{:<48} {:>6} {:>5} {:>9.1} {:>8.1} {:>8.1} {:>8.1} {:>9}{}",
                r.path,
                r.status,
                r.requests,
                r.first_ms,
                r.p50_ms,
                r.p95_ms,
                r.max_ms,
                r.bytes,
                if r.status == 200 && r.p95_ms > TARGET_MS {
                    "  over target"
                } else if r.status == 404 {
                    "  (not in this build)"
                } else {
                    ""
                }
            );
        }
        println!(
            "n: requests counted after one warm-up request per page (first ms); \
             {} of {} pages over the {TARGET_MS} ms p95 target",
            slow.len(),
            results.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The fleet, a site group, the AlmaLinux feed, an administrator and a
/// CVE tag; the number of sites.
async fn prepare(db: &Arc<dyn Database>, args: &BenchWebArgs) -> anyhow::Result<usize> {
    let mut sites = Vec::new();
    for name in SITES {
        sites.push((db.create_site(name).await?.id, name.to_owned()));
    }
    db.add_site_group("BENCH-GROUP", None).await?;
    for name in &SITES[..2] {
        db.set_group_member("BENCH-GROUP", name, true).await?;
    }
    let start = Instant::now();
    store_fleet(db, &sites, args.hosts, args.drift, args.concurrency).await?;
    eprintln!(
        "Stored {} hosts in {:.1} s.",
        args.hosts,
        start.elapsed().as_secs_f64()
    );
    let doc = std::fs::read(shared_data_dir().join(ALMA)).context(ALMA)?;
    let feed = db
        .add_feed(&NewFeed {
            name: "bench-alma".into(),
            kind: FeedKind::Osv,
            source: ALMA.into(),
            releases: "AlmaLinux 8, 9".into(),
        })
        .await?;
    import(db, feed.id, "bench-alma", doc).await?;
    db.add_tag("bench", "bench web").await?;
    db.add_user(&NewUser {
        name: USER.into(),
        password_hash: Some(patchwatch_auth::password::hash(PASSWORD)?),
        origin: ORIGIN_LOCAL.into(),
    })
    .await?;
    db.grant(
        USER,
        &NewGrant {
            role: Role::Admin,
            site: None,
            group: None,
        },
    )
    .await?;
    Ok(sites.len())
}

/// The first `prefix...` link target's last part (`/hosts/17` -> `17`).
fn first_link(body: &str, prefix: &str) -> Option<String> {
    let at = body.find(prefix)? + prefix.len();
    let rest = &body[at..];
    let end = rest.find(['"', '?', '#'])?;
    Some(rest[..end].to_owned()).filter(|s| !s.is_empty())
}

/// A logged-in browser: the session cookie on every request, redirects
/// not followed (one to the login page is a failure, others are timed as
/// they are).
struct Client {
    base: String,
    http: reqwest::Client,
    cookie: String,
}

impl Client {
    async fn login(base: &str) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let r = http
            .post(format!("{base}/login"))
            .header("origin", base)
            .form(&[("username", USER), ("password", PASSWORD)])
            .send()
            .await?;
        let cookie = r
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .with_context(|| format!("logging in answered {} without a session", r.status()))?;
        Ok(Client {
            base: base.to_owned(),
            http,
            cookie,
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = r.status().as_u16();
        let location = r.headers().get(reqwest::header::LOCATION);
        if location.is_some_and(|l| l.as_bytes() == b"/login") {
            bail!("GET {path} redirected to the login page: the session was lost");
        }
        Ok((status, r.text().await?))
    }
}
