-- Maps and their update logs. Map ids are ASCII ([A-Za-z0-9._-]), so the "C" collation orders them
-- bytewise, as the SQLite store does, and keeps comparisons cheap.

-- One row per map: its listing data and its compacted snapshot. Every append updates this row first,
-- which takes the row lock that serialises appends to a map with its compaction.
-- No index on updated_at: it changes on every append, and an index on it would make each of those
-- updates a non-HOT update (a new index entry per append); listing sorts all maps anyway.
CREATE TABLE waymark_maps (
    map_id            text COLLATE "C" PRIMARY KEY,
    -- The compacted state, as a Yjs v1 update; NULL until the first compaction.
    snapshot          bytea NULL,
    -- Highest log seq folded into the snapshot (0 if none), so loads report the newest seq
    -- covered even when the log is empty.
    compacted_through bigint NOT NULL DEFAULT 0,
    title             text NOT NULL DEFAULT '',
    kind              text NOT NULL DEFAULT '',
    -- Milliseconds since the Unix epoch, from the database clock (one clock for every node).
    updated_at        bigint NOT NULL,
    -- Bytes stored: snapshot plus log.
    size              bigint NOT NULL DEFAULT 0
);

-- The update log. seq comes from one identity sequence shared by all maps; per map it increases in
-- commit order because appends assign it while holding the map row's lock.
CREATE TABLE waymark_updates (
    map_id text COLLATE "C" NOT NULL REFERENCES waymark_maps (map_id) ON DELETE CASCADE,
    seq    bigint GENERATED ALWAYS AS IDENTITY,
    data   bytea NOT NULL,
    PRIMARY KEY (map_id, seq)
);
