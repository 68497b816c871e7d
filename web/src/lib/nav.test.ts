import { describe, expect, it } from 'vitest';

import type { Permission } from '../client';
import { visibleNav } from './nav';

// The role tables of src/greenline/core/permissions.py, as /auth/me reports them.
const SALES: Permission[] = [
  'tenant:read', 'contacts:read', 'contacts:write', 'conversations:read', 'conversations:write',
  'leads:read', 'leads:write', 'whatsapp:read', 'whatsapp:send',
];
const MARKETER: Permission[] = [
  'tenant:read', 'contacts:read', 'campaigns:read', 'conversations:read', 'leads:read', 'whatsapp:read',
  'users:read', 'usage:read', 'contacts:write', 'campaigns:write', 'conversations:write', 'leads:write', 'whatsapp:send',
];

describe('visibleNav', () => {
  it('hides settings and tenants from a sales user', () => {
    const labels = visibleNav({ permissions: SALES, is_superadmin: false }).map((i) => i.label);
    expect(labels).toEqual(['Home', 'Contacts', 'Segments', 'Inbox', 'Leads', 'WhatsApp numbers']);
  });

  it('shows settings to a marketer (team list) but not tenants', () => {
    const labels = visibleNav({ permissions: MARKETER, is_superadmin: false }).map((i) => i.label);
    expect(labels).toContain('Settings');
    expect(labels).not.toContain('Tenants');
  });

  it('shows tenants to a superadmin', () => {
    expect(visibleNav({ permissions: [], is_superadmin: true }).map((i) => i.label)).toEqual(['Home', 'Tenants']);
  });
});
