// The shell: header with tenant switcher and account menu, a sidebar that collapses (and becomes a drawer on
// small screens), and the current page.
import { AppShell, Burger, Button, Center, Group, Loader, Menu, NavLink, ScrollArea, Select, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import {
  IconAddressBook,
  IconBuilding,
  IconChartFunnel,
  IconFilter,
  IconHome,
  IconLogout,
  IconMessages,
  IconPhone,
  IconSettings,
  IconSpeakerphone,
  IconUser,
} from '@tabler/icons-react';
import { type ComponentType, Suspense } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router-dom';

import { useAuth, useMe } from '../auth/AuthProvider';
import { ErrorBoundary } from '../components/ErrorBoundary';
import { errorMessage } from '../lib/errors';
import { visibleNav } from '../lib/nav';

const ICONS: Record<string, ComponentType<{ size?: number }>> = {
  '/': IconHome,
  '/contacts': IconAddressBook,
  '/segments': IconFilter,
  '/inbox': IconMessages,
  '/campaigns': IconSpeakerphone,
  '/leads': IconChartFunnel,
  '/numbers': IconPhone,
  '/settings': IconSettings,
  '/tenants': IconBuilding,
};

function isActive(path: string, current: string): boolean {
  return path === '/' ? current === '/' : current === path || current.startsWith(`${path}/`);
}

function TenantSwitcher() {
  const me = useMe();
  const { switchTenant } = useAuth();
  const navigate = useNavigate();
  if (me.memberships.length < 2) {
    const only = me.memberships[0];
    return only ? (
      <Text size="sm" fw={500} visibleFrom="xs">
        {only.tenant_name}
      </Text>
    ) : null;
  }
  return (
    <Select
      aria-label="Tenant"
      size="xs"
      w={200}
      allowDeselect={false}
      value={me.tenant_id != null ? String(me.tenant_id) : null}
      data={me.memberships.map((m) => ({ value: String(m.tenant_id), label: `${m.tenant_name} (${m.role})` }))}
      onChange={async (value) => {
        if (!value) return;
        try {
          await switchTenant(Number(value));
          navigate('/');
        } catch (err) {
          notifications.show({ color: 'red', title: 'Could not switch tenant', message: errorMessage(err) });
        }
      }}
    />
  );
}

export function Layout() {
  const me = useMe();
  const { logout } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const [mobileOpen, { toggle: toggleMobile, close: closeMobile }] = useDisclosure(false);
  const [desktopOpen, { toggle: toggleDesktop }] = useDisclosure(true);
  const items = visibleNav(me);

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !mobileOpen, desktop: !desktopOpen } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={mobileOpen} onClick={toggleMobile} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Burger opened={desktopOpen} onClick={toggleDesktop} visibleFrom="sm" size="sm" aria-label="Toggle sidebar" />
            <Title order={4} c="teal.8">
              Greenline
            </Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <TenantSwitcher />
            <Menu position="bottom-end">
              <Menu.Target>
                <Button variant="subtle" leftSection={<IconUser size={16} />} aria-label="Account menu">
                  <Text size="sm" visibleFrom="sm">
                    {me.full_name ?? me.email}
                  </Text>
                </Button>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>
                  {me.email}
                  {me.role ? ` · ${me.role}` : ''}
                  {me.is_superadmin ? ' · superadmin' : ''}
                </Menu.Label>
                <Menu.Item
                  leftSection={<IconLogout size={16} />}
                  onClick={async () => {
                    await logout();
                    navigate('/login');
                  }}
                >
                  Log out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <ScrollArea>
          {items.map((item) => {
            const Icon = ICONS[item.path] ?? IconHome;
            return (
              <NavLink
                key={item.path}
                component={Link}
                to={item.path}
                label={item.label}
                leftSection={<Icon size={18} />}
                active={isActive(item.path, location.pathname)}
                onClick={closeMobile}
              />
            );
          })}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense
          fallback={
            <Center py="xl">
              <Loader size="sm" aria-label="Loading page" />
            </Center>
          }
        >
          <ErrorBoundary resetKey={location.pathname}>
            <Outlet />
          </ErrorBoundary>
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
