//! Finding tasks on the hub: the logged-in user (`getLoggedInUser`) and its `build` tasks
//! created since a time (`listTasks`), with which polling adopts the task of a `build` call
//! whose reply was lost (docs/engine.md, "Never submitting a package twice").

use std::time::SystemTime;

use serde::Deserialize;

use super::api::{TaskInfo, epoch_time};
use super::client::Client;
use super::de::from_value;
use super::error::Error;
use super::xmlrpc::{Call, Struct, Value};
use crate::model::KojiEventId;

/// The user of the session (`getLoggedInUser`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserInfo {
    /// User id (the `owner` of the tasks it creates).
    pub id: i64,
    /// User name.
    pub name: String,
}

fn typed<T: serde::de::DeserializeOwned>(method: &str, value: &Value) -> Result<T, Error> {
    from_value(value).map_err(|e| Error::UnexpectedResult {
        method: method.to_owned(),
        message: e.to_string(),
    })
}

/// The hub's latest event (`getLastEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct LastEvent {
    /// Event id.
    pub id: KojiEventId,
    /// When it happened, epoch seconds by the hub's clock.
    pub ts: f64,
}

impl LastEvent {
    /// The event's time (the epoch when the hub sent a negative or non-finite one).
    pub fn time(&self) -> SystemTime {
        epoch_time(Some(self.ts)).unwrap_or(SystemTime::UNIX_EPOCH)
    }
}

impl Client {
    /// `getLastEvent()`: the hub's latest event; its time is the hub's clock when the hub is
    /// busy, earlier when it is idle.
    pub fn last_event(&self) -> Result<LastEvent, Error> {
        let call = Call::new("getLastEvent");
        typed(&call.method, &self.call(&call)?)
    }

    /// `getLoggedInUser()`: the session's user, `None` without a session.
    pub fn logged_in_user(&self) -> Result<Option<UserInfo>, Error> {
        let call = Call::new("getLoggedInUser");
        typed(&call.method, &self.call(&call)?)
    }

    /// `listTasks(opts={method: 'build', owner, createdAfter, decode: True},
    /// queryOpts={order: 'id'})`: the `build` tasks of user `owner` created after `after`,
    /// by id, with their requests (`[src, target, opts]`). The time is sent as an ISO string
    /// in UTC with its offset, which the hub passes to PostgreSQL as it is (a number would be
    /// turned into the hub's local time without a zone).
    pub fn build_tasks_since(&self, owner: i64, after: SystemTime) -> Result<Vec<TaskInfo>, Error> {
        let mut opts = Struct::new();
        opts.insert("method".into(), Value::from("build"));
        opts.insert("owner".into(), Value::Int(owner));
        opts.insert("createdAfter".into(), Value::from(iso_utc(after)));
        opts.insert("decode".into(), Value::Bool(true));
        let mut query_opts = Struct::new();
        query_opts.insert("order".into(), Value::from("id"));
        let call = Call::new("listTasks")
            .arg(Value::Struct(opts))
            .arg(Value::Struct(query_opts));
        let mut tasks: Vec<TaskInfo> = typed(&call.method, &self.call(&call)?)?;
        tasks.sort_by_key(|t| t.id);
        Ok(tasks)
    }
}

/// `YYYY-MM-DD HH:MM:SS.ffffff+00:00` (times before the epoch are the epoch).
pub(crate) fn iso_utc(t: SystemTime) -> String {
    // Rounded to the microsecond, as the hub's times are.
    let t = t
        .checked_add(std::time::Duration::from_nanos(500))
        .unwrap_or(t);
    let c = crate::calendar::civil(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00:00",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso_utc_matches_the_hubs_time_strings() {
        let t = |s: f64| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s);
        // A recorded task's create_ts and create_time (http/43).
        assert_eq!(
            iso_utc(t(1_795_528_014.801_931)),
            "2026-11-24 13:46:54.801931+00:00"
        );
        assert_eq!(iso_utc(t(0.0)), "1970-01-01 00:00:00.000000+00:00");
        assert_eq!(
            iso_utc(t(951_868_800.0)),
            "2000-03-01 00:00:00.000000+00:00"
        );
        assert_eq!(
            iso_utc(t(951_868_799.0)),
            "2000-02-29 23:59:59.000000+00:00"
        );
    }
}
