-- The search vector is kept by a trigger that fires only when the subject or body change.
-- As a STORED generated column it was recomputed on every UPDATE of a message, and the
-- pipeline updates each message about a dozen times (stage state, flags), re-tokenising
-- the whole body each time: most of a message's database cost.
-- depends: 0300_api_search

ALTER TABLE messages DROP COLUMN search_vector;
ALTER TABLE messages ADD COLUMN search_vector tsvector;

CREATE FUNCTION messages_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('simple', coalesce(NEW.subject, '')), 'A')
        || setweight(to_tsvector('simple', left(coalesce(NEW.body_text, ''), 100000)), 'B');
    RETURN NEW;
END $$;

CREATE TRIGGER messages_search_vector BEFORE INSERT OR UPDATE OF subject, body_text
    ON messages FOR EACH ROW EXECUTE FUNCTION messages_search_vector();

UPDATE messages SET subject = subject;
CREATE INDEX messages_search ON messages USING gin (search_vector);
