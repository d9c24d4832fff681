-- Events with a generated PostGIS point and a GiST index, and hashed API keys.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE events (
    id text PRIMARY KEY,
    date_start date NOT NULL,
    date_end date NOT NULL,
    date_precision smallint NOT NULL CHECK (date_precision BETWEEN 1 AND 5),
    lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    location_precision smallint NOT NULL CHECK (location_precision BETWEEN 1 AND 7),
    geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
    place_name text,
    geonameid integer,
    country text,
    admin1 text,
    admin2 text,
    event_type text NOT NULL,
    sub_event_type text NOT NULL,
    actors jsonb NOT NULL DEFAULT '[]',
    claimed_by text NOT NULL,
    verification text NOT NULL,
    fatalities_best integer,
    fatalities_low integer,
    fatalities_high integer,
    sources jsonb NOT NULL DEFAULT '[]',
    notes text,
    zones jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    created_by text NOT NULL,
    updated_by text NOT NULL,
    revision integer NOT NULL DEFAULT 1
);
CREATE INDEX events_geom ON events USING gist (geom);
CREATE INDEX events_date_start ON events (date_start, id);
CREATE INDEX events_date_end ON events (date_end);

CREATE TABLE api_keys (
    key_id text PRIMARY KEY,
    key_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('editor', 'admin')),
    label text NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
