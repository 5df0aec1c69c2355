-- Ticket timestamps at millisecond precision for the 003 keyset cursor.
-- depends: 0001_core_model

-- `cursorUpdated` is epoch milliseconds: with microsecond timestamps the cursor could not
-- name a row's position exactly (rows inside the same millisecond would be skipped or
-- repeated); at millisecond precision (updated_at, id) is exact and the index serves it.

CREATE FUNCTION touch_ticket_times() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    NEW.updated_at := date_trunc('milliseconds', NEW.updated_at);
    NEW.latest_updated_at := date_trunc('milliseconds', NEW.latest_updated_at);
    RETURN NEW;
END $$;

DROP TRIGGER tickets_touch ON tickets;
CREATE TRIGGER tickets_touch BEFORE INSERT OR UPDATE ON tickets
    FOR EACH ROW EXECUTE FUNCTION touch_ticket_times();

UPDATE tickets SET updated_at = date_trunc('milliseconds', updated_at);
