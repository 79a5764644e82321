CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    lease_until BIGINT,
    worker TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs(state, run_at);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret BLOB NOT NULL,
    events TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_owner ON webhooks(owner_id, created_at);

-- One webhook per event per API owner (Leaf's eventRegisteredTwice rule), enforced by the key.
CREATE TABLE webhook_events (
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    PRIMARY KEY (owner_id, event)
);

CREATE TABLE webhook_failed_calls (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    url TEXT NOT NULL,
    status BIGINT,
    response TEXT NOT NULL,
    request_body TEXT NOT NULL,
    connection_error TEXT,
    attempt BIGINT NOT NULL
);
CREATE INDEX webhook_failed_calls_owner ON webhook_failed_calls(owner_id, created_at);

CREATE TABLE configs (
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    config_values TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, user_id)
);
