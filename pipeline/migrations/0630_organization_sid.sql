-- The 003 family's `sid`: a stable integer per organization (the seed shows `"sid": 1`).
-- depends: 0001_core_model
--
-- Organizations are keyed by UUID, which typed 003 clients cannot parse as `sid`. An
-- identity column numbers existing organizations when added and every new one after.

ALTER TABLE organizations ADD COLUMN sid bigint GENERATED ALWAYS AS IDENTITY UNIQUE;
