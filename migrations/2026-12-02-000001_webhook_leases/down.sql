ALTER TABLE webhook_subscriptions DROP COLUMN leased_until;
