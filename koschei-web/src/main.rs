//! The `koschei-web` binary: loads the shared configuration, applies the flags over it,
//! opens the database pool and runs the server.
#![forbid(unsafe_code)]
#![allow(clippy::print_stderr)]

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use koschei_core::config::{Config, ConfigSources, DatabaseUrl, state_dir};
use koschei_core::db::Database;

/// Read-only web frontend and JSON API of Koschei.
///
/// Settings come from the same configuration as the `koschei` command (built-in defaults,
/// `/etc/koschei/config.toml`, `/etc/koschei/config.d/*.toml`, then `--config` or
/// `KOSCHEI_CONFIG`; `KOSCHEI_DATABASE_URL`); flags override them.
#[derive(Debug, Parser)]
#[command(name = "koschei-web", version)]
struct Args {
    /// Configuration file merged last (instead of `$KOSCHEI_CONFIG`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5000")]
    listen: String,
    /// PostgreSQL URL (default: `database.url` of the configuration, or
    /// `$KOSCHEI_DATABASE_URL`, else the private cluster as for `koschei`).
    #[arg(long)]
    database_url: Option<String>,
    /// Worker threads answering requests.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    /// Maximum database connections (default: `database.pool_size`, at least `--workers`:
    /// a worker without a connection can only wait for one).
    #[arg(long)]
    db_connections: Option<u32>,
    /// Koji web UI URL, for taskinfo links (default: `koji.weburl`).
    #[arg(long)]
    koji_weburl: Option<String>,
    /// Koji top URL, for task results and logs (default: `koji.topurl`).
    #[arg(long)]
    koji_topurl: Option<String>,
    /// Secondary Koji web UI URL, for real builds of secondary-mode collections (default:
    /// `secondary_koji.weburl`).
    #[arg(long, requires = "secondary_koji_topurl")]
    secondary_koji_weburl: Option<String>,
    /// Secondary Koji top URL (default: `secondary_koji.topurl`).
    #[arg(long, requires = "secondary_koji_weburl")]
    secondary_koji_topurl: Option<String>,
    /// Rows per package list page (default: `frontend.packages_per_page`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    packages_per_page: Option<u32>,
    /// History entries per package page (default: `frontend.builds_per_page`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    builds_per_page: Option<u32>,
    /// Milliseconds a successful response is served again from memory (0 = no cache).
    #[arg(long, default_value_t = 1000)]
    cache_ttl_ms: u64,
    /// Most mebibytes the response cache holds.
    #[arg(long, default_value_t = 64)]
    cache_max_mib: usize,
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
    /// Write the man page `koschei-web.1` into DIR and exit (for packagers).
    #[arg(long, value_name = "DIR", hide = true)]
    generate_man: Option<PathBuf>,
    /// Print the completion script for SHELL and exit (for packagers).
    #[arg(long, value_name = "SHELL", hide = true)]
    generate_completions: Option<clap_complete::Shell>,
}

/// `--generate-man` and `--generate-completions`.
fn generate(args: &Args) -> anyhow::Result<bool> {
    use clap::CommandFactory as _;
    use std::io::Write as _;
    let mut cmd = Args::command();
    if let Some(dir) = &args.generate_man {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let path = dir.join("koschei-web.1");
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut page)?;
        std::fs::write(&path, page)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        return Ok(true);
    }
    if let Some(shell) = args.generate_completions {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, "koschei-web", &mut script);
        let mut out = std::io::stdout().lock();
        match out.write_all(&script).and_then(|()| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
            _ => {}
        }
        return Ok(true);
    }
    Ok(false)
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

/// The configuration's settings with the flags applied over them.
fn options(args: &Args, config: &Config) -> koschei_web::Options {
    let mut o = koschei_web::Options::from_config(config);
    o.workers = args.workers;
    if let Some(u) = &args.koji_weburl {
        o.koji_weburl = u.trim_end_matches('/').to_owned();
    }
    if let Some(u) = &args.koji_topurl {
        o.koji_topurl = u.trim_end_matches('/').to_owned();
    }
    if let (Some(w), Some(t)) = (&args.secondary_koji_weburl, &args.secondary_koji_topurl) {
        o.secondary_koji_weburl = Some(w.trim_end_matches('/').to_owned());
        o.secondary_koji_topurl = Some(t.trim_end_matches('/').to_owned());
    }
    if let Some(n) = args.packages_per_page {
        o.packages_per_page = i64::from(n);
    }
    if let Some(n) = args.builds_per_page {
        o.builds_per_page = i64::from(n);
    }
    o.cache_ttl = Duration::from_millis(args.cache_ttl_ms);
    o.cache_max_bytes = args.cache_max_mib.saturating_mul(1 << 20);
    o.max_connections = args.max_connections;
    o.read_timeout = args.read_timeout;
    o.keep_alive_timeout = args.keep_alive_timeout;
    o.write_timeout = args.write_timeout;
    o
}

fn run(args: Args, config: &Config) -> anyhow::Result<()> {
    // `--database-url`, else the configured server, else the private cluster (kept running,
    // as by `koschei service run`).
    let mut database = match &args.database_url {
        Some(url) => {
            let mut db = config.database.clone();
            db.url = Some(
                DatabaseUrl::parse(url)
                    .map_err(|m| anyhow::anyhow!("invalid `--database-url`: {m}"))?,
            );
            Database::open(&db, None)?
        }
        None => Database::open(&config.database, state_dir())?,
    };
    database.keep_running();
    let pool = koschei_web::lazy_pool(
        database.url().to_pg_config(),
        args.db_connections.unwrap_or_else(|| {
            config
                .database
                .pool_size
                .max(u32::try_from(args.workers).unwrap_or(u32::MAX))
        }),
    );
    let server = koschei_web::serve(&args.listen, pool, options(&args, config))?;
    tracing::info!(database = %database.location(), "koschei-web reads the database");
    eprintln!("koschei-web listening on {}", server.url());
    server.wait();
    Ok(())
}

fn init_logging(config_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(config_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

fn main() {
    let args = Args::parse();
    match generate(&args) {
        Ok(true) => return,
        Ok(false) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
    let config = match Config::load(&ConfigSources::from_env(args.config.clone()))
        .context("cannot load the configuration")
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            // As `koschei`: 5 is a configuration error (systemd units do not restart on it).
            std::process::exit(5);
        }
    };
    init_logging(&config.log_filter);
    if let Err(e) = run(args, &config) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
