// WhatsApp-style ticks for a message's delivery state.
import type { MessageStatus } from '../client';

export interface TickView {
  symbol: string;
  label: string;
  color: string;
}

export function tickView(status: MessageStatus): TickView {
  switch (status) {
    case 'read':
      return { symbol: '✓✓', label: 'Read', color: 'blue' };
    case 'delivered':
      return { symbol: '✓✓', label: 'Delivered', color: 'gray' };
    case 'sent':
      return { symbol: '✓', label: 'Sent', color: 'gray' };
    case 'failed':
      return { symbol: '!', label: 'Failed', color: 'red' };
    case 'skipped':
      return { symbol: '–', label: 'Not sent', color: 'orange' };
    case 'received':
      return { symbol: '', label: 'Received', color: 'gray' };
    default:
      return { symbol: '○', label: 'Sending', color: 'gray' };
  }
}
