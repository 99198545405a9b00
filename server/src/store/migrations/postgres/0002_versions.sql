-- Named, immutable versions of a map (their review aside): its whole state, DEFLATE-compressed, numbered per map from 1.
-- They go with the map (ON DELETE CASCADE). Numbers are assigned while holding the map row's lock.
CREATE TABLE waymark_versions (
    map_id       text COLLATE "C" NOT NULL REFERENCES waymark_maps (map_id) ON DELETE CASCADE,
    number       bigint NOT NULL,
    label        text NOT NULL,
    description  text NOT NULL,
    author       text NOT NULL,
    kind         text NOT NULL,
    -- Milliseconds since the Unix epoch, from the database clock.
    created_at   bigint NOT NULL,
    state        bytea NOT NULL,
    state_vector bytea NOT NULL,
    raw_size     bigint NOT NULL,
    -- The review (JSON), once the version was submitted for one; changed compare-and-set.
    review       text NULL,
    PRIMARY KEY (map_id, number)
);

-- What happened to a map: connections opened and closed, edits accepted (one row per session and
-- batch). Goes with the map.
CREATE TABLE waymark_activity (
    map_id  text COLLATE "C" NOT NULL REFERENCES waymark_maps (map_id) ON DELETE CASCADE,
    seq     bigint GENERATED ALWAYS AS IDENTITY,
    at      bigint NOT NULL,
    kind    text NOT NULL,
    session text NOT NULL,
    "user"  text NULL,
    updates bigint NOT NULL,
    bytes   bigint NOT NULL,
    PRIMARY KEY (map_id, seq)
);

-- When the map is next due for review (meta.reviewDue), for the list of maps.
ALTER TABLE waymark_maps ADD COLUMN review_due text NULL;
