import type { OutgoingContent, Presence } from './socket';

export type SendType = 'text' | 'image' | 'document' | 'audio' | 'video';

/** One message to send, as validated from the API body. */
export interface SendRequest {
  to: string;
  type: SendType;
  text?: string | undefined;
  mediaUrl?: string | undefined;
  caption?: string | undefined;
  fileName?: string | undefined;
  mimetype?: string | undefined;
  clientRef?: string | undefined;
}

/** The Baileys sendMessage content for a request (Baileys downloads mediaUrl itself). */
export function toOutgoingContent(request: SendRequest): OutgoingContent {
  const { type, caption, mimetype } = request;
  if (type === 'text') return { text: request.text ?? '' };
  const media = { url: request.mediaUrl ?? '' };
  const extras = {
    ...(caption !== undefined ? { caption } : {}),
    ...(mimetype !== undefined ? { mimetype } : {}),
  };
  switch (type) {
    case 'image':
      return { image: media, ...extras };
    case 'video':
      return { video: media, ...extras };
    case 'audio':
      return { audio: media, ptt: false, ...(mimetype !== undefined ? { mimetype } : {}) };
    case 'document':
      return {
        document: media,
        mimetype: mimetype ?? 'application/octet-stream',
        ...(request.fileName !== undefined ? { fileName: request.fileName } : {}),
        ...(caption !== undefined ? { caption } : {}),
      };
  }
}

/** What a person would be seen doing before this message: typing, or recording a voice note. */
export function presenceFor(request: SendRequest): Presence {
  return request.type === 'audio' ? 'recording' : 'composing';
}

/** The text whose length sets the typing time. */
export function visibleText(request: SendRequest): string | undefined {
  return request.type === 'text' ? request.text : request.caption;
}

/** Baileys returns codes like "ABCD1234"; the contract shows "ABCD-EFGH". */
export function formatPairingCode(code: string): string {
  const clean = code.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
  return clean.length === 8 ? `${clean.slice(0, 4)}-${clean.slice(4)}` : clean;
}
