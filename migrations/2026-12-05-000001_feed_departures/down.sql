DROP TRIGGER events_left_public ON events;
DROP FUNCTION events_left_public();
ALTER TABLE events DROP COLUMN left_public_at;
