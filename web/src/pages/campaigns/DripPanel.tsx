// A drip's enrolments: enrol a segment or tagged contacts, see where each contact is (cursor pages), and
// how every step performs.
import { Anchor, Badge, Button, Card, Grid, Group, SegmentedControl, Select, SimpleGrid, Stack, Table, TagsInput, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';

import { invalidateOps } from '../../api/invalidate';
import type { CampaignOut, EnrollmentStatus } from '../../client';
import { dripAnalyticsOptions, enrollContactsMutation, listProgressOptions, listSegmentsOptions } from '../../client/@tanstack/react-query.gen';
import { QueryState } from '../../components/QueryState';
import { usePager } from '../../lib/cursorPager';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, formatNumber } from '../../lib/format';

const PAGE_SIZE = 25;
const ENROLMENT_COLORS: Record<EnrollmentStatus, string> = { active: 'blue', completed: 'teal', exited: 'gray' };

export function DripPanel({ campaign, canWrite, refetchInterval }: { campaign: CampaignOut; canWrite: boolean; refetchInterval: number | false }) {
  const analytics = useQuery({ ...dripAnalyticsOptions({ path: { campaign_id: campaign.id } }), refetchInterval });
  return (
    <Stack>
      <QueryState isPending={analytics.isPending} error={analytics.error} onRetry={() => analytics.refetch()}>
        {analytics.data && (
          <SimpleGrid cols={{ base: 2, md: 4 }}>
            {(['enrolled', 'active', 'completed', 'exited'] as const).map((key) => (
              <Card key={key} withBorder role="group" aria-label={`Enrolments ${key}`}>
                <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                  {key}
                </Text>
                <Text size="xl" fw={700}>
                  {formatNumber(analytics.data[key])}
                </Text>
              </Card>
            ))}
          </SimpleGrid>
        )}
      </QueryState>
      <Grid>
        <Grid.Col span={{ base: 12, md: canWrite ? 8 : 12 }}>
          <Card withBorder>
            <Title order={4} mb="sm">
              Steps
            </Title>
            <Table.ScrollContainer minWidth={560}>
              <Table aria-label="Step analytics" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Step</Table.Th>
                    <Table.Th ta="right">Waiting</Table.Th>
                    <Table.Th ta="right">Sent</Table.Th>
                    <Table.Th ta="right">Read</Table.Th>
                    <Table.Th ta="right">Replied</Table.Th>
                    <Table.Th ta="right">Skipped</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {(analytics.data?.steps ?? []).map((s) => (
                    <Table.Tr key={s.step_id}>
                      <Table.Td>
                        {s.position}. {s.name ?? ''}
                      </Table.Td>
                      <Table.Td ta="right">{formatNumber(s.waiting)}</Table.Td>
                      <Table.Td ta="right">{formatNumber(s.counts.sent)}</Table.Td>
                      <Table.Td ta="right">{formatNumber(s.counts.read)}</Table.Td>
                      <Table.Td ta="right">{formatNumber(s.counts.replied)}</Table.Td>
                      <Table.Td ta="right">{formatNumber(s.counts.skipped)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {analytics.data && Object.keys(analytics.data.exit_reasons).length > 0 && (
              <Text size="xs" c="dimmed" mt="xs">
                Exits: {Object.entries(analytics.data.exit_reasons).map(([reason, n]) => `${reason} ${n}`).join(' · ')}
              </Text>
            )}
          </Card>
        </Grid.Col>
        {canWrite && (
          <Grid.Col span={{ base: 12, md: 4 }}>
            <EnrolForm campaignId={campaign.id} />
          </Grid.Col>
        )}
      </Grid>
      <ProgressTable campaignId={campaign.id} refetchInterval={refetchInterval} />
    </Stack>
  );
}

function EnrolForm({ campaignId }: { campaignId: number }) {
  const queryClient = useQueryClient();
  const [by, setBy] = useState<'segment' | 'tags'>('segment');
  const [segmentId, setSegmentId] = useState<string | null>(null);
  const [tags, setTags] = useState<string[]>([]);
  const segments = useQuery(listSegmentsOptions({ query: { limit: 100 } }));
  const enrol = useMutation({
    ...enrollContactsMutation(),
    onSuccess: async (result) => {
      await invalidateOps(queryClient, 'listProgress', 'dripAnalytics', 'getCampaignStats');
      const skipped = result.already_enrolled_or_excluded ? ` (${result.already_enrolled_or_excluded} already enrolled or excluded)` : '';
      notifications.show({ color: 'teal', message: `${formatNumber(result.enrolled)} contacts enrolled${skipped}` });
    },
  });
  const ready = by === 'segment' ? !!segmentId : tags.length > 0;
  return (
    <Card withBorder>
      <Stack gap="sm">
        <Title order={4}>Enrol contacts</Title>
        <SegmentedControl
          size="xs"
          value={by}
          onChange={(v) => setBy(v as 'segment' | 'tags')}
          data={[
            { value: 'segment', label: 'Segment' },
            { value: 'tags', label: 'Tags' },
          ]}
        />
        {by === 'segment' ? (
          <Select label="Segment to enrol" searchable data={(segments.data?.items ?? []).map((s) => ({ value: String(s.id), label: s.name }))} value={segmentId} onChange={setSegmentId} />
        ) : (
          <TagsInput label="Tags to enrol (any)" value={tags} onChange={setTags} />
        )}
        {enrol.error && (
          <Text size="sm" c="red" role="alert">
            {errorMessage(enrol.error)}
          </Text>
        )}
        <Button
          disabled={!ready}
          loading={enrol.isPending}
          onClick={() => enrol.mutate({ path: { campaign_id: campaignId }, body: by === 'segment' ? { segment_id: Number(segmentId) } : { tags } })}
        >
          Enrol
        </Button>
      </Stack>
    </Card>
  );
}

function ProgressTable({ campaignId, refetchInterval }: { campaignId: number; refetchInterval: number | false }) {
  const [status, setStatus] = useState<EnrollmentStatus | null>(null);
  const pager = usePager();
  const { reset } = pager;
  useEffect(reset, [status, reset]);
  const progress = useQuery({
    ...listProgressOptions({ path: { campaign_id: campaignId }, query: { status, cursor: pager.cursor, limit: PAGE_SIZE } }),
    placeholderData: keepPreviousData,
    refetchInterval,
  });
  const items = progress.data?.items ?? [];
  return (
    <Card withBorder p={0}>
      <Group justify="space-between" p="sm">
        <Title order={4}>Contacts in the drip</Title>
        <Select
          aria-label="Enrolment status"
          placeholder="Any status"
          clearable
          size="xs"
          w={160}
          data={['active', 'completed', 'exited']}
          value={status}
          onChange={(v) => setStatus(v as EnrollmentStatus | null)}
        />
      </Group>
      <QueryState isPending={progress.isPending} error={progress.error} onRetry={() => progress.refetch()} isEmpty={items.length === 0} empty="No contact enrolled yet.">
        <Table.ScrollContainer minWidth={720}>
          <Table aria-label="Drip progress" striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Contact</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Step</Table.Th>
                <Table.Th>Next step</Table.Th>
                <Table.Th>Enrolled</Table.Th>
                <Table.Th>Source</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((p) => (
                <Table.Tr key={p.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/contacts/${p.contact_id}`}>
                      Contact #{p.contact_id}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Badge size="sm" variant="light" color={ENROLMENT_COLORS[p.status]}>
                      {p.status}
                    </Badge>
                    {p.exit_reason && (
                      <Text size="xs" c="dimmed">
                        {p.exit_reason}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{p.current_step}</Table.Td>
                  <Table.Td>{formatDateTime(p.next_step_at)}</Table.Td>
                  <Table.Td>{formatDateTime(p.enrolled_at)}</Table.Td>
                  <Table.Td>{p.source}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </QueryState>
      <Group justify="space-between" p="sm">
        <Text size="sm" c="dimmed">
          Page {pager.pageNumber}
        </Text>
        <Group gap="xs">
          <Button size="xs" variant="default" disabled={!pager.hasPrevious} onClick={pager.previous}>
            Previous
          </Button>
          <Button size="xs" variant="default" disabled={!progress.data?.next_cursor} onClick={() => pager.next(progress.data?.next_cursor)}>
            Next
          </Button>
        </Group>
      </Group>
    </Card>
  );
}
