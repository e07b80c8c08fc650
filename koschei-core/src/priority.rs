//! Priority scoring (spec section 4.1): time priority, current priority term by term
//! ([`breakdown`]) with its skip reasons (the NULL cases), dependency priority and the
//! failed-build bump.
//!
//! This module is pure: every function takes its data and the current time as arguments.

use std::time::{Duration, SystemTime};

use crate::calendar::format_utc;
use crate::model::{BuildState, SchedulerSkip};

/// The `priorities` settings (defaults are the original's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priorities {
    /// Build priority given to a package whose last build's dependencies are unresolvable.
    pub newly_added: i32,
    /// A package is schedulable when its current priority is at least this.
    pub build_threshold: i32,
    /// Weight of one dependency update (divided by the distance, or 8 when unknown).
    pub package_update: i32,
    /// Build priority after a build fails when the previous one did not.
    pub failed_build_priority: i32,
    /// Hours after the last build at which the time priority is 0.
    pub t0: f64,
    /// Hours after the last build at which the time priority reaches `build_threshold`.
    pub t1: f64,
}

impl Default for Priorities {
    fn default() -> Self {
        Priorities {
            newly_added: 3000,
            build_threshold: 256,
            package_update: 256,
            failed_build_priority: 200,
            t0: 6.0,
            t1: 168.0,
        }
    }
}

/// The lowest time priority.
pub const TIME_PRIORITY_FLOOR: f64 = -30.0;

/// Distance used for a dependency change without a known distance.
pub const UNKNOWN_DISTANCE: i32 = 8;

/// Time priority after `hours` hours since the last build:
/// `max(a * log10(max(1e-6, hours)) + b, -30)` with `a = threshold / (log10 t1 - log10 t0)`
/// and `b = -a * log10 t0`.
pub fn time_priority(settings: &Priorities, hours: f64) -> f64 {
    let a = f64::from(settings.build_threshold) / (settings.t1.log10() - settings.t0.log10());
    let b = -a * settings.t0.log10();
    let value = a * hours.max(1e-6).log10() + b;
    if value.is_nan() {
        TIME_PRIORITY_FLOOR
    } else {
        value.max(TIME_PRIORITY_FLOOR)
    }
}

/// Hours from `started` to `now` (negative when `started` is in the future).
pub fn hours_between(started: SystemTime, now: SystemTime) -> f64 {
    match now.duration_since(started) {
        Ok(d) => d.as_secs_f64() / 3600.0,
        Err(e) => -e.duration().as_secs_f64() / 3600.0,
    }
}

/// `now` minus `hours` hours (test and fixture helper; saturates at the epoch).
pub fn hours_before(now: SystemTime, hours: f64) -> SystemTime {
    now.checked_sub(Duration::from_secs_f64(hours.max(0.0) * 3600.0))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Everything the current priority of one package depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityInput {
    /// Blocked in Koji.
    pub blocked: bool,
    /// Tracked by Koschei.
    pub tracked: bool,
    /// `package.resolved`.
    pub resolved: Option<bool>,
    /// `package.skip_resolution`.
    pub skip_resolution: bool,
    /// `last_build_id` differs from `last_complete_build_id` (a build is running).
    pub running_build: bool,
    /// `started` of the last build, `None` when the package has no build.
    pub last_build_started: Option<SystemTime>,
    /// `collection.latest_repo_resolved`.
    pub collection_resolved: Option<bool>,
    /// `collection.priority_coefficient`.
    pub coefficient: f64,
    /// `package.manual_priority`.
    pub manual: i32,
    /// `package.static_priority`.
    pub static_: i32,
    /// `package.dependency_priority`.
    pub dependency: i32,
    /// `package.build_priority`.
    pub build: i32,
    /// `package.scheduler_skip_reason`: why the scheduler last passed the package over.
    pub scheduler_skip: Option<SchedulerSkip>,
    /// `package.suspended_until`: an admin suspended scheduling until then (#128, #326).
    pub suspended_until: Option<SystemTime>,
    /// `package.last_submitted`: when Koschei last submitted a scratch build of the package
    /// (kept when the build is deleted, canceled or killed by a Koji fault).
    pub last_submitted: Option<SystemTime>,
    /// `package.min_rebuild_interval_hours`: the least time between two submissions (#310).
    pub min_rebuild_interval: Option<Duration>,
}

impl PriorityInput {
    /// When the rebuild interval allows the next submission, if it does not yet at `now`.
    pub fn rebuild_not_before(&self, now: SystemTime) -> Option<SystemTime> {
        let next = self
            .last_submitted?
            .checked_add(self.min_rebuild_interval?)?;
        (next > now).then_some(next)
    }
}

/// Why a package is not built now: the skip reasons of the package page and the API, in
/// the original's words ([`SkipReason::text`]). This is the one list of them; the web shows
/// these texts and the scheduler's choice follows [`SkipReason::blocks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// Koji had no SRPM for the last build; the scheduler waits for the next polling pass.
    NoSrpm,
    /// None of the SRPM's arches may be built (the manual priority was lowered by 1000);
    /// informative only: the package keeps its priority.
    NoBuildArch,
    /// The package is not tracked.
    Untracked,
    /// The package is blocked in Koji.
    Blocked,
    /// A build of the package is running.
    RunningBuild,
    /// The dependencies are not resolvable.
    Unresolved,
    /// The dependencies were not resolved yet.
    NotResolvedYet,
    /// The package has no known build.
    NoBuild,
    /// The collection's base buildroot is not resolvable.
    BuildrootUnresolved,
    /// The collection's base buildroot was not resolved yet.
    BuildrootNotResolvedYet,
    /// An admin suspended scheduling of the package until this time (`koschei suspend`).
    Suspended {
        /// The end of the suspension.
        until: SystemTime,
    },
    /// The package's minimum rebuild interval has not passed since its last submission.
    RebuildInterval {
        /// The earliest time of the next submission.
        next: SystemTime,
    },
}

impl SkipReason {
    /// The text shown to users (the original's); `collection` is the display name that the
    /// buildroot reasons mention.
    pub fn text(self, collection: &str) -> String {
        match self {
            SkipReason::NoSrpm => "No suitable SRPM was found".to_owned(),
            SkipReason::NoBuildArch => "No build architecture allowed".to_owned(),
            SkipReason::Untracked => "Package is not tracked".to_owned(),
            SkipReason::Blocked => "Package is blocked in Koji".to_owned(),
            SkipReason::RunningBuild => "Package has a running build".to_owned(),
            SkipReason::Unresolved => "Package dependencies are not resolvable".to_owned(),
            SkipReason::NotResolvedYet => "Package dependencies were not resolved yet".to_owned(),
            SkipReason::NoBuild => "Package has no known build".to_owned(),
            SkipReason::BuildrootUnresolved => {
                format!("Base buildroot for {collection} is not resolvable")
            }
            SkipReason::BuildrootNotResolvedYet => {
                format!("Base buildroot for {collection} was not resolved yet")
            }
            SkipReason::Suspended { until } => {
                format!("Scheduling is suspended until {}", format_utc(until))
            }
            SkipReason::RebuildInterval { next } => format!(
                "Minimum rebuild interval not elapsed: no build before {}",
                format_utc(next)
            ),
        }
    }

    /// Whether the reason leaves the package without a current priority (every reason but
    /// [`SkipReason::NoBuildArch`]).
    pub fn blocks(self) -> bool {
        !matches!(self, SkipReason::NoBuildArch)
    }
}

/// Every skip reason of a package at `now`, in the order the package page lists them (the
/// scheduler's own first, then the package's, then the collection's).
pub fn skip_reasons(input: &PriorityInput, now: SystemTime) -> Vec<SkipReason> {
    let mut out = Vec::new();
    match input.scheduler_skip {
        Some(SchedulerSkip::NoSrpm) => out.push(SkipReason::NoSrpm),
        Some(SchedulerSkip::NoBuildArch) => out.push(SkipReason::NoBuildArch),
        None => {}
    }
    if !input.tracked {
        out.push(SkipReason::Untracked);
    }
    if input.blocked {
        out.push(SkipReason::Blocked);
    }
    if input.running_build {
        out.push(SkipReason::RunningBuild);
    }
    match (input.resolved, input.skip_resolution) {
        (Some(false), _) => out.push(SkipReason::Unresolved),
        (None, false) => out.push(SkipReason::NotResolvedYet),
        _ => {}
    }
    if input.last_build_started.is_none() {
        out.push(SkipReason::NoBuild);
    }
    if let Some(until) = input.suspended_until.filter(|u| *u > now) {
        out.push(SkipReason::Suspended { until });
    }
    if let Some(next) = input.rebuild_not_before(now) {
        out.push(SkipReason::RebuildInterval { next });
    }
    match input.collection_resolved {
        Some(true) => {}
        Some(false) => out.push(SkipReason::BuildrootUnresolved),
        None => out.push(SkipReason::BuildrootNotResolvedYet),
    }
    out
}

/// A package's current priority term by term, with the reasons it is not schedulable: the
/// answer to "what is the priority of this package and why". [`current_priority`] and the
/// scheduler use exactly this computation.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakdown {
    /// `manual_priority` (set by users; reset when a build is submitted or completes).
    pub manual: i32,
    /// `static_priority` (set by admins; permanent).
    pub static_: i32,
    /// `dependency_priority`: the dependency changes since the last build.
    pub dependency: i32,
    /// `build_priority`: the failed-build or unresolvable-build bump.
    pub build: i32,
    /// Hours since the last build started (`None`: no build).
    pub hours: Option<f64>,
    /// The time priority of those hours (`None`: no build).
    pub time: Option<f64>,
    /// The collection's coefficient, which multiplies dependency, build and time.
    pub coefficient: f64,
    /// `manual + static + coefficient * (dependency + build + time)`, whether or not the
    /// package is schedulable (`None`: no build, so no time term).
    pub total: Option<f64>,
    /// The current priority: `total`, or the first reason that blocks it.
    pub priority: Result<f64, SkipReason>,
    /// Every skip reason, blocking or not ([`skip_reasons`]).
    pub reasons: Vec<SkipReason>,
    /// The `build_threshold` the priority must reach.
    pub threshold: i32,
}

impl Breakdown {
    /// Whether the scheduler would submit the package now (capacity and Koji load aside).
    pub fn schedulable(&self) -> bool {
        self.priority.is_ok_and(|p| p >= f64::from(self.threshold))
    }
}

impl std::fmt::Display for Breakdown {
    /// `priority 312.45 (threshold 256)` or `not schedulable (...)`, then one line with the
    /// terms.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.priority {
            Ok(p) => writeln!(f, "priority {p:.2} (threshold {})", self.threshold)?,
            Err(_) => writeln!(f, "not schedulable (threshold {})", self.threshold)?,
        }
        write!(
            f,
            "= manual {} + static {} + coefficient {} * (dependency {} + build {} + time ",
            self.manual, self.static_, self.coefficient, self.dependency, self.build
        )?;
        match (self.time, self.hours) {
            (Some(t), Some(h)) => write!(f, "{t:.2} after {h:.1} h)"),
            _ => f.write_str("none: no build)"),
        }
    }
}

/// The current priority of a package term by term, at time `now`.
pub fn breakdown(input: &PriorityInput, settings: &Priorities, now: SystemTime) -> Breakdown {
    let hours = input.last_build_started.map(|s| hours_between(s, now));
    let time = hours.map(|h| time_priority(settings, h));
    let total = time.map(|time| {
        let dynamic = f64::from(input.dependency) + f64::from(input.build) + time;
        f64::from(input.manual) + f64::from(input.static_) + dynamic * input.coefficient
    });
    let reasons = skip_reasons(input, now);
    let priority = match (reasons.iter().find(|r| r.blocks()), total) {
        (Some(r), _) => Err(*r),
        (None, Some(t)) => Ok(t),
        // No build is a blocking reason, so this arm is never taken.
        (None, None) => Err(SkipReason::NoBuild),
    };
    Breakdown {
        manual: input.manual,
        static_: input.static_,
        dependency: input.dependency,
        build: input.build,
        hours,
        time,
        coefficient: input.coefficient,
        total,
        priority,
        reasons,
        threshold: settings.build_threshold,
    }
}

/// The current priority: `manual + static + coefficient * (dependency + build + time)`,
/// or the first reason why the package cannot be scheduled (the original's NULL); the
/// `priority` of [`breakdown`].
pub fn current_priority(
    input: &PriorityInput,
    settings: &Priorities,
    now: SystemTime,
) -> Result<f64, SkipReason> {
    breakdown(input, settings, now).priority
}

/// Dependency priority of a set of changes: `int(Σ package_update / (distance or 8))`.
///
/// The sum is computed exactly (as a fraction over the distances' common denominator), so a
/// sum whose value is a whole number is that number: the original's floating-point sum gives
/// `511` for six changes at distance 3 with `package_update = 256` (`511.99999999999994`), or
/// 512 depending on Python's set order; this gives 512 always. Truncation is toward zero like
/// Python's `int()`; the result saturates at the `i32` range.
pub fn dependency_priority<I>(settings: &Priorities, distances: I) -> i32
where
    I: IntoIterator<Item = Option<i32>>,
{
    // Σ package_update / d as num / den, reduced after every step (den divides lcm(1..=d)).
    let (mut num, mut den): (i128, i128) = (0, 1);
    let update = i128::from(settings.package_update);
    for d in distances {
        let d = i128::from(match d {
            Some(d) if d > 0 => d,
            _ => UNKNOWN_DISTANCE,
        });
        let g = gcd(den, d);
        let lcm = den / g * d;
        let (Some(a), Some(b)) = (num.checked_mul(lcm / den), update.checked_mul(lcm / d)) else {
            return i32::MAX;
        };
        let Some(sum) = a.checked_add(b) else {
            return if a < 0 { i32::MIN } else { i32::MAX };
        };
        let r = gcd(sum.abs(), lcm).max(1);
        num = sum / r;
        den = lcm / r;
    }
    let whole = num / den;
    i32::try_from(whole).unwrap_or(if whole < 0 { i32::MIN } else { i32::MAX })
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Build priority after a build of a package completes in state `new_state`.
///
/// `previous` is the state of the package's previous complete build (the newest finished
/// build of the *same package* before this one; the original forgot the package filter).
/// A failure after a success, or a first build that fails, gets `failed_build_priority`;
/// anything else resets the build priority to 0.
pub fn failed_build_priority(
    settings: &Priorities,
    new_state: BuildState,
    previous: Option<BuildState>,
) -> i32 {
    match (new_state, previous) {
        (BuildState::Failed, Some(BuildState::Failed)) => 0,
        (BuildState::Failed, _) => settings.failed_build_priority,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, eps: f64) -> bool {
        (a - b).abs() < eps
    }

    #[test]
    fn time_priority_matches_reference_values() {
        let s = Priorities::default();
        let cases = [
            (2.0, -30.0, 1e-9),
            (10.0, 39.2446980024098, 1e-9),
            (24.0, 106.50, 0.01),
            (34.0, 133.26248998925, 1e-9),
            (168.0, 256.0, 1e-9),
            (730.0, 368.863607520133, 1e-9),
            (6.0, 0.0, 1e-9),
            (0.0, -30.0, 1e-9),
            (-5.0, -30.0, 1e-9),
        ];
        for (hours, want, eps) in cases {
            let got = time_priority(&s, hours);
            assert!(close(got, want, eps), "{hours} h: got {got}, want {want}");
        }
    }

    fn input(now: SystemTime) -> PriorityInput {
        PriorityInput {
            blocked: false,
            tracked: true,
            resolved: Some(true),
            skip_resolution: false,
            running_build: false,
            last_build_started: Some(now),
            collection_resolved: Some(true),
            coefficient: 1.0,
            manual: 0,
            static_: 0,
            dependency: 0,
            build: 0,
            scheduler_skip: None,
            suspended_until: None,
            last_submitted: None,
            min_rebuild_interval: None,
        }
    }

    #[test]
    fn current_priority_cases() {
        let s = Priorities::default();
        // 2017-10-10 10:00 UTC, as in the original's model test.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_507_629_600);
        let base = input(now);
        let check = |i: &PriorityInput, want: Result<f64, SkipReason>| {
            let got = current_priority(i, &s, now);
            match (got, want) {
                (Ok(g), Ok(w)) => assert!(close(g, w, 1e-9), "{i:?}: {g} != {w}"),
                (g, w) => assert_eq!(g, w, "{i:?}"),
            }
        };
        check(&base, Ok(-30.0));
        check(
            &PriorityInput {
                manual: 10,
                static_: 20,
                dependency: 40,
                build: 50,
                coefficient: 0.5,
                ..base.clone()
            },
            Ok(60.0),
        );
        for (hours, want) in [
            (2.0, -30.0),
            (10.0, 39.2446980024098),
            (34.0, 133.26248998925),
            (730.0, 368.863607520133),
        ] {
            let started = hours_before(now, hours);
            check(
                &PriorityInput {
                    last_build_started: Some(started),
                    ..base.clone()
                },
                Ok(want),
            );
        }
        let nulls = [
            (
                PriorityInput {
                    tracked: false,
                    ..base.clone()
                },
                SkipReason::Untracked,
            ),
            (
                PriorityInput {
                    blocked: true,
                    ..base.clone()
                },
                SkipReason::Blocked,
            ),
            (
                PriorityInput {
                    resolved: Some(false),
                    ..base.clone()
                },
                SkipReason::Unresolved,
            ),
            (
                PriorityInput {
                    running_build: true,
                    ..base.clone()
                },
                SkipReason::RunningBuild,
            ),
            (
                PriorityInput {
                    last_build_started: None,
                    ..base.clone()
                },
                SkipReason::NoBuild,
            ),
            (
                PriorityInput {
                    resolved: None,
                    ..base.clone()
                },
                SkipReason::NotResolvedYet,
            ),
            (
                PriorityInput {
                    collection_resolved: Some(false),
                    ..base.clone()
                },
                SkipReason::BuildrootUnresolved,
            ),
            (
                PriorityInput {
                    collection_resolved: None,
                    ..base.clone()
                },
                SkipReason::BuildrootNotResolvedYet,
            ),
        ];
        for (i, why) in nulls {
            check(&i, Err(why));
        }
        check(
            &PriorityInput {
                resolved: None,
                skip_resolution: true,
                ..base.clone()
            },
            Ok(-30.0),
        );
    }

    #[test]
    fn skip_reasons_list_every_reason_and_the_first_blocking_one_wins() {
        let s = Priorities::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_507_629_600);
        let base = input(hours_before(now, 34.0));
        // No SRPM: the scheduler leaves the package out until polling ends the backoff.
        let no_srpm = PriorityInput {
            scheduler_skip: Some(SchedulerSkip::NoSrpm),
            ..base.clone()
        };
        assert_eq!(skip_reasons(&no_srpm, now), [SkipReason::NoSrpm]);
        assert_eq!(current_priority(&no_srpm, &s, now), Err(SkipReason::NoSrpm));
        // No build arch only explains the lowered manual priority.
        let no_arch = PriorityInput {
            scheduler_skip: Some(SchedulerSkip::NoBuildArch),
            manual: -1000,
            ..base.clone()
        };
        let b = breakdown(&no_arch, &s, now);
        assert_eq!(b.reasons, [SkipReason::NoBuildArch]);
        assert!((b.priority.expect("schedulable") - (133.26248998925 - 1000.0)).abs() < 1e-9);
        assert!(!b.schedulable());
        // Several reasons: all listed in the page's order, the first blocking one is the error.
        let many = PriorityInput {
            scheduler_skip: Some(SchedulerSkip::NoBuildArch),
            tracked: false,
            running_build: true,
            resolved: None,
            last_build_started: None,
            collection_resolved: None,
            ..base.clone()
        };
        let b = breakdown(&many, &s, now);
        assert_eq!(
            b.reasons,
            [
                SkipReason::NoBuildArch,
                SkipReason::Untracked,
                SkipReason::RunningBuild,
                SkipReason::NotResolvedYet,
                SkipReason::NoBuild,
                SkipReason::BuildrootNotResolvedYet
            ]
        );
        assert_eq!(b.priority, Err(SkipReason::Untracked));
        assert_eq!((b.time, b.hours, b.total), (None, None, None));
        assert_eq!(
            SkipReason::BuildrootNotResolvedYet.text("Fedora Rawhide"),
            "Base buildroot for Fedora Rawhide was not resolved yet"
        );
    }

    #[test]
    fn suspension_and_rebuild_interval_block_until_their_time() {
        let s = Priorities::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_507_629_600);
        let base = PriorityInput {
            dependency: 1000,
            ..input(hours_before(now, 34.0))
        };
        assert!(breakdown(&base, &s, now).schedulable());
        let hour = Duration::from_secs(3600);
        // Suspended until tomorrow: no priority, the reason names the date.
        let until = now + 24 * hour;
        let suspended = PriorityInput {
            suspended_until: Some(until),
            ..base.clone()
        };
        let b = breakdown(&suspended, &s, now);
        assert_eq!(b.priority, Err(SkipReason::Suspended { until }));
        assert!(!b.schedulable());
        assert_eq!(
            SkipReason::Suspended { until }.text("x"),
            "Scheduling is suspended until 2017-10-11 10:00 UTC"
        );
        // A suspension that has ended (or ends now) no longer counts.
        for ended in [now, now - hour] {
            let b = breakdown(
                &PriorityInput {
                    suspended_until: Some(ended),
                    ..base.clone()
                },
                &s,
                now,
            );
            assert!(b.schedulable(), "{ended:?}");
            assert!(b.reasons.is_empty());
        }
        // Submitted 2 h ago with a 24 h interval: no build for 22 h more.
        let limited = PriorityInput {
            last_submitted: Some(now - 2 * hour),
            min_rebuild_interval: Some(24 * hour),
            ..base.clone()
        };
        let next = now + 22 * hour;
        assert_eq!(limited.rebuild_not_before(now), Some(next));
        let b = breakdown(&limited, &s, now);
        assert_eq!(b.priority, Err(SkipReason::RebuildInterval { next }));
        assert_eq!(
            SkipReason::RebuildInterval { next }.text("x"),
            "Minimum rebuild interval not elapsed: no build before 2017-10-11 08:00 UTC"
        );
        // After the interval, or without one, or never submitted: schedulable.
        let later = now + 23 * hour;
        assert!(breakdown(&limited, &s, later).schedulable());
        for i in [
            PriorityInput {
                min_rebuild_interval: None,
                ..limited.clone()
            },
            PriorityInput {
                last_submitted: None,
                ..limited.clone()
            },
        ] {
            assert_eq!(i.rebuild_not_before(now), None);
            assert!(breakdown(&i, &s, now).schedulable());
        }
        // Both: listed in order, the suspension wins.
        let both = PriorityInput {
            suspended_until: Some(until),
            ..limited
        };
        let b = breakdown(&both, &s, now);
        assert_eq!(
            b.reasons,
            [
                SkipReason::Suspended { until },
                SkipReason::RebuildInterval { next }
            ]
        );
        assert_eq!(b.priority, Err(SkipReason::Suspended { until }));
    }

    #[test]
    fn breakdown_shows_each_term_and_the_total() {
        let s = Priorities::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_507_629_600);
        let i = PriorityInput {
            manual: 10,
            static_: 20,
            dependency: 40,
            build: 50,
            coefficient: 0.5,
            ..input(hours_before(now, 10.0))
        };
        let b = breakdown(&i, &s, now);
        let time = b.time.expect("a build");
        assert!((time - 39.2446980024098).abs() < 1e-9);
        assert!((b.hours.expect("a build") - 10.0).abs() < 1e-9);
        let want = 10.0 + 20.0 + 0.5 * (40.0 + 50.0 + time);
        assert_eq!(b.priority, Ok(want));
        assert_eq!(b.total, Some(want));
        assert_eq!(b.priority, current_priority(&i, &s, now));
        assert_eq!(
            b.to_string(),
            "priority 94.62 (threshold 256)\n\
             = manual 10 + static 20 + coefficient 0.5 * (dependency 40 + build 50 + time 39.24 after 10.0 h)"
        );
        // Not schedulable: the total is still shown, the priority is the reason.
        let blocked = breakdown(&PriorityInput { blocked: true, ..i }, &s, now);
        assert_eq!(blocked.total, Some(want));
        assert_eq!(blocked.priority, Err(SkipReason::Blocked));
        assert!(
            blocked
                .to_string()
                .starts_with("not schedulable (threshold 256)\n")
        );
    }

    #[test]
    fn dependency_priority_divides_by_distance() {
        let s = Priorities::default();
        let cases: [(&[Option<i32>], i32); 7] = [
            (&[], 0),
            (&[Some(1)], 256),
            (&[Some(2)], 128),
            (&[Some(3)], 85),
            (&[Some(4)], 64),
            (&[None], 32),
            (&[Some(3), Some(3), Some(3)], 256),
        ];
        for (d, want) in cases {
            assert_eq!(dependency_priority(&s, d.iter().copied()), want, "{d:?}");
        }
        // The original's resolver test: package_update 20, two changes at distance 2.
        let s20 = Priorities {
            package_update: 20,
            ..s
        };
        assert_eq!(dependency_priority(&s20, [Some(2), Some(2)]), 20);
    }

    #[test]
    fn failed_build_priority_only_on_first_failure() {
        use BuildState::*;
        let s = Priorities::default();
        assert_eq!(failed_build_priority(&s, Failed, Some(Complete)), 200);
        assert_eq!(failed_build_priority(&s, Failed, None), 200);
        assert_eq!(failed_build_priority(&s, Failed, Some(Failed)), 0);
        assert_eq!(failed_build_priority(&s, Complete, Some(Failed)), 0);
        assert_eq!(failed_build_priority(&s, Complete, None), 0);
    }

    #[test]
    fn hours_between_handles_future_start() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(7200);
        assert!(close(
            hours_between(SystemTime::UNIX_EPOCH, now),
            2.0,
            1e-12
        ));
        assert!(close(
            hours_between(now, SystemTime::UNIX_EPOCH),
            -2.0,
            1e-12
        ));
    }

    #[test]
    fn dependency_priority_sums_exactly() {
        let p = Priorities::default();
        assert_eq!(p.package_update, 256);
        // Sums whose exact value is whole, which a floating-point sum misses by one.
        let cases: [(&[i32], i32); 5] = [
            (&[3; 6], 512),
            (&[5, 5, 5, 5, 5, 3, 3, 3], 512),
            (&[6, 6, 6, 3, 3, 3, 2], 512),
            (&[7; 7], 256),
            (&[3, 3, 3, 6, 6], 341),
        ];
        for (distances, want) in cases {
            let float: f64 = distances.iter().map(|d| 256.0 / f64::from(*d)).sum();
            let got = dependency_priority(&p, distances.iter().map(|d| Some(*d)));
            assert_eq!(got, want, "{distances:?} (float sum {float})");
        }
        // The float sum really is off for the first case: the test guards the exact sum.
        let float: f64 = [3.0_f64; 6].iter().map(|d| 256.0 / d).sum();
        assert_eq!(float as i32, 511);
        // 1312 = 5 * 256 + 32: five direct changes and one unknown distance.
        let d = [Some(1), Some(1), Some(1), Some(1), Some(1), None];
        assert_eq!(dependency_priority(&p, d), 1312);
        // 1600 with package_update 1200: 1200/1 + 1200/3.
        let q = Priorities {
            package_update: 1200,
            ..Priorities::default()
        };
        assert_eq!(dependency_priority(&q, [Some(1), Some(3)]), 1600);
        // Negative weights truncate toward zero, like int().
        let n = Priorities {
            package_update: -256,
            ..Priorities::default()
        };
        assert_eq!(dependency_priority(&n, [Some(3), Some(3)]), -170);
        assert_eq!(dependency_priority(&p, []), 0);
        let big = Priorities {
            package_update: i32::MAX,
            ..Priorities::default()
        };
        assert_eq!(dependency_priority(&big, [Some(1), Some(1)]), i32::MAX);
    }
}
