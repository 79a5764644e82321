-- Machine files: one row per provider file (UNIQUE per owner, provider and provider id, so a file is stored
-- once) or uploaded file. Instants are µs since the epoch; steps, summary and units are JSON text.
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    provider_file_id TEXT NOT NULL,
    credential_id TEXT,
    organization_id TEXT,
    origin TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_format TEXT,
    size_bytes BIGINT,
    original_path TEXT,
    status TEXT NOT NULL,
    steps TEXT NOT NULL,
    message TEXT,
    operation_type TEXT,
    start_time BIGINT,
    end_time BIGINT,
    summary TEXT,
    units TEXT,
    standard_path TEXT,
    geojson_path TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner_id, provider, provider_file_id)
);
CREATE INDEX files_owner ON files(owner_id, created_at);
CREATE INDEX files_user ON files(owner_id, user_id);
