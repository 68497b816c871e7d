// Settings: tenant profile, team, API keys and webhooks, each tab shown only to roles that may use it.
import { Tabs } from '@mantine/core';
import { Navigate, useNavigate, useParams } from 'react-router-dom';

import { useMe } from '../../auth/AuthProvider';
import type { Permission } from '../../client';
import { PageHeader } from '../../components/PageHeader';
import { can } from '../../lib/nav';
import { ApiKeysTab } from './ApiKeysTab';
import { ProfileTab } from './ProfileTab';
import { TeamTab } from './TeamTab';
import { WebhooksTab } from './WebhooksTab';

const TABS: { value: string; label: string; permission: Permission; Component: () => React.JSX.Element }[] = [
  { value: 'profile', label: 'Tenant profile', permission: 'tenant:write', Component: ProfileTab },
  { value: 'team', label: 'Users and roles', permission: 'users:read', Component: TeamTab },
  { value: 'api-keys', label: 'API keys', permission: 'api_keys:manage', Component: ApiKeysTab },
  { value: 'webhooks', label: 'Webhooks', permission: 'webhooks:manage', Component: WebhooksTab },
];

export function SettingsPage() {
  const me = useMe();
  const navigate = useNavigate();
  const { tab } = useParams();
  const tabs = TABS.filter((t) => can(me, t.permission));
  const first = tabs[0];
  if (!first) return <Navigate to="/" replace />;
  const active = tabs.find((t) => t.value === tab) ?? first;
  return (
    <>
      <PageHeader title="Settings" />
      <Tabs value={active.value} onChange={(v) => v && navigate(`/settings/${v}`)} keepMounted={false}>
        <Tabs.List mb="md">
          {tabs.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {tabs.map((t) => (
          <Tabs.Panel key={t.value} value={t.value}>
            <t.Component />
          </Tabs.Panel>
        ))}
      </Tabs>
    </>
  );
}
