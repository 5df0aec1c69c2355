-- The whole core model of SPEC §2. Every tenant-owned row carries org_id.
-- depends:

-- No extensions: gen_random_uuid() is core PostgreSQL since 13, and the embedded
-- server (the pgserver wheel) ships none.

CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    unmatched_policy text NOT NULL DEFAULT 'create_ticket'
        CHECK (unmatched_policy IN ('create_ticket', 'hold', 'discard')),
    closed_reply_policy text NOT NULL DEFAULT 'reopen'
        CHECK (closed_reply_policy IN ('reopen', 'new_ticket', 'hold')),
    append_open_ticket boolean NOT NULL DEFAULT true,
    auto_reply_enabled boolean NOT NULL DEFAULT false,
    auto_reply_subject text NOT NULL DEFAULT 'We received your message',
    auto_reply_body text NOT NULL DEFAULT 'Thank you for contacting us. Your request has been received.',
    auto_reply_window_seconds integer NOT NULL DEFAULT 86400,
    flood_limit integer NOT NULL DEFAULT 30,
    flood_window_seconds integer NOT NULL DEFAULT 3600,
    settings jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    public_id text NOT NULL UNIQUE,
    secret_hash text NOT NULL,
    name text NOT NULL,
    scopes text[] NOT NULL DEFAULT '{read}',
    requests_per_minute integer NOT NULL DEFAULT 60,
    requests_per_hour integer NOT NULL DEFAULT 1000,
    last_used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_org ON api_keys (org_id);

CREATE TABLE blobs (
    sha256 text PRIMARY KEY,
    size bigint NOT NULL,
    data bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mailboxes (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    name text NOT NULL,
    address text NOT NULL,
    aliases text[] NOT NULL DEFAULT '{}',
    inbox_name text NOT NULL DEFAULT 'Support',
    imap_host text,
    imap_port integer,
    imap_username text,
    imap_password_enc bytea,
    imap_encryption text NOT NULL DEFAULT 'ssl' CHECK (imap_encryption IN ('ssl', 'tls', 'none')),
    sync_folders text[] NOT NULL DEFAULT '{INBOX}',
    mark_seen boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT false,
    smtp_host text,
    smtp_port integer,
    smtp_username text,
    smtp_password_enc bytea,
    smtp_tls text NOT NULL DEFAULT 'starttls' CHECK (smtp_tls IN ('ssl', 'starttls', 'none')),
    oauth_client_secret_enc bytea,
    oauth_refresh_token_enc bytea,
    last_sync_at timestamptz,
    last_error text,
    last_error_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX mailboxes_address ON mailboxes (lower(address));
CREATE INDEX mailboxes_org ON mailboxes (org_id);

CREATE TABLE mailbox_folders (
    mailbox_id bigint NOT NULL REFERENCES mailboxes ON DELETE CASCADE,
    folder text NOT NULL,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    uidvalidity bigint,
    last_uid bigint NOT NULL DEFAULT 0,
    last_synced_at timestamptz,
    last_error text,
    PRIMARY KEY (mailbox_id, folder)
);

CREATE TABLE inbound_endpoints (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    mailbox_id bigint REFERENCES mailboxes ON DELETE CASCADE,
    provider text NOT NULL,
    token text NOT NULL UNIQUE,
    secret_enc bytea,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    name text NOT NULL,
    email text,
    external_ref text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_org ON customers (org_id);

CREATE TABLE contacts (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    email text NOT NULL,
    name text,
    customer_id bigint REFERENCES customers ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_email ON contacts (org_id, lower(email));

CREATE TABLE agents (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    email text NOT NULL,
    name text NOT NULL,
    external_id text,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agents_email ON agents (org_id, lower(email));

CREATE TABLE tickets (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    number bigint NOT NULL,
    mailbox_id bigint REFERENCES mailboxes ON DELETE SET NULL,
    status text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'reply', 'pending', 'solved', 'closed', 'on-hold')),
    subject text NOT NULL DEFAULT '',
    contact_id bigint REFERENCES contacts ON DELETE SET NULL,
    customer_id bigint REFERENCES customers ON DELETE SET NULL,
    labels text[] NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    notes text NOT NULL DEFAULT '',
    custom_fields jsonb NOT NULL DEFAULT '[]',
    exchange_count integer NOT NULL DEFAULT 1,
    pending_closure_at timestamptz,
    closed_at timestamptz,
    source_message_id bigint UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    latest_updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, number)
);
CREATE INDEX tickets_org_updated ON tickets (org_id, updated_at, id);
CREATE INDEX tickets_org_latest ON tickets (org_id, latest_updated_at, id);

CREATE TABLE ticket_links (
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    ticket_id bigint NOT NULL REFERENCES tickets ON DELETE CASCADE,
    linked_ticket_id bigint NOT NULL REFERENCES tickets ON DELETE CASCADE,
    PRIMARY KEY (ticket_id, linked_ticket_id)
);

CREATE TABLE ticket_agents (
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    ticket_id bigint NOT NULL REFERENCES tickets ON DELETE CASCADE,
    agent_id bigint NOT NULL REFERENCES agents ON DELETE CASCADE,
    PRIMARY KEY (ticket_id, agent_id)
);

CREATE TABLE messages (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    mailbox_id bigint REFERENCES mailboxes ON DELETE SET NULL,
    channel text NOT NULL,
    folder text,
    imap_uid bigint,
    provider_message_id text,
    raw_sha256 text NOT NULL REFERENCES blobs,
    raw_size bigint NOT NULL,
    envelope_from text,
    envelope_to text[] NOT NULL DEFAULT '{}',
    state text NOT NULL DEFAULT 'received'
        CHECK (state IN ('received', 'processing', 'done', 'duplicate', 'filtered',
                         'held', 'discarded', 'failed')),
    stage text,
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    message_id text,
    in_reply_to text,
    "references" text[] NOT NULL DEFAULT '{}',
    from_address text,
    from_name text,
    to_addresses jsonb NOT NULL DEFAULT '[]',
    cc_addresses jsonb NOT NULL DEFAULT '[]',
    reply_to text,
    subject text,
    body_text text,
    body_html text,
    new_text text,
    headers jsonb NOT NULL DEFAULT '[]',
    sent_at timestamptz,
    received_at timestamptz NOT NULL DEFAULT now(),
    is_read boolean NOT NULL DEFAULT false,
    read_at timestamptz,
    is_starred boolean NOT NULL DEFAULT false,
    is_archived boolean NOT NULL DEFAULT false,
    has_attachments boolean NOT NULL DEFAULT false,
    attachment_count integer NOT NULL DEFAULT 0,
    ticket_id bigint REFERENCES tickets ON DELETE SET NULL,
    reply_to_closed_ticket boolean NOT NULL DEFAULT false,
    analysis jsonb NOT NULL DEFAULT '{}',
    notified boolean NOT NULL DEFAULT false,
    dedupe_key text,
    duplicate_of bigint REFERENCES messages ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_org_received ON messages (org_id, received_at DESC, id DESC);
CREATE INDEX messages_org_message_id ON messages (org_id, message_id);
CREATE UNIQUE INDEX messages_dedupe ON messages (org_id, dedupe_key);
CREATE INDEX messages_pending ON messages (state_changed_at) WHERE stage IS NOT NULL;
CREATE INDEX messages_ticket ON messages (ticket_id);

ALTER TABLE tickets ADD FOREIGN KEY (source_message_id) REFERENCES messages ON DELETE SET NULL;

CREATE TABLE ticket_messages (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    ticket_id bigint NOT NULL REFERENCES tickets ON DELETE CASCADE,
    type text NOT NULL DEFAULT 'external' CHECK (type IN ('external', 'internal', 'log')),
    contact_id bigint REFERENCES contacts ON DELETE SET NULL,
    agent_id bigint REFERENCES agents ON DELETE SET NULL,
    from_address text,
    from_name text,
    body_text text NOT NULL DEFAULT '',
    body_html text,
    message_id bigint UNIQUE REFERENCES messages ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, created_at, id);

CREATE TABLE attachments (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    message_id bigint REFERENCES messages ON DELETE CASCADE,
    position integer NOT NULL DEFAULT 0,
    blob_sha256 text NOT NULL REFERENCES blobs,
    filename text NOT NULL,
    original_filename text,
    mime_type text NOT NULL DEFAULT 'application/octet-stream',
    size bigint NOT NULL,
    is_inline boolean NOT NULL DEFAULT false,
    content_id text,
    ticket_id bigint REFERENCES tickets ON DELETE SET NULL,
    ticket_message_id bigint REFERENCES ticket_messages ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_id, position)
);
CREATE INDEX attachments_org ON attachments (org_id);
CREATE INDEX attachments_ticket ON attachments (ticket_id);

CREATE TABLE categories (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    name text NOT NULL,
    slug text NOT NULL,
    description text,
    color text,
    is_active boolean NOT NULL DEFAULT true,
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, slug)
);

CREATE TABLE category_rules (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    category_id bigint NOT NULL REFERENCES categories ON DELETE CASCADE,
    position integer NOT NULL DEFAULT 0,
    field text NOT NULL CHECK (field IN ('from', 'to', 'subject', 'body', 'header')),
    header_name text,
    operator text NOT NULL CHECK (operator IN ('contains', 'equals', 'regex', 'domain')),
    value text NOT NULL,
    labels text[] NOT NULL DEFAULT '{}',
    stop_processing boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX category_rules_org ON category_rules (org_id, position, id);

CREATE TABLE message_categories (
    message_id bigint NOT NULL REFERENCES messages ON DELETE CASCADE,
    category_id bigint NOT NULL REFERENCES categories ON DELETE CASCADE,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    rule_id bigint REFERENCES category_rules ON DELETE SET NULL,
    PRIMARY KEY (message_id, category_id)
);

CREATE TABLE pattern_rules (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    key text NOT NULL,
    name text NOT NULL,
    format text NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, key)
);

CREATE TABLE ignored_subjects (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    subject text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ignored_subjects_org ON ignored_subjects (org_id);

CREATE TABLE excluded_emails (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX excluded_emails_org ON excluded_emails (org_id);

CREATE TABLE voicemail_patterns (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    name text NOT NULL,
    sender_regex text,
    subject_regex text,
    body_regex text,
    position integer NOT NULL DEFAULT 0,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE voicemails (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    message_id bigint NOT NULL UNIQUE REFERENCES messages ON DELETE CASCADE,
    mailbox_id bigint REFERENCES mailboxes ON DELETE SET NULL,
    caller_number text,
    caller_formatted text,
    receiver_line text,
    duration_seconds integer,
    attachment_id bigint REFERENCES attachments ON DELETE SET NULL,
    mp3_sha256 text REFERENCES blobs,
    has_audio boolean NOT NULL DEFAULT false,
    audio_error text,
    is_listened boolean NOT NULL DEFAULT false,
    listened_at timestamptz,
    notes text,
    received_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz
);
CREATE INDEX voicemails_org ON voicemails (org_id, received_at DESC);

CREATE TABLE webhooks (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    url text NOT NULL,
    events text[] NOT NULL,
    secret_enc bytea,
    is_active boolean NOT NULL DEFAULT true,
    trigger_count bigint NOT NULL DEFAULT 0,
    success_count bigint NOT NULL DEFAULT 0,
    failure_count bigint NOT NULL DEFAULT 0,
    consecutive_failures integer NOT NULL DEFAULT 0,
    last_triggered_at timestamptz,
    last_success_at timestamptz,
    last_failure_at timestamptz,
    disabled_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_org ON webhooks (org_id);

CREATE TABLE webhook_events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    type text NOT NULL,
    dedupe_key text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, dedupe_key)
);

CREATE TABLE webhook_deliveries (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    webhook_id bigint NOT NULL REFERENCES webhooks ON DELETE CASCADE,
    event_id uuid NOT NULL REFERENCES webhook_events ON DELETE CASCADE,
    attempt integer NOT NULL DEFAULT 1,
    status text NOT NULL CHECK (status IN ('pending', 'success', 'failed')),
    response_code integer,
    response_body text,
    latency_ms integer,
    error text,
    next_attempt_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, created_at DESC);

CREATE TABLE send_configs (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    name text NOT NULL,
    host text NOT NULL,
    port integer NOT NULL DEFAULT 587,
    tls_mode text NOT NULL DEFAULT 'starttls' CHECK (tls_mode IN ('ssl', 'starttls', 'none')),
    username text,
    password_enc bytea,
    from_email text NOT NULL,
    from_name text,
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX send_configs_org ON send_configs (org_id);

CREATE TABLE sent_mails (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    config_id bigint REFERENCES send_configs ON DELETE SET NULL,
    ticket_id bigint REFERENCES tickets ON DELETE SET NULL,
    in_reply_to_message bigint REFERENCES messages ON DELETE SET NULL,
    kind text NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'auto_reply', 'agent_reply', 'notification')),
    message_id text NOT NULL,
    from_address text NOT NULL,
    from_name text,
    reply_to text,
    to_addresses text[] NOT NULL,
    cc_addresses text[] NOT NULL DEFAULT '{}',
    bcc_addresses text[] NOT NULL DEFAULT '{}',
    subject text NOT NULL,
    body_text text,
    body_html text,
    attachments jsonb NOT NULL DEFAULT '[]',
    tags text[] NOT NULL DEFAULT '{}',
    raw_sha256 text REFERENCES blobs,
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    error text,
    attempts integer NOT NULL DEFAULT 0,
    last_event text,
    last_event_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, message_id)
);
CREATE INDEX sent_mails_org_created ON sent_mails (org_id, created_at DESC);

CREATE TABLE delivery_events (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    sent_mail_id bigint REFERENCES sent_mails ON DELETE SET NULL,
    source_message_id bigint REFERENCES messages ON DELETE SET NULL,
    message_id text,
    event text NOT NULL CHECK (event IN ('delivered', 'opened', 'clicked', 'complained',
                                         'failed_permanent', 'failed_temporary', 'report')),
    provider text NOT NULL,
    provider_event_id text NOT NULL,
    recipient text,
    status_code text,
    diagnostic text,
    payload jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, provider, provider_event_id)
);
CREATE INDEX delivery_events_sent ON delivery_events (sent_mail_id);

CREATE TABLE tracking_events (
    id bigserial PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    ticket_id bigint NOT NULL REFERENCES tickets ON DELETE CASCADE,
    kind text NOT NULL,
    message_id bigint REFERENCES messages ON DELETE SET NULL,
    agent_id bigint REFERENCES agents ON DELETE SET NULL,
    data jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracking_events_ticket ON tracking_events (ticket_id, created_at);

-- updated_at follows every row change (003 `updatedDate`); latest_updated_at is set by actions.
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE TRIGGER tickets_touch BEFORE UPDATE ON tickets
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER messages_touch BEFORE UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER mailboxes_touch BEFORE UPDATE ON mailboxes
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Raw mail is stored compressed; lz4 is several times cheaper than the default pglz
-- (SPEC §11). Servers built without lz4 keep pglz.
DO $$
BEGIN
    ALTER TABLE blobs ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 compression unavailable, keeping the default';
END $$;
