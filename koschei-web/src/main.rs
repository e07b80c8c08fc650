//! The `koschei-web` binary: parses flags, opens the database pool and runs the server.
#![forbid(unsafe_code)]
#![allow(clippy::print_stderr)]

use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;

/// Read-only web frontend and JSON API of Koschei.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5000")]
    listen: String,
    /// PostgreSQL URL (default: `$KOSCHEI_DATABASE_URL`, else the local server).
    #[arg(long)]
    database_url: Option<String>,
    /// Worker threads answering requests.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Maximum database connections.
    #[arg(long, default_value_t = 8)]
    db_connections: u32,
    /// Secondary Koji web UI URL (links of real builds in secondary-mode collections).
    #[arg(long, requires = "secondary_koji_topurl")]
    secondary_koji_weburl: Option<String>,
    /// Secondary Koji top URL.
    #[arg(long, requires = "secondary_koji_weburl")]
    secondary_koji_topurl: Option<String>,
    /// Milliseconds a successful response is served again from memory (0 = no cache).
    #[arg(long, default_value_t = 1000)]
    cache_ttl_ms: u64,
    /// Most client connections open at once; more get an immediate 503 (keep it below
    /// `ulimit -n` minus the database connections).
    #[arg(long, default_value_t = 512)]
    max_connections: usize,
    /// Seconds a client has to send a request head (408 after).
    #[arg(long, default_value = "20", value_parser = seconds)]
    read_timeout: Duration,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, default_value = "5", value_parser = seconds)]
    keep_alive_timeout: Duration,
    /// Seconds a client has to take a whole response (cut off after).
    #[arg(long, default_value = "60", value_parser = seconds)]
    write_timeout: Duration,
    /// Most mebibytes the response cache holds.
    #[arg(long, default_value_t = 64)]
    cache_max_mib: usize,
    /// Koji web UI URL (taskinfo links).
    #[arg(long, default_value = "https://koji.fedoraproject.org/koji")]
    koji_weburl: String,
    /// Koji top URL (task results and logs).
    #[arg(long, default_value = "https://kojipkgs.fedoraproject.org")]
    koji_topurl: String,
}

#[allow(
    clippy::disallowed_methods,
    reason = "until the shared config loader is merged, the binary reads its database URL here"
)]
fn database_url_from_env() -> Option<String> {
    std::env::var("KOSCHEI_DATABASE_URL").ok()
}

/// A number of seconds (fractions allowed), more than zero and at most a day.
fn seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(v > 0.0 && v <= 86_400.0) {
        return Err(format!(
            "`{s}` must be more than 0 and at most 86400 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

fn run(args: Args) -> anyhow::Result<()> {
    let url = args
        .database_url
        .or_else(database_url_from_env)
        .unwrap_or_else(|| "postgresql://postgres@127.0.0.1:5432/koschei".to_owned());
    let config: r2d2_postgres::postgres::Config = url.parse().context("invalid database URL")?;
    let pool = koschei_web::lazy_pool(config, args.db_connections);
    let options = koschei_web::Options {
        workers: args.workers,
        koji_weburl: args.koji_weburl,
        koji_topurl: args.koji_topurl,
        secondary_koji_weburl: args.secondary_koji_weburl,
        secondary_koji_topurl: args.secondary_koji_topurl,
        cache_ttl: Duration::from_millis(args.cache_ttl_ms),
        cache_max_bytes: args.cache_max_mib.saturating_mul(1 << 20),
        max_connections: args.max_connections,
        read_timeout: args.read_timeout,
        keep_alive_timeout: args.keep_alive_timeout,
        write_timeout: args.write_timeout,
        ..koschei_web::Options::default()
    };
    let server = koschei_web::serve(&args.listen, pool, options)?;
    eprintln!("koschei-web listening on {}", server.url());
    server.wait();
    Ok(())
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Args::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
