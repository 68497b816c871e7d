// WhatsApp numbers: connect (simulated, Cloud API credentials, or a linked device by QR code), and for each
// number its status, quality, tier, warm-up progress, caps and quiet hours.
import { LineChart } from '@mantine/charts';
import {
  Alert,
  Badge,
  Button,
  Card,
  Center,
  Group,
  Image,
  Loader,
  Modal,
  NumberInput,
  PasswordInput,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconPlugConnected } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { zodResolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { z } from 'zod';

import { invalidateOps } from '../../api/invalidate';
import { useMe } from '../../auth/AuthProvider';
import type { ChannelType, SenderCreate, SenderOut } from '../../client';
import {
  createNumberMutation,
  deleteNumberMutation,
  getQrOptions,
  listNumbersOptions,
  requestPairingCodeMutation,
  updateNumberMutation,
} from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';
import { formatNumber } from '../../lib/format';
import { can } from '../../lib/nav';
import { RAMP_DAYS, warmupSchedule } from '../../lib/warmup';

const STATUS_COLOR: Record<string, string> = { connected: 'teal', connecting: 'yellow', qr: 'yellow', logged_out: 'gray', restricted: 'orange', banned: 'red', invalid_credentials: 'red' };
const QUALITY_COLOR: Record<string, string> = { green: 'teal', yellow: 'yellow', red: 'red', unknown: 'gray' };

export function NumbersPage() {
  const me = useMe();
  const numbers = useQuery({ ...listNumbersOptions(), refetchInterval: 10_000 });
  const [connectOpen, connect] = useDisclosure(false);
  const [qrFor, setQrFor] = useState<number | null>(null);
  const manage = can(me, 'whatsapp:manage');
  return (
    <>
      <PageHeader
        title="WhatsApp numbers"
        description="The numbers your messages are sent from."
        actions={
          manage && (
            <Button leftSection={<IconPlugConnected size={16} />} onClick={connect.open}>
              Connect a number
            </Button>
          )
        }
      />
      <QueryState isPending={numbers.isPending} error={numbers.error} isEmpty={numbers.data?.length === 0} empty="No number connected yet. Connect one to start sending.">
        <Stack>
          {numbers.data?.map((n) => (
            <NumberCard key={n.id} sender={n} manage={manage} onShowQr={() => setQrFor(n.id)} />
          ))}
        </Stack>
      </QueryState>
      <Modal opened={connectOpen} onClose={connect.close} title="Connect a WhatsApp number" size="lg">
        <ConnectForm
          onCreated={(sender) => {
            connect.close();
            if (sender.channel === 'baileys') setQrFor(sender.id);
          }}
        />
      </Modal>
      <Modal opened={qrFor != null} onClose={() => setQrFor(null)} title="Link your WhatsApp">
        {qrFor != null && <QrPanel numberId={qrFor} onConnected={() => setQrFor(null)} />}
      </Modal>
    </>
  );
}

function NumberCard({ sender: n, manage, onShowQr }: { sender: SenderOut; manage: boolean; onShowQr: () => void }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const remove = useMutation({
    ...deleteNumberMutation(),
    onSuccess: () => invalidateOps(queryClient, 'listNumbers'),
    onError: (err) => notifications.show({ color: 'red', message: errorMessage(err) }),
  });
  const day = n.health?.warmup_day ?? null;
  return (
    <Card withBorder aria-label={`Number ${n.name}`} role="region">
      <Group justify="space-between" wrap="wrap">
        <div>
          <Group gap="xs">
            <Title order={4}>{n.name}</Title>
            {n.is_default && <Badge variant="light">default</Badge>}
          </Group>
          <Text size="sm" c="dimmed">
            {n.display_number} · {n.channel === 'simulator' ? 'simulated' : n.channel === 'cloud' ? 'Cloud API' : 'linked device'}
          </Text>
        </div>
        <Group gap="xs">
          <Badge color={STATUS_COLOR[n.status] ?? 'gray'} aria-label={`Status ${n.status}`}>
            {n.status.replace('_', ' ')}
          </Badge>
          <Badge variant="light" color={QUALITY_COLOR[n.quality_rating] ?? 'gray'}>
            quality {n.quality_rating}
          </Badge>
          <Badge variant="outline">tier {n.messaging_limit ? formatNumber(n.messaging_limit) : '—'} / 24 h</Badge>
        </Group>
      </Group>
      {n.status_reason && (
        <Alert color="orange" mt="sm">
          {n.status_reason}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 2, sm: 4 }} mt="md">
        <Metric label="Sent (24 h)" value={formatNumber(n.health?.sent_24h)} />
        <Metric label="Failed (24 h)" value={formatNumber(n.health?.failed_24h)} />
        <Metric label="Error rate" value={n.health ? `${(n.health.error_rate_24h * 100).toFixed(1)}%` : '—'} />
        <Metric label="Allowed today" value={n.health?.allowance_today == null ? 'no limit' : formatNumber(n.health.allowance_today)} />
      </SimpleGrid>
      {n.warmup_enabled && (
        <div>
          <Text size="sm" mt="md" mb={4}>
            Warm-up {day ? `day ${day} of ${RAMP_DAYS}` : n.warmup_started_at ? 'complete' : 'not started'}
          </Text>
          <LineChart
            h={160}
            data={warmupSchedule()}
            dataKey="day"
            series={[{ name: 'allowance', label: 'Messages allowed', color: 'teal.6' }]}
            referenceLines={day ? [{ x: day, label: 'Today', color: 'orange.6' }] : []}
            withDots={false}
            aria-label="Warm-up progress"
          />
        </div>
      )}
      {manage && (
        <Group mt="md" gap="xs">
          <Button size="xs" variant="default" onClick={() => setEditing((e) => !e)}>
            {editing ? 'Close settings' : 'Caps and quiet hours'}
          </Button>
          {n.channel === 'baileys' && n.status !== 'connected' && (
            <Button size="xs" variant="light" onClick={onShowQr}>
              Show QR code
            </Button>
          )}
          <Button size="xs" variant="subtle" color="red" loading={remove.isPending} onClick={() => remove.mutate({ path: { number_id: n.id } })}>
            Remove
          </Button>
        </Group>
      )}
      {editing && <PacingForm sender={n} onSaved={() => setEditing(false)} />}
    </Card>
  );
}

function Metric({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={600}>{value}</Text>
    </div>
  );
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const pacingSchema = z
  .object({
    daily_cap: z.number().int().min(1).max(1_000_000).nullable(),
    hourly_cap: z.number().int().min(1).max(100_000).nullable(),
    min_gap_seconds: z.number().min(0).max(3600),
    quiet_start: z.union([z.literal(''), z.string().regex(HHMM, 'Use HH:MM')]),
    quiet_end: z.union([z.literal(''), z.string().regex(HHMM, 'Use HH:MM')]),
    warmup_enabled: z.boolean(),
  })
  .refine((v) => (v.quiet_start === '') === (v.quiet_end === ''), { message: 'Set both ends of the quiet hours, or neither', path: ['quiet_end'] });

function PacingForm({ sender, onSaved }: { sender: SenderOut; onSaved: () => void }) {
  const queryClient = useQueryClient();
  const quiet = sender.quiet_hours as { start?: string; end?: string };
  const form = useForm({
    initialValues: {
      daily_cap: sender.daily_cap,
      hourly_cap: sender.hourly_cap,
      min_gap_seconds: sender.min_gap_seconds,
      quiet_start: quiet.start ?? '',
      quiet_end: quiet.end ?? '',
      warmup_enabled: sender.warmup_enabled,
    },
    validate: zodResolver(pacingSchema),
  });
  const save = useMutation({
    ...updateNumberMutation(),
    onSuccess: async () => {
      await invalidateOps(queryClient, 'listNumbers');
      notifications.show({ color: 'teal', message: 'Settings saved' });
      onSaved();
    },
  });
  const numberProps = (field: 'daily_cap' | 'hourly_cap') => {
    const props = form.getInputProps(field);
    return { ...props, value: props.value ?? '', onChange: (v: string | number) => form.setFieldValue(field, v === '' ? null : Number(v)) };
  };
  return (
    <form
      onSubmit={form.onSubmit((v) =>
        save.mutate({
          path: { number_id: sender.id },
          body: {
            daily_cap: v.daily_cap,
            hourly_cap: v.hourly_cap,
            min_gap_seconds: v.min_gap_seconds,
            warmup_enabled: v.warmup_enabled,
            quiet_hours: v.quiet_start ? { start: v.quiet_start, end: v.quiet_end } : null,
          },
        }),
      )}
    >
      <SimpleGrid cols={{ base: 1, sm: 3 }} mt="md">
        <NumberInput label="Daily cap" placeholder="No cap" min={1} {...numberProps('daily_cap')} />
        <NumberInput label="Hourly cap" placeholder="No cap" min={1} {...numberProps('hourly_cap')} />
        <NumberInput label="Seconds between messages" min={0} max={3600} decimalScale={1} {...form.getInputProps('min_gap_seconds')} />
        <TextInput label="Quiet hours start" placeholder="22:00" {...form.getInputProps('quiet_start')} />
        <TextInput label="Quiet hours end" placeholder="08:00" {...form.getInputProps('quiet_end')} />
        <Switch label="Warm-up ramp" mt="xl" {...form.getInputProps('warmup_enabled', { type: 'checkbox' })} />
      </SimpleGrid>
      {save.error && (
        <Alert color="red" mt="sm" role="alert">
          {errorMessage(save.error)}
        </Alert>
      )}
      <Group justify="flex-end" mt="sm">
        <Button type="submit" loading={save.isPending}>
          Save settings
        </Button>
      </Group>
    </form>
  );
}

const connectSchema = z
  .object({
    channel: z.enum(['simulator', 'cloud', 'baileys']),
    name: z.string().trim().min(1, 'Give the number a name').max(100),
    display_number: z.string().trim().regex(/^\+?[0-9 ()-]{6,20}$/, 'Enter the number in international format, e.g. +14155550100'),
    phone_number_id: z.string().trim(),
    access_token: z.string().trim(),
    app_secret: z.string().trim(),
    waba_id: z.string().trim(),
    is_default: z.boolean(),
  })
  .superRefine((v, ctx) => {
    if (v.channel !== 'cloud') return;
    if (!v.phone_number_id) ctx.addIssue({ code: 'custom', path: ['phone_number_id'], message: 'Required for the Cloud API' });
    if (!v.access_token) ctx.addIssue({ code: 'custom', path: ['access_token'], message: 'Required for the Cloud API' });
  });

function ConnectForm({ onCreated }: { onCreated: (sender: SenderOut) => void }) {
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { channel: 'simulator' as ChannelType, name: '', display_number: '', phone_number_id: '', access_token: '', app_secret: '', waba_id: '', is_default: false },
    validate: zodResolver(connectSchema),
  });
  const create = useMutation({
    ...createNumberMutation(),
    onSuccess: async (sender) => {
      await invalidateOps(queryClient, 'listNumbers');
      notifications.show({ color: 'teal', message: `${sender.name} added` });
      onCreated(sender);
    },
  });
  const channel = form.values.channel;
  return (
    <form
      onSubmit={form.onSubmit((v) => {
        const body: SenderCreate = { channel: v.channel, name: v.name.trim(), display_number: v.display_number.trim(), is_default: v.is_default };
        if (v.channel === 'cloud') {
          body.cloud = { phone_number_id: v.phone_number_id, access_token: v.access_token, app_secret: v.app_secret || null, waba_id: v.waba_id || null };
        }
        create.mutate({ body });
      })}
    >
      <Stack>
        <SegmentedControl
          aria-label="Connection type"
          data={[
            { value: 'simulator', label: 'Simulated (testing)' },
            { value: 'cloud', label: 'WhatsApp Cloud API' },
            { value: 'baileys', label: 'Linked device (QR)' },
          ]}
          {...form.getInputProps('channel')}
        />
        <Text size="sm" c="dimmed">
          {channel === 'simulator' && 'A simulated number with realistic delivery, reads and replies: try campaigns safely.'}
          {channel === 'cloud' && 'Use the phone number id and a permanent access token from Meta Business Manager.'}
          {channel === 'baileys' && 'Scan a QR code with WhatsApp on your phone (Settings › Linked devices).'}
        </Text>
        <TextInput label="Name" placeholder="Support line" {...form.getInputProps('name')} />
        <TextInput label="Phone number" placeholder="+14155550100" {...form.getInputProps('display_number')} />
        {channel === 'cloud' && (
          <>
            <TextInput label="Phone number ID" {...form.getInputProps('phone_number_id')} />
            <PasswordInput label="Access token" {...form.getInputProps('access_token')} />
            <PasswordInput label="App secret (verifies webhooks)" {...form.getInputProps('app_secret')} />
            <TextInput label="WhatsApp Business Account ID" {...form.getInputProps('waba_id')} />
          </>
        )}
        <Switch label="Use as the default sender" {...form.getInputProps('is_default', { type: 'checkbox' })} />
        {create.error && (
          <Alert color="red" role="alert">
            {errorMessage(create.error)}
          </Alert>
        )}
        <Button type="submit" loading={create.isPending}>
          Connect
        </Button>
      </Stack>
    </form>
  );
}

function QrPanel({ numberId, onConnected }: { numberId: number; onConnected: () => void }) {
  const queryClient = useQueryClient();
  const qr = useQuery({
    ...getQrOptions({ query: { number_id: numberId } }),
    refetchInterval: (query) => (query.state.data?.status === 'connected' ? false : 2000),
    retry: false,
  });
  const status = qr.data?.status;
  if (status === 'connected') {
    void invalidateOps(queryClient, 'listNumbers');
    return (
      <Stack align="center">
        <Alert color="teal">Connected.</Alert>
        <Button onClick={onConnected}>Done</Button>
      </Stack>
    );
  }
  return (
    <QueryState isPending={qr.isPending} error={qr.error}>
      <Stack align="center">
        {qr.data?.qr ? (
          <Image src={qr.data.qr} alt="QR code to link WhatsApp" w={260} h={260} />
        ) : (
          <Center h={260}>
            <Loader aria-label="Waiting for the QR code" />
          </Center>
        )}
        <Text size="sm" c="dimmed" ta="center">
          Open WhatsApp on your phone › Settings › Linked devices › Link a device, and scan this code. It refreshes by itself. Status: {status ?? '…'}
        </Text>
        <PairingCode numberId={numberId} />
      </Stack>
    </QueryState>
  );
}

/** Linking without a camera: WhatsApp shows "Link with phone number instead" and asks for this code. */
function PairingCode({ numberId }: { numberId: number }) {
  const [phone, setPhone] = useState('');
  const pairing = useMutation(requestPairingCodeMutation());
  return (
    <Stack gap="xs" w="100%">
      <Group align="end" wrap="nowrap">
        <TextInput
          label="Or link with the phone number"
          placeholder="+1 415 555 2671"
          value={phone}
          onChange={(event) => setPhone(event.currentTarget.value)}
          style={{ flex: 1 }}
        />
        <Button
          variant="light"
          loading={pairing.isPending}
          disabled={!phone.trim()}
          onClick={() => pairing.mutate({ body: { phone, number_id: numberId } })}
        >
          Get pairing code
        </Button>
      </Group>
      {pairing.error && <Alert color="red">{errorMessage(pairing.error)}</Alert>}
      {pairing.data && (
        <Alert color="teal" title="Type this code on the phone">
          <Text ff="monospace" fz="xl" fw={700} aria-label="Pairing code">
            {pairing.data.code}
          </Text>
          WhatsApp › Settings › Linked devices › Link a device › Link with phone number instead.
        </Alert>
      )}
    </Stack>
  );
}
