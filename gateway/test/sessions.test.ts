import fs from 'node:fs';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { FakeSocket } from '../src/fake/socket';
import { SECRET, startTestGateway, tempDir, type TestGateway } from './helpers/gateway';
import { Receiver } from './helpers/receiver';
import { waitUntil } from './helpers/wait';

const TO = '+15557654321';
const TO_JID = '15557654321@s.whatsapp.net';

let gw: TestGateway;
let receiver: Receiver;

beforeEach(async () => {
  receiver = new Receiver(SECRET);
  await receiver.start();
  gw = await startTestGateway({ GREENLINE_WEBHOOK_URL: receiver.url });
});

afterEach(async () => {
  await gw.close();
  await receiver.stop();
});

function statusOf(id: string): string | undefined {
  return gw.gateway.sessions.get(id)?.status;
}

async function waitForStatus(id: string, status: string): Promise<void> {
  await waitUntil(() => statusOf(id) === status, 2000, `session ${id} to be ${status}`);
}

async function linkedSession(id = 'main'): Promise<FakeSocket> {
  const response = await gw.call('POST', '/sessions', { body: { sessionId: id } });
  expect(response.status).toBe(201);
  const socket = gw.factory.latest(id);
  socket.open();
  await waitForStatus(id, 'connected');
  return socket;
}

function send(body: unknown, sessionId = 'main') {
  return gw.call('POST', '/messages/send', { sessionId, body });
}

describe('linking', () => {
  it('shows the QR as a PNG data URL, then reports the connected number', async () => {
    const started = await gw.call('POST', '/sessions', { body: { sessionId: 'main' } });
    expect(started).toEqual({ status: 201, body: { sessionId: 'main', status: 'connecting' } });

    const before = await gw.call('GET', '/auth/qr', { sessionId: 'main' });
    expect(before.body).toEqual({ status: 'connecting', qr: null, qrDataUrl: null });

    const socket = gw.factory.latest('main');
    expect(socket.authDir).toBe(path.join(gw.config.dataDir, 'sessions', 'main'));
    socket.showQr('2@AbCdEf0123456789,ref,key');
    const qr = await gw.call('GET', '/auth/qr', { sessionId: 'main' });
    expect(qr.status).toBe(200);
    expect(qr.body.status).toBe('qr');
    expect(qr.body.qr).toBe('2@AbCdEf0123456789,ref,key');
    expect(qr.body.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    const png = Buffer.from(qr.body.qrDataUrl.split(',')[1], 'base64');
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');

    socket.open('15550001111:7@s.whatsapp.net');
    await waitForStatus('main', 'connected');
    const status = await gw.call('GET', '/auth/status', { sessionId: 'main' });
    expect(status.body).toEqual({ status: 'connected', me: '+15550001111', lastDisconnect: null });
    expect((await gw.call('GET', '/auth/qr', { sessionId: 'main' })).body.qr).toBeNull();
    expect((await gw.call('GET', '/sessions')).body).toEqual([
      { sessionId: 'main', status: 'connected', me: '+15550001111' },
    ]);

    await receiver.waitFor(() => receiver.ofType('connection').length === 3);
    expect(receiver.ofType('connection').map((event) => event.data)).toEqual([
      { status: 'connecting' },
      { status: 'qr' },
      { status: 'connected', me: '+15550001111' },
    ]);
    expect(receiver.ofType('connection').every((event) => event.sessionId === 'main')).toBe(true);
  });

  it('starts idempotently, taking the id from the body or the header', async () => {
    expect((await gw.call('POST', '/sessions', { sessionId: 'acme' })).status).toBe(201);
    expect((await gw.call('POST', '/sessions', { body: { sessionId: 'acme' } })).status).toBe(201);
    expect(gw.factory.count('acme')).toBe(1);

    const mismatch = await gw.call('POST', '/sessions', { sessionId: 'acme', body: { sessionId: 'other' } });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.details).toEqual({ field: 'sessionId' });

    const invalid = await gw.call('POST', '/sessions', { body: { sessionId: 'no spaces/allowed' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details.field).toBe('sessionId');

    const missing = await gw.call('POST', '/sessions', { body: {} });
    expect(missing.status).toBe(422);
  });

  it('issues a pairing code for phone-number linking', async () => {
    await gw.call('POST', '/sessions', { body: { sessionId: 'main' } });
    const socket = gw.factory.latest('main');
    socket.showQr('2@qr');

    const response = await gw.call('POST', '/auth/pairing-code', { sessionId: 'main', body: { phone: '+15551234567' } });
    expect(response).toEqual({ status: 200, body: { code: 'ABCD-1234' } });
    expect(socket.calls).toContainEqual(expect.objectContaining({ method: 'requestPairingCode', phone: '15551234567' }));

    const invalid = await gw.call('POST', '/auth/pairing-code', { sessionId: 'main', body: { phone: '5551234567' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details.field).toBe('phone');

    socket.open();
    await waitForStatus('main', 'connected');
    const linked = await gw.call('POST', '/auth/pairing-code', { sessionId: 'main', body: { phone: '+15551234567' } });
    expect(linked.status).toBe(409);
    expect(linked.body.error.code).toBe('already_connected');
  });

  it('needs X-Session-Id on session routes and a started session', async () => {
    const missing = await gw.call('GET', '/auth/status');
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'missing_session_id', details: { field: 'X-Session-Id' } });

    const invalid = await gw.call('GET', '/auth/status', { sessionId: '../etc' });
    expect(invalid.status).toBe(400);

    const unknown = await gw.call('GET', '/auth/status', { sessionId: 'ghost' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('session_not_found');
  });
});

describe('sending', () => {
  it('shows typing before a text message and reports it sent', async () => {
    const socket = await linkedSession();
    const response = await send({ to: TO, type: 'text', text: 'Hello there', clientRef: 'c-1' });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ messageId: expect.any(String), clientRef: 'c-1' });

    expect(socket.calls.map((call) => call.method)).toEqual([
      'onWhatsApp',
      'sendPresenceUpdate',
      'sendPresenceUpdate',
      'sendMessage',
    ]);
    const [check, composing, paused, sent] = socket.calls;
    expect(check).toMatchObject({ jids: [TO_JID] });
    expect(composing).toMatchObject({ presence: 'composing', jid: TO_JID });
    expect(paused).toMatchObject({ presence: 'paused', jid: TO_JID });
    expect(sent).toMatchObject({ jid: TO_JID, content: { text: 'Hello there' }, id: response.body.messageId });
    // The typing indicator stays up for the configured minimum before the message goes out.
    expect(sent!.at - composing!.at).toBeGreaterThanOrEqual(9);

    await receiver.waitFor(() => receiver.ofType('receipt').length === 1);
    expect(receiver.ofType('receipt')[0]?.data).toMatchObject({
      messageId: response.body.messageId,
      to: TO,
      status: 'sent',
    });
  });

  it('sends image, document, video and audio with the right content', async () => {
    const socket = await linkedSession();
    const url = 'https://cdn.example.com/file';
    expect((await send({ to: TO, type: 'image', mediaUrl: `${url}.jpg`, caption: 'New menu' })).status).toBe(202);
    expect(
      (
        await send({
          to: TO,
          type: 'document',
          mediaUrl: `${url}.pdf`,
          fileName: 'invoice.pdf',
          mimetype: 'application/pdf',
          caption: null,
        })
      ).status,
    ).toBe(202);
    expect((await send({ to: TO, type: 'video', mediaUrl: `${url}.mp4` })).status).toBe(202);
    expect((await send({ to: TO, type: 'audio', mediaUrl: `${url}.ogg`, mimetype: 'audio/ogg' })).status).toBe(202);

    expect(socket.sent().map((call) => call.content)).toEqual([
      { image: { url: `${url}.jpg` }, caption: 'New menu' },
      { document: { url: `${url}.pdf` }, mimetype: 'application/pdf', fileName: 'invoice.pdf' },
      { video: { url: `${url}.mp4` } },
      { audio: { url: `${url}.ogg` }, ptt: false, mimetype: 'audio/ogg' },
    ]);
    const presences = socket.calls.flatMap((call) => (call.method === 'sendPresenceUpdate' ? [call.presence] : []));
    // A voice note is preceded by "recording", the rest by "composing".
    expect(presences).toEqual(['composing', 'paused', 'composing', 'paused', 'composing', 'paused', 'recording', 'paused']);
  });

  it('names the offending field when a body is invalid', async () => {
    await linkedSession();
    const cases: Array<[unknown, string]> = [
      [{ to: TO, type: 'text' }, 'text'],
      [{ to: '0044 20 1234', type: 'text', text: 'hi' }, 'to'],
      [{ to: TO, type: 'sticker', text: 'hi' }, 'type'],
      [{ to: TO, type: 'image' }, 'mediaUrl'],
      [{ to: TO, type: 'image', mediaUrl: 'ftp://example.com/a.png' }, 'mediaUrl'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const response = await send(body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(response.body.error.code).toBe('validation_error');
      expect(response.body.error.details.field).toBe(field);
      expect(response.body.error.message).toContain(field);
    }
  });

  it('refuses to send while not connected', async () => {
    await gw.call('POST', '/sessions', { body: { sessionId: 'main' } });
    const response = await send({ to: TO, type: 'text', text: 'hi' });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('session_not_connected');
  });

  it('does not send to a number that is not on WhatsApp, and uses the canonical JID', async () => {
    const socket = await linkedSession();
    socket.missing.add(TO_JID);
    const missing = await send({ to: TO, type: 'text', text: 'hi' });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ code: 'recipient_not_on_whatsapp', details: { field: 'to' } });
    expect(socket.sent()).toHaveLength(0);

    socket.canonical.set('5511987654321@s.whatsapp.net', '551187654321@s.whatsapp.net');
    expect((await send({ to: '+5511987654321', type: 'text', text: 'oi' })).status).toBe(202);
    expect(socket.sent()[0]?.jid).toBe('551187654321@s.whatsapp.net');
  });

  it('paces bulk sends one at a time, in order, with a gap between them', async () => {
    const socket = await linkedSession();
    const recipients = ['+15550000001', '+15550000002', '+15550000003'];
    const response = await gw.call('POST', '/messages/bulk', {
      sessionId: 'main',
      body: {
        messages: recipients.map((to, index) => ({ to, type: 'text', text: `Offer ${index}`, clientRef: `r${index}` })),
      },
    });
    expect(response.status).toBe(202);
    const sent = socket.sent();
    expect(response.body.results).toEqual(
      sent.map((call, index) => ({ clientRef: `r${index}`, messageId: call.id })),
    );
    expect(sent.map((call) => call.jid)).toEqual(recipients.map((to) => `${to.slice(1)}@s.whatsapp.net`));
    expect(sent.map((call) => call.content)).toEqual([{ text: 'Offer 0' }, { text: 'Offer 1' }, { text: 'Offer 2' }]);

    // Each message has its own typing indicator, after the previous message went out.
    const sequence = socket.calls
      .filter((call) => call.method !== 'onWhatsApp')
      .map((call) => (call.method === 'sendPresenceUpdate' ? `${call.presence}:${call.jid}` : `send:${call.method === 'sendMessage' ? call.jid : ''}`));
    expect(sequence).toEqual(
      recipients.flatMap((to) => {
        const jid = `${to.slice(1)}@s.whatsapp.net`;
        return [`composing:${jid}`, `paused:${jid}`, `send:${jid}`];
      }),
    );
    // SEND_MIN_DELAY_MS is 30: consecutive sends are at least that far apart.
    for (let index = 1; index < sent.length; index += 1) {
      expect(sent[index]!.at - sent[index - 1]!.at).toBeGreaterThanOrEqual(29);
    }
  });

  it('reports per-message errors in a bulk result and rejects invalid bulk bodies whole', async () => {
    const socket = await linkedSession();
    socket.missing.add('15550000002@s.whatsapp.net');
    const response = await gw.call('POST', '/messages/bulk', {
      sessionId: 'main',
      body: {
        messages: [
          { to: '+15550000001', type: 'text', text: 'a', clientRef: 'a' },
          { to: '+15550000002', type: 'text', text: 'b', clientRef: 'b' },
          { to: '+15550000003', type: 'text', text: 'c' },
        ],
      },
    });
    expect(response.status).toBe(202);
    expect(response.body.results).toEqual([
      { clientRef: 'a', messageId: expect.any(String) },
      { clientRef: 'b', error: { code: 'recipient_not_on_whatsapp', message: expect.any(String) } },
      { clientRef: null, messageId: expect.any(String) },
    ]);

    const invalid = await gw.call('POST', '/messages/bulk', {
      sessionId: 'main',
      body: { messages: [{ to: TO, type: 'text', text: 'ok' }, { to: 'nope', type: 'text', text: 'x' }] },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details.field).toBe('messages[1].to');

    const tooMany = Array.from({ length: 101 }, () => ({ to: TO, type: 'text', text: 'x' }));
    const oversized = await gw.call('POST', '/messages/bulk', { sessionId: 'main', body: { messages: tooMany } });
    expect(oversized.status).toBe(422);
    expect(oversized.body.error.details.field).toBe('messages');
    expect(socket.sent()).toHaveLength(2);
  });

  it('serialises concurrent sends of one session', async () => {
    const socket = await linkedSession();
    const [first, second] = await Promise.all([
      send({ to: '+15550000001', type: 'text', text: 'first' }),
      send({ to: '+15550000002', type: 'text', text: 'second' }),
    ]);
    expect([first.status, second.status]).toEqual([202, 202]);
    const firstSend = socket.calls.findIndex((call) => call.method === 'sendMessage');
    const secondComposing = socket.calls.findIndex(
      (call) => call.method === 'sendPresenceUpdate' && call.jid === '15550000002@s.whatsapp.net',
    );
    expect(secondComposing).toBeGreaterThan(firstSend);
  });
});

describe('contacts, typing and read receipts', () => {
  it('checks whether a number is on WhatsApp', async () => {
    const socket = await linkedSession();
    const found = await gw.call('GET', `/contacts/check/${encodeURIComponent(TO)}`, { sessionId: 'main' });
    expect(found).toEqual({ status: 200, body: { phone: TO, exists: true, jid: TO_JID } });

    socket.missing.add('15550009999@s.whatsapp.net');
    const missing = await gw.call('GET', '/contacts/check/+15550009999', { sessionId: 'main' });
    expect(missing.body).toEqual({ phone: '+15550009999', exists: false, jid: '15550009999@s.whatsapp.net' });

    const invalid = await gw.call('GET', '/contacts/check/12ab', { sessionId: 'main' });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details.field).toBe('phone');
  });

  it('sets typing state and marks messages read', async () => {
    const socket = await linkedSession();
    const typing = await gw.call('POST', '/messages/typing', { sessionId: 'main', body: { to: TO, state: 'composing' } });
    expect(typing.status).toBe(200);
    expect(socket.calls.at(-1)).toMatchObject({ method: 'sendPresenceUpdate', presence: 'composing', jid: TO_JID });

    const read = await gw.call('POST', '/messages/read', { sessionId: 'main', body: { from: TO, messageIds: ['A1', 'B2'] } });
    expect(read.status).toBe(200);
    expect(socket.calls.at(-1)).toMatchObject({
      method: 'readMessages',
      keys: [
        { remoteJid: TO_JID, id: 'A1', fromMe: false },
        { remoteJid: TO_JID, id: 'B2', fromMe: false },
      ],
    });

    const invalid = await gw.call('POST', '/messages/typing', { sessionId: 'main', body: { to: TO, state: 'dancing' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details.field).toBe('state');
  });
});

describe('logout, deletion and disconnects', () => {
  it('logs out: unlinks the device, deletes credentials, refuses sends, can link again', async () => {
    const socket = await linkedSession();
    const credsFile = path.join(socket.authDir, 'creds.json');
    fs.writeFileSync(credsFile, JSON.stringify({ me: { id: '15550001111:7@s.whatsapp.net' } }));

    const response = await gw.call('POST', '/auth/logout', { sessionId: 'main' });
    expect(response).toEqual({ status: 200, body: { sessionId: 'main', status: 'logged_out' } });
    expect(socket.calls.some((call) => call.method === 'logout')).toBe(true);
    expect(fs.existsSync(socket.authDir)).toBe(false);
    expect((await gw.call('GET', '/auth/status', { sessionId: 'main' })).body.status).toBe('logged_out');
    expect((await send({ to: TO, type: 'text', text: 'hi' })).status).toBe(409);
    await receiver.waitFor(() => receiver.ofType('connection').some((event) => event.data.status === 'logged_out'));

    // Linking again starts a fresh socket that shows a new QR.
    expect((await gw.call('POST', '/sessions', { body: { sessionId: 'main' } })).body.status).toBe('connecting');
    expect(gw.factory.count('main')).toBe(2);
  });

  it('deletes a session and its stored state', async () => {
    const socket = await linkedSession('acme');
    const deleted = await gw.call('DELETE', '/sessions/acme');
    expect(deleted).toEqual({ status: 200, body: { sessionId: 'acme', deleted: true } });
    expect(socket.calls.some((call) => call.method === 'logout')).toBe(true);
    expect(fs.existsSync(socket.authDir)).toBe(false);
    expect((await gw.call('GET', '/sessions')).body).toEqual([]);
    expect((await gw.call('DELETE', '/sessions/acme')).status).toBe(404);
  });

  it('reconnects with backoff after a dropped connection', async () => {
    const socket = await linkedSession();
    socket.close(428, 'Connection Closed');
    await waitForStatus('main', 'connecting');
    await waitUntil(() => gw.factory.count('main') === 2, 2000, 'a new socket');
    const status = await gw.call('GET', '/auth/status', { sessionId: 'main' });
    expect(status.body.lastDisconnect).toMatchObject({ statusCode: 428, reason: 'Connection Closed' });

    gw.factory.latest('main').open();
    await waitForStatus('main', 'connected');
    await receiver.waitFor(() => receiver.ofType('connection').length === 4);
    expect(receiver.ofType('connection').map((event) => event.data.status)).toEqual([
      'connecting',
      'connected',
      'connecting',
      'connected',
    ]);
    expect(receiver.ofType('connection')[2]?.data).toMatchObject({ statusCode: 428 });
  });

  it('restarts at once when WhatsApp asks for it after linking (515)', async () => {
    const socket = await linkedSession();
    socket.close(515, 'Stream Errored (restart required)');
    await waitUntil(() => gw.factory.count('main') === 2, 500, 'an immediate new socket');
  });

  it('stops on 403 and reports the number as banned', async () => {
    const socket = await linkedSession();
    socket.close(403);
    await waitForStatus('main', 'banned');
    await receiver.waitFor(() => receiver.ofType('restriction').length === 1);
    expect(receiver.ofType('restriction')[0]?.data).toEqual({
      kind: 'banned',
      statusCode: 403,
      reason: 'Connection Failure',
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(gw.factory.count('main')).toBe(1);
    expect((await send({ to: TO, type: 'text', text: 'hi' })).status).toBe(409);
  });

  it('reports rate limiting (429) and keeps reconnecting', async () => {
    const socket = await linkedSession();
    socket.close(429, 'rate-overlimit');
    await receiver.waitFor(() => receiver.ofType('restriction').length === 1);
    expect(receiver.ofType('restriction')[0]?.data).toMatchObject({ kind: 'rate_limited', statusCode: 429 });
    await waitUntil(() => gw.factory.count('main') === 2, 2000, 'a reconnect');
  });

  it('treats a logout from the phone (401) as logged out and deletes credentials', async () => {
    const socket = await linkedSession();
    fs.writeFileSync(path.join(socket.authDir, 'creds.json'), '{}');
    socket.close(401, 'Stream Errored (conflict)');
    await waitForStatus('main', 'logged_out');
    expect(fs.existsSync(socket.authDir)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(gw.factory.count('main')).toBe(1);
  });
});

describe('restart', () => {
  it('resumes linked sessions found on disk, and only those', async () => {
    const dataDir = tempDir();
    const linked = path.join(dataDir, 'sessions', 'acme');
    const unlinked = path.join(dataDir, 'sessions', 'fresh');
    fs.mkdirSync(linked, { recursive: true });
    fs.mkdirSync(unlinked, { recursive: true });
    fs.writeFileSync(path.join(linked, 'creds.json'), JSON.stringify({ me: { id: '15550001111:7@s.whatsapp.net' } }));
    fs.writeFileSync(path.join(unlinked, 'creds.json'), JSON.stringify({ registered: false }));

    const restarted = await startTestGateway({ DATA_DIR: dataDir });
    try {
      expect(restarted.factory.sockets.map((socket) => socket.sessionId)).toEqual(['acme']);
      restarted.factory.latest('acme').open();
      await waitUntil(() => restarted.gateway.sessions.get('acme')?.status === 'connected', 2000, 'resumed session');
    } finally {
      await restarted.close();
    }
  });
});
