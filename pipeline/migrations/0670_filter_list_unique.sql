-- depends: 0001_core_model
--
-- An organization's filter list holds each entry once, ignoring case: the unique index
-- says it, so concurrent adds cannot race (store.filter_lists.add inserts ON CONFLICT DO
-- NOTHING). Duplicates that got in before are removed first, keeping the oldest. The
-- indexes lead with org_id, so they replace the plain per-organization ones.
DELETE FROM ignored_subjects a USING ignored_subjects b
WHERE a.org_id = b.org_id AND lower(a.subject) = lower(b.subject) AND a.id > b.id;
DELETE FROM excluded_emails a USING excluded_emails b
WHERE a.org_id = b.org_id AND lower(a.email) = lower(b.email) AND a.id > b.id;

CREATE UNIQUE INDEX ignored_subjects_org_subject ON ignored_subjects (org_id, lower(subject));
CREATE UNIQUE INDEX excluded_emails_org_email ON excluded_emails (org_id, lower(email));
DROP INDEX ignored_subjects_org;
DROP INDEX excluded_emails_org;
