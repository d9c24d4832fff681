-- The audit trail is append-only by the database's own rule: a row of it can be added, never changed or removed
-- (UPDATE, DELETE and TRUNCATE are refused by triggers, whoever asks).
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_no_update_or_delete BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- czmap_writer: the role for the service to run as (grant it to the login role, e.g.
-- CREATE ROLE czmap LOGIN IN ROLE czmap_writer): it reads and writes events and keys, and may only add to the
-- audit trail. Without it even a disabled trigger (ALTER TABLE ... DISABLE TRIGGER, table owners only) would
-- let a stolen service login rewrite history. Created only where the migrating user may create roles.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'czmap_writer') THEN
        IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            RAISE NOTICE 'czmap_writer not created: % may not create roles', current_user;
            RETURN;
        END IF;
        CREATE ROLE czmap_writer NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO czmap_writer', current_schema());
    GRANT SELECT, INSERT, UPDATE ON events, api_keys TO czmap_writer;
    GRANT SELECT ON schema_version TO czmap_writer;
    GRANT SELECT, INSERT ON audit TO czmap_writer;
    GRANT USAGE ON SEQUENCE audit_seq_seq TO czmap_writer;
    REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM czmap_writer;
END
$$;
