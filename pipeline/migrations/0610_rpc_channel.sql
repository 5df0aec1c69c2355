-- The public 001 RPC: an optional per-organization secret and an auto-reply switch of its own.
-- depends: 0001_core_model
--
-- rpc_secret_hash: SHA-256 of the secret (32 random bytes, shown once); when set, calls
-- without it are refused. rpc_auto_reply_enabled: auto-replies to mail that came through
-- the RPC, off by default (anyone who knows the organization id can name any sender).

ALTER TABLE organizations
    ADD COLUMN rpc_secret_hash text,
    ADD COLUMN rpc_auto_reply_enabled boolean NOT NULL DEFAULT false;
