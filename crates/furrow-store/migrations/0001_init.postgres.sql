CREATE TABLE api_owners (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    show_secrets BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE leaf_users (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    name TEXT,
    email TEXT,
    phone TEXT,
    address TEXT,
    external_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX leaf_users_owner ON leaf_users(owner_id, created_at);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    status TEXT NOT NULL,
    public_fields TEXT NOT NULL,
    secrets BYTEA NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (user_id, provider)
);
CREATE INDEX credentials_owner ON credentials(owner_id);

CREATE TABLE credential_events (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    status_code BIGINT NOT NULL,
    method TEXT,
    url TEXT,
    headers TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX credential_events_credential ON credential_events(credential_id, created_at);
CREATE INDEX credential_events_created ON credential_events(created_at);
