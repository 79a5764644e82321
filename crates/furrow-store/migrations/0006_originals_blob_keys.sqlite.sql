-- Originals: what a provider listed or a user uploaded, downloaded once into the blob store; every dataset in
-- it (every task and operation type of an ISOXML set, every shapefile set) becomes a row of `files`.
-- status: LISTED (held back by customDataSync/organizationDataSync), PENDING (to download and process),
-- DONE, FAILED (message says why). Blobs are addressed by key (object store), never by path.
CREATE TABLE originals (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    provider_file_id TEXT NOT NULL,
    credential_id TEXT,
    organization_id TEXT,
    origin TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size_bytes BIGINT,
    blob_key TEXT,
    batch_id TEXT,
    status TEXT NOT NULL,
    message TEXT,
    descriptor TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner_id, user_id, provider, provider_file_id)
);
CREATE INDEX originals_user ON originals(owner_id, user_id, provider, status);
CREATE INDEX originals_batch ON originals(owner_id, batch_id);

-- Files made before originals existed each stand for their own original (same id); absolute blob paths
-- become keys relative to the blob folder (`<owner>/<file>/<name>`).
INSERT INTO originals (id, owner_id, user_id, provider, provider_file_id, credential_id, organization_id, origin,
    file_name, size_bytes, blob_key, batch_id, status, message, descriptor, created_at, updated_at)
SELECT id, owner_id, user_id, provider, provider_file_id, credential_id, organization_id, origin, file_name,
    size_bytes,
    CASE WHEN original_path IS NULL THEN NULL
         ELSE substr(original_path, instr(original_path, owner_id || '/')) END,
    batch_id,
    CASE status WHEN 'PROCESSING' THEN 'PENDING' WHEN 'FAILED' THEN 'FAILED' ELSE 'DONE' END,
    NULL, NULL, created_at, updated_at
FROM files;

ALTER TABLE files ADD COLUMN original_id TEXT;
ALTER TABLE files ADD COLUMN dataset_key TEXT;
ALTER TABLE files ADD COLUMN counts TEXT;
UPDATE files SET original_id = id, dataset_key = '';
ALTER TABLE files RENAME COLUMN original_path TO original_key;
ALTER TABLE files RENAME COLUMN standard_path TO standard_key;
UPDATE files SET
    original_key = CASE WHEN original_key IS NULL THEN NULL
                        ELSE substr(original_key, instr(original_key, owner_id || '/')) END,
    standard_key = CASE WHEN standard_key IS NULL THEN NULL
                        ELSE substr(standard_key, instr(standard_key, owner_id || '/')) END;
-- GeoJSON is written on request from the GeoParquet now: no stored GeoJSON.
ALTER TABLE files DROP COLUMN geojson_path;
ALTER TABLE files DROP COLUMN outside_path;
CREATE INDEX files_original ON files(owner_id, original_id);

-- Operations keep what is small (summary, units, coverage, the filtered view's limits); their points are their
-- files' points inside the field, written on request.
ALTER TABLE operations DROP COLUMN standard_path;
ALTER TABLE operations DROP COLUMN geojson_path;
ALTER TABLE operations DROP COLUMN filtered_path;
ALTER TABLE operations DROP COLUMN filtered_geojson_path;
ALTER TABLE operations ADD COLUMN filter TEXT;
ALTER TABLE operations ADD COLUMN points BIGINT;
-- Outputs built before this change are rebuilt in the new form.
UPDATE operations SET built_version = -1;
