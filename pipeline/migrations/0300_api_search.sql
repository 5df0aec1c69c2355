-- Full-text search for the emails API, and agents addressable by their external id.
-- depends: 0001_core_model

-- The 'simple' configuration (no stemming, no stop words) because one organization's mail
-- mixes languages: stemming French mail with English rules loses matches. Subject weighs
-- more than body. Bodies are cut at 100k characters: to_tsvector fails beyond 1 MB of
-- lexemes, and a failing generated column would refuse the message.
ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', coalesce(subject, '')), 'A')
    || setweight(to_tsvector('simple', left(coalesce(body_text, ''), 100000)), 'B')
) STORED;
CREATE INDEX messages_search ON messages USING gin (search_vector);

CREATE UNIQUE INDEX IF NOT EXISTS agents_external_id ON agents (org_id, external_id)
    WHERE external_id IS NOT NULL;
