-- When each collection's latest repo was recorded, for the age that monitoring watches
-- (koschei-web's /metrics: koschei_collection_latest_repo_age_seconds). Kept by a trigger,
-- so every writer of latest_repo_id (the repo resolver, admin commands, the messaging
-- listener, another version of Koschei) keeps it right. Unknown (NULL) for repos recorded
-- before this migration.
ALTER TABLE collection ADD COLUMN latest_repo_time timestamptz;

CREATE FUNCTION collection_latest_repo_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.latest_repo_id IS NOT NULL THEN
            NEW.latest_repo_time := now();
        END IF;
    ELSIF NEW.latest_repo_id IS DISTINCT FROM OLD.latest_repo_id THEN
        NEW.latest_repo_time := CASE WHEN NEW.latest_repo_id IS NULL THEN NULL ELSE now() END;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER collection_latest_repo_time
    BEFORE INSERT OR UPDATE OF latest_repo_id ON collection
    FOR EACH ROW EXECUTE FUNCTION collection_latest_repo_time();
