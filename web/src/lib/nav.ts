// Which areas of the dashboard a user sees: decided by the permissions the API reports in /auth/me.
import type { Permission } from '../client';

export interface NavItem {
  path: string;
  label: string;
  /** Any one of these permissions shows the item; none listed means every tenant member sees it. */
  anyOf?: Permission[];
  superadminOnly?: boolean;
}

export const NAV_ITEMS: NavItem[] = [
  { path: '/', label: 'Home' },
  { path: '/contacts', label: 'Contacts', anyOf: ['contacts:read'] },
  { path: '/segments', label: 'Segments', anyOf: ['contacts:read'] },
  { path: '/inbox', label: 'Inbox', anyOf: ['conversations:read'] },
  { path: '/campaigns', label: 'Campaigns', anyOf: ['campaigns:read'] },
  { path: '/leads', label: 'Leads', anyOf: ['leads:read'] },
  { path: '/numbers', label: 'WhatsApp numbers', anyOf: ['whatsapp:read'] },
  { path: '/settings', label: 'Settings', anyOf: ['tenant:write', 'users:read', 'api_keys:manage', 'webhooks:manage'] },
  { path: '/tenants', label: 'Tenants', superadminOnly: true },
];

export interface Viewer {
  permissions: Permission[];
  is_superadmin: boolean;
}

export function canSee(item: NavItem, viewer: Viewer): boolean {
  if (item.superadminOnly) return viewer.is_superadmin;
  if (!item.anyOf) return true;
  return item.anyOf.some((permission) => viewer.permissions.includes(permission));
}

export function visibleNav(viewer: Viewer): NavItem[] {
  return NAV_ITEMS.filter((item) => canSee(item, viewer));
}

export function can(viewer: Viewer | undefined, permission: Permission): boolean {
  return !!viewer && viewer.permissions.includes(permission);
}
