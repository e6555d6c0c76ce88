-- Public status pages (issue 20): what an organization shows its own customers. Written by
-- sw-endpoints only (it owns the endpoints a page lists; README "Who owns what"). The slug is
-- unique across the service, so its map to the tenant lives in public.status_page_slugs,
-- written in the same transaction as the row here.
CREATE TABLE status_pages (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{3,63}$'),
    description  text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    show_uptime  boolean NOT NULL DEFAULT true,
    is_public    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The endpoints a page shows, in order, each under a display name and an optional group. The
-- component id is what the public sees (badges, the Statuspage API), never the endpoint id.
-- Deleting an endpoint removes it from every page.
CREATE TABLE status_page_components (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    page_id      uuid NOT NULL REFERENCES status_pages (id) ON DELETE CASCADE,
    endpoint_id  uuid NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    group_name   text NOT NULL DEFAULT '' CHECK (char_length(group_name) <= 200),
    position     integer NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (page_id, endpoint_id)
);
CREATE INDEX status_page_components_page_idx ON status_page_components (page_id, position);

GRANT SELECT, INSERT, UPDATE, DELETE ON status_pages, status_page_components TO sw_endpoints;
-- The recorder's incidents are shown on the pages (open ones and the last 14 days').
GRANT SELECT ON incidents TO sw_endpoints;
