//! `koschei demo`: the whole loop on one machine with no configuration. A private
//! PostgreSQL cluster, an in-process fake Koji hub serving a generated tag, a collection
//! tracking it, engine passes that turn a library update into scratch builds, and the web
//! frontend on 127.0.0.1 until Ctrl-C.

use crate::exit::outln;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use koschei_core::config::{Config, DatabaseConfig, DatabaseUrl};
use koschei_core::db::collection::{self as coll, NewCollection};
use koschei_core::db::package as pkg;
use koschei_core::db::web::{Reader, unapplied_changes};
use koschei_core::db::{Database, migrate, with_dbname};
use koschei_core::koji::{Client, ClientOptions, Login};
use koschei_core::model::{CollectionId, PackageId};
use koschei_core::service::scheduler::Outcome;
use koschei_core::service::{self, Engine, PassOptions};
use koschei_fakehub::rpmmd::write_repo;
use koschei_fakehub::scenario as data;
use koschei_fakehub::{FakeHub, TaskState};
use koschei_solver::engine::{SolverResolver, SolverResolverOptions};

/// Arguments of `koschei demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address of the web frontend.
    #[arg(long, default_value = "127.0.0.1:5000", value_name = "ADDR")]
    listen: String,
    /// Run the scripted loop and exit instead of serving the web frontend until Ctrl-C.
    #[arg(long)]
    no_wait: bool,
}

/// The demo database inside the private cluster (dropped and created on every run).
const DEMO_DB: &str = "koschei_demo";

fn say(text: impl AsRef<str>) {
    // The demo keeps serving its web page when nobody reads its narration any more.
    let _ = outln!("{}", text.as_ref());
}

/// Prints the heading of step `n`, unless Ctrl-C was pressed (then everything started so
/// far is stopped as the values drop).
fn step(stop: &AtomicBool, n: u32, text: &str) -> anyhow::Result<()> {
    if stop.load(Ordering::Relaxed) {
        anyhow::bail!("interrupted");
    }
    outln!("\n[{n}/7] {text}")?;
    Ok(())
}

/// Runs the demo.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let work = tempdir()?;
    let result = run_in(&args, &work, &stop);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("koschei-demo-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    Ok(dir)
}

fn run_in(args: &Args, work: &Path, stop: &AtomicBool) -> anyhow::Result<()> {
    say("Koschei demo: continuous rebuild testing against a fake Koji hub, all on this machine.");

    step(stop, 1, "PostgreSQL")?;
    let database = Database::open(
        &DatabaseConfig {
            url: None,
            unpriv_username: None,
            pool_size: 4,
        },
        koschei_core::config::state_dir(),
    )?;
    let url = fresh_database(&database)?;
    let mut client = koschei_core::db::connect(&url)?;
    migrate::migrate(&mut client)?;
    // The narration reads what the web shows through the web's reader, over this pool
    // (which the web frontend of step 7 uses too).
    let pool = koschei_core::db::pool(&url, 4)?;
    say(format!(
        "  {}: database `{DEMO_DB}` created and migrated",
        database.location()
    ));

    step(stop, 2, "Fake Koji hub")?;
    let hub = FakeHub::start()?;
    let repo_dir = |n: u32| work.join(format!("repo{n}"));
    setup_hub(&hub, &repo_dir(1), "1.0-1")?;
    say(format!(
        "  {} serves tag `{}` ({} source packages with builds) and build tag `{}`",
        hub.url(),
        data::TAG,
        data::SOURCES.len(),
        data::BUILD_TAG
    ));
    say(format!(
        "  repo 1 of `{}`: {} binary packages, build group `build` ({}), libfoo 1.0-1",
        data::BUILD_TAG,
        data::binary_packages("1.0-1").len(),
        data::GROUP.join(" ")
    ));

    let config = demo_config(&hub, work)?;
    let mut engine = demo_engine(&config)?;

    step(stop, 3, "Collection")?;
    let mut new = NewCollection::new("demo", "Demo", data::TAG, data::BUILD_TAG);
    new.dest_tag = data::TAG.to_owned();
    let collection = coll::create(&mut client, &new)?;
    pass(
        &mut engine,
        &mut client,
        &pool,
        &HashMap::new(),
        "engine pass (nothing tracked yet): package list and real builds from Koji",
    )?;
    let names: Vec<String> = data::SOURCES
        .iter()
        .map(|(nvr, _)| name_of(nvr).to_owned())
        .collect();
    let (found, _) = pkg::find_many(&mut client, collection.id, &names)?;
    let ids: Vec<_> = found.iter().map(|p| p.id).collect();
    pkg::set_tracked(&mut client, &ids, true)?;
    let by_id: HashMap<PackageId, String> = found.iter().map(|p| (p.id, p.name.clone())).collect();
    say(format!(
        "  collection `demo` (target `{}`) tracks: {}",
        data::TAG,
        names.join(", ")
    ));

    step(
        stop,
        4,
        "First engine pass: real builds, resolution in repo 1",
    )?;
    pass(&mut engine, &mut client, &pool, &by_id, "engine pass")?;
    table(&mut client, collection.id, &names)?;

    step(stop, 5, "A library update: repo 2 has libfoo 1.1-1")?;
    write_repo(
        &repo_dir(2).join("x86_64"),
        &data::binary_packages("1.1-1"),
        &data::groups(),
        2,
    )?;
    let repo = hub.add_repo(data::BUILD_TAG, &repo_dir(2));
    say(format!(
        "  Koji: repo {repo} of `{}` is ready",
        data::BUILD_TAG
    ));
    let mut tasks = Vec::new();
    for _ in 0..3 {
        if let Some(task) = pass(&mut engine, &mut client, &pool, &by_id, "engine pass")? {
            tasks.push(task);
        }
    }
    table(&mut client, collection.id, &names)?;

    step(stop, 6, "Koji finishes the scratch builds")?;
    std::thread::sleep(Duration::from_millis(500));
    for (task, package) in &tasks {
        let state = if package == data::FAILS {
            TaskState::Failed
        } else {
            TaskState::Closed
        };
        hub.finish_task(*task, state);
        say(format!(
            "  Koji: task {task} ({package}) {}",
            if state == TaskState::Failed {
                "FAILED"
            } else {
                "completed"
            }
        ));
    }
    pass(
        &mut engine,
        &mut client,
        &pool,
        &by_id,
        "engine pass: polling records the builds, the build resolver applies the changes",
    )?;
    applied(&mut client, &pool, collection.id, &tasks)?;
    table(&mut client, collection.id, &names)?;

    step(stop, 7, "Web frontend")?;
    // The web shows the engine's priorities (the demo's configuration), the hub's URLs.
    let options = koschei_web::Options {
        workers: 2,
        ..koschei_web::Options::from_config(&config)
    };
    let server = koschei_web::serve(&args.listen, pool, options).map_err(|e| {
        anyhow::anyhow!(
            "{:#}\n\nhint: choose another address with `koschei demo --listen 127.0.0.1:PORT`",
            anyhow::Error::from(e)
        )
    })?;
    say(format!("  koschei-web listening on {}", server.url()));
    say(format!(
        "  try {0}/package/foo-cli and {0}/api/v1/packages",
        server.url()
    ));
    if args.no_wait {
        say("\nDone (--no-wait): stopping.");
    } else {
        say("\nPress Ctrl-C to stop the web frontend, the fake hub and PostgreSQL.");
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(200));
        }
        say("\nStopping.");
    }
    server.shutdown();
    drop(engine);
    drop(hub);
    drop(client);
    drop(database);
    say("Stopped: web frontend, fake Koji hub and PostgreSQL.");
    Ok(())
}

fn name_of(nvr: &str) -> &str {
    let mut parts = nvr.rsplitn(3, '-');
    let _release = parts.next();
    let _version = parts.next();
    parts.next().unwrap_or(nvr)
}

/// Drops and creates the demo database; returns its URL.
fn fresh_database(database: &Database) -> anyhow::Result<DatabaseUrl> {
    let mut admin = database.connect()?;
    // The name is a constant identifier, not input.
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {DEMO_DB} WITH (FORCE)"))?;
    admin.batch_execute(&format!("CREATE DATABASE {DEMO_DB}"))?;
    DatabaseUrl::parse(&with_dbname(database.url().expose(), DEMO_DB))
        .map_err(|e| anyhow::anyhow!("demo database URL: {e}"))
}

fn setup_hub(hub: &FakeHub, repo1: &Path, libfoo: &str) -> anyhow::Result<()> {
    data::setup(hub, repo1, libfoo)?;
    Ok(())
}

/// The configuration: the hub's URLs, x86_64 only, and a time priority that stays at its
/// floor (the fake hub's clock is fixed), so only the update triggers builds.
fn demo_config(hub: &FakeHub, work: &Path) -> anyhow::Result<Config> {
    let text = format!(
        "[koji]\nserver = \"{}\"\ntopurl = \"{}\"\nweburl = \"{}\"\nbuild_arches = [\"x86_64\"]\n\
         max_builds = 5\nload_threshold = 0.9\nretries = 1\n\n[directories]\ncachedir = \"{}\"\n\n\
         [priorities]\nt0 = 1000000.0\nt1 = 10000000.0\n",
        hub.url(),
        hub.topurl(),
        hub.weburl(),
        work.join("cache").display()
    );
    Ok(Config::from_texts(&[(Path::new("<demo>"), &text)], None)?)
}

/// The engine logged in to the hub with the fake hub's password user.
fn demo_engine(config: &Config) -> anyhow::Result<Engine> {
    let client = Client::new(ClientOptions {
        login: Login::Password {
            user: "koschei".to_owned(),
            password: "koschei".to_owned(),
        },
        ..config.koji.client_options()
    })?;
    client.login()?;
    let resolver = SolverResolver::new(SolverResolverOptions::from_config(config))?;
    Ok(Engine::new(
        Box::new(client),
        Box::new(resolver),
        config.service_settings(),
    ))
}

/// One pass of every service with a line per service; returns the submitted task, if any.
fn pass(
    engine: &mut Engine,
    client: &mut postgres::Client,
    pool: &koschei_core::db::Pool,
    names: &HashMap<PackageId, String>,
    title: &str,
) -> anyhow::Result<Option<(i64, String)>> {
    say(format!("  {title}:"));
    let mut report = engine.run_pass(client, &PassOptions::default());
    if let Some((name, e)) = report.failures.pop() {
        return Err(anyhow::Error::new(e).context(format!("{name} failed")));
    }
    let (Some(p), Some(r), Some(b), Some(outcome)) = (
        report.polling,
        report.repo_resolver,
        report.build_resolver,
        report.scheduler,
    ) else {
        anyhow::bail!("a service of the pass did not run");
    };
    say(format!(
        "    polling: {} new packages, {} real builds registered, {} scratch builds finished",
        p.new_packages, p.real_builds, p.finished
    ));
    say(format!(
        "    repo resolver: {} new repo, {} packages resolved{}",
        r.new_repos,
        r.resolved_packages,
        state_changes(names, &r.events)
    ));
    say(format!(
        "    build resolver: dependencies of {} builds stored, {} unresolvable",
        b.resolved, b.unresolved
    ));
    let submitted = match outcome {
        Outcome::Submitted {
            package_id,
            task_id,
            ..
        } => {
            let name = name_of_id(names, package_id);
            let changes = unapplied_changes(&mut Reader::new(pool.get()?), package_id)?;
            let why: Vec<String> = changes
                .iter()
                .map(|c| {
                    format!(
                        "{} {} -> {} (distance {})",
                        c.dep_name,
                        evr(c.prev.as_ref()),
                        evr(c.curr.as_ref()),
                        c.distance.map_or("-".to_owned(), |d| d.to_string())
                    )
                })
                .collect();
            say(format!(
                "    scheduler: submitted a scratch build of {name} for x86_64 (Koji task {}), because of {}",
                task_id.0,
                why.join(", ")
            ));
            Some((i64::from(task_id.0), name))
        }
        Outcome::NothingToDo => {
            say("    scheduler: no package reaches the priority threshold");
            None
        }
        other => {
            say(format!("    scheduler: {other}"));
            None
        }
    };
    Ok(submitted)
}

/// An EVR as people write it (no `0:` epoch); `-` when absent.
fn evr(e: Option<&koschei_core::model::Evr>) -> String {
    e.map_or("-".to_owned(), |e| {
        let s = e.to_string();
        s.strip_prefix("0:").map(str::to_owned).unwrap_or(s)
    })
}

fn name_of_id(names: &HashMap<PackageId, String>, id: PackageId) -> String {
    names
        .get(&id)
        .cloned()
        .unwrap_or_else(|| format!("package #{}", id.0))
}

fn state_changes(names: &HashMap<PackageId, String>, events: &[service::StateChange]) -> String {
    events
        .iter()
        .map(|e| {
            format!(
                "; {}: {} -> {}",
                name_of_id(names, e.package_id),
                e.prev,
                e.new
            )
        })
        .collect()
}

/// The applied changes of the given builds.
fn applied(
    client: &mut postgres::Client,
    pool: &koschei_core::db::Pool,
    collection: CollectionId,
    tasks: &[(i64, String)],
) -> anyhow::Result<()> {
    for (task, name) in tasks {
        let Some(p) = pkg::by_name(client, name, Some(collection))?
            .into_iter()
            .next()
        else {
            continue;
        };
        let history =
            koschei_core::db::web::package_history(&mut Reader::new(pool.get()?), p.id, None, 20)?;
        for entry in history {
            if let koschei_core::db::web::HistoryEntry::Build(b) = entry
                && i64::from(b.build.task_id.0) == *task
            {
                let changes: Vec<String> = b
                    .changes
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {} -> {}",
                            c.dep_name,
                            evr(c.prev.as_ref()),
                            evr(c.curr.as_ref())
                        )
                    })
                    .collect();
                say(format!(
                    "  {name}: build of task {task} is {}, applied changes: {}",
                    b.build.state.as_str(),
                    if changes.is_empty() {
                        "none".to_owned()
                    } else {
                        changes.join(", ")
                    }
                ));
            }
        }
    }
    Ok(())
}

/// A table of the tracked packages.
fn table(
    client: &mut postgres::Client,
    collection: CollectionId,
    names: &[String],
) -> anyhow::Result<()> {
    let (packages, _) = pkg::find_many(client, collection, names)?;
    say(format!(
        "  {:<12} {:<11} {:>10} {:>6}  last build",
        "package", "state", "dep. prio", "build"
    ));
    for p in packages {
        let last = p.last_build.as_ref().map_or("-".to_owned(), |b| {
            format!(
                "{} {} (task {})",
                b.version_release.as_deref().unwrap_or("running"),
                b.state.map_or("running", |s| s.as_str()),
                b.task_id
            )
        });
        say(format!(
            "  {:<12} {:<11} {:>10} {:>6}  {last}",
            p.name,
            p.state.as_str(),
            p.dependency_priority,
            p.build_priority
        ));
    }
    Ok(())
}
