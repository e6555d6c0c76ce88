-- Roles (issue 21): viewer joins owner, admin and member; an organization has exactly one
-- owner (sign-up creates it, a transfer of ownership moves it). Runs with search_path set to
-- the tenant's schema.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('owner', 'admin', 'member', 'viewer'));
CREATE UNIQUE INDEX users_one_owner_idx ON users ((true)) WHERE role = 'owner';
