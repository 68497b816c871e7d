// One campaign: its lifecycle controls (start, schedule, pause, resume, stop), why it is paused, live stats
// polled while it runs, the drip's enrolments, and what it sends to whom.
import { Alert, Badge, Box, Button, Card, Group, Modal, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconCalendar, IconCopy, IconEdit, IconPlayerPause, IconPlayerPlay, IconPlayerStop, IconRocket } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router-dom';

import { invalidateOps } from '../../api/invalidate';
import { useMe } from '../../auth/AuthProvider';
import type { CampaignOut } from '../../client';
import {
  duplicateCampaignMutation,
  getCampaignOptions,
  getCampaignQueryKey,
  getCampaignStatsOptions,
  listNumbersOptions,
  listSegmentsOptions,
  pauseCampaignMutation,
  resumeCampaignMutation,
  startCampaignMutation,
  stopCampaignMutation,
} from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { can } from '../../lib/nav';
import { DripPanel } from './DripPanel';
import { ScheduleModal } from './ScheduleModal';
import { StatsPanel } from './StatsPanel';
import { describeAudience } from './audience';
import { isDrip } from './form';
import { STATUS_COLORS, actionsFor, isAutoPause, pollInterval } from './stats';
import { describeCondition, formatDelay } from './steps';

export function CampaignDetailPage() {
  const campaignId = Number(useParams().campaignId);
  const campaign = useQuery({
    ...getCampaignOptions({ path: { campaign_id: campaignId } }),
    refetchInterval: (query) => pollInterval(query.state.data?.status),
  });
  return (
    <QueryState isPending={campaign.isPending} error={campaign.error} onRetry={() => campaign.refetch()} label="Loading campaign">
      {campaign.data && <CampaignView campaign={campaign.data} />}
    </QueryState>
  );
}

function CampaignView({ campaign }: { campaign: CampaignOut }) {
  const me = useMe();
  const canWrite = can(me, 'campaigns:write');
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [scheduleOpen, scheduleModal] = useDisclosure(false);
  const [stopOpen, stopModal] = useDisclosure(false);
  const interval = pollInterval(campaign.status);
  const stats = useQuery({ ...getCampaignStatsOptions({ path: { campaign_id: campaign.id } }), refetchInterval: interval });
  const path = { path: { campaign_id: campaign.id } };

  const onChanged = async (updated: CampaignOut) => {
    queryClient.setQueryData(getCampaignQueryKey(path), updated);
    await invalidateOps(queryClient, 'getCampaignStats', 'listCampaigns', 'dripAnalytics', 'listProgress');
  };
  const onError = (err: unknown) => notifications.show({ color: 'red', title: 'The campaign did not change', message: errorMessage(err) });
  const start = useMutation({ ...startCampaignMutation(), onSuccess: onChanged, onError });
  const pause = useMutation({ ...pauseCampaignMutation(), onSuccess: onChanged, onError });
  const resume = useMutation({ ...resumeCampaignMutation(), onSuccess: onChanged, onError });
  const stop = useMutation({
    ...stopCampaignMutation(),
    onSuccess: async (updated) => {
      stopModal.close();
      await onChanged(updated);
    },
    onError,
  });
  const duplicate = useMutation({
    ...duplicateCampaignMutation(),
    onSuccess: async (copy) => {
      await invalidateOps(queryClient, 'listCampaigns');
      navigate(`/campaigns/${copy.id}/edit`);
    },
    onError,
  });
  const actions = actionsFor(campaign.status);
  const busy = start.isPending || pause.isPending || resume.isPending || stop.isPending;

  return (
    <>
      <PageHeader
        title={campaign.name}
        description={`${campaign.kind === 'followup' ? 'Follow-up' : campaign.kind[0]?.toUpperCase() + campaign.kind.slice(1)} · created ${formatDateTime(campaign.created_at)}`}
        actions={
          canWrite && (
            <>
              {actions.edit && (
                <Button component={Link} to={`/campaigns/${campaign.id}/edit`} variant="default" leftSection={<IconEdit size={16} />}>
                  Edit
                </Button>
              )}
              <Button variant="default" leftSection={<IconCopy size={16} />} loading={duplicate.isPending} onClick={() => duplicate.mutate({ body: { campaign_id: campaign.id } })}>
                Duplicate
              </Button>
              {actions.schedule && (
                <Button variant="default" leftSection={<IconCalendar size={16} />} onClick={scheduleModal.open}>
                  Schedule
                </Button>
              )}
              {actions.start && (
                <Button leftSection={<IconRocket size={16} />} loading={start.isPending} disabled={busy} onClick={() => start.mutate(path)}>
                  Start now
                </Button>
              )}
              {actions.pause && (
                <Button color="orange" leftSection={<IconPlayerPause size={16} />} loading={pause.isPending} disabled={busy} onClick={() => pause.mutate(path)}>
                  Pause
                </Button>
              )}
              {actions.resume && (
                <Button leftSection={<IconPlayerPlay size={16} />} loading={resume.isPending} disabled={busy} onClick={() => resume.mutate(path)}>
                  Resume
                </Button>
              )}
              {actions.stop && (
                <Button color="red" variant="light" leftSection={<IconPlayerStop size={16} />} disabled={busy} onClick={stopModal.open}>
                  Stop
                </Button>
              )}
            </>
          )
        }
      />
      <Group gap="xs" mb="md">
        <Badge size="lg" color={STATUS_COLORS[campaign.status]} aria-label="Campaign status">
          {campaign.status}
        </Badge>
        {campaign.status === 'scheduled' && campaign.scheduled_at && (
          <Text size="sm" c="dimmed">
            Starts {formatDateTime(campaign.scheduled_at)}
            {campaign.schedule_per_contact ? " in each contact's time zone" : ''}
          </Text>
        )}
        {campaign.started_at && (
          <Text size="sm" c="dimmed">
            Started {formatDateTime(campaign.started_at)}
          </Text>
        )}
        {campaign.completed_at && (
          <Text size="sm" c="dimmed">
            · finished {formatDateTime(campaign.completed_at)}
          </Text>
        )}
      </Group>
      {campaign.status === 'paused' && (
        <Box role="group" aria-label="Pause reason" mb="md">
          <Alert
            color={isAutoPause(campaign.status, campaign.status_reason) ? 'red' : 'yellow'}
            title={isAutoPause(campaign.status, campaign.status_reason) ? 'Paused automatically to protect the number' : 'Paused'}
            role="status"
          >
            {campaign.status_reason ?? 'The campaign is paused.'}
            {isAutoPause(campaign.status, campaign.status_reason) && ' Check the errors below and the number’s quality before resuming.'}
          </Alert>
        </Box>
      )}
      <Stack>
        <QueryState isPending={stats.isPending} error={stats.error} onRetry={() => stats.refetch()} label="Loading stats">
          {stats.data && <StatsPanel stats={stats.data} progress={campaign.progress} />}
        </QueryState>
        {isDrip(campaign.kind) && <DripPanel campaign={campaign} canWrite={canWrite} refetchInterval={interval} />}
        <Overview campaign={campaign} />
      </Stack>
      {canWrite && <ScheduleModal campaign={campaign} opened={scheduleOpen} onClose={scheduleModal.close} />}
      <Modal opened={stopOpen} onClose={stopModal.close} title="Stop the campaign?">
        <Stack>
          <Text size="sm">Messages not yet sent are dropped and the campaign cannot be restarted (you can duplicate it).</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={stopModal.close}>
              Keep it
            </Button>
            <Button color="red" loading={stop.isPending} onClick={() => stop.mutate(path)}>
              Stop campaign
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

function Overview({ campaign }: { campaign: CampaignOut }) {
  const segments = useQuery(listSegmentsOptions({ query: { limit: 100 } }));
  const numbers = useQuery(listNumbersOptions());
  const segmentName = (id: number) => segments.data?.items.find((s) => s.id === id)?.name;
  const senderNames = campaign.sender_number_ids.map((id) => {
    const n = numbers.data?.find((x) => x.id === id);
    return n ? `${n.name} (${n.display_number})` : `#${id}`;
  });
  const steps = campaign.steps ?? [];
  return (
    <Card withBorder>
      <Title order={4} mb="sm">
        What goes out
      </Title>
      <Stack gap="xs">
        <Text size="sm">
          <b>Audience:</b> {describeAudience(campaign.audience, segmentName)}
        </Text>
        <Text size="sm">
          <b>From:</b> {senderNames.length ? senderNames.join(', ') : 'the default number'}
        </Text>
        {steps.map((step, index) => (
          <Card key={step.id} withBorder bg="gray.0" p="sm">
            {steps.length > 1 && (
              <Text size="xs" c="dimmed" mb={4}>
                Step {step.position}
                {step.name ? ` · ${step.name}` : ''} · {formatDelay(step.delay_value ?? 0, step.delay_unit ?? 'minutes', step.delay_from ?? 'previous_step', index === 0)} ·{' '}
                {describeCondition(step.condition?.type ?? null, step.condition?.tag)}
              </Text>
            )}
            <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
              {step.body || (step.media_url ? `${step.kind}: ${step.media_url}` : '(WhatsApp template)')}
            </Text>
          </Card>
        ))}
      </Stack>
    </Card>
  );
}
