-- Add the event's days (since 1970-01-01) as a third R*Tree dimension, so a bbox + datetime request is
-- answered from the index alone instead of joining every event in the box.
DROP TRIGGER events_rtree_insert;
DROP TRIGGER events_rtree_update;
DROP TRIGGER events_rtree_delete;
DROP TABLE events_rtree;

CREATE VIRTUAL TABLE events_rtree USING rtree (id, minx, maxx, miny, maxy, mint, maxt);
INSERT INTO events_rtree
SELECT rid, lon, lon, lat, lat, julianday(date_start) - 2440587.5, julianday(date_end) - 2440587.5 FROM events;

CREATE TRIGGER events_rtree_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_rtree VALUES (
        new.rid, new.lon, new.lon, new.lat, new.lat,
        julianday(new.date_start) - 2440587.5, julianday(new.date_end) - 2440587.5
    );
END;
CREATE TRIGGER events_rtree_update AFTER UPDATE OF lon, lat, date_start, date_end ON events BEGIN
    UPDATE events_rtree SET minx = new.lon, maxx = new.lon, miny = new.lat, maxy = new.lat,
        mint = julianday(new.date_start) - 2440587.5, maxt = julianday(new.date_end) - 2440587.5
    WHERE id = new.rid;
END;
CREATE TRIGGER events_rtree_delete AFTER DELETE ON events BEGIN
    DELETE FROM events_rtree WHERE id = old.rid;
END;
