// Create or edit a campaign: details, audience with a live count, the message (broadcast) or the steps
// (drip), sending options, and a per-contact preview once the draft is saved.
import { Alert, Button, Card, Checkbox, Grid, Group, MultiSelect, SegmentedControl, Select, Stack, Switch, Text, TextInput, Textarea, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconDeviceFloppy } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, Navigate, useNavigate, useParams } from 'react-router-dom';
import { z } from 'zod';

import { invalidateOps } from '../../api/invalidate';
import { useMe } from '../../auth/AuthProvider';
import type { CampaignKind, CampaignOut } from '../../client';
import { createCampaignMutation, getCampaignOptions, getCampaignQueryKey, listNumbersOptions, updateCampaignMutation } from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';
import { can } from '../../lib/nav';
import { AudiencePicker } from './AudiencePicker';
import { DripBuilder } from './DripBuilder';
import { MessageEditor } from './MessageEditor';
import { PreviewPanel } from './PreviewPanel';
import { toAudience } from './audience';
import { type CampaignForm, type TriggerEvent, createBody, emptyForm, formFromCampaign, isDrip, updateBody } from './form';
import { apiProblem, slotOf } from './problems';
import { checkSteps } from './steps';

const KINDS: { value: CampaignKind; label: string }[] = [
  { value: 'broadcast', label: 'Broadcast' },
  { value: 'drip', label: 'Drip' },
  { value: 'nurture', label: 'Nurture' },
  { value: 'followup', label: 'Follow-up' },
];

const nameSchema = z.string().trim().min(1, 'Give the campaign a name').max(200, 'At most 200 characters');

interface FieldErrors {
  name?: string;
  audience?: string;
  senders?: string;
  message?: string;
  trigger?: string;
  steps: Record<number, string>;
  form?: string;
}

const NO_ERRORS: FieldErrors = { steps: {} };

export function CampaignEditorPage() {
  const me = useMe();
  const params = useParams();
  const campaignId = params.campaignId ? Number(params.campaignId) : null;
  const campaign = useQuery({ ...getCampaignOptions({ path: { campaign_id: campaignId ?? 0 } }), enabled: campaignId != null });
  if (!can(me, 'campaigns:write')) return <Navigate to={campaignId != null ? `/campaigns/${campaignId}` : '/campaigns'} replace />;
  if (campaignId == null) return <EditorForm key="new" campaign={null} />;
  return (
    <QueryState isPending={campaign.isPending} error={campaign.error} onRetry={() => campaign.refetch()} label="Loading campaign">
      {campaign.data && <EditorForm key={campaign.data.id} campaign={campaign.data} />}
    </QueryState>
  );
}

function EditorForm({ campaign }: { campaign: CampaignOut | null }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const numbers = useQuery(listNumbersOptions());
  const defaultSender = numbers.data?.find((n) => n.is_default && n.status === 'connected')?.id;
  const [form, setForm] = useState<CampaignForm>(() => (campaign ? formFromCampaign(campaign) : emptyForm()));
  const [errors, setErrors] = useState<FieldErrors>(NO_ERRORS);
  const [previewStep, setPreviewStep] = useState(0);
  const set = (patch: Partial<CampaignForm>) => setForm((f) => ({ ...f, ...patch }));
  const drip = isDrip(form.kind);
  const editable = !campaign || ['draft', 'scheduled', 'paused'].includes(campaign.status);
  const contentEditable = !campaign || campaign.status === 'draft' || campaign.status === 'scheduled';
  // A new campaign sends from the default number unless the user picks others.
  const senders = !campaign && form.senders.length === 0 && defaultSender != null ? [String(defaultSender)] : form.senders;
  const extraVariables = Object.keys(campaign?.variables ?? {});

  function showProblem(err: unknown) {
    const problem = apiProblem(err);
    if (!problem) {
      setErrors({ ...NO_ERRORS, form: errorMessage(err) });
      return;
    }
    const slot = slotOf(problem.field, !drip);
    if (typeof slot === 'object') setErrors({ ...NO_ERRORS, steps: { [slot.step]: problem.problem } });
    else if (slot === 'form' || slot === 'schedule') setErrors({ ...NO_ERRORS, form: errorMessage(err) });
    else setErrors({ ...NO_ERRORS, [slot]: problem.problem });
  }

  const onSaved = async (saved: CampaignOut) => {
    queryClient.setQueryData(getCampaignQueryKey({ path: { campaign_id: saved.id } }), saved);
    await invalidateOps(queryClient, 'listCampaigns', 'getCampaign', 'getCampaignStats');
    notifications.show({ color: 'teal', message: campaign ? 'Campaign saved' : 'Draft saved' });
    if (!campaign) navigate(`/campaigns/${saved.id}/edit`, { replace: true });
  };
  const create = useMutation({ ...createCampaignMutation(), onSuccess: onSaved, onError: showProblem });
  const update = useMutation({ ...updateCampaignMutation(), onSuccess: onSaved, onError: showProblem });

  function localProblems(): FieldErrors | null {
    const found: FieldErrors = { steps: {} };
    const name = nameSchema.safeParse(form.name);
    if (!name.success) found.name = name.error.issues[0]?.message;
    if (contentEditable) {
      if ((!drip || form.useAudience) && !toAudience(form.audience)) found.audience = 'Choose who gets the campaign';
      if (!drip && !form.message.trim()) found.message = 'Write the message';
      if (drip) {
        const problem = checkSteps(form.steps);
        const step = problem ? /^steps\.(\d+)/.exec(problem.field) : null;
        if (problem) found.steps = { [step ? Number(step[1]) : 0]: problem.problem };
      }
      if (drip && form.triggerEvent === 'tag.added' && !form.triggerTag.trim()) found.trigger = 'Choose the tag that enrols contacts';
    }
    const any = found.name || found.audience || found.message || found.trigger || Object.keys(found.steps).length > 0;
    return any ? found : null;
  }

  function save() {
    const problems = localProblems();
    setErrors(problems ?? NO_ERRORS);
    if (problems) return;
    const current = { ...form, senders };
    if (campaign) update.mutate({ path: { campaign_id: campaign.id }, body: updateBody(current, campaign) });
    else create.mutate({ body: createBody(current) });
  }

  const previewBody = drip ? (form.steps[previewStep]?.body ?? '') : form.message;
  return (
    <>
      <PageHeader
        title={campaign ? `Edit "${campaign.name}"` : 'New campaign'}
        description={drip ? 'Steps go out one after another, with delays and conditions.' : 'One message to an audience, paced safely.'}
        actions={
          <>
            {campaign && (
              <Button component={Link} to={`/campaigns/${campaign.id}`} variant="default">
                Open campaign
              </Button>
            )}
            <Button leftSection={<IconDeviceFloppy size={16} />} onClick={save} loading={create.isPending || update.isPending} disabled={!editable}>
              {campaign ? 'Save changes' : 'Save draft'}
            </Button>
          </>
        }
      />
      {!editable && (
        <Alert color="yellow" mb="md">
          A {campaign?.status} campaign cannot be edited{campaign?.status === 'running' ? '; pause it first' : ''}.
        </Alert>
      )}
      {editable && !contentEditable && (
        <Alert color="blue" mb="md">
          The campaign has started: its audience and messages stay as they are. Name, numbers and sending options can still change.
        </Alert>
      )}
      {errors.form && (
        <Alert color="red" mb="md" role="alert">
          {errors.form}
        </Alert>
      )}
      <Grid>
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Stack>
            <Card withBorder>
              <Stack gap="sm">
                <TextInput label="Campaign name" required value={form.name} onChange={(e) => set({ name: e.currentTarget.value })} error={errors.name} readOnly={!editable} />
                <Textarea label="Description" autosize minRows={1} value={form.description} onChange={(e) => set({ description: e.currentTarget.value })} readOnly={!editable} />
                {!campaign && (
                  <Stack gap={4}>
                    <Text size="sm" fw={500}>
                      Type
                    </Text>
                    <SegmentedControl aria-label="Campaign type" value={form.kind} onChange={(kind) => set({ kind: kind as CampaignKind })} data={KINDS} />
                  </Stack>
                )}
              </Stack>
            </Card>
            <Card withBorder>
              <Stack gap="sm">
                <Title order={4}>Audience</Title>
                {drip && (
                  <Checkbox
                    label="Enrol an audience when the campaign starts"
                    checked={form.useAudience}
                    onChange={(e) => set({ useAudience: e.currentTarget.checked })}
                    disabled={!contentEditable}
                  />
                )}
                {(!drip || form.useAudience) && <AudiencePicker value={form.audience} onChange={(audience) => set({ audience })} readOnly={!contentEditable} error={errors.audience} />}
                {drip && (
                  <Group align="flex-end" wrap="wrap">
                    <Select
                      label="Also enrol automatically"
                      w={260}
                      allowDeselect={false}
                      data={[
                        { value: 'none', label: 'No' },
                        { value: 'contact.created', label: 'When a contact is created' },
                        { value: 'tag.added', label: 'When a contact gets a tag' },
                      ]}
                      value={form.triggerEvent}
                      onChange={(v) => set({ triggerEvent: (v ?? 'none') as TriggerEvent })}
                      readOnly={!editable}
                    />
                    {form.triggerEvent === 'tag.added' && (
                      <TextInput label="Trigger tag" w={180} value={form.triggerTag} onChange={(e) => set({ triggerTag: e.currentTarget.value })} error={errors.trigger} readOnly={!editable} />
                    )}
                  </Group>
                )}
                {drip && errors.trigger && form.triggerEvent !== 'tag.added' && (
                  <Text size="sm" c="red" role="alert">
                    {errors.trigger}
                  </Text>
                )}
              </Stack>
            </Card>
            <Card withBorder>
              <Stack gap="sm">
                <Title order={4}>{drip ? 'Steps' : 'Message'}</Title>
                {drip ? (
                  <DripBuilder steps={form.steps} onChange={(steps) => set({ steps })} readOnly={!contentEditable} errors={errors.steps} extraVariables={extraVariables} />
                ) : (
                  <MessageEditor
                    label="Message"
                    value={form.message}
                    onChange={(message) => set({ message })}
                    error={errors.message}
                    readOnly={!contentEditable}
                    extraVariables={extraVariables}
                  />
                )}
              </Stack>
            </Card>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Stack>
            <Card withBorder>
              <Stack gap="sm">
                <Title order={4}>Sending</Title>
                <MultiSelect
                  label="Send from"
                  placeholder={senders.length ? undefined : 'The default number'}
                  data={(numbers.data ?? []).map((n) => ({
                    value: String(n.id),
                    label: `${n.name} (${n.display_number})${n.status === 'connected' ? '' : ` · ${n.status}`}`,
                    disabled: n.status !== 'connected' && !senders.includes(String(n.id)),
                  }))}
                  value={senders}
                  onChange={(ids) => set({ senders: ids })}
                  error={errors.senders}
                  readOnly={!editable}
                />
                {senders.length > 1 && (
                  <Select
                    label="Rotation"
                    allowDeselect={false}
                    data={[
                      { value: 'round_robin', label: 'Round robin' },
                      { value: 'least_loaded', label: 'Least loaded first' },
                    ]}
                    value={form.rotation}
                    onChange={(v) => set({ rotation: (v ?? 'round_robin') as CampaignForm['rotation'] })}
                    readOnly={!editable}
                  />
                )}
                <Switch label="Respect quiet hours in each contact's time zone" checked={form.quietHours} onChange={(e) => set({ quietHours: e.currentTarget.checked })} disabled={!editable} />
                <Switch label="Marketing (opt-outs apply)" checked={form.marketing} onChange={(e) => set({ marketing: e.currentTarget.checked })} disabled={!editable} />
                <Switch
                  label="Frequency cap (max messages per contact per week)"
                  checked={form.frequencyCap}
                  onChange={(e) => set({ frequencyCap: e.currentTarget.checked })}
                  disabled={!editable}
                />
                {drip && <Switch label="Leave the drip when the contact replies" checked={form.exitOnReply} onChange={(e) => set({ exitOnReply: e.currentTarget.checked })} disabled={!editable} />}
              </Stack>
            </Card>
            {drip && campaign && form.steps.length > 1 && (
              <Select
                label="Step to preview"
                allowDeselect={false}
                data={form.steps.map((_, i) => ({ value: String(i), label: `Step ${i + 1}` }))}
                value={String(previewStep)}
                onChange={(v) => setPreviewStep(Number(v ?? 0))}
              />
            )}
            <PreviewPanel
              campaignId={campaign?.id ?? null}
              body={previewBody}
              onProblem={(problem) =>
                setErrors((e) => (drip ? { ...e, steps: { ...e.steps, [previewStep]: problem ?? '' } } : { ...e, message: problem ?? undefined }))
              }
            />
          </Stack>
        </Grid.Col>
      </Grid>
    </>
  );
}
