-- Events with an R*Tree spatial index kept in step by triggers, and hashed API keys.
CREATE TABLE events (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    date_start TEXT NOT NULL,
    date_end TEXT NOT NULL,
    date_precision INTEGER NOT NULL CHECK (date_precision BETWEEN 1 AND 5),
    lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    location_precision INTEGER NOT NULL CHECK (location_precision BETWEEN 1 AND 7),
    place_name TEXT,
    geonameid INTEGER,
    country TEXT,
    admin1 TEXT,
    admin2 TEXT,
    event_type TEXT NOT NULL,
    sub_event_type TEXT NOT NULL,
    actors TEXT NOT NULL DEFAULT '[]',
    claimed_by TEXT NOT NULL,
    verification TEXT NOT NULL,
    fatalities_best INTEGER,
    fatalities_low INTEGER,
    fatalities_high INTEGER,
    sources TEXT NOT NULL DEFAULT '[]',
    notes TEXT,
    zones TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX events_date_start ON events (date_start, id);
CREATE INDEX events_date_end ON events (date_end);

CREATE VIRTUAL TABLE events_rtree USING rtree (id, minx, maxx, miny, maxy);
CREATE TRIGGER events_rtree_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_rtree VALUES (new.rid, new.lon, new.lon, new.lat, new.lat);
END;
CREATE TRIGGER events_rtree_update AFTER UPDATE OF lon, lat ON events BEGIN
    UPDATE events_rtree SET minx = new.lon, maxx = new.lon, miny = new.lat, maxy = new.lat WHERE id = new.rid;
END;
CREATE TRIGGER events_rtree_delete AFTER DELETE ON events BEGIN
    DELETE FROM events_rtree WHERE id = old.rid;
END;

CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('editor', 'admin')),
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
