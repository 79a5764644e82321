-- Integer ids of growers and farms (Leaf's ids are integers): one counter row per table, incremented with
-- UPDATE ... RETURNING so both engines hand out the same sequence and concurrent inserts never collide.
CREATE TABLE id_counters (
    name TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL
);
INSERT INTO id_counters (name, last_id) VALUES ('growers', 0), ('farms', 0);

CREATE TABLE growers (
    id BIGINT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    name TEXT,
    provider_name TEXT,
    provider_id BIGINT,
    provider_grower_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner_id, user_id, provider_name, provider_grower_id)
);
CREATE INDEX growers_owner ON growers(owner_id, user_id);

CREATE TABLE farms (
    id BIGINT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    name TEXT,
    grower_id BIGINT REFERENCES growers(id),
    provider_name TEXT,
    provider_id BIGINT,
    provider_farm_id TEXT,
    provider_farm_name TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner_id, user_id, provider_name, provider_farm_id)
);
CREATE INDEX farms_owner ON farms(owner_id, user_id);
CREATE INDEX farms_grower ON farms(grower_id);

-- Field ids are unique per API owner (clients may choose them).
CREATE TABLE fields (
    owner_id TEXT NOT NULL REFERENCES api_owners(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES leaf_users(id) ON DELETE CASCADE,
    name TEXT,
    field_type TEXT NOT NULL,
    status TEXT NOT NULL,
    farm_id BIGINT REFERENCES farms(id),
    provider_name TEXT,
    provider_id BIGINT,
    provider_field_id TEXT,
    provider_field_name TEXT,
    provider_boundary_id TEXT,
    organization_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, id),
    UNIQUE (owner_id, user_id, provider_name, provider_field_id)
);
CREATE INDEX fields_owner ON fields(owner_id, created_at);
CREATE INDEX fields_user ON fields(owner_id, user_id);
CREATE INDEX fields_farm ON fields(farm_id);

-- Boundary history is immutable apart from its status; exactly one ACTIVE boundary per field.
CREATE TABLE boundaries (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    field_id TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_status TEXT,
    provider_boundary_id TEXT,
    geometry TEXT NOT NULL,
    area_ha REAL NOT NULL,
    -- Bounding box, so geometry queries read only the boundaries that may touch.
    min_lon REAL,
    min_lat REAL,
    max_lon REAL,
    max_lat REAL,
    validity TEXT NOT NULL,
    fix_status TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (owner_id, field_id) REFERENCES fields(owner_id, id) ON DELETE CASCADE
);
CREATE INDEX boundaries_field ON boundaries(owner_id, field_id, created_at);
CREATE INDEX boundaries_bbox ON boundaries(owner_id, min_lon, max_lon);
CREATE UNIQUE INDEX boundaries_one_active ON boundaries(owner_id, field_id) WHERE status = 'ACTIVE';
