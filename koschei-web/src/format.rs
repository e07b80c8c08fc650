//! Formatting of times, EVR differences and Koji links. Pure.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use koschei_core::model::{Evr, KojiTaskId};

/// Splits a time into UTC civil fields `(year, month, day, hour, min, sec, micros)`.
fn civil(t: SystemTime) -> (i64, u32, u32, u32, u32, u32, u32) {
    let c = koschei_core::calendar::civil(t);
    (c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros)
}

/// ISO 8601 in UTC without a zone, as PostgreSQL's `row_to_json` writes a `timestamp`:
/// `2017-10-10T10:00:00`, with `.ffffff` only when there are microseconds.
pub(crate) fn iso8601(t: SystemTime) -> String {
    Iso8601(t).to_string()
}

/// A time written as [`iso8601`] does, without a `String` in between (it serialises as a
/// JSON string).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Iso8601(pub(crate) SystemTime);

impl Iso8601 {
    /// The text in `buf` for years 0 to 9999 (digits written directly: the whole package
    /// list has 68,000 of them); `None` for other years.
    fn write_digits(self, buf: &mut [u8; 26]) -> Option<&str> {
        let (y, mo, d, h, mi, s, us) = civil(self.0);
        let y = u32::try_from(y).ok().filter(|y| *y <= 9999)?;
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                // A digit: `v % 10` is below 10.
                buf[i] = b'0' + u8::try_from(v % 10).unwrap_or(0);
                v /= 10;
            }
        };
        put(0, 4, y);
        put(5, 2, mo);
        put(8, 2, d);
        put(11, 2, h);
        put(14, 2, mi);
        put(17, 2, s);
        put(20, 6, us);
        for (i, c) in [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
        ] {
            buf[i] = c;
        }
        let len = if us == 0 { 19 } else { 26 };
        std::str::from_utf8(&buf[..len]).ok()
    }
}

impl std::fmt::Display for Iso8601 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0u8; 26];
        if let Some(text) = self.write_digits(&mut buf) {
            return f.write_str(text);
        }
        let (y, mo, d, h, mi, s, us) = civil(self.0);
        if us == 0 {
            write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
        } else {
            write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}")
        }
    }
}

impl serde::Serialize for Iso8601 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 26];
        match self.write_digits(&mut buf) {
            Some(text) => serializer.serialize_str(text),
            None => serializer.collect_str(self),
        }
    }
}

/// Human form in UTC: `2017-10-10 10:00`.
pub(crate) fn human_time(t: SystemTime) -> String {
    let (y, mo, d, h, mi, _, _) = civil(t);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
}

/// Whole seconds since the epoch (for `last_seen_ts`), rounded up so that an entry at
/// `t` is older than `from_unix(unix_seconds_ceil(t))` only if it is strictly older.
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The time `secs` seconds after the epoch.
pub(crate) fn from_unix(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// A duration as `1 h 02 min 03 s` (hours only when non-zero).
pub(crate) fn human_duration(secs: f64) -> String {
    let total = secs.max(0.0).round();
    // Durations shown are far below 2^53 seconds, so the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let total = total as u64;
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    if h > 0 {
        format!("{h} h {m:02} min {s:02} s")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

/// Which part of an EVR differs first between two EVRs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EvrPart {
    /// The epoch (absent = 0).
    Epoch,
    /// The version.
    Version,
    /// The release.
    Release,
}

/// The first part (epoch, version, release) that differs, `None` when all are equal.
pub(crate) fn first_difference(prev: &Evr, curr: &Evr) -> Option<EvrPart> {
    if prev.epoch.unwrap_or(0) != curr.epoch.unwrap_or(0) {
        Some(EvrPart::Epoch)
    } else if prev.version != curr.version {
        Some(EvrPart::Version)
    } else if prev.release != curr.release {
        Some(EvrPart::Release)
    } else {
        None
    }
}

/// The direction of a dependency change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    /// New dependency.
    Added,
    /// Dependency gone.
    Removed,
    /// Newer EVR.
    Upgraded,
    /// Older EVR.
    Downgraded,
    /// Same EVR in RPM order (e.g. `1.01` vs `1.1`).
    Same,
}

impl ChangeKind {
    /// Classifies a change from its previous and current EVR.
    pub(crate) fn of(prev: Option<&Evr>, curr: Option<&Evr>) -> Self {
        match (prev, curr) {
            (None, _) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            (Some(p), Some(c)) => match p.cmp(c) {
                Ordering::Less => ChangeKind::Upgraded,
                Ordering::Greater => ChangeKind::Downgraded,
                Ordering::Equal => ChangeKind::Same,
            },
        }
    }

    /// Short word shown in the table.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Upgraded => "upgraded",
            ChangeKind::Downgraded => "downgraded",
            ChangeKind::Same => "changed",
        }
    }

    /// A symbol for the direction.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            ChangeKind::Added => "+",
            ChangeKind::Removed => "−",
            ChangeKind::Upgraded => "↑",
            ChangeKind::Downgraded => "↓",
            ChangeKind::Same => "=",
        }
    }
}

/// Koji URLs: the web UI (`taskinfo`) and the top URL (task results and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KojiLinks {
    /// For example `https://koji.fedoraproject.org/koji`.
    pub(crate) weburl: String,
    /// For example `https://kojipkgs.fedoraproject.org`.
    pub(crate) topurl: String,
}

impl KojiLinks {
    /// The links for a build: the secondary Koji's for real builds of secondary-mode
    /// collections (when one is configured), the primary Koji's otherwise.
    pub(crate) fn for_build<'a>(
        primary: &'a KojiLinks,
        secondary: Option<&'a KojiLinks>,
        secondary_mode: bool,
        real: bool,
    ) -> &'a KojiLinks {
        match secondary {
            Some(s) if secondary_mode && real => s,
            _ => primary,
        }
    }

    /// `<weburl>/taskinfo?taskID=<id>`.
    pub(crate) fn taskinfo(&self, task: KojiTaskId) -> String {
        format!(
            "{}/taskinfo?taskID={}",
            self.weburl.trim_end_matches('/'),
            task.0
        )
    }

    /// `<topurl>/work/tasks/<id % 10000>/<id>` (the task's result directory).
    pub(crate) fn results(&self, task: KojiTaskId) -> String {
        format!(
            "{}/work/tasks/{}/{}",
            self.topurl.trim_end_matches('/'),
            task.0.rem_euclid(10_000),
            task.0
        )
    }

    /// A log file of a task (`build.log`, `root.log`).
    pub(crate) fn log(&self, task: KojiTaskId, file: &str) -> String {
        format!("{}/{file}", self.results(task))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_postgres_timestamp_json() {
        assert_eq!(iso8601(from_unix(1337)), "1970-01-01T00:22:17");
        assert_eq!(iso8601(from_unix(1_507_629_600)), "2017-10-10T10:00:00");
        assert_eq!(
            iso8601(from_unix(951_782_400) + Duration::from_micros(5)),
            "2000-02-29T00:00:00.000005"
        );
        assert_eq!(iso8601(from_unix(-1)), "1969-12-31T23:59:59");
        // The digits written directly equal the formatted ones, at the edges of the range
        // they cover and beyond it.
        for secs in [
            -62_167_219_200, // 0000-01-01
            -62_167_219_201,
            253_402_300_799, // 9999-12-31T23:59:59
            253_402_300_800,
            0,
            86_399,
        ] {
            for micros in [0, 1, 999_999] {
                let t = from_unix(secs) + Duration::from_micros(micros);
                let (y, mo, d, h, mi, s, us) = civil(t);
                let formatted = if us == 0 {
                    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
                } else {
                    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}")
                };
                assert_eq!(iso8601(t), formatted, "{secs} {micros}");
                assert_eq!(
                    serde_json::to_string(&Iso8601(t)).unwrap_or_default(),
                    format!("\"{formatted}\"")
                );
            }
        }
        assert_eq!(human_time(from_unix(1_507_629_600)), "2017-10-10 10:00");
        assert_eq!(unix_seconds(from_unix(-5)), -5);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(18.0), "18 s");
        assert_eq!(human_duration(333.4), "5 min 33 s");
        assert_eq!(human_duration(3723.0), "1 h 02 min 03 s");
    }

    #[test]
    fn first_differing_evr_part() {
        let e = |s| Evr::parse(s).unwrap();
        assert_eq!(
            first_difference(&e("1:2-3"), &e("2:2-3")),
            Some(EvrPart::Epoch)
        );
        assert_eq!(first_difference(&e("2-3"), &e("0:2-3")), None);
        assert_eq!(
            first_difference(&e("2-3"), &e("2.1-1")),
            Some(EvrPart::Version)
        );
        assert_eq!(
            first_difference(&e("2-3"), &e("2-4")),
            Some(EvrPart::Release)
        );
        assert_eq!(
            ChangeKind::of(Some(&e("1.1-11.fc26")), Some(&e("1.1-8.fc26"))),
            ChangeKind::Downgraded
        );
        assert_eq!(ChangeKind::of(None, Some(&e("1-1"))), ChangeKind::Added);
        assert_eq!(ChangeKind::of(Some(&e("1-1")), None), ChangeKind::Removed);
    }

    #[test]
    fn koji_links_use_task_id_modulo_10000() {
        let k = KojiLinks {
            weburl: "https://koji.example/koji/".into(),
            topurl: "https://pkgs.example".into(),
        };
        assert_eq!(
            k.log(KojiTaskId(456_789), "build.log"),
            "https://pkgs.example/work/tasks/6789/456789/build.log"
        );
        assert_eq!(
            k.taskinfo(KojiTaskId(42)),
            "https://koji.example/koji/taskinfo?taskID=42"
        );
    }
}
