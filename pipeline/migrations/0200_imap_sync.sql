-- IMAP sync bookkeeping: messages skipped by a sync, and lookups by mailbox and folder.
-- depends: 0001_core_model

-- A message the sync did not import (too large, vanished before fetch): recorded once per
-- UID so it is visible through the API and never retried in a loop.
CREATE TABLE imap_skipped (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    mailbox_id bigint NOT NULL REFERENCES mailboxes ON DELETE CASCADE,
    folder text NOT NULL,
    uidvalidity bigint NOT NULL,
    uid bigint NOT NULL,
    size bigint,
    reason text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (mailbox_id, folder, uidvalidity, uid)
);

CREATE INDEX messages_mailbox_folder ON messages (mailbox_id, folder);
