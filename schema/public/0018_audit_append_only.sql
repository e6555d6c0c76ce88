-- The audit log is append-only (issue 21: "entries cannot be changed through any route").
-- The first lock is the grants: sw_auth holds SELECT and INSERT on each tenant's audit_log and
-- no other role writes it. This is the second: a row trigger (schema/tenant/0015_audit_events.sql)
-- refuses UPDATE and DELETE whoever runs them, the table's owner included, so not even an actor
-- given too much by a later grant or a stray SQL statement can rewrite history. Dropping a
-- tenant's schema (or TRUNCATE by its owner) is not a row change and still works.
CREATE FUNCTION public.sw_audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
REVOKE ALL ON FUNCTION public.sw_audit_log_append_only() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.sw_audit_log_append_only() TO sw_tenant_owner;
