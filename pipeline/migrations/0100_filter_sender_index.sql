-- The filter's flood guard counts an organization's recent mail from one sender.
-- depends: 0001_core_model

CREATE INDEX messages_org_sender_received ON messages (org_id, from_address, received_at);
