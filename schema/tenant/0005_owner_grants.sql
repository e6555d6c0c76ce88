-- One owner per table (README "Who owns what"): sw-billing no longer pauses the tenant's
-- endpoints (sw-endpoints does, from plan.changed), and the recorder no longer reads the
-- endpoints or the users (its events carry what sw-auth needs to mail the owner).
REVOKE ALL ON endpoints FROM sw_billing;
REVOKE ALL ON endpoints, users FROM sw_recorder;
