-- The endpoint's name travels with its schedule row (written by sw-endpoints, like the URL),
-- so the recorder can name an endpoint in its endpoint.down/up events without reading the
-- tenant's schema. NULL on rows written before this migration: the URL stands in.
ALTER TABLE public.schedule ADD COLUMN name text;
