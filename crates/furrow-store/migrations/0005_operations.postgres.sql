-- Allocation results on files, field operations, batch uploads and sync scheduling.
-- files gains the allocation columns, and a provider file is now stored once per *user* (two growers of one
-- integrator may both see a shared organization's file).
-- facts: JSON of what the grouping needs (type, crop, times, covered area, per-field intersections);
-- grouped_at: when the file last took part in its user's grouping (NULL: waiting for it).
ALTER TABLE files ADD COLUMN facts TEXT;
ALTER TABLE files ADD COLUMN field_ids TEXT;
ALTER TABLE files ADD COLUMN grouped_at BIGINT;
ALTER TABLE files ADD COLUMN outside_path TEXT;
ALTER TABLE files ADD COLUMN outside_count BIGINT;
ALTER TABLE files ADD COLUMN batch_id TEXT;
ALTER TABLE files DROP CONSTRAINT files_owner_id_provider_provider_file_id_key;
ALTER TABLE files ADD CONSTRAINT files_user_provider_file UNIQUE (owner_id, user_id, provider, provider_file_id);
CREATE INDEX files_grouping ON files(owner_id, user_id, status, grouped_at);

-- A field operation: files of one field, type and crop within the merge window. files/providers/fields are
-- JSON arrays; version counts membership changes, built_version the version its outputs were built from.
CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    operation_type TEXT NOT NULL,
    field_id TEXT,
    crop TEXT,
    till_type TEXT,
    start_time BIGINT NOT NULL,
    end_time BIGINT NOT NULL,
    files TEXT NOT NULL,
    providers TEXT NOT NULL,
    fields TEXT NOT NULL,
    version BIGINT NOT NULL,
    built_version BIGINT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    summary TEXT,
    units TEXT,
    standard_path TEXT,
    geojson_path TEXT,
    filtered_path TEXT,
    filtered_geojson_path TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX operations_owner ON operations(owner_id, user_id, start_time);

-- Uploaded zips (`POST /batch`).
CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX batches_owner ON batches(owner_id, created_at);

-- The organizations each credential sees (Leaf's organization sync list): SELECTED or PREVIEW (the user's
-- choice, read with organizationDataSync=SELECTED_ONLY) or BLOCKED (not connected to the integrator), and the
-- provider's change-tracking cursor for its machine files (John Deere's x-deere-signature).
CREATE TABLE provider_organizations (
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    management_uri TEXT,
    files_cursor TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, user_id, provider, org_id)
);

-- When each credential is next due for a background sync.
ALTER TABLE credentials ADD COLUMN next_sync_at BIGINT;
ALTER TABLE credentials ADD COLUMN last_sync_at BIGINT;

-- A dedupe key only holds while its job is queued or running: finished jobs release it so the work can be
-- asked for again (periodic syncs).
UPDATE jobs SET dedupe_key = NULL WHERE state IN ('done', 'failed');
