import { describe, expect, it } from 'vitest';

import type { CampaignOut } from '../../client';
import { createBody, emptyForm, formFromCampaign, settingsOf, updateBody } from './form';

const saved: CampaignOut = {
  id: 9, name: 'Spring sale', description: null, kind: 'broadcast', status: 'paused', status_reason: 'paused by a user',
  audience: { tags: ['vip'] }, sender_number_ids: [1], rotation: 'round_robin', template_id: null, variables: {},
  settings: { pacing: true, quiet_hours: false, marketing: true, frequency_cap: { max_messages: 5, days: 3 }, retries: { max_attempts: 2 } },
  trigger: {}, scheduled_at: null, schedule_timezone: null, schedule_per_contact: false, audience_size: 10,
  started_at: null, paused_at: null, completed_at: null, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
  steps: [{ id: 1, campaign_id: 9, position: 1, body: 'Hi {{ first_name }}' }], progress: 0.5,
};

describe('campaign form', () => {
  it('creates a broadcast with the message shortcut and the default sender', () => {
    const form = { ...emptyForm(1), name: ' Sale ', message: 'Hi', audience: { ...emptyForm().audience, mode: 'tags' as const, tags: ['vip'] } };
    expect(createBody(form)).toMatchObject({
      name: 'Sale', kind: 'broadcast', message: 'Hi', audience: { tags: ['vip'] }, sender_number_ids: [1], trigger: null,
      settings: { quiet_hours: true, marketing: true, frequency_cap: { max_messages: 3, days: 7 } },
    });
    expect(createBody(form)).not.toHaveProperty('steps');
  });

  it('creates a drip with steps, a tag trigger and no audience when none is wanted', () => {
    const form = { ...emptyForm(), name: 'Onboarding', kind: 'drip' as const, useAudience: false, triggerEvent: 'tag.added' as const, triggerTag: ' trial ' };
    form.steps = [{ ...form.steps[0]!, body: 'Welcome' }];
    const body = createBody(form);
    expect(body).toMatchObject({ kind: 'drip', audience: {}, trigger: { event: 'tag.added', tag: 'trial' }, settings: { exit_on_reply: false } });
    expect(body.steps).toHaveLength(1);
    expect(body).not.toHaveProperty('message');
  });

  it('reads a saved campaign back and keeps API-only settings when saving', () => {
    const form = formFromCampaign(saved);
    expect(form).toMatchObject({ name: 'Spring sale', message: 'Hi {{ first_name }}', quietHours: false, frequencyCap: true, senders: ['1'] });
    expect(settingsOf(form, saved.settings)).toMatchObject({ pacing: true, retries: { max_attempts: 2 }, frequency_cap: { max_messages: 5, days: 3 } });
    expect(settingsOf({ ...form, frequencyCap: false }, saved.settings).frequency_cap).toBeNull();
  });

  it('leaves message and audience out of a paused campaign update', () => {
    const body = updateBody(formFromCampaign(saved), saved);
    expect(body).not.toHaveProperty('message');
    expect(body).not.toHaveProperty('audience');
    expect(body).not.toHaveProperty('trigger');
    expect(updateBody(formFromCampaign(saved), { ...saved, status: 'draft' })).toMatchObject({ message: 'Hi {{ first_name }}', audience: { tags: ['vip'] } });
  });
});
