-- Outbound mail and webhook delivery: what the sender and the notifier need beyond 0001.
-- depends: 0001_core_model

-- The relay's last answer ("250 2.0.0 Ok: queued as …", or the 4xx/5xx that stopped it).
ALTER TABLE sent_mails ADD COLUMN smtp_response text;
CREATE INDEX sent_mails_queued ON sent_mails (created_at) WHERE status = 'queued';
CREATE UNIQUE INDEX send_configs_one_default ON send_configs (org_id) WHERE is_default;

-- One row per (organization, sender): the last auto-reply sent to that address. The
-- conditional upsert in pipeline/store/outbound.py makes "once per window" hold even when
-- two workers open tickets for the same sender at the same moment.
CREATE TABLE auto_reply_log (
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    address text NOT NULL,
    last_sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, address)
);

-- A delivery attempt is claimed by moving it from pending to delivering; next_attempt_at is
-- then the lease after which the scheduler gives it back. A first attempt not delivered
-- within a minute (its job lost) is picked up by the scheduler too.
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_status_check;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_status_check
    CHECK (status IN ('pending', 'delivering', 'success', 'failed'));
ALTER TABLE webhook_deliveries ALTER COLUMN next_attempt_at SET DEFAULT now() + interval '1 minute';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'delivering');
