-- Audit entries of other actors' changes (issue 21): sw-auth writes one per event that carries
-- an "audit" object (bus/contract.h, durable auth-audit on SW_EVENTS), keyed by the event's
-- Nats-Msg-Id so a redelivered event writes nothing (INSERT ... ON CONFLICT DO NOTHING, which
-- needs no more than the INSERT sw_auth holds). Entries sw-auth writes for its own changes, in
-- their transaction, have none (NULLs never conflict).
ALTER TABLE audit_log ADD COLUMN event_id text UNIQUE CHECK (length(event_id) <= 200);

-- Append-only, whoever asks (schema/public/0018_audit_append_only.sql).
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION public.sw_audit_log_append_only();
