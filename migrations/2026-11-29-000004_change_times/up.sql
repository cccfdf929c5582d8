-- Change rows are inserted last in their transaction, under the ordering lock: the clock at
-- that moment follows commit order, where now() (the transaction's start) need not.
ALTER TABLE changes ALTER COLUMN at SET DEFAULT clock_timestamp();

-- Feeds filter deleted events by co-organizer too.
ALTER TABLE event_tombstones ADD COLUMN co_organizer_unit_ids uuid[] NOT NULL DEFAULT '{}';
