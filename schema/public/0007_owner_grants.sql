-- One owner per table (README "Who owns what"): sw-billing no longer pauses endpoints (it
-- publishes plan.changed and sw-endpoints pauses its own), sw-endpoints no longer deletes the
-- recorder's state rows (the recorder forgets them on endpoint.deleted). Tenant schemas:
-- schema/tenant/0005_owner_grants.sql. tests/integration/test_secrets.c lists the result.
REVOKE ALL ON public.schedule, public.endpoint_state FROM sw_billing;
REVOKE DELETE ON public.endpoint_state FROM sw_endpoints;
GRANT DELETE ON public.endpoint_state, public.endpoint_region_state TO sw_recorder;
