-- A worker's claim on a subscription, kept apart from `next_attempt_at`: an owner's PATCH (a
-- new secret, re-enabling) makes a subscription due at once, and that must not let a second
-- worker start on a change that is still in flight. The value is also the claim's token:
-- only the worker holding it records the outcome and moves the cursor.
ALTER TABLE webhook_subscriptions ADD COLUMN leased_until timestamptz;
