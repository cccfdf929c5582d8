-- Refresh tokens of login sessions (API.md v1.1, "Sessions for frontends"). Only the SHA-256
-- of each token is kept. A family is one login and every token rotated from it: presenting a
-- used token again revokes the whole family and its access tokens.
CREATE TABLE refresh_tokens (
    id               uuid PRIMARY KEY,
    family_id        uuid NOT NULL,
    account_id       uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash       bytea NOT NULL,
    -- The access token issued together with this refresh token.
    access_token_id  uuid NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    revoked_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refresh_tokens_hash_key UNIQUE (token_hash)
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_account ON refresh_tokens (account_id);
CREATE INDEX refresh_tokens_access_token ON refresh_tokens (access_token_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
