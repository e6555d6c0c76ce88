-- Who may use this tenant's tables (ops/README.md "Database roles"). Tenant migrations run in
-- every tenant schema and inside each sign-up's transaction, so a new tenant gets the same
-- grants as the existing ones. Runs with search_path set to the tenant's schema.
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO sw_auth, sw_endpoints, sw_billing, sw_recorder',
                   current_schema());
END $$;

-- sw-auth: users (login, verification) and their email tokens.
GRANT SELECT, INSERT, UPDATE ON users, email_tokens TO sw_auth;
-- sw-endpoints: the endpoints the tenant edits.
GRANT SELECT, INSERT, UPDATE, DELETE ON endpoints TO sw_endpoints;
-- sw-billing: the checkout reads the owner's email; a downgrade pauses endpoints (to move to
-- sw-endpoints with plan.changed).
GRANT SELECT ON users TO sw_billing;
GRANT SELECT, UPDATE ON endpoints TO sw_billing;
-- sw-recorder: incidents; the endpoint and owner to mail (the users read is to go).
GRANT SELECT, INSERT, UPDATE ON incidents TO sw_recorder;
GRANT SELECT ON endpoints, users TO sw_recorder;
