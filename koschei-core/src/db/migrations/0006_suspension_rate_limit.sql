-- Scheduling controls the original lacked (docs/engine.md, "Suspension and rebuild interval"):
--
--   * suspended_until: `koschei suspend` stops the scheduler from submitting the package
--     until then (#128, #326); NULL or a past time: not suspended.
--   * min_rebuild_interval_hours: the least time between two submissions of the package
--     (#310: more than 600 builds of one package in a day); NULL: no limit.
--   * last_submitted: when Koschei last reserved a scratch build of the package. Unlike the
--     last build's start it is kept when the build is deleted (canceled, killed by a Koji
--     fault, orphaned), which is exactly when the original rebuilt a package over and over.
--
-- Existing packages get last_submitted from their newest scratch build still recorded.
ALTER TABLE package
    ADD COLUMN suspended_until timestamptz,
    ADD COLUMN min_rebuild_interval_hours integer
        CONSTRAINT package_min_rebuild_interval_positive CHECK (min_rebuild_interval_hours > 0),
    ADD COLUMN last_submitted timestamptz;

UPDATE package p SET last_submitted = s.started
FROM (SELECT package_id, max(started) AS started FROM build WHERE NOT real GROUP BY package_id) s
WHERE s.package_id = p.id;
