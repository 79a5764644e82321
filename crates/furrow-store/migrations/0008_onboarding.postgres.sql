-- Grower onboarding (leaf-onboarding.md §7): provider app keys, Leaf-user API keys, Magic Links and the OAuth
-- sessions between a hosted page and the provider's redirect.

-- An API owner's provider application: public fields as JSON, secret fields sealed (context `app-key:<id>`).
CREATE TABLE app_keys (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    app_name TEXT NOT NULL,
    environment TEXT NOT NULL,
    public_fields TEXT NOT NULL,
    secrets BYTEA NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner_id, provider, app_name, environment)
);

-- Keys acting for one Leaf user: only the SHA-256 of the key (hex) and its last four characters are kept.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,
    last4 TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_user ON api_keys(owner_id, user_id, created_at);

-- Magic Links: the link token's SHA-256 (hex) is the key the hosted page looks up; the token itself is sealed
-- (context `magic-link:<hash>`) so the management API can show the link again.
CREATE TABLE magic_links (
    token_hash TEXT PRIMARY KEY,
    token_sealed BYTEA NOT NULL,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    widget TEXT NOT NULL,
    providers TEXT NOT NULL,
    settings TEXT NOT NULL,
    app_name TEXT,
    max_usage BIGINT NOT NULL,
    usage_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_accessed_at BIGINT,
    deleted_at BIGINT
);
CREATE INDEX magic_links_owner ON magic_links(owner_id, widget, created_at);

-- One grower's trip to a provider's consent page: found by the SHA-256 (hex) of its `state`, single use; the
-- PKCE verifier is sealed (context `oauth-session:<hash>`).
CREATE TABLE oauth_sessions (
    state_hash TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    app_key_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    magic_link_hash TEXT,
    code_verifier BYTEA,
    redirect_uri TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX oauth_sessions_expiry ON oauth_sessions(expires_at);
