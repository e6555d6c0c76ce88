// Roles as the API ranks them (http/openapi.yaml Role): the dashboard hides what a role may
// not use; the actors enforce it either way (403).
import type { components } from './contract';

export type Role = components['schemas']['Role'];
const RANK: Record<Role, number> = { viewer: 1, member: 2, admin: 3, owner: 4 };

/** Whether role is at least min (false while the role is not known yet). */
export function atLeast(role: Role | undefined, min: Role): boolean {
  return !!role && RANK[role] >= RANK[min];
}

/** The roles a caller of role may hand out (invitations, role changes, tokens). */
export function grantable(role: Role | undefined, withOwner = false): Role[] {
  const all: Role[] = withOwner ? ['viewer', 'member', 'admin', 'owner'] : ['viewer', 'member', 'admin'];
  return all.filter((r) => atLeast(role, r));
}
