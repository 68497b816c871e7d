// The campaign form's state, read from a saved campaign and turned into the create/update request bodies.
import type { CampaignCreate, CampaignKind, CampaignOut, CampaignPolicy, CampaignUpdate } from '../../client';
import { type AudienceDraft, emptyAudience, fromAudience, toAudience } from './audience';
import { type StepDraft, emptyStep, fromStepOut, toStepIn } from './steps';

export type TriggerEvent = 'none' | 'contact.created' | 'tag.added';

export interface CampaignForm {
  name: string;
  description: string;
  kind: CampaignKind;
  senders: string[];
  rotation: 'round_robin' | 'least_loaded';
  /** Drips may start without an audience and enrol later (by hand or by trigger). */
  useAudience: boolean;
  audience: AudienceDraft;
  message: string;
  steps: StepDraft[];
  quietHours: boolean;
  marketing: boolean;
  frequencyCap: boolean;
  exitOnReply: boolean;
  triggerEvent: TriggerEvent;
  triggerTag: string;
}

export function isDrip(kind: CampaignKind): boolean {
  return kind !== 'broadcast';
}

export function emptyForm(defaultSender?: number): CampaignForm {
  return {
    name: '',
    description: '',
    kind: 'broadcast',
    senders: defaultSender != null ? [String(defaultSender)] : [],
    rotation: 'round_robin',
    useAudience: true,
    audience: emptyAudience(),
    message: '',
    steps: [emptyStep(true)],
    quietHours: true,
    marketing: true,
    frequencyCap: true,
    exitOnReply: false,
    triggerEvent: 'none',
    triggerTag: '',
  };
}

export function formFromCampaign(campaign: CampaignOut): CampaignForm {
  const settings = campaign.settings as CampaignPolicy;
  const trigger = campaign.trigger as { event?: string; tag?: string };
  const event: TriggerEvent = trigger.event === 'contact.created' || trigger.event === 'tag.added' ? trigger.event : 'none';
  const saved = campaign.steps ?? [];
  const steps = saved.map(fromStepOut);
  return {
    name: campaign.name,
    description: campaign.description ?? '',
    kind: campaign.kind,
    senders: campaign.sender_number_ids.map(String),
    rotation: campaign.rotation === 'least_loaded' ? 'least_loaded' : 'round_robin',
    useAudience: Object.keys(campaign.audience).length > 0,
    audience: fromAudience(campaign.audience),
    message: saved[0]?.body ?? '',
    steps: steps.length ? steps : [emptyStep(true)],
    quietHours: settings.quiet_hours ?? true,
    marketing: settings.marketing ?? true,
    frequencyCap: settings.frequency_cap !== null,
    exitOnReply: settings.exit_on_reply ?? campaign.kind === 'nurture',
    triggerEvent: event,
    triggerTag: trigger.tag ?? '',
  };
}

/** Settings with the form's switches applied over what is stored, so API-only settings survive an edit. */
export function settingsOf(form: CampaignForm, stored: Record<string, unknown> = {}): CampaignPolicy {
  const current = stored as CampaignPolicy;
  return {
    ...current,
    quiet_hours: form.quietHours,
    marketing: form.marketing,
    frequency_cap: form.frequencyCap ? (current.frequency_cap ?? { max_messages: 3, days: 7 }) : null,
    exit_on_reply: isDrip(form.kind) ? form.exitOnReply : (current.exit_on_reply ?? null),
  };
}

function triggerOf(form: CampaignForm): Record<string, unknown> | null {
  if (!isDrip(form.kind) || form.triggerEvent === 'none') return null;
  return form.triggerEvent === 'tag.added' ? { event: 'tag.added', tag: form.triggerTag.trim() } : { event: 'contact.created' };
}

function content(form: CampaignForm): Pick<CampaignCreate, 'audience' | 'message' | 'steps'> {
  const audience = isDrip(form.kind) && !form.useAudience ? {} : (toAudience(form.audience) ?? {});
  return isDrip(form.kind) ? { audience, steps: form.steps.map(toStepIn) } : { audience, message: form.message };
}

export function createBody(form: CampaignForm): CampaignCreate {
  return {
    name: form.name.trim(),
    description: form.description.trim() || null,
    kind: form.kind,
    ...content(form),
    sender_number_ids: form.senders.map(Number),
    rotation: form.rotation,
    settings: settingsOf(form),
    trigger: triggerOf(form),
  };
}

/** Messages and audience only change before the start; a paused campaign keeps them. */
export function updateBody(form: CampaignForm, campaign: CampaignOut): CampaignUpdate {
  const contentEditable = campaign.status === 'draft' || campaign.status === 'scheduled';
  return {
    name: form.name.trim(),
    description: form.description.trim() || null,
    ...(contentEditable ? content(form) : {}),
    sender_number_ids: form.senders.map(Number),
    rotation: form.rotation,
    settings: settingsOf(form, campaign.settings),
    ...(isDrip(campaign.kind) ? { trigger: triggerOf(form) } : {}),
  };
}
