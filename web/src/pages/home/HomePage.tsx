// Home: the tenant's key numbers at a glance, recent inbox activity and shortcuts to the common jobs.
import { AreaChart } from '@mantine/charts';
import { Anchor, Badge, Button, Card, Group, Paper, Progress, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';

import { useMe } from '../../auth/AuthProvider';
import {
  activeConversationsOptions,
  getCampaignsOverviewOptions,
  getPipelineStatsOptions,
  getTenantOptions,
  getUsageStatsOptions,
  listConversationsOptions,
  listHotLeadsOptions,
} from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { EmptyState, QueryState } from '../../components/QueryState';
import { formatNumber, formatPercent, timeAgo } from '../../lib/format';
import { can } from '../../lib/nav';

const COUNT_LIMIT = 100;

function countLabel(items: unknown[] | undefined, nextCursor: string | null | undefined): string {
  if (!items) return '—';
  return nextCursor ? `${items.length}+` : String(items.length);
}

function Kpi({ label, value, hint, loading }: { label: string; value: string; hint?: string; loading?: boolean }) {
  return (
    <Paper withBorder p="md" role="group" aria-label={label}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="xl" fw={700} mt={4}>
        {loading ? '…' : value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Paper>
  );
}

/** One quota bar: used of limit this month, or "unlimited" when the plan has no cap. */
function QuotaBar({ label, used, limit }: { label: string; used: number | null | undefined; limit: number | null | undefined }) {
  const share = limit ? Math.min(100, ((used ?? 0) / limit) * 100) : 0;
  const color = share >= 90 ? 'red' : share >= 75 ? 'orange' : 'teal';
  return (
    <div>
      <Group justify="space-between" mb={4}>
        <Text size="sm">{label}</Text>
        <Text size="sm" c="dimmed">
          {formatNumber(used ?? 0)} / {limit == null ? 'unlimited' : formatNumber(limit)}
        </Text>
      </Group>
      <Progress value={limit == null ? 0 : share} color={color} aria-label={`${label} used of plan`} />
    </div>
  );
}

export function HomePage() {
  const me = useMe();
  const tenantId = me.tenant_id;
  if (tenantId == null) {
    return (
      <>
        <PageHeader title="Welcome" description="You are signed in as the platform superadmin." />
        <EmptyState>
          Open <Anchor component={Link} to="/tenants">Tenants</Anchor> to create a tenant or look at a tenant's usage.
        </EmptyState>
      </>
    );
  }
  return <TenantHome tenantId={tenantId} />;
}

function TenantHome({ tenantId }: { tenantId: number }) {
  const me = useMe();
  const usage = useQuery({ ...getUsageStatsOptions({ path: { tenant_id: tenantId } }), enabled: can(me, 'usage:read') });
  const tenant = useQuery(getTenantOptions({ path: { tenant_id: tenantId } }));
  const active = useQuery({ ...activeConversationsOptions({ query: { hours: 24, limit: COUNT_LIMIT } }), enabled: can(me, 'conversations:read') });
  const unread = useQuery({ ...listConversationsOptions({ query: { unread: true, limit: COUNT_LIMIT } }), enabled: can(me, 'conversations:read') });
  const recent = useQuery({ ...listConversationsOptions({ query: { limit: 6 } }), enabled: can(me, 'conversations:read'), refetchInterval: 15_000 });
  const hot = useQuery({ ...listHotLeadsOptions({ query: { limit: COUNT_LIMIT } }), enabled: can(me, 'leads:read') });
  const pipeline = useQuery({ ...getPipelineStatsOptions(), enabled: can(me, 'leads:read') });
  const overview = useQuery({ ...getCampaignsOverviewOptions(), enabled: can(me, 'campaigns:read'), refetchInterval: 30_000 });
  const totals = overview.data?.totals;
  const chart = (usage.data?.days ?? []).map((d) => ({ date: d.date.slice(5), Messages: d.messages_sent, 'API calls': d.api_calls }));

  return (
    <>
      <PageHeader
        title={tenant.data ? tenant.data.name : 'Home'}
        description={tenant.data ? `Plan: ${tenant.data.plan}` : undefined}
      />
      <SimpleGrid cols={{ base: 1, xs: 2, md: 3, lg: 6 }} mb="md">
        {can(me, 'campaigns:read') && (
          <>
            <Kpi
              label="Messages sent today"
              value={formatNumber(overview.data?.messages_sent_today)}
              hint={overview.data ? `since midnight ${overview.data.timezone}` : undefined}
              loading={overview.isPending}
            />
            <Kpi
              label="Delivery rate"
              value={formatPercent(overview.data?.rates.delivery_rate)}
              hint={totals ? `${formatNumber(totals.delivered)} of ${formatNumber(totals.sent)} sent` : undefined}
              loading={overview.isPending}
            />
            <Kpi
              label="Read rate"
              value={formatPercent(overview.data?.rates.read_rate)}
              hint={totals ? `${formatNumber(totals.read)} of ${formatNumber(totals.delivered)} delivered` : undefined}
              loading={overview.isPending}
            />
            <Kpi
              label="Running campaigns"
              value={formatNumber(overview.data?.campaigns.running)}
              hint={overview.data ? `${overview.data.campaigns.scheduled} scheduled · ${overview.data.campaigns.paused} paused` : undefined}
              loading={overview.isPending}
            />
          </>
        )}
        {can(me, 'usage:read') && (
          <Kpi
            label="API calls (30 days)"
            value={formatNumber(usage.data?.total_api_calls)}
            hint={tenant.data ? `on the ${tenant.data.plan} plan` : undefined}
            loading={usage.isPending}
          />
        )}
        {can(me, 'conversations:read') && (
          <>
            <Kpi label="Active conversations (24 h)" value={countLabel(active.data?.items, active.data?.next_cursor)} loading={active.isPending} />
            <Kpi label="Unread conversations" value={countLabel(unread.data?.items, unread.data?.next_cursor)} loading={unread.isPending} />
          </>
        )}
        {can(me, 'leads:read') && (
          <>
            <Kpi label="Hot leads" value={countLabel(hot.data?.items, hot.data?.next_cursor)} loading={hot.isPending} />
            <Kpi
              label="Open pipeline"
              value={pipeline.data ? `${formatNumber(pipeline.data.open_count)} leads` : '—'}
              hint={pipeline.data?.win_rate != null ? `win rate ${(pipeline.data.win_rate * 100).toFixed(0)}%` : undefined}
              loading={pipeline.isPending}
            />
          </>
        )}
      </SimpleGrid>

      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {can(me, 'usage:read') && (
          <Card withBorder>
            <Title order={4} mb="sm">
              Usage
            </Title>
            <QueryState isPending={usage.isPending} error={usage.error} isEmpty={chart.length === 0} empty="No usage recorded yet.">
              <AreaChart h={220} data={chart} dataKey="date" series={[{ name: 'Messages', color: 'teal.6' }, { name: 'API calls', color: 'blue.5' }]} curveType="monotone" />
            </QueryState>
          </Card>
        )}
        {can(me, 'usage:read') && (
          <Card withBorder role="region" aria-label="Usage vs plan">
            <Title order={4} mb="sm">
              Usage vs plan{usage.data ? ` (${usage.data.plan})` : ''}
            </Title>
            <QueryState isPending={usage.isPending} error={usage.error}>
              {usage.data && (
                <Stack gap="sm">
                  <QuotaBar label="API calls this month" used={usage.data.used_this_month.api_calls} limit={usage.data.limits.api_calls} />
                  <QuotaBar label="Messages this month" used={usage.data.used_this_month.messages} limit={usage.data.limits.messages} />
                  <Text size="xs" c="dimmed">
                    Counted since {usage.data.month_start} (UTC). Ask the platform admin to change plans.
                  </Text>
                </Stack>
              )}
            </QueryState>
          </Card>
        )}
        {can(me, 'conversations:read') && (
          <Card withBorder>
            <Title order={4} mb="sm">
              Recent activity
            </Title>
            <QueryState
              isPending={recent.isPending}
              error={recent.error}
              isEmpty={recent.data?.items.length === 0}
              empty="No conversations yet. Connect a number and customers' messages will show up here."
            >
              <Stack gap="xs">
                {recent.data?.items.map((c) => (
                  <Group key={c.id} justify="space-between" wrap="nowrap">
                    <div style={{ minWidth: 0 }}>
                      <Anchor component={Link} to={`/inbox/${c.id}`} size="sm" fw={500}>
                        {c.contact.name ?? c.contact.phone}
                      </Anchor>
                      <Text size="xs" c="dimmed" truncate>
                        {c.last_message_preview ?? 'No messages'}
                      </Text>
                    </div>
                    <Group gap={4} wrap="nowrap">
                      {c.unread_count > 0 && <Badge size="sm">{c.unread_count}</Badge>}
                      <Text size="xs" c="dimmed">
                        {timeAgo(c.last_message_at)}
                      </Text>
                    </Group>
                  </Group>
                ))}
              </Stack>
            </QueryState>
          </Card>
        )}
      </SimpleGrid>

      <Card withBorder mt="md">
        <Title order={4} mb="sm">
          Quick actions
        </Title>
        <Group>
          {can(me, 'contacts:write') && (
            <Button component={Link} to="/contacts/import" variant="light">
              Import contacts
            </Button>
          )}
          {can(me, 'contacts:read') && (
            <Button component={Link} to="/segments" variant="light">
              Build a segment
            </Button>
          )}
          {can(me, 'conversations:read') && (
            <Button component={Link} to="/inbox?unread=1" variant="light">
              Answer unread messages
            </Button>
          )}
          {can(me, 'whatsapp:manage') && (
            <Button component={Link} to="/numbers" variant="light">
              Connect a number
            </Button>
          )}
        </Group>
      </Card>
    </>
  );
}
