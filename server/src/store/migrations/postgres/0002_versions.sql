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

-- When the map is next due for review (meta.reviewDue), for the list of maps.
ALTER TABLE waymark_maps ADD COLUMN review_due text NULL;
