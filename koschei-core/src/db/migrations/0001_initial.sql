-- Koschei schema, version 1.
--
-- Follows the original's data model (spec section 2) with these deliberate fixes,
-- listed in docs/schema.md:
--   * timestamps are `timestamptz` (the original stored local time without zone);
--   * change ids are bigint (the original overflowed `unapplied_change.id`, #234);
--   * a build's resolved dependency set is an `integer[]` of dependency ids instead
--     of a zlib-compressed, delta-encoded bytea;
--   * every dependency row carries `evr_key`, rpm-version's memcmp-sortable EVR key,
--     so RPM version order is a plain bytea comparison (no rpmvercmp in PL/pgSQL);
--   * global package groups are unique by name (`NULLS NOT DISTINCT`);
--   * `base_package.all_blocked` is derived in queries instead of kept by a trigger;
--   * statistics are real materialized views.

CREATE TABLE collection (
    id                    serial PRIMARY KEY,
    "order"               integer NOT NULL DEFAULT 100,
    name                  text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._+-]+$'),
    display_name          text NOT NULL,
    secondary_mode        boolean NOT NULL DEFAULT false,
    target                text NOT NULL,
    dest_tag              text NOT NULL,
    build_tag             text NOT NULL,
    bugzilla_product      text,
    bugzilla_version      text,
    priority_coefficient  double precision NOT NULL DEFAULT 1.0,
    build_group           text NOT NULL DEFAULT 'build',
    latest_repo_id        integer,
    latest_repo_resolved  boolean,
    poll_untracked        boolean NOT NULL DEFAULT true,
    CONSTRAINT collection_latest_repo_consistent
        CHECK ((latest_repo_id IS NULL) = (latest_repo_resolved IS NULL))
);

CREATE TABLE collection_group (
    id            serial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._+-]+$'),
    display_name  text NOT NULL
);

CREATE TABLE collection_group_relation (
    group_id       integer NOT NULL REFERENCES collection_group ON DELETE CASCADE,
    collection_id  integer NOT NULL REFERENCES collection ON DELETE CASCADE,
    PRIMARY KEY (group_id, collection_id)
);
CREATE INDEX ix_collection_group_relation_collection ON collection_group_relation (collection_id);

CREATE TABLE base_package (
    id    serial PRIMARY KEY,
    name  text NOT NULL UNIQUE
);

CREATE TABLE package (
    id                         serial PRIMARY KEY,
    base_id                    integer NOT NULL REFERENCES base_package ON DELETE CASCADE,
    name                       text NOT NULL,
    collection_id              integer NOT NULL REFERENCES collection ON DELETE CASCADE,
    arch_override              text,
    skip_resolution            boolean NOT NULL DEFAULT false,
    last_complete_build_id     integer,
    last_complete_build_state  integer CHECK (last_complete_build_state IN (3, 5)),
    last_build_id              integer,
    resolved                   boolean,
    static_priority            integer NOT NULL DEFAULT 0,
    manual_priority            integer NOT NULL DEFAULT 0,
    build_priority             integer NOT NULL DEFAULT 0,
    dependency_priority        integer NOT NULL DEFAULT 0,
    tracked                    boolean NOT NULL DEFAULT false,
    blocked                    boolean NOT NULL DEFAULT false,
    scheduler_skip_reason      integer CHECK (scheduler_skip_reason IN (1, 2)),
    UNIQUE (base_id, collection_id),
    UNIQUE (collection_id, name),
    CONSTRAINT package_skip_resolution_unresolved CHECK (NOT skip_resolution OR resolved IS NULL)
);
CREATE INDEX ix_package_name ON package (name);
CREATE INDEX ix_package_collection_id ON package (collection_id, tracked) WHERE NOT blocked;

CREATE TABLE build (
    id                serial PRIMARY KEY,
    package_id        integer NOT NULL REFERENCES package ON DELETE CASCADE,
    state             integer NOT NULL CHECK (state IN (2, 3, 5)),
    task_id           integer NOT NULL,
    started           timestamptz NOT NULL,
    finished          timestamptz,
    epoch             integer,
    version           text,
    release           text,
    repo_id           integer,
    last_complete     boolean NOT NULL DEFAULT false,
    cancel_requested  boolean NOT NULL DEFAULT false,
    deps_resolved     boolean,
    real              boolean NOT NULL DEFAULT false,
    untagged          boolean NOT NULL DEFAULT false,
    dependency_ids    integer[],
    UNIQUE (package_id, task_id),
    CONSTRAINT build_real_not_running CHECK (NOT real OR state <> 2),
    CONSTRAINT build_evr_unless_running CHECK (state = 2 OR (version IS NOT NULL AND release IS NOT NULL)),
    CONSTRAINT build_repo_unless_running CHECK (state = 2 OR repo_id IS NOT NULL)
);
CREATE INDEX ix_build_composite ON build (package_id, started DESC);
CREATE INDEX ix_builds_unprocessed ON build (task_id) WHERE deps_resolved IS NULL AND repo_id IS NOT NULL;
CREATE INDEX ix_builds_last_complete ON build (package_id, task_id) WHERE last_complete;
CREATE INDEX ix_build_running ON build (package_id) WHERE state = 2;
CREATE INDEX ix_build_task_id ON build (task_id);

ALTER TABLE package
    ADD CONSTRAINT package_last_build_fkey
        FOREIGN KEY (last_build_id) REFERENCES build ON DELETE SET NULL,
    ADD CONSTRAINT package_last_complete_build_fkey
        FOREIGN KEY (last_complete_build_id) REFERENCES build ON DELETE SET NULL;

CREATE TABLE koji_task (
    id        serial PRIMARY KEY,
    build_id  integer NOT NULL REFERENCES build ON DELETE CASCADE,
    task_id   integer NOT NULL,
    arch      text NOT NULL,
    state     integer NOT NULL CHECK (state BETWEEN 0 AND 5),
    started   timestamptz NOT NULL,
    finished  timestamptz,
    UNIQUE (build_id, task_id)
);

CREATE TABLE dependency (
    id       serial PRIMARY KEY,
    name     text NOT NULL,
    epoch    integer,
    version  text NOT NULL,
    release  text NOT NULL,
    arch     text NOT NULL,
    evr_key  bytea NOT NULL
);
CREATE UNIQUE INDEX ix_dependency_composite
    ON dependency (name, epoch, version, release, arch) NULLS NOT DISTINCT;
CREATE INDEX ix_dependency_name_evr ON dependency (name, evr_key);

CREATE TABLE applied_change (
    id           bigserial PRIMARY KEY,
    build_id     integer NOT NULL REFERENCES build ON DELETE CASCADE,
    prev_dep_id  integer REFERENCES dependency,
    curr_dep_id  integer REFERENCES dependency,
    distance     integer CHECK (distance > 0),
    CONSTRAINT applied_change_differs CHECK (coalesce(prev_dep_id, 0) <> coalesce(curr_dep_id, 0))
);
CREATE INDEX ix_applied_change_build_id ON applied_change (build_id);
CREATE INDEX ix_applied_change_prev_dep ON applied_change (prev_dep_id);
CREATE INDEX ix_applied_change_curr_dep ON applied_change (curr_dep_id);

CREATE TABLE unapplied_change (
    id           bigserial PRIMARY KEY,
    package_id   integer NOT NULL REFERENCES package ON DELETE CASCADE,
    prev_dep_id  integer REFERENCES dependency,
    curr_dep_id  integer REFERENCES dependency,
    distance     integer CHECK (distance > 0),
    CONSTRAINT unapplied_change_differs CHECK (coalesce(prev_dep_id, 0) <> coalesce(curr_dep_id, 0))
);
CREATE INDEX ix_unapplied_change_package_id ON unapplied_change (package_id);

CREATE TABLE resolution_change (
    id          bigserial PRIMARY KEY,
    package_id  integer NOT NULL REFERENCES package ON DELETE CASCADE,
    resolved    boolean NOT NULL,
    "timestamp" timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ix_resolution_change_package_id ON resolution_change (package_id, "timestamp" DESC);

CREATE TABLE resolution_problem (
    id             bigserial PRIMARY KEY,
    resolution_id  bigint NOT NULL REFERENCES resolution_change ON DELETE CASCADE,
    problem        text NOT NULL
);
CREATE INDEX ix_resolution_problem_resolution_id ON resolution_problem (resolution_id);

CREATE TABLE buildroot_problem (
    id             serial PRIMARY KEY,
    collection_id  integer NOT NULL REFERENCES collection ON DELETE CASCADE,
    problem        text NOT NULL
);
CREATE INDEX ix_buildroot_problem_collection_id ON buildroot_problem (collection_id);

CREATE TABLE users (
    id     serial PRIMARY KEY,
    name   text NOT NULL UNIQUE,
    admin  boolean NOT NULL DEFAULT false
);

CREATE TABLE package_group (
    id         serial PRIMARY KEY,
    namespace  text,
    name       text NOT NULL CHECK (name ~ '^[A-Za-z0-9.+_-]+$'),
    CONSTRAINT package_group_unique_name UNIQUE NULLS NOT DISTINCT (namespace, name)
);

CREATE TABLE package_group_relation (
    group_id  integer NOT NULL REFERENCES package_group ON DELETE CASCADE,
    base_id   integer NOT NULL REFERENCES base_package ON DELETE CASCADE,
    PRIMARY KEY (group_id, base_id)
);
CREATE INDEX ix_package_group_relation_base_id ON package_group_relation (base_id);

CREATE TABLE group_acl (
    group_id  integer NOT NULL REFERENCES package_group ON DELETE CASCADE,
    user_id   integer NOT NULL REFERENCES users ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);

CREATE TABLE admin_notice (
    key      text PRIMARY KEY,
    content  text NOT NULL
);

CREATE TYPE log_environment AS ENUM ('admin', 'backend', 'frontend');

CREATE TABLE log_entry (
    id           bigserial PRIMARY KEY,
    user_id      integer REFERENCES users ON DELETE SET NULL,
    environment  log_environment NOT NULL,
    "timestamp"  timestamptz NOT NULL DEFAULT clock_timestamp(),
    message      text NOT NULL,
    base_id      integer REFERENCES base_package ON DELETE SET NULL,
    CONSTRAINT log_entry_user_unless_backend CHECK (user_id IS NOT NULL OR environment = 'backend')
);
CREATE INDEX ix_log_entry_timestamp ON log_entry ("timestamp" DESC);

CREATE TABLE repo_mapping (
    secondary_id  integer PRIMARY KEY,
    primary_id    integer,
    task_id       integer NOT NULL
);

-- last_build_id / last_complete_build_id / last_complete_build_state and the
-- build.last_complete flags, kept by triggers as in the original (spec 2.2).
CREATE FUNCTION update_last_build(pkg_id integer) RETURNS void AS $$
DECLARE
    lb_id integer;
    lb_state integer;
    lcb_id integer;
    lcb_state integer;
BEGIN
    SELECT id, state INTO lb_id, lb_state
        FROM build WHERE package_id = pkg_id AND NOT untagged
        ORDER BY started DESC, id DESC LIMIT 1;
    IF lb_state = 2 THEN
        SELECT id, state INTO lcb_id, lcb_state
            FROM build WHERE package_id = pkg_id AND NOT untagged AND state IN (3, 5)
            ORDER BY started DESC, id DESC LIMIT 1;
    ELSE
        lcb_id := lb_id;
        lcb_state := lb_state;
    END IF;
    UPDATE package SET last_build_id = lb_id
        WHERE id = pkg_id AND last_build_id IS DISTINCT FROM lb_id;
    UPDATE package SET last_complete_build_id = lcb_id, last_complete_build_state = lcb_state
        WHERE id = pkg_id
          AND (last_complete_build_id IS DISTINCT FROM lcb_id
               OR last_complete_build_state IS DISTINCT FROM lcb_state);
    UPDATE build SET last_complete = false
        WHERE package_id = pkg_id AND last_complete AND id IS DISTINCT FROM lcb_id;
    UPDATE build SET last_complete = true WHERE id = lcb_id AND NOT last_complete;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION build_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM update_last_build(OLD.package_id);
        RETURN OLD;
    END IF;
    PERFORM update_last_build(NEW.package_id);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER build_insert AFTER INSERT ON build
    FOR EACH ROW EXECUTE FUNCTION build_changed();
CREATE TRIGGER build_update AFTER UPDATE OF state, untagged ON build
    FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.untagged IS DISTINCT FROM NEW.untagged)
    EXECUTE FUNCTION build_changed();
CREATE TRIGGER build_delete AFTER DELETE ON build
    FOR EACH ROW EXECUTE FUNCTION build_changed();

CREATE MATERIALIZED VIEW scalar_stats AS
SELECT now() AS refresh_time,
       (SELECT count(*) FROM package) AS packages,
       (SELECT count(*) FROM package WHERE tracked) AS tracked_packages,
       (SELECT count(*) FROM package WHERE blocked) AS blocked_packages,
       (SELECT count(*) FROM build) AS builds,
       (SELECT count(*) FROM build WHERE real) AS real_builds,
       (SELECT count(*) FROM build WHERE NOT real) AS scratch_builds;

CREATE MATERIALIZED VIEW resource_consumption_stats AS
WITH per_arch AS (
    SELECT p.name, t.arch, sum(t.finished - t.started) AS time
    FROM koji_task t JOIN build b ON b.id = t.build_id JOIN package p ON p.id = b.package_id
    GROUP BY p.name, t.arch
), total AS (
    SELECT sum(time) AS time FROM per_arch
)
SELECT per_arch.name, per_arch.arch, per_arch.time,
       CASE WHEN total.time IS NULL OR total.time = interval '0'
            THEN NULL
            ELSE extract(epoch FROM per_arch.time) / extract(epoch FROM total.time)
       END AS time_percentage
FROM per_arch CROSS JOIN total;
CREATE UNIQUE INDEX ix_resource_consumption_stats ON resource_consumption_stats (name, arch);
