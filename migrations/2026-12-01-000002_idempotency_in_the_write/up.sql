-- Keys are now taken in the write's own transaction (see src/http/idempotency.rs): a key row
-- exists only once its write committed, so claims no longer need a lease.
DELETE FROM idempotency_keys WHERE status IS NULL;
ALTER TABLE idempotency_keys DROP COLUMN locked_until;
