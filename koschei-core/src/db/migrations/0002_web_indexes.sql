-- Indexes for the web frontend (koschei-web).
--
-- The default order of the package list is `running,state,name`; this index makes the
-- first pages of that order an index scan instead of a sort of the whole collection.
-- The expressions must stay equal to `RUNNING` and `STATE_RANK` in
-- koschei-core/src/db/web/list.rs.
CREATE INDEX ix_package_web_list ON package (
    collection_id,
    (last_build_id IS DISTINCT FROM last_complete_build_id) DESC,
    (CASE WHEN resolved = false THEN 0 WHEN resolved THEN 10 ELSE 20 END
     + CASE WHEN last_build_id IS DISTINCT FROM last_complete_build_id THEN 3
            WHEN last_complete_build_state = 5 THEN 1
            WHEN last_complete_build_state = 3 THEN 2
            ELSE 0 END),
    name
) WHERE NOT blocked;
