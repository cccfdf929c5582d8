ALTER TABLE event_tombstones DROP COLUMN co_organizer_unit_ids;
ALTER TABLE changes ALTER COLUMN at SET DEFAULT now();
