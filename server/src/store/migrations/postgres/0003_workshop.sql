-- A map's workshop state (timer, locks, votes and private cards before they are revealed): one
-- last-writer-wins register per key, so nodes writing at the same time converge. Goes with the map.
CREATE TABLE waymark_workshop (
    map_id text COLLATE "C" NOT NULL REFERENCES waymark_maps (map_id) ON DELETE CASCADE,
    key    text COLLATE "C" NOT NULL,
    stamp  bigint NOT NULL,
    node   text COLLATE "C" NOT NULL,
    -- JSON; NULL once removed.
    value  text NULL,
    PRIMARY KEY (map_id, key)
);
