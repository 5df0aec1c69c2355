-- Every address and alias of every mailbox, of every organization, is one unique set.
-- depends: 0001_core_model
--
-- Mail is routed by recipient address alone (SMTP, provider webhooks, the 001 RPC), so
-- an address two mailboxes claim is mail one organization can take from another: before
-- this table only mailboxes.address was unique and an alias could repeat anyone's address
-- (issue 16). A trigger keeps the table in step with mailboxes.address and .aliases on
-- every write, so no code path can skip the check; the primary key decides races.
-- Keys are lower-case without a plus tag, the form recipients are looked up by.

CREATE FUNCTION mailbox_address_key(address text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT lower(regexp_replace(btrim(address, E' \t<>'), '\+.*(@[^@]*)$', '\1'))
$$;

CREATE TABLE mailbox_addresses (
    address text PRIMARY KEY,
    mailbox_id bigint NOT NULL REFERENCES mailboxes ON DELETE CASCADE,
    is_primary boolean NOT NULL
);
CREATE INDEX mailbox_addresses_mailbox ON mailbox_addresses (mailbox_id);

-- Existing rows: a mailbox's own address wins over an alias, then the older mailbox.
INSERT INTO mailbox_addresses (address, mailbox_id, is_primary)
SELECT DISTINCT ON (key) key, id, is_primary
FROM (
    SELECT mailbox_address_key(address) AS key, id, true AS is_primary FROM mailboxes
    UNION ALL
    SELECT mailbox_address_key(alias), id, false FROM mailboxes, unnest(aliases) AS alias
) AS claims
ORDER BY key, is_primary DESC, id;

-- Aliases that lost to another mailbox never received its mail: drop them from the row.
UPDATE mailboxes m SET aliases = ARRAY(
    SELECT alias FROM unnest(m.aliases) WITH ORDINALITY AS u (alias, n)
    WHERE EXISTS (SELECT 1 FROM mailbox_addresses a
                  WHERE a.address = mailbox_address_key(u.alias) AND a.mailbox_id = m.id)
    ORDER BY n)
WHERE EXISTS (SELECT 1 FROM unnest(m.aliases) AS alias
              WHERE NOT EXISTS (SELECT 1 FROM mailbox_addresses a
                                WHERE a.address = mailbox_address_key(alias)
                                  AND a.mailbox_id = m.id));

CREATE FUNCTION mailbox_addresses_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mailbox_addresses WHERE mailbox_id = NEW.id;
    INSERT INTO mailbox_addresses (address, mailbox_id, is_primary)
    SELECT DISTINCT ON (key) key, NEW.id, is_primary
    FROM (
        SELECT mailbox_address_key(NEW.address) AS key, true AS is_primary
        UNION ALL
        SELECT mailbox_address_key(alias), false FROM unnest(NEW.aliases) AS alias
    ) AS claims
    ORDER BY key, is_primary DESC;
    RETURN NULL;
END $$;

CREATE TRIGGER mailboxes_addresses AFTER INSERT OR UPDATE OF address, aliases ON mailboxes
    FOR EACH ROW EXECUTE FUNCTION mailbox_addresses_sync();
