-- The widget session API (leaf-onboarding.md §4.4): a connection started with a Leaf-user API key names its key,
-- and its browser enters through a one-time start link: the start token's SHA-256 (hex), the authorize URL to send
-- the browser to (sealed, context `oauth-start:<state hash>`: it carries the state) and the start link's expiry.
ALTER TABLE oauth_sessions ADD COLUMN api_key_id TEXT;
ALTER TABLE oauth_sessions ADD COLUMN start_hash TEXT;
ALTER TABLE oauth_sessions ADD COLUMN start_url BLOB;
ALTER TABLE oauth_sessions ADD COLUMN start_expires_at BIGINT;
CREATE UNIQUE INDEX oauth_sessions_start ON oauth_sessions(start_hash);
