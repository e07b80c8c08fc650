//! The Koji message listener: what the engine does for one Koji message ([`act`]), and the
//! consumer loop ([`listen`], cargo feature `messaging`).
//!
//! Messages only make the engine act sooner: polling stays the fallback and finds the same
//! changes on its next pass, so a message that cannot be handled (bad body, database or
//! Koji error) is logged and acknowledged, never retried forever and never a crash.

use std::time::SystemTime;

use postgres::Client;

use super::koji::KojiEvent;
use crate::db::engine as db;
use crate::koji::KojiApi;
use crate::resolve::Resolver;
use crate::service::{Error, Settings, polling, repo_resolver};

/// What [`act`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Builds were polled (task state messages) or real builds looked for (tag messages).
    Polled(polling::Report),
    /// The repo resolver ran for a new repo of a collection's build tag.
    Resolved(repo_resolver::Report),
    /// Nothing of Koschei's is concerned (unknown task, package or tag).
    NotOurs,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Polled(r) => write!(
                f,
                "{} builds finished, {} deleted, {} real builds registered",
                r.finished, r.deleted, r.real_builds
            ),
            Outcome::Resolved(r) => write!(
                f,
                "{} new repos, {} packages resolved",
                r.new_repos, r.resolved_packages
            ),
            Outcome::NotOurs => f.write_str("not a task, package or tag of Koschei's"),
        }
    }
}

/// Acts on one Koji event at time `now`, as the original's watcher did, plus `repo.done`:
/// * a task state change polls the running build of that task, or of its parent task;
/// * a tag message registers a newer real build of that package (in every collection that
///   has it; the original took the first package of that name);
/// * a `repo.done` of a collection's build tag runs the repo resolver now (and ends the
///   resolver's pass with [`Resolver::finish_pass`]).
pub fn act(
    client: &mut Client,
    koji: &dyn KojiApi,
    resolver: &mut dyn Resolver,
    settings: &Settings,
    passive: bool,
    event: &KojiEvent,
    now: SystemTime,
) -> Result<Outcome, Error> {
    match event {
        KojiEvent::TaskStateChange {
            task_id, parent, ..
        } => {
            let tasks: Vec<_> = std::iter::once(*task_id).chain(*parent).collect();
            let ours = db::running_builds(client)?
                .into_iter()
                .any(|b| tasks.contains(&b.task_id));
            if !ours {
                return Ok(Outcome::NotOurs);
            }
            let options = polling::Options { passive };
            polling::poll_tasks(client, koji, settings, options, now, &tasks).map(Outcome::Polled)
        }
        KojiEvent::Tag { name, .. } => {
            if db::collections_with_package(client, name)?.is_empty() {
                return Ok(Outcome::NotOurs);
            }
            polling::refresh_package(client, koji, name, now).map(Outcome::Polled)
        }
        KojiEvent::RepoDone { tag, .. } => {
            if !db::collections(client)?.iter().any(|c| &c.build_tag == tag) {
                return Ok(Outcome::NotOurs);
            }
            let result = repo_resolver::run_once(client, koji, resolver, settings, now);
            // A failed pass is redone; its partial answers are not remembered.
            resolver.finish_pass(result.is_ok());
            result.map(Outcome::Resolved)
        }
    }
}

#[cfg(feature = "messaging")]
pub use run::{HandlerResult, ListenOptions, ListenReport, listen};

#[cfg(feature = "messaging")]
mod run {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use postgres::Client;

    use super::super::koji::{self, KojiEvent, Skip};
    use super::super::{Broker, Error, publish_pending};
    use crate::config::BrokerConfig;

    /// Settings of [`listen`].
    #[derive(Debug, Clone)]
    pub struct ListenOptions {
        /// `fedmsg.topic`.
        pub koji_topic: String,
        /// `fedmsg.instance`.
        pub koji_instance: String,
        /// Publish the outbox after each handled message and every `publish_interval`.
        pub publish: bool,
        /// How often the outbox is published while no message arrives.
        pub publish_interval: Duration,
        /// Longest wait between reconnection attempts to the broker.
        pub max_backoff: Duration,
    }

    impl ListenOptions {
        /// The options for a messaging configuration.
        pub fn from_config(config: &crate::config::MessagingConfig) -> ListenOptions {
            ListenOptions {
                koji_topic: config.koji_topic.clone(),
                koji_instance: config.koji_instance.clone(),
                publish: config.publish,
                publish_interval: Duration::from_secs(10),
                max_backoff: Duration::from_secs(60),
            }
        }
    }

    /// What a [`listen`] run did.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct ListenReport {
        /// Messages received (all acknowledged).
        pub received: usize,
        /// Messages acted on successfully.
        pub acted: usize,
        /// Messages of other topics or instances, or not concerning Koschei.
        pub ignored: usize,
        /// Messages with a bad body (logged).
        pub bad: usize,
        /// Messages whose action failed (logged; polling catches up).
        pub failed: usize,
        /// Outbox messages published.
        pub published: usize,
        /// Connections made to the broker.
        pub connections: usize,
    }

    /// A handler's answer for one event: `Ok(Some(summary))` acted, `Ok(None)` not ours.
    pub type HandlerResult = Result<Option<String>, Box<dyn std::error::Error + Send + Sync>>;

    /// Consumes Koji's messages until `stop` is set (checked at least every second).
    ///
    /// Declares the configured queue, binds it to `<topic>.task.state.change`, `<topic>.tag`
    /// and `<topic>.repo.done`, hands every event of the configured instance to `handler`,
    /// and acknowledges every message after handling it, whatever the outcome. A lost broker
    /// connection is retried with exponential backoff (each failure logged once). Returns an
    /// error only when the database connection is gone, so the caller can reconnect.
    pub fn listen(
        client: &mut Client,
        config: &BrokerConfig,
        options: &ListenOptions,
        stop: &AtomicBool,
        handler: &mut dyn FnMut(&mut Client, &KojiEvent) -> HandlerResult,
    ) -> Result<ListenReport, Error> {
        let mut report = ListenReport::default();
        let keys = koji::binding_keys(&options.koji_topic);
        let mut backoff = Duration::from_secs(1);
        while !stop.load(Ordering::Relaxed) {
            let mut broker = match Broker::connect(config).and_then(|mut b| {
                let l = b.listen(&keys)?;
                Ok((b, l))
            }) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %crate::db::report(&e), retry_in = ?backoff, "cannot listen to the broker");
                    sleep_unless_stopped(backoff, stop);
                    backoff = (backoff * 2).min(options.max_backoff);
                    continue;
                }
            };
            backoff = Duration::from_secs(1);
            report.connections += 1;
            tracing::info!(queue = %config.queue, keys = ?keys, "listening to Koji messages");
            let result = consume(client, &mut broker, options, stop, handler, &mut report);
            // The listener's channel goes before the connection and its runtime.
            let (broker, listener) = broker;
            drop(listener);
            broker.close();
            match result {
                Ok(()) => break,
                Err(e @ (Error::Db(_) | Error::DbClosed)) => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %crate::db::report(&e), "broker connection lost, reconnecting");
                }
            }
        }
        Ok(report)
    }

    fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
        let end = Instant::now() + total;
        while !stop.load(Ordering::Relaxed) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn publish(
        client: &mut Client,
        broker: &mut Broker,
        report: &mut ListenReport,
    ) -> Result<(), Error> {
        // A broker failure is recorded on the row and ends this connection; the listener
        // reconnects and publishes again.
        let r = publish_pending(client, broker)?;
        report.published += r.published;
        Ok(())
    }

    fn consume(
        client: &mut Client,
        (broker, listener): &mut (Broker, super::super::Listener),
        options: &ListenOptions,
        stop: &AtomicBool,
        handler: &mut dyn FnMut(&mut Client, &KojiEvent) -> HandlerResult,
        report: &mut ListenReport,
    ) -> Result<(), Error> {
        let mut last_publish = Instant::now() - options.publish_interval;
        while !stop.load(Ordering::Relaxed) {
            if options.publish && last_publish.elapsed() >= options.publish_interval {
                publish(client, broker, report)?;
                last_publish = Instant::now();
            }
            let Some(delivery) = broker.next(listener, Duration::from_secs(1))? else {
                continue;
            };
            report.received += 1;
            match koji::parse(
                &options.koji_topic,
                &options.koji_instance,
                &delivery.routing_key,
                &delivery.body,
            ) {
                Ok(event) => match handler(client, &event) {
                    Ok(Some(summary)) => {
                        report.acted += 1;
                        tracing::info!(topic = %delivery.routing_key, event = ?event, "{summary}");
                    }
                    Ok(None) => {
                        report.ignored += 1;
                        tracing::debug!(topic = %delivery.routing_key, event = ?event, "not Koschei's");
                    }
                    Err(e) => {
                        report.failed += 1;
                        tracing::error!(topic = %delivery.routing_key, event = ?event, error = %crate::db::report(&*e), "acting on a Koji message failed; polling will catch up");
                    }
                },
                Err(skip @ Skip::Bad { .. }) => {
                    report.bad += 1;
                    tracing::warn!(message_id = ?delivery.message_id, "{skip}; acknowledged and dropped");
                }
                Err(skip) => {
                    report.ignored += 1;
                    tracing::debug!("{skip}");
                }
            }
            broker.ack(listener, &delivery)?;
            if client.is_closed() {
                return Err(Error::DbClosed);
            }
            if options.publish {
                publish(client, broker, report)?;
                last_publish = Instant::now();
            }
        }
        Ok(())
    }
}
