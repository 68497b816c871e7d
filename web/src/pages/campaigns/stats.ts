// Campaign stats as the stats page shows them: the funnel, errors by WhatsApp code, the finish estimate,
// and which lifecycle actions a campaign's status allows.
import type { CampaignStats, CampaignStatus } from '../../client';

export const FUNNEL_STAGES = [
  { key: 'queued', label: 'Queued', color: 'gray.5' },
  { key: 'sent', label: 'Sent', color: 'blue.5' },
  { key: 'delivered', label: 'Delivered', color: 'cyan.6' },
  { key: 'read', label: 'Read', color: 'teal.6' },
  { key: 'replied', label: 'Replied', color: 'green.7' },
] as const;

type Counts = Pick<CampaignStats, 'queued' | 'sent' | 'delivered' | 'read' | 'replied'>;

export interface FunnelRow {
  name: string;
  value: number;
  color: string;
  /** Share of the queued messages that reached this stage (null before anything is queued). */
  share: number | null;
}

export function funnelData(stats: Counts): FunnelRow[] {
  return FUNNEL_STAGES.map((stage) => ({
    name: stage.label,
    value: stats[stage.key],
    color: stage.color,
    share: stats.queued > 0 ? stats[stage.key] / stats.queued : null,
  }));
}

// The Cloud API codes a campaign meets most (see /work/shared/docs/whatsapp-cloud-api-facts.md), and our skip codes.
const ERROR_CODES: Record<string, string> = {
  '130429': 'Throughput limit hit (retried)',
  '131026': 'Undeliverable: not on WhatsApp or old app',
  '131047': 'Outside the 24-hour window: needs a template',
  '131048': 'Spam rate limit: slow down, check quality',
  '131049': 'Per-user marketing limit (wait 24 h)',
  '131050': 'Contact stopped marketing messages',
  '131056': 'Too many messages to one contact',
  '131057': 'Account in maintenance (retried)',
  '131031': 'Business account locked',
  '131009': 'Invalid parameter',
  '131000': 'Unknown WhatsApp error',
  // Not WhatsApp's: why Greenline skipped or gave up on a message.
  frequency_cap: 'Skipped: frequency cap reached',
  opted_out: 'Skipped: contact opted out',
  campaign_stopped: 'Not sent: campaign stopped',
  lease_expired: 'Outcome unknown: worker stopped mid-send',
};

export interface ErrorRow {
  code: string;
  count: number;
  meaning: string;
}

export function errorRows(errors: Record<string, number>): ErrorRow[] {
  return Object.entries(errors)
    .filter(([, count]) => count > 0)
    .map(([code, count]) => ({ code, count, meaning: ERROR_CODES[code] ?? 'Other error' }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/** "in about 4 min" for a running campaign's projected finish; finished or stalled campaigns say so. */
export function finishText(stats: Pick<CampaignStats, 'status' | 'projected_finish_at' | 'waiting'>, now: Date = new Date()): string {
  if (stats.status === 'completed') return 'finished';
  if (stats.status === 'stopped') return 'stopped';
  if (stats.status === 'paused') return 'paused';
  if (stats.status === 'draft' || stats.status === 'scheduled') return 'not started';
  if (!stats.projected_finish_at) return stats.waiting > 0 ? 'estimating…' : '—';
  const seconds = Math.round((new Date(stats.projected_finish_at).getTime() - now.getTime()) / 1000);
  if (seconds <= 60) return 'in under a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `in about ${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `in about ${hours} h`;
  return `in about ${Math.round(hours / 24)} days`;
}

/** A pause the user did not ask for: the dispatcher's auto-pause reason (error rate, number quality...). */
export function isAutoPause(status: CampaignStatus, reason: string | null | undefined): boolean {
  return status === 'paused' && !!reason && reason !== 'paused by a user';
}

export interface Actions {
  start: boolean;
  schedule: boolean;
  pause: boolean;
  resume: boolean;
  stop: boolean;
  edit: boolean;
}

export function actionsFor(status: CampaignStatus): Actions {
  return {
    start: status === 'draft' || status === 'scheduled',
    schedule: status === 'draft' || status === 'scheduled',
    pause: status === 'running',
    resume: status === 'paused',
    stop: status === 'running' || status === 'paused' || status === 'scheduled',
    edit: status === 'draft' || status === 'scheduled' || status === 'paused',
  };
}

/** Stats change only while messages move: poll while running (and shortly after, for late receipts). */
export function pollInterval(status: CampaignStatus | undefined): number | false {
  if (status === 'running') return 3_000;
  if (status === 'paused' || status === 'completed') return 15_000;
  return false;
}

export const STATUS_COLORS: Record<CampaignStatus, string> = {
  draft: 'gray',
  scheduled: 'violet',
  running: 'blue',
  paused: 'orange',
  completed: 'teal',
  stopped: 'red',
};
