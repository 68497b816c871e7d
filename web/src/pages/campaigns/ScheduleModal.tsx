// Schedule a draft: a wall-clock time in a zone (the browser's by default), or in each contact's own zone.
import { Alert, Button, Checkbox, Modal, Stack, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { invalidateOps } from '../../api/invalidate';
import type { CampaignOut } from '../../client';
import { scheduleCampaignMutation } from '../../client/@tanstack/react-query.gen';
import { errorMessage } from '../../lib/errors';
import { apiProblem } from './problems';

function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function ScheduleModal({ campaign, opened, onClose }: { campaign: CampaignOut; opened: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [at, setAt] = useState('');
  const [zone, setZone] = useState(campaign.schedule_timezone ?? browserZone());
  const [perContact, setPerContact] = useState(campaign.schedule_per_contact);
  const schedule = useMutation({
    ...scheduleCampaignMutation(),
    onSuccess: async () => {
      await invalidateOps(queryClient, 'getCampaign', 'listCampaigns', 'getCampaignStats');
      notifications.show({ color: 'teal', message: 'Campaign scheduled' });
      onClose();
    },
  });
  const problem = apiProblem(schedule.error);
  return (
    <Modal opened={opened} onClose={onClose} title="Schedule the campaign">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          schedule.mutate({ path: { campaign_id: campaign.id }, body: { at, timezone: zone.trim() || null, per_contact_timezone: perContact } });
        }}
      >
        <Stack>
          <TextInput label="Send at" type="datetime-local" required value={at} onChange={(e) => setAt(e.currentTarget.value)} error={problem?.field === 'at' ? problem.problem : undefined} />
          <TextInput label="Time zone" description="IANA name, e.g. Europe/Berlin" value={zone} onChange={(e) => setZone(e.currentTarget.value)} error={problem?.field === 'timezone' ? problem.problem : undefined} />
          <Checkbox label="Send at this time in each contact's own time zone" checked={perContact} onChange={(e) => setPerContact(e.currentTarget.checked)} />
          {schedule.error && !(problem && (problem.field === 'at' || problem.field === 'timezone')) && (
            <Alert color="red" role="alert">
              {errorMessage(schedule.error)}
            </Alert>
          )}
          <Button type="submit" loading={schedule.isPending} disabled={!at}>
            Schedule
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}
