-- Maps deleted, so that an append racing the delete (from a node that loaded the map before it
-- was deleted) cannot bring the map back. A node that loads the map after the delete sees the row
-- and may start the map anew; creating the map through the API clears it.
CREATE TABLE waymark_deleted_maps (
    map_id     text COLLATE "C" PRIMARY KEY,
    deleted_at bigint NOT NULL
);
