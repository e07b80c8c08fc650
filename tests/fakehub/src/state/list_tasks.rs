//! `listTasks(opts=None, queryOpts=None)` as the hub implements it (kojihub `listTasks`): the
//! filters of `opts`, each task as `getTaskInfo` gives it plus `request`, `result`,
//! `owner_name` and `owner_type`; `request` and `result` are XML-RPC text unless
//! `opts.decode` is true.

use koschei_core::koji::xmlrpc::{self, Call, Struct};
use koschei_core::koji::{Fault, Value};

use super::methods::task_value;
use super::{State, Task, fault};

/// A task's time field (creation, start or completion), `None` when unset.
type TimeField = fn(&Task) -> Option<f64>;

/// The time filters of `opts`: key, the task's field, whether the task's value must be after.
const TIME_FILTERS: [(&str, TimeField, bool); 8] = [
    ("createdBefore", |t| Some(t.create_ts), false),
    ("createdAfter", |t| Some(t.create_ts), true),
    ("startedBefore", |t| t.start_ts, false),
    ("startedAfter", |t| t.start_ts, true),
    ("completeBefore", |t| t.completion_ts, false),
    ("completeAfter", |t| t.completion_ts, true),
    ("completedBefore", |t| t.completion_ts, false),
    ("completedAfter", |t| t.completion_ts, true),
];

impl State {
    pub(super) fn list_tasks(&self, call: &Call) -> Result<Value, Fault> {
        let opts = match call.param(0, "opts") {
            None | Some(Value::Nil) => Struct::new(),
            Some(Value::Struct(s)) => s.clone(),
            Some(_) => return Err(fault(1000, "opts must be a dict")),
        };
        let query_opts = match call.param(1, "queryOpts") {
            None | Some(Value::Nil) => Struct::new(),
            Some(Value::Struct(s)) => s.clone(),
            Some(_) => return Err(fault(1000, "queryOpts must be a dict")),
        };
        let mut times = Vec::new();
        for (key, field, after) in TIME_FILTERS {
            match opts.get(key) {
                None | Some(Value::Nil) => {}
                Some(v) => {
                    let Some(at) = timestamp(v) else {
                        return Err(fault(1000, format!("invalid time for {key}: {v:?}")));
                    };
                    times.push((field, after, at));
                }
            }
        }
        let mut tasks: Vec<&Task> = self
            .tasks
            .iter()
            .filter(|t| {
                in_list(&opts, "arch", &Value::from(t.arch.as_str()))
                    && in_list(&opts, "state", &Value::Int(t.state))
                    && int_filter(&opts, "owner", Some(t.owner))
                    && int_filter(&opts, "host_id", t.host_id)
                    && int_filter(&opts, "channel_id", Some(1))
                    && int_filter(&opts, "parent", t.parent)
                    && opts
                        .get("method")
                        .is_none_or(|m| m.as_str() == Some(t.method.as_str()))
                    && times.iter().all(|(field, after, at)| {
                        // SQL: a NULL time compares to nothing.
                        field(t).is_some_and(|v| if *after { v > *at } else { v < *at })
                    })
            })
            .collect();
        match query_opts.get("order").and_then(Value::as_str) {
            Some("-id") => tasks.sort_by_key(|t| std::cmp::Reverse(t.id)),
            _ => tasks.sort_by_key(|t| t.id),
        }
        let offset = query_opts
            .get("offset")
            .and_then(Value::as_i64)
            .and_then(|o| usize::try_from(o).ok())
            .unwrap_or(0);
        let limit = query_opts
            .get("limit")
            .and_then(Value::as_i64)
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(usize::MAX);
        let decode = matches!(opts.get("decode"), Some(Value::Bool(true)));
        Ok(Value::Array(
            tasks
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|t| self.listed_task(t, decode))
                .collect(),
        ))
    }

    fn listed_task(&self, t: &Task, decode: bool) -> Value {
        let mut v = task_value(t, false);
        let request = if decode {
            Value::Array(t.request.clone())
        } else {
            let call = Call::from_wire(t.method.clone(), t.request.clone());
            Value::from(String::from_utf8_lossy(&xmlrpc::encode_call(&call)).into_owned())
        };
        // The hub stores a result as a response with one value (or a fault); decoded, that
        // is the one-element params tuple, or the fault's struct.
        let result = match (&t.result, decode) {
            (None, _) => Value::Nil,
            (Some(Ok(r)), true) => Value::Array(vec![r.clone()]),
            (Some(Err(f)), true) => f.to_value(),
            (Some(Ok(r)), false) => text(&xmlrpc::encode_response(r)),
            (Some(Err(f)), false) => text(&xmlrpc::encode_fault(f)),
        };
        let owner = self.users.iter().find(|u| u.id == t.owner);
        if let Value::Struct(s) = &mut v {
            s.insert("request".into(), request);
            s.insert("result".into(), result);
            s.insert(
                "owner_name".into(),
                owner.map_or(Value::Nil, |u| Value::from(u.name.as_str())),
            );
            s.insert(
                "owner_type".into(),
                owner.map_or(Value::Nil, |_| Value::Int(0)),
            );
        }
        v
    }
}

fn text(bytes: &[u8]) -> Value {
    Value::from(String::from_utf8_lossy(bytes).into_owned())
}

/// `opts[key]` (a list) contains `value`, or `opts[not_key]` does not; absent keys pass.
fn in_list(opts: &Struct, key: &str, value: &Value) -> bool {
    let contains = |k: &str| {
        opts.get(k)
            .and_then(Value::as_array)
            .map(|a| a.contains(value))
    };
    contains(key).unwrap_or(true) && !contains(&format!("not_{key}")).unwrap_or(false)
}

/// `opts[key]` as the hub reads an int filter: nil means IS NULL, a list IN, an int `=`;
/// `not_key` the opposite.
fn int_filter(opts: &Struct, key: &str, value: Option<i64>) -> bool {
    let matches = |want: &Value| match want {
        Value::Nil => value.is_none(),
        Value::Array(a) => value.is_some_and(|v| a.iter().any(|x| x.as_i64() == Some(v))),
        other => value.is_some_and(|v| other.as_i64() == Some(v)),
    };
    opts.get(key).is_none_or(matches)
        && opts
            .get(&format!("not_{key}"))
            .is_none_or(|w| !matches(w) && value.is_some())
}

/// Seconds since the epoch of a time filter: a number, or an ISO date and time
/// (`YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]`, `T` accepted, UTC without an offset).
fn timestamp(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Double(d) => Some(*d),
        Value::String(s) => parse_iso(s),
        _ => None,
    }
}

fn parse_iso(s: &str) -> Option<f64> {
    let s = s.trim();
    let (date, rest) = s.split_at_checked(10)?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let rest = rest.strip_prefix([' ', 'T']).unwrap_or(rest);
    let (clock, offset) = match rest.find(['+', '-', 'Z']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut c = clock.split(':');
    let hh: i64 = c
        .next()
        .filter(|x| !x.is_empty())
        .map_or(Some(0), |x| x.parse().ok())?;
    let mm: i64 = c.next().map_or(Some(0), |x| x.parse().ok())?;
    let ss: f64 = c.next().map_or(Some(0.0), |x| x.parse().ok())?;
    let offset_secs = match offset {
        "" | "Z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let mut p = o[1..].split(':');
            let oh: i64 = p.next()?.parse().ok()?;
            let om: i64 = p.next().map_or(Some(0), |x| x.parse().ok())?;
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 - offset_secs) as f64 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_are_read_like_the_hubs_time_strings() {
        let ts = 1_795_528_014.801_931;
        let s = super::super::time_string(ts);
        assert_eq!(s, "2026-11-24 13:46:54.801931+00:00");
        assert!((parse_iso(&s).expect("parses") - ts).abs() < 1e-6);
        assert_eq!(parse_iso("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_iso("1970-01-01 01:00:00+01:00"), Some(0.0));
        assert_eq!(parse_iso("2000-03-01 00:00:00"), Some(951_868_800.0));
        assert_eq!(parse_iso("yesterday"), None);
    }
}
