// Puts the API's 422/409 problem ({"error": {"details": [{"field", "problem"}]}}) next to the form field it names.

export interface Problem {
  field: string;
  problem: string;
}

export function apiProblem(error: unknown): Problem | null {
  const details = (error as { error?: { details?: unknown } } | null)?.error?.details;
  if (!Array.isArray(details)) return null;
  const first = details.find((d): d is { field: string; problem?: string; message?: string } => !!d && typeof d.field === 'string');
  if (!first) return null;
  // Request-validation errors name the location (`body.steps.0.body`); service errors name the field.
  const field = first.field.replace(/^body\./, '');
  return { field, problem: first.problem ?? first.message ?? 'invalid' };
}

export type Slot = 'name' | 'audience' | 'senders' | 'message' | 'schedule' | 'trigger' | { step: number } | 'form';

/** Which part of the campaign form a problem belongs to; a broadcast's single step is its message. */
export function slotOf(field: string, broadcast: boolean): Slot {
  if (field === 'name') return 'name';
  if (field.startsWith('audience')) return 'audience';
  if (field.startsWith('sender_number_ids')) return 'senders';
  if (field.startsWith('trigger')) return 'trigger';
  if (field === 'message' || field === 'body' || field === 'media_url') return broadcast ? 'message' : { step: 0 };
  const step = /^steps\.(\d+)/.exec(field);
  if (step) return broadcast ? 'message' : { step: Number(step[1]) };
  if (field === 'at' || field === 'timezone') return 'schedule';
  return 'form';
}
