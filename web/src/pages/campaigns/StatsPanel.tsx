// Live campaign stats: the delivery funnel, throughput and projected finish, errors by WhatsApp code and,
// for drips, each step's numbers. Polled every few seconds while the campaign runs.
import { BarChart } from '@mantine/charts';
import { Card, Grid, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';

import type { CampaignStats } from '../../client';
import { EmptyState } from '../../components/QueryState';
import { formatDateTime, formatNumber, formatPercent } from '../../lib/format';
import { errorRows, finishText, funnelData } from './stats';

function Kpi({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <Paper withBorder p="md" role="group" aria-label={label}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="xl" fw={700} mt={4} data-value>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Paper>
  );
}

export function StatsPanel({ stats, progress }: { stats: CampaignStats; progress: number | null | undefined }) {
  const funnel = funnelData(stats);
  const errors = errorRows(stats.errors);
  return (
    <Stack>
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
        <Kpi label="Audience" value={formatNumber(stats.audience_size)} hint={`${formatNumber(stats.waiting)} waiting to send`} />
        <Kpi label="Progress" value={formatPercent(progress ?? null)} hint={`${formatNumber(stats.failed)} failed · ${formatNumber(stats.skipped + stats.opted_out)} skipped`} />
        <Kpi label="Throughput" value={`${formatNumber(stats.throughput_per_minute)}/min`} hint="accepted in the last full minute" />
        <Kpi
          label="Projected finish"
          value={finishText(stats)}
          hint={stats.status === 'running' && stats.projected_finish_at ? formatDateTime(stats.projected_finish_at) : undefined}
        />
      </SimpleGrid>
      <Grid>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Card withBorder h="100%">
            <Title order={4} mb="sm">
              Funnel
            </Title>
            {stats.queued === 0 ? (
              <EmptyState>Nothing queued yet: the funnel fills in when the campaign starts.</EmptyState>
            ) : (
              <Group align="center" wrap="wrap" gap="xl">
                <BarChart
                  h={220}
                  w={340}
                  data={funnel.map((row) => ({ stage: row.name, Messages: row.value, color: row.color }))}
                  dataKey="stage"
                  orientation="vertical"
                  yAxisProps={{ width: 80 }}
                  series={[{ name: 'Messages', color: 'teal.6' }]}
                  barProps={{ radius: 4 }}
                  valueFormatter={(v) => formatNumber(v)}
                  withBarValueLabel
                  gridAxis="none"
                  aria-hidden
                />
                <Table aria-label="Funnel" withRowBorders={false} w="auto">
                  <Table.Tbody>
                    {funnel.map((row) => (
                      <Table.Tr key={row.name}>
                        <Table.Td>
                          <Text size="sm">{row.name}</Text>
                        </Table.Td>
                        <Table.Td ta="right">
                          <Text size="sm" fw={700} aria-label={row.name} data-stage={row.name.toLowerCase()}>
                            {row.value}
                          </Text>
                        </Table.Td>
                        <Table.Td ta="right">
                          <Text size="xs" c="dimmed">
                            {formatPercent(row.share)}
                          </Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Group>
            )}
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Card withBorder h="100%">
            <Title order={4} mb="sm">
              Errors by code
            </Title>
            {errors.length === 0 ? (
              <EmptyState>No failed sends.</EmptyState>
            ) : (
              <Table aria-label="Errors by code" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Code</Table.Th>
                    <Table.Th>Meaning</Table.Th>
                    <Table.Th ta="right">Messages</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {errors.map((e) => (
                    <Table.Tr key={e.code}>
                      <Table.Td>{e.code}</Table.Td>
                      <Table.Td>{e.meaning}</Table.Td>
                      <Table.Td ta="right">{formatNumber(e.count)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            <Text size="xs" c="dimmed" mt="sm">
              Delivery rate {formatPercent(stats.rates.delivery_rate)} · read rate {formatPercent(stats.rates.read_rate)} · reply rate {formatPercent(stats.rates.response_rate)} ·{' '}
              {formatNumber(stats.retried)} retries
            </Text>
          </Card>
        </Grid.Col>
      </Grid>
      {stats.steps.length > 1 && (
        <Card withBorder>
          <Title order={4} mb="sm">
            By step
          </Title>
          <Table.ScrollContainer minWidth={640}>
            <Table aria-label="Stats by step" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Step</Table.Th>
                  <Table.Th ta="right">Sent</Table.Th>
                  <Table.Th ta="right">Delivered</Table.Th>
                  <Table.Th ta="right">Read</Table.Th>
                  <Table.Th ta="right">Replied</Table.Th>
                  <Table.Th ta="right">Failed</Table.Th>
                  <Table.Th ta="right">Skipped</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {stats.steps.map((s) => (
                  <Table.Tr key={s.step_id}>
                    <Table.Td>
                      {s.position}. {s.name ?? ''}
                    </Table.Td>
                    <Table.Td ta="right">{formatNumber(s.sent)}</Table.Td>
                    <Table.Td ta="right">{formatNumber(s.delivered)}</Table.Td>
                    <Table.Td ta="right">{formatNumber(s.read)}</Table.Td>
                    <Table.Td ta="right">{formatNumber(s.replied)}</Table.Td>
                    <Table.Td ta="right">{formatNumber(s.failed)}</Table.Td>
                    <Table.Td ta="right">{formatNumber(s.skipped)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
    </Stack>
  );
}
