-- Users whose tokens issued before `before` (seconds since the Unix epoch) no longer grant access.
CREATE TABLE waymark_revocations (
    "user" text COLLATE "C" PRIMARY KEY,
    before bigint NOT NULL,
    reason text NOT NULL
);
