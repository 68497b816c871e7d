// The audience picker's model: everyone, contacts with any of some tags, a saved segment, or ad-hoc segment
// rules. It becomes the campaign's `audience` body and the request that counts it while the user picks.
import type { Audience } from '../../client';
import { type Condition, type Match, emptyCondition, fromRules, toRules } from '../../lib/segmentRules';

export type AudienceMode = 'all' | 'tags' | 'segment' | 'filter' | 'contacts';

export interface AudienceDraft {
  mode: AudienceMode;
  tags: string[];
  segmentId: string | null;
  match: Match;
  conditions: Condition[];
  /** Explicit contact ids (set through the API only): kept as they are, never edited here. */
  contactIds: number[];
}

/** How to count the audience: rules for POST /segments/count, or a saved segment's own count. */
export type CountRequest = { kind: 'rules'; rules: Record<string, unknown> } | { kind: 'segment'; segmentId: number };

export function emptyAudience(): AudienceDraft {
  return { mode: 'all', tags: [], segmentId: null, match: 'all', conditions: [emptyCondition()], contactIds: [] };
}

function cleanTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter(Boolean))];
}

/** The API's audience for a draft, or null while the picker is incomplete (no tag, no segment, no rule). */
export function toAudience(draft: AudienceDraft): Audience | null {
  switch (draft.mode) {
    case 'all':
      return { all: true };
    case 'tags': {
      const tags = cleanTags(draft.tags);
      return tags.length ? { tags } : null;
    }
    case 'segment':
      return draft.segmentId ? { segment_id: Number(draft.segmentId) } : null;
    case 'filter': {
      const rules = toRules(draft.match, draft.conditions);
      return (rules[draft.match] as unknown[]).length ? { filter: rules } : null;
    }
    case 'contacts':
      return draft.contactIds.length ? { contact_ids: draft.contactIds } : null;
  }
}

export function countRequest(draft: AudienceDraft): CountRequest | null {
  switch (draft.mode) {
    case 'all':
      return { kind: 'rules', rules: { all: [] } };
    case 'tags': {
      const tags = cleanTags(draft.tags);
      return tags.length ? { kind: 'rules', rules: { field: 'tags', op: 'has_any', value: tags } } : null;
    }
    case 'segment':
      return draft.segmentId ? { kind: 'segment', segmentId: Number(draft.segmentId) } : null;
    case 'filter': {
      const rules = toRules(draft.match, draft.conditions);
      return (rules[draft.match] as unknown[]).length ? { kind: 'rules', rules } : null;
    }
    case 'contacts':
      return null;
  }
}

/** Reads a saved campaign's audience back into the picker. */
export function fromAudience(raw: Record<string, unknown> | null | undefined): AudienceDraft {
  const draft = emptyAudience();
  if (!raw) return draft;
  if (Array.isArray(raw.tags)) return { ...draft, mode: 'tags', tags: raw.tags.map(String) };
  if (typeof raw.segment_id === 'number') return { ...draft, mode: 'segment', segmentId: String(raw.segment_id) };
  if (Array.isArray(raw.contact_ids)) return { ...draft, mode: 'contacts', contactIds: raw.contact_ids.map(Number) };
  if (raw.filter && typeof raw.filter === 'object') {
    const parsed = fromRules(raw.filter as Record<string, unknown>);
    if (parsed) return { ...draft, mode: 'filter', match: parsed.match, conditions: parsed.conditions };
  }
  return draft;
}

/** One line describing a saved audience, for lists and read-only views. */
export function describeAudience(raw: Record<string, unknown> | null | undefined, segmentName?: (id: number) => string | undefined): string {
  if (!raw || Object.keys(raw).length === 0) return 'No audience yet';
  if (raw.all === true) return 'All contacts';
  if (Array.isArray(raw.tags)) return `Tagged ${raw.tags.join(' or ')}`;
  if (typeof raw.segment_id === 'number') return `Segment ${segmentName?.(raw.segment_id) ?? `#${raw.segment_id}`}`;
  if (Array.isArray(raw.contact_ids)) return `${raw.contact_ids.length} chosen contacts`;
  if (raw.filter) return 'Contacts matching a filter';
  return 'Custom audience';
}
