//! `koschei messaging listen|publish-pending|status`, and the outbox flush that `run --once`
//! and `service run` do after their passes.

use std::sync::atomic::Ordering;
use std::time::Duration;

use koschei_core::config::Config;
use koschei_core::db::outbox;
use koschei_core::messaging::koji::KojiEvent;
use koschei_core::messaging::listener::{self, Outcome};
use koschei_core::messaging::{self, Broker, HandlerResult, ListenOptions, PublishReport};
use koschei_core::service;

use super::{Context, print_json};

/// `koschei messaging ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Consume Koji's messages and act on them at once, until SIGTERM or SIGINT (the
    /// original's `watcher` service); also publishes the outbox when publishing is enabled.
    Listen(ListenArgs),
    /// Send the messages waiting in the outbox to the broker.
    PublishPending,
    /// Messages waiting in the outbox, the last publication error, and whether the broker
    /// answers.
    Status(StatusArgs),
}

/// `messaging listen` options.
#[derive(Debug, clap::Args)]
pub(crate) struct ListenArgs {
    /// Never write to Koji (no cancelations, no login).
    #[arg(long)]
    passive: bool,
}

/// `messaging status` options.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(ctx: &Context, command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Listen(a) => listen(ctx, &a),
        Command::PublishPending => {
            let (_db, mut client) = ctx.connect_current()?;
            let mut broker = Broker::connect(&ctx.config.messaging.broker)?;
            let r = messaging::publish_pending(&mut client, &mut broker)?;
            broker.close();
            if r.locked {
                println!("another process is publishing; nothing sent");
            } else {
                println!("{} messages published, {} pending", r.published, r.pending);
            }
            Ok(0)
        }
        Command::Status(a) => status(ctx, &a),
    }
}

#[derive(Debug, serde::Serialize)]
struct Status {
    publishing_enabled: bool,
    broker: String,
    broker_reachable: bool,
    broker_error: Option<String>,
    outbox: outbox::OutboxStatus,
}

fn status(ctx: &Context, args: &StatusArgs) -> anyhow::Result<u8> {
    let (_db, mut client) = ctx.connect_current()?;
    let outbox = outbox::status(&mut client)?;
    let m = &ctx.config.messaging;
    let (reachable, error) = match Broker::connect(&m.broker) {
        Ok(b) => {
            b.close();
            (true, None)
        }
        Err(e) => (false, Some(koschei_core::db::report(&e))),
    };
    let s = Status {
        publishing_enabled: m.publish,
        broker: m.broker.masked_url(),
        broker_reachable: reachable,
        broker_error: error,
        outbox,
    };
    if args.json {
        print_json(&s)?;
        return Ok(0);
    }
    println!(
        "publishing:  {}",
        if s.publishing_enabled {
            "enabled"
        } else {
            "disabled (fedmsg-publisher.enabled = false)"
        }
    );
    match &s.broker_error {
        None => println!("broker:      {} (reachable)", s.broker),
        Some(e) => println!("broker:      {} (unreachable: {e})", s.broker),
    }
    println!("outbox:      {} messages waiting", s.outbox.pending);
    if let Some(oldest) = &s.outbox.oldest {
        println!("oldest:      {oldest}");
    }
    if let Some(e) = &s.outbox.last_error {
        println!("last error:  {e}");
    }
    Ok(0)
}

fn listen(ctx: &Context, args: &ListenArgs) -> anyhow::Result<u8> {
    let stop = super::run::stop_on_signals()?;
    let config = &ctx.config;
    let (_db, mut client) = ctx.connect_current()?;
    let mut engine = match super::run::engine(config, args.passive, Some(&stop)) {
        Ok(engine) => engine,
        Err(e) if stop.load(Ordering::Relaxed) && super::run::is_interrupted(&e) => {
            tracing::info!("stopped before listening: {e:#}");
            return Ok(0);
        }
        Err(e) => return Err(e),
    };
    let passive = args.passive;
    let mut handler = |client: &mut postgres::Client, event: &KojiEvent| -> HandlerResult {
        let outcome = listener::act(
            client,
            engine.koji.as_ref(),
            engine.resolver.as_mut(),
            &engine.settings,
            passive,
            event,
            service::now(),
        );
        match outcome? {
            Outcome::NotOurs => Ok(None),
            done => Ok(Some(done.to_string())),
        }
    };
    let options = ListenOptions::from_config(&config.messaging);
    loop {
        match messaging::listen(
            &mut client,
            &config.messaging.broker,
            &options,
            &stop,
            &mut handler,
        ) {
            Ok(r) => {
                tracing::info!(report = ?r, "listener stopped");
                return Ok(0);
            }
            Err(e @ (messaging::Error::Db(_) | messaging::Error::DbClosed)) => {
                tracing::error!(error = %koschei_core::db::report(&e), "database connection lost, reconnecting");
                loop {
                    if stop.load(Ordering::Relaxed) {
                        return Ok(0);
                    }
                    match ctx.connect_current() {
                        Ok((_, fresh)) => {
                            client = fresh;
                            break;
                        }
                        Err(e) => {
                            tracing::warn!("database still unreachable: {e:#}");
                            // Five seconds, looking at the stop request every 200 ms.
                            for _ in 0..25 {
                                if stop.load(Ordering::Relaxed) {
                                    break;
                                }
                                std::thread::sleep(Duration::from_millis(200));
                            }
                        }
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The outbox flush after engine passes: keeps one broker connection, reconnects when it
/// was lost, and never fails the pass (an unsent message stays queued).
#[derive(Debug)]
pub(crate) struct OutboxSender {
    enabled: bool,
    broker_config: koschei_core::config::BrokerConfig,
    broker: Option<Broker>,
    /// After a failure, the next attempt waits until then (the service loop flushes often).
    retry_at: Option<std::time::Instant>,
}

/// Pause after a failed publication before the service loop tries again.
const RETRY_PAUSE: Duration = Duration::from_secs(30);

impl OutboxSender {
    pub(crate) fn new(config: &Config) -> OutboxSender {
        OutboxSender {
            enabled: config.messaging.publish,
            broker_config: config.messaging.broker.clone(),
            broker: None,
            retry_at: None,
        }
    }

    /// Like [`OutboxSender::flush`], but after a failure waits `RETRY_PAUSE` first.
    pub(crate) fn flush_paced(&mut self, client: &mut postgres::Client) {
        if self.retry_at.is_some_and(|t| std::time::Instant::now() < t) {
            return;
        }
        if let Some(Err(_)) = self.flush(client) {
            self.retry_at = Some(std::time::Instant::now() + RETRY_PAUSE);
        } else {
            self.retry_at = None;
        }
    }

    /// Publishes what is queued; `None` when publishing is disabled.
    pub(crate) fn flush(
        &mut self,
        client: &mut postgres::Client,
    ) -> Option<Result<PublishReport, String>> {
        if !self.enabled {
            return None;
        }
        if self.broker.as_ref().is_some_and(|b| !b.is_connected()) {
            self.broker = None;
        }
        let broker = match self.broker.take() {
            Some(b) => b,
            None => match Broker::connect(&self.broker_config) {
                Ok(b) => b,
                Err(e) => {
                    let text = koschei_core::db::report(&e);
                    tracing::warn!(error = %text, "messages stay in the outbox");
                    return Some(Err(text));
                }
            },
        };
        let mut broker = broker;
        let result = messaging::publish_pending(client, &mut broker);
        match result {
            Ok(r) => {
                self.broker = Some(broker);
                Some(Ok(r))
            }
            Err(e) => {
                let text = koschei_core::db::report(&e);
                tracing::warn!(error = %text, "messages stay in the outbox");
                Some(Err(text))
            }
        }
    }

    /// Closes the broker connection.
    pub(crate) fn close(self) {
        if let Some(b) = self.broker {
            b.close();
        }
    }
}

/// A one-line summary of a flush for `run --once`.
pub(crate) fn summary(result: &Result<PublishReport, String>) -> String {
    match result {
        Ok(r) => format!("{} published, {} pending", r.published, r.pending),
        Err(e) => format!("not published, kept in the outbox ({e})"),
    }
}
