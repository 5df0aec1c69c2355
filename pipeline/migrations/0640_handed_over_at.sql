-- depends: 0500_message_keys
--
-- When a message was last handed to the workers (NULL: never). The scheduler's pick-up
-- hands over, within seconds, pending messages that were never handed over (a crash
-- between commit and hand-over) or whose queue message was lost (Redis restarted).
ALTER TABLE messages ADD COLUMN handed_over_at timestamptz;
