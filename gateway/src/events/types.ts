/** Event payloads posted to Greenline, exactly as docs/gateway-contract.md lists them. */

export type SessionStatus = 'connecting' | 'qr' | 'connected' | 'logged_out' | 'restricted' | 'banned';

export type MediaType = 'image' | 'video' | 'audio' | 'document' | 'sticker';

export interface MessageEventData {
  messageId: string;
  from: string;
  pushName: string | null;
  text?: string;
  media?: {
    type: MediaType;
    mimetype: string | null;
    url?: string;
    caption?: string;
    fileName?: string;
  };
  replyTo?: string;
  timestamp: number;
}

export type ReceiptStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface ReceiptEventData {
  messageId: string;
  to: string;
  status: ReceiptStatus;
  timestamp: number;
  error?: { code: string; message: string };
}

export interface ConnectionEventData {
  status: SessionStatus;
  me?: string;
  reason?: string;
  statusCode?: number;
}

export interface RestrictionEventData {
  kind: 'rate_limited' | 'restricted' | 'banned';
  statusCode?: number;
  reason?: string;
}

export type EventPayload =
  | { type: 'message'; data: MessageEventData }
  | { type: 'receipt'; data: ReceiptEventData }
  | { type: 'connection'; data: ConnectionEventData }
  | { type: 'restriction'; data: RestrictionEventData };

export type EventType = EventPayload['type'];

/** The JSON body of one POST to GREENLINE_WEBHOOK_URL. */
export type GatewayEvent = EventPayload & {
  id: string;
  sessionId: string;
  timestamp: number;
};

/** Where sessions hand their events; the EventQueue persists and delivers them. */
export type EventSink = (sessionId: string, payload: EventPayload) => void;
