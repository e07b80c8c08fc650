//! The current priority of a package and the reasons it cannot be scheduled (spec 4.1, 2.3),
//! over the engine's formula in `koschei_core::priority`. Pure.

use std::time::SystemTime;

use koschei_core::db::web::{CollectionRow, PackageFlags, TimePriority};
use koschei_core::priority::{self, Priorities, PriorityInput};

/// The constants of the time priority `a·log10(hours) + b` for ordering by priority in SQL,
/// evaluated at `now` (the same weights as [`priority::time_priority`]).
pub(crate) fn time_priority(p: &Priorities, now: SystemTime) -> TimePriority {
    let a = f64::from(p.build_threshold) / (p.t1.log10() - p.t0.log10());
    let b = -a * p.t0.log10();
    TimePriority { a, b, now }
}

/// The engine's priority inputs of a package as the web reads them.
fn input(flags: &PackageFlags) -> PriorityInput {
    PriorityInput {
        blocked: flags.blocked,
        tracked: flags.tracked,
        resolved: flags.resolved,
        skip_resolution: flags.skip_resolution,
        running_build: flags.running,
        last_build_started: flags.last_build_started,
        collection_resolved: flags.collection_resolved,
        coefficient: flags.priority_coefficient,
        manual: flags.manual_priority,
        static_: flags.static_priority,
        dependency: flags.dependency_priority,
        build: flags.build_priority,
        scheduler_skip: flags.scheduler_skip_reason,
        suspended_until: flags.suspended_until,
        last_submitted: flags.last_submitted,
        min_rebuild_interval: flags.min_rebuild_interval,
    }
}

/// The current priority (the engine's formula, `koschei_core::priority`), or `None` when the
/// package cannot be scheduled.
pub(crate) fn current_priority(
    flags: &PackageFlags,
    w: &Priorities,
    now: SystemTime,
) -> Option<f64> {
    priority::current_priority(&input(flags), w, now).ok()
}

/// Why a package is not schedulable at `now`, in the original's words (the texts are
/// `koschei_core::priority::SkipReason`'s); empty when it is.
pub(crate) fn skip_reasons(
    flags: &PackageFlags,
    collection: &CollectionRow,
    now: SystemTime,
) -> Vec<String> {
    priority::skip_reasons(&input(flags), now)
        .into_iter()
        .map(|r| r.text(&collection.display_name))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use koschei_core::model::{BuildState, CollectionId, SchedulerSkip};

    fn flags(hours_ago: f64, now: SystemTime) -> PackageFlags {
        PackageFlags {
            blocked: false,
            tracked: true,
            resolved: Some(true),
            skip_resolution: false,
            last_complete_build_state: Some(BuildState::Complete),
            running: false,
            last_build_started: Some(now - Duration::from_secs_f64(hours_ago * 3600.0)),
            manual_priority: 0,
            static_priority: 0,
            dependency_priority: 0,
            build_priority: 0,
            scheduler_skip_reason: None,
            priority_coefficient: 1.0,
            collection_resolved: Some(true),
            suspended_until: None,
            last_submitted: None,
            min_rebuild_interval: None,
        }
    }

    fn collection(resolved: Option<bool>) -> CollectionRow {
        CollectionRow {
            id: CollectionId(1),
            name: "f25".into(),
            display_name: "Fedora Rawhide".into(),
            order: 100,
            secondary_mode: false,
            target: "f25".into(),
            dest_tag: "f25".into(),
            build_tag: "f25-build".into(),
            bugzilla_product: None,
            bugzilla_version: None,
            priority_coefficient: 1.0,
            build_group: "build".into(),
            latest_repo_id: Some(123),
            latest_repo_resolved: resolved,
            poll_untracked: true,
        }
    }

    #[test]
    fn time_priority_matches_reference_values() {
        let w = Priorities::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_507_629_600);
        let cases = [
            (0.0, -30.0),
            (2.0, -30.0),
            (10.0, 39.2446980024098),
            (34.0, 133.26248998925),
            (168.0, 256.0),
            (730.0, 368.863607520133),
        ];
        for (hours, want) in cases {
            let got = current_priority(&flags(hours, now), &w, now).unwrap();
            assert!((got - want).abs() < 1e-6, "{hours} h: {got} != {want}");
        }
    }

    #[test]
    fn coefficient_multiplies_only_dynamic_part() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_507_629_600);
        let mut f = flags(0.0, now);
        f.manual_priority = 10;
        f.static_priority = 20;
        f.dependency_priority = 40;
        f.build_priority = 50;
        f.priority_coefficient = 0.5;
        let got = current_priority(&f, &Priorities::default(), now).unwrap();
        assert!((got - 60.0).abs() < 1e-9, "{got}");
    }

    #[test]
    fn unschedulable_packages_have_no_priority_and_say_why() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_507_629_600);
        let w = Priorities::default();
        let c = collection(Some(true));
        type Case = (fn(&mut PackageFlags), &'static str);
        let cases: [Case; 6] = [
            (|f| f.tracked = false, "Package is not tracked"),
            (|f| f.blocked = true, "Package is blocked in Koji"),
            (
                |f| f.resolved = Some(false),
                "Package dependencies are not resolvable",
            ),
            (|f| f.running = true, "Package has a running build"),
            (
                |f| f.last_build_started = None,
                "Package has no known build",
            ),
            (
                |f| f.resolved = None,
                "Package dependencies were not resolved yet",
            ),
        ];
        for (change, reason) in cases {
            let mut f = flags(10.0, now);
            change(&mut f);
            assert_eq!(current_priority(&f, &w, now), None, "{reason}");
            assert_eq!(skip_reasons(&f, &c, now), [reason]);
        }
        let mut f = flags(0.0, now);
        f.resolved = None;
        f.skip_resolution = true;
        assert_eq!(current_priority(&f, &w, now), Some(-30.0));
        assert!(skip_reasons(&f, &c, now).is_empty());

        let mut f = flags(0.0, now);
        f.collection_resolved = Some(false);
        assert_eq!(current_priority(&f, &w, now), None);
        assert_eq!(
            skip_reasons(&f, &collection(Some(false)), now),
            ["Base buildroot for Fedora Rawhide is not resolvable"]
        );
        // Waiting for the no-SRPM backoff: the scheduler leaves the package out, so it has
        // no priority here either (it used to show one).
        let mut g = flags(10.0, now);
        g.scheduler_skip_reason = Some(SchedulerSkip::NoSrpm);
        assert_eq!(current_priority(&g, &w, now), None);
        assert_eq!(skip_reasons(&g, &c, now), ["No suitable SRPM was found"]);
        f.collection_resolved = None;
        f.scheduler_skip_reason = Some(SchedulerSkip::NoBuildArch);
        assert_eq!(
            skip_reasons(&f, &collection(None), now),
            [
                "No build architecture allowed",
                "Base buildroot for Fedora Rawhide was not resolved yet"
            ]
        );
    }
}
