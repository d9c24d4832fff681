-- The audit trail (who, when, action, before/after JSON) and the verbatim imported row.
ALTER TABLE events ADD COLUMN source_record TEXT;

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX audit_event ON audit (event_id, seq);
