-- Endpoints a downgrade paused (past the plan's endpoint limit), so that an upgrade resumes
-- exactly those and never one the tenant paused itself. Written by sw-endpoints only.
ALTER TABLE endpoints ADD COLUMN paused_by_plan boolean NOT NULL DEFAULT false;
