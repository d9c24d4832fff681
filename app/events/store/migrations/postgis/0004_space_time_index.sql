-- Index each event as a box in lon x lat x days (an n-D GiST over the segment from (lon, lat, date_start) to
-- (lon, lat, date_end), days since 1970-01-01), the shape of SQLite's 3-D R*Tree, plus the fields most queries
-- filter on (the map's type and status filters, fatalities thresholds) so that those conditions are tested in
-- the index instead of on every row of the box. The GiST of 0003 over (geom, date_start, date_end) split its
-- pages by geometry only, so a box + one-day query still walked every event of the box.
-- app/events/store/postgis.py (SPACE_TIME) repeats the expression: the two must stay identical for the planner.
CREATE INDEX events_space_time ON events USING gist (
    (ST_MakeLine(
        ST_MakePoint(lon, lat, date_start - DATE '1970-01-01'),
        ST_MakePoint(lon, lat, date_end - DATE '1970-01-01')
    )) gist_geometry_ops_nd,
    event_type,
    verification,
    fatalities_best
);
-- Spatial CQL2 predicates (S_INTERSECTS ...) test geom.
CREATE INDEX events_geom ON events USING gist (geom);
DROP INDEX events_geom_dates;
