-- The access token furrow obtained for a credential, sealed (context `credential-token:<id>`), with when it was
-- issued and when it expires (µs): every worker reuses it until shortly before it expires, and only one of them
-- refreshes it at a time.
ALTER TABLE credentials ADD COLUMN access_token BLOB;
ALTER TABLE credentials ADD COLUMN access_issued_at BIGINT;
ALTER TABLE credentials ADD COLUMN access_expires_at BIGINT;

-- API-owner tokens carry the generation they were issued in; changing the password moves it on, which ends
-- every older token.
ALTER TABLE api_owners ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;

-- Tokens ended by a logout, until they would have expired anyway.
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);

-- Failed logins per username and per client address (`user:<name>`, `addr:<ip>`).
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL
);
