-- Indexes that keep reads and writes from scanning every event (at 1,000,000 events on PostGIS, each scan took
-- 300-600 ms, after or during every write, while readers and writers waited for pooled connections: bench/LOAD.md).
-- The coordinates: the collection's extent (the least and greatest lon, lat, date_start and date_end, read again
-- after every write) is a handful of index lookups.
CREATE INDEX events_lon ON events (lon);
CREATE INDEX events_lat ON events (lat);
-- The retracted events by their days: every write by an editor looks for a retracted event of the same days that
-- it might repeat (app.events.service: only an admin may publish a retracted report again). The GiST of 0004 holds
-- the verification status too, and with no retracted event in its statistics the planner took it for this query
-- and walked all of it (300-450 ms at 1,000,000 events); this index holds the retracted events only.
CREATE INDEX events_retracted ON events (date_start, date_end) WHERE verification = 'retracted';
