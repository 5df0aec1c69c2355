-- Thread matching looks up a sender's open tickets (append_open_ticket) by contact.
-- depends: 0001_core_model

CREATE INDEX tickets_open_by_contact ON tickets (org_id, contact_id)
    WHERE status NOT IN ('solved', 'closed');
