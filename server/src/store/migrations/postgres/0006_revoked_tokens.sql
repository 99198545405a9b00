-- Single tokens (by their `jti`) that no longer grant access, whenever they were issued.
CREATE TABLE waymark_revoked_tokens (
    token_id text COLLATE "C" PRIMARY KEY,
    revoked_at bigint NOT NULL,
    reason text NOT NULL
);
