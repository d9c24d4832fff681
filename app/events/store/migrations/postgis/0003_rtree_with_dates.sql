-- Index space and days together (GiST over geometry + dates, via btree_gist), so a bbox + datetime request
-- is answered from one index; same version as SQLite's 3-D R*Tree.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE INDEX events_geom_dates ON events USING gist (geom, date_start, date_end);
DROP INDEX events_geom;
