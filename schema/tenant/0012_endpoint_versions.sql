-- Every statement that writes this tenant's endpoints moves its version
-- (schema/public/0014_endpoint_versions.sql): sw-endpoints' in-memory copy of the table
-- (actors/endpoints/cache.c) sees the change on its next read. No row yet reads as version 0;
-- the first write makes it 1.
CREATE TRIGGER endpoints_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON endpoints
    FOR EACH STATEMENT EXECUTE FUNCTION public.sw_endpoints_bump_version();
