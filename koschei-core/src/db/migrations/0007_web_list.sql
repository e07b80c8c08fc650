-- The package list without work proportional to the collection (docs/schema.md, "The
-- package list").
--
-- 1. `running` and `state_rank`: the keys of the list's default order (`running,state,name`)
--    as stored generated columns, so that the order is a plain index and a page deep in the
--    list is an index-only scan over that index (no sort, no heap visit, no join for the
--    rows skipped). `state_rank` is the rank of the `state` order key: unresolved first, then
--    by last build state (no build, failed, complete, running), packages not resolved yet
--    last. They replace the expressions of `ix_package_web_list` (migration 0002).
ALTER TABLE package
    ADD COLUMN running boolean NOT NULL
        GENERATED ALWAYS AS (last_build_id IS DISTINCT FROM last_complete_build_id) STORED,
    ADD COLUMN state_rank smallint NOT NULL
        GENERATED ALWAYS AS (
            (CASE WHEN resolved = false THEN 0 WHEN resolved THEN 10 ELSE 20 END)
            + (CASE WHEN last_build_id IS DISTINCT FROM last_complete_build_id THEN 3
                    WHEN last_complete_build_state = 5 THEN 1
                    WHEN last_complete_build_state = 3 THEN 2
                    ELSE 0 END)) STORED;

DROP INDEX ix_package_web_list;
-- `id` and `tracked` are included so that the page's ids come from the index alone.
CREATE INDEX ix_package_web_order ON package (collection_id, running DESC, state_rank, name)
    INCLUDE (id, tracked) WHERE NOT blocked;

-- Index-only scans skip heap pages only while the visibility map marks them all-visible;
-- the engine updates package rows all the time, so vacuum them sooner than the default
-- (20 % of the rows changed).
ALTER TABLE package SET (autovacuum_vacuum_scale_factor = 0.02,
                         autovacuum_vacuum_insert_scale_factor = 0.02);

-- 2. `package_count`: the number of listed packages per collection (not blocked; tracked or
--    untracked), kept exact by triggers, so the list's "from total N" costs one row read
--    instead of a count over the collection. Statements that do not change `tracked`,
--    `blocked` or which packages exist do not touch it. No foreign key: the count of a
--    collection being deleted is changed while its packages are deleted (the collection's
--    row is already gone), and collection ids are never reused; its row is deleted with
--    the collection.
CREATE TABLE package_count (
    collection_id integer PRIMARY KEY,
    tracked       bigint NOT NULL DEFAULT 0,
    untracked     bigint NOT NULL DEFAULT 0
);

INSERT INTO package_count (collection_id, tracked, untracked)
SELECT c.id,
       (SELECT count(*) FROM package p WHERE p.collection_id = c.id AND NOT p.blocked AND p.tracked),
       (SELECT count(*) FROM package p WHERE p.collection_id = c.id AND NOT p.blocked AND NOT p.tracked)
FROM collection c;

-- Adds `sign` times the listed packages of each collection among `rows` (a transition
-- table's contents) to the counts, collections in id order.
CREATE FUNCTION package_count_add(tracked_delta bigint, untracked_delta bigint, cid integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO package_count AS pc (collection_id, tracked, untracked)
    SELECT cid, tracked_delta, untracked_delta
    WHERE EXISTS (SELECT 1 FROM collection c WHERE c.id = cid)
    ON CONFLICT (collection_id) DO UPDATE
        SET tracked = pc.tracked + EXCLUDED.tracked,
            untracked = pc.untracked + EXCLUDED.untracked;
$$;

-- Inserted and deleted packages: once per statement, from the transition table.
CREATE FUNCTION package_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    sign bigint := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR r IN SELECT collection_id, count(*) FILTER (WHERE tracked) AS t,
                        count(*) FILTER (WHERE NOT tracked) AS u
                 FROM new_rows WHERE NOT blocked GROUP BY collection_id ORDER BY collection_id
        LOOP
            PERFORM package_count_add(sign * r.t, sign * r.u, r.collection_id);
        END LOOP;
    ELSE
        FOR r IN SELECT collection_id, count(*) FILTER (WHERE tracked) AS t,
                        count(*) FILTER (WHERE NOT tracked) AS u
                 FROM old_rows WHERE NOT blocked GROUP BY collection_id ORDER BY collection_id
        LOOP
            PERFORM package_count_add(sign * r.t, sign * r.u, r.collection_id);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER package_count_insert AFTER INSERT ON package
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION package_count_rows();
CREATE TRIGGER package_count_delete AFTER DELETE ON package
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION package_count_rows();

-- Updated packages: only rows whose `tracked`, `blocked` or collection changed.
CREATE FUNCTION package_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT OLD.blocked THEN
        PERFORM package_count_add(CASE WHEN OLD.tracked THEN -1 ELSE 0 END,
                                  CASE WHEN OLD.tracked THEN 0 ELSE -1 END,
                                  OLD.collection_id);
    END IF;
    IF NOT NEW.blocked THEN
        PERFORM package_count_add(CASE WHEN NEW.tracked THEN 1 ELSE 0 END,
                                  CASE WHEN NEW.tracked THEN 0 ELSE 1 END,
                                  NEW.collection_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER package_count_update AFTER UPDATE OF tracked, blocked, collection_id ON package
    FOR EACH ROW
    WHEN (OLD.tracked IS DISTINCT FROM NEW.tracked OR OLD.blocked IS DISTINCT FROM NEW.blocked
          OR OLD.collection_id IS DISTINCT FROM NEW.collection_id)
    EXECUTE FUNCTION package_count_update();

CREATE FUNCTION package_count_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM package_count WHERE collection_id = OLD.id;
    RETURN NULL;
END $$;

CREATE TRIGGER package_count_forget AFTER DELETE ON collection
    FOR EACH ROW EXECUTE FUNCTION package_count_forget();
