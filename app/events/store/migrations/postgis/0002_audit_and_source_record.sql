-- The audit trail (who, when, action, before/after JSON) and the verbatim imported row.
ALTER TABLE events ADD COLUMN source_record jsonb;

CREATE TABLE audit (
    seq bigserial PRIMARY KEY,
    event_id text NOT NULL,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    role text NOT NULL,
    action text NOT NULL,
    before jsonb,
    after jsonb
);
CREATE INDEX audit_event ON audit (event_id, seq);
