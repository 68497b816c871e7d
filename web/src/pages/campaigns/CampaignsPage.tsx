// Campaigns: every broadcast and drip with its status and progress, filtered on the server, page by page.
import { Anchor, Badge, Button, Card, Group, Progress, Select, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';

import { useMe } from '../../auth/AuthProvider';
import type { CampaignKind, CampaignStatus } from '../../client';
import { listCampaignsOptions } from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { QueryState } from '../../components/QueryState';
import { usePager } from '../../lib/cursorPager';
import { formatDateTime, formatNumber, formatPercent } from '../../lib/format';
import { can } from '../../lib/nav';
import { describeAudience } from './audience';
import { STATUS_COLORS } from './stats';

const PAGE_SIZE = 25;
const STATUSES: CampaignStatus[] = ['draft', 'scheduled', 'running', 'paused', 'completed', 'stopped'];
const KINDS: { value: CampaignKind; label: string }[] = [
  { value: 'broadcast', label: 'Broadcast' },
  { value: 'drip', label: 'Drip' },
  { value: 'nurture', label: 'Nurture' },
  { value: 'followup', label: 'Follow-up' },
];

export function CampaignsPage() {
  const me = useMe();
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 300);
  const [status, setStatus] = useState<CampaignStatus | null>(null);
  const [kind, setKind] = useState<CampaignKind | null>(null);
  const pager = usePager();
  const { reset } = pager;
  useEffect(reset, [q, status, kind, reset]);
  const campaigns = useQuery({
    ...listCampaignsOptions({ query: { q: q || undefined, status, kind, cursor: pager.cursor, limit: PAGE_SIZE } }),
    placeholderData: keepPreviousData,
    // Running campaigns move: refresh their progress while the list is open.
    refetchInterval: (query) => (query.state.data?.items.some((c) => c.status === 'running') ? 5_000 : false),
  });
  const items = campaigns.data?.items ?? [];
  const filtered = !!(q || status || kind);

  return (
    <>
      <PageHeader
        title="Campaigns"
        description="Broadcasts and drips: who gets what, when, and how it is going."
        actions={
          can(me, 'campaigns:write') && (
            <Button component={Link} to="/campaigns/new" leftSection={<IconPlus size={16} />}>
              New campaign
            </Button>
          )
        }
      />
      <Card withBorder mb="md">
        <Group align="flex-end" wrap="wrap">
          <TextInput label="Search" placeholder="Campaign name" leftSection={<IconSearch size={16} />} value={search} onChange={(e) => setSearch(e.currentTarget.value)} w={240} />
          <Select label="Status" placeholder="Any" clearable data={STATUSES} value={status} onChange={(v) => setStatus(v as CampaignStatus | null)} w={150} />
          <Select label="Type" placeholder="Any" clearable data={KINDS} value={kind} onChange={(v) => setKind(v as CampaignKind | null)} w={150} />
        </Group>
      </Card>
      <Card withBorder p={0}>
        <QueryState
          isPending={campaigns.isPending}
          error={campaigns.error}
          onRetry={() => campaigns.refetch()}
          isEmpty={items.length === 0}
          empty={filtered ? 'No campaign matches these filters.' : 'No campaigns yet. Create a broadcast or a drip to reach your contacts.'}
        >
          <Table.ScrollContainer minWidth={820}>
            <Table striped highlightOnHover aria-label="Campaigns">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Audience</Table.Th>
                  <Table.Th w={180}>Progress</Table.Th>
                  <Table.Th>Created</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/campaigns/${c.id}`}>
                        {c.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{KINDS.find((k) => k.value === c.kind)?.label ?? c.kind}</Table.Td>
                    <Table.Td>
                      <Badge size="sm" variant="light" color={STATUS_COLORS[c.status]}>
                        {c.status}
                      </Badge>
                      {c.status === 'paused' && c.status_reason && (
                        <Text size="xs" c="dimmed" lineClamp={1} maw={220}>
                          {c.status_reason}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{describeAudience(c.audience)}</Text>
                      {c.audience_size > 0 && (
                        <Text size="xs" c="dimmed">
                          {formatNumber(c.audience_size)} enrolled
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {c.progress == null ? (
                        <Text size="sm" c="dimmed">
                          —
                        </Text>
                      ) : (
                        <Group gap="xs" wrap="nowrap">
                          <Progress value={c.progress * 100} w={110} aria-label={`Progress of ${c.name}`} color={STATUS_COLORS[c.status]} />
                          <Text size="xs">{formatPercent(c.progress)}</Text>
                        </Group>
                      )}
                    </Table.Td>
                    <Table.Td>{formatDateTime(c.created_at)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </QueryState>
        <Group justify="space-between" p="sm">
          <Text size="sm" c="dimmed">
            Page {pager.pageNumber}
            {campaigns.isFetching && !campaigns.isPending ? ' · updating…' : ''}
          </Text>
          <Group gap="xs">
            <Button size="xs" variant="default" disabled={!pager.hasPrevious} onClick={pager.previous}>
              Previous
            </Button>
            <Button size="xs" variant="default" disabled={!campaigns.data?.next_cursor} onClick={() => pager.next(campaigns.data?.next_cursor)}>
              Next
            </Button>
          </Group>
        </Group>
      </Card>
    </>
  );
}
