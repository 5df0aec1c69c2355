-- Dedupe keys move from a unique index on messages to a narrow table of their own.
-- depends: 0001_core_model
--
-- Claiming a key was an UPDATE of the wide messages row (a new version of it, an entry
-- in each of its indexes) inside a savepoint, to catch the unique violation. An INSERT
-- ... ON CONFLICT DO NOTHING into this table decides the same race, still in the
-- database (the second inserter waits for the first to commit, then does nothing),
-- without either. messages.dedupe_key stays as the record of the key a message holds.

CREATE TABLE message_keys (
    org_id uuid NOT NULL,
    key text NOT NULL,
    message_id bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX message_keys_message ON message_keys (message_id);

INSERT INTO message_keys (org_id, key, message_id)
    SELECT org_id, dedupe_key, id FROM messages WHERE dedupe_key IS NOT NULL;

DROP INDEX messages_dedupe;
