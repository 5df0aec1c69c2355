-- Text stored before the parse stage served LF line endings: CRLF (and lone CR) become LF,
-- and the stray CR that ended a body goes. The raw messages (blobs) are not touched.
-- depends: 0001_core_model 0301_search_vector_trigger
--
-- updated_at is left as it was (the mail did not change, only how its text is stored).

ALTER TABLE messages DISABLE TRIGGER messages_touch;

UPDATE messages SET
    body_text = regexp_replace(regexp_replace(body_text, E'\r+$', ''), E'\r\n?', E'\n', 'g'),
    new_text = regexp_replace(regexp_replace(new_text, E'\r+$', ''), E'\r\n?', E'\n', 'g'),
    body_html = regexp_replace(body_html, E'\r\n?', E'\n', 'g')
WHERE strpos(body_text, E'\r') > 0 OR strpos(new_text, E'\r') > 0
   OR strpos(body_html, E'\r') > 0;

ALTER TABLE messages ENABLE TRIGGER messages_touch;

UPDATE ticket_messages SET
    body_text = regexp_replace(regexp_replace(body_text, E'\r+$', ''), E'\r\n?', E'\n', 'g'),
    body_html = regexp_replace(body_html, E'\r\n?', E'\n', 'g')
WHERE type = 'external'
  AND (strpos(body_text, E'\r') > 0 OR strpos(body_html, E'\r') > 0);
