-- depends: 0670_filter_list_unique
--
-- A message row is written small (the raw bytes are a blob) and then marked handed over
-- (``handed_over_at``, no index). With pages packed full that update found no room beside
-- the row for nearly half the messages, so it wrote a new row version elsewhere and an
-- entry in each of the table's eight indexes; with room on the page it is a HOT update,
-- which touches no index. New pages keep 15 % free.
ALTER TABLE messages SET (fillfactor = 85);
