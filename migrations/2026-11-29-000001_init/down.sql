DROP TABLE idempotency_keys;
DROP TABLE audit_log;
DROP TABLE changes;
DROP TABLE login_failures;
DROP TABLE api_tokens;
DROP TABLE accounts;
DROP TABLE campaigns;
DROP TABLE units;
