import fs from 'node:fs';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ACKED_FILE, EVENTS_FILE, EventQueue } from '../src/events/queue';
import type { EventPayload, GatewayEvent } from '../src/events/types';
import { createLogger } from '../src/logger';
import { SECRET, startTestGateway, tempDir, type TestGateway } from './helpers/gateway';
import { Receiver } from './helpers/receiver';
import { waitUntil } from './helpers/wait';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const FROM_JID = '15557654321@s.whatsapp.net';

let receiver: Receiver;
const queues: EventQueue[] = [];

beforeEach(async () => {
  receiver = new Receiver(SECRET);
  await receiver.start();
});

afterEach(async () => {
  await Promise.all(queues.splice(0).map((queue) => queue.close()));
  await receiver.stop();
});

function newQueue(dataDir: string, webhookUrl: string | null = receiver.url, compactAfterAcks = 500): EventQueue {
  const queue = new EventQueue({
    dataDir,
    webhookUrl,
    secret: SECRET,
    logger: createLogger('silent'),
    retryBaseMs: 20,
    retryMaxMs: 80,
    requestTimeoutMs: 2000,
    concurrency: 4,
    fsync: false,
    compactAfterAcks,
  });
  queues.push(queue);
  return queue;
}

const connection = (status: 'connected' | 'qr'): EventPayload => ({ type: 'connection', data: { status } });

function linesOf(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('events from WhatsApp to Greenline', () => {
  let gw: TestGateway;

  beforeEach(async () => {
    gw = await startTestGateway({ GREENLINE_WEBHOOK_URL: receiver.url });
    await gw.call('POST', '/sessions', { body: { sessionId: 'main' } });
    gw.factory.latest('main').open();
    await waitUntil(() => gw.gateway.sessions.get('main')?.status === 'connected');
  });

  afterEach(async () => {
    await gw.close();
  });

  it('posts incoming messages as signed `message` events', async () => {
    const socket = gw.factory.latest('main');
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        {
          key: { remoteJid: FROM_JID, fromMe: false, id: 'IN-1' },
          message: { extendedTextMessage: { text: 'Is this still available?', contextInfo: { stanzaId: 'OUT-1' } } },
          messageTimestamp: { toNumber: () => 1_764_115_200 },
          pushName: 'Ana',
        },
        {
          key: { remoteJid: FROM_JID, fromMe: false, id: 'IN-2' },
          message: {
            ephemeralMessage: {
              message: { imageMessage: { mimetype: 'image/jpeg', caption: 'this one', url: 'https://mmg.example/x' } },
            },
          },
          messageTimestamp: 1_764_115_260,
          pushName: 'Ana',
        },
        // Not for Greenline: our own echo, a group message, a status broadcast.
        { key: { remoteJid: FROM_JID, fromMe: true, id: 'OUT-2' }, message: { conversation: 'echo' } },
        { key: { remoteJid: '1203630@g.us', fromMe: false, id: 'G-1' }, message: { conversation: 'group' } },
        { key: { remoteJid: 'status@broadcast', fromMe: false, id: 'S-1' }, message: { conversation: 'story' } },
      ],
    });

    await receiver.waitFor(() => receiver.ofType('message').length === 2);
    const [text, image] = receiver.ofType('message');
    expect(text).toMatchObject({ sessionId: 'main', type: 'message' });
    expect(text?.id).toMatch(UUID_V4);
    expect(text?.timestamp).toEqual(expect.any(Number));
    expect(text?.data).toEqual({
      messageId: 'IN-1',
      from: '+15557654321',
      pushName: 'Ana',
      text: 'Is this still available?',
      replyTo: 'OUT-1',
      timestamp: 1_764_115_200,
    });
    expect(image?.data).toEqual({
      messageId: 'IN-2',
      from: '+15557654321',
      pushName: 'Ana',
      media: { type: 'image', mimetype: 'image/jpeg', url: 'https://mmg.example/x', caption: 'this one' },
      timestamp: 1_764_115_260,
    });
    expect(receiver.rejectedSignatures).toEqual([]);
  });

  it('posts status changes of sent messages as `receipt` events', async () => {
    const socket = gw.factory.latest('main');
    const key = (id: string) => ({ remoteJid: FROM_JID, fromMe: true, id });
    socket.emit('messages.update', [
      { key: key('OUT-1'), update: { status: 2 } },
      { key: key('OUT-1'), update: { status: 3 } },
      { key: key('OUT-1'), update: { status: 4 } },
      { key: key('OUT-2'), update: { status: 5 } },
      { key: key('OUT-3'), update: { status: 0, messageStubParameters: ['479'] } },
      // Ignored: pending, and a read receipt our other device sent for an incoming message.
      { key: key('OUT-4'), update: { status: 1 } },
      { key: { remoteJid: FROM_JID, fromMe: false, id: 'IN-1' }, update: { status: 4 } },
    ]);
    socket.emit('message-receipt.update', [
      { key: key('OUT-5'), receipt: { userJid: FROM_JID, receiptTimestamp: 1_764_115_300 } },
      { key: key('OUT-5'), receipt: { userJid: FROM_JID, readTimestamp: 1_764_115_400 } },
    ]);

    await receiver.waitFor(() => receiver.ofType('receipt').length === 7);
    const receipts = receiver.ofType('receipt').map((event) => event.data);
    const summary = receipts.map((receipt) => `${receipt.messageId}:${receipt.status}`).sort();
    expect(summary).toEqual(
      ['OUT-1:sent', 'OUT-1:delivered', 'OUT-1:read', 'OUT-2:read', 'OUT-3:failed', 'OUT-5:delivered', 'OUT-5:read'].sort(),
    );
    expect(receipts.every((receipt) => receipt.to === '+15557654321')).toBe(true);
    expect(receipts.find((receipt) => receipt.status === 'failed')?.error).toEqual({
      code: '479',
      message: expect.any(String),
    });
    expect(receipts.find((receipt) => receipt.messageId === 'OUT-5' && receipt.status === 'read')?.timestamp).toBe(
      1_764_115_400,
    );
    expect(receiver.rejectedSignatures).toEqual([]);
  });
});

describe('EventQueue delivery', () => {
  it('retries while Greenline answers 500 and delivers once it recovers', async () => {
    receiver.respondWith = 500;
    const queue = newQueue(tempDir());
    queue.start();
    queue.enqueue('main', connection('qr'));
    queue.enqueue('main', connection('connected'));
    await waitUntil(() => receiver.requests >= 3, 3000, 'retries');
    expect(queue.pendingCount).toBe(2);

    receiver.respondWith = 200;
    await receiver.waitFor((events) => events.length === 2, 3000);
    await waitUntil(() => queue.pendingCount === 0);
    expect(receiver.events.map((event) => event.data)).toEqual([{ status: 'qr' }, { status: 'connected' }]);
  });

  it('retries while Greenline is down (connection refused) and delivers once it is back', async () => {
    await receiver.stop();
    const queue = newQueue(tempDir());
    queue.start();
    const event = queue.enqueue('main', connection('connected'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(queue.pendingCount).toBe(1);

    await receiver.start(); // same port
    await receiver.waitFor((events) => events.length === 1, 3000);
    expect(receiver.events[0]?.id).toBe(event.id);
    await waitUntil(() => queue.pendingCount === 0);
  });

  it('does not let an event Greenline rejects hold up the others', async () => {
    const queue = newQueue(tempDir());
    receiver.decide = (event) => (event.data && 'status' in event.data && event.data.status === 'qr' ? 422 : 200);
    queue.start();
    queue.enqueue('main', connection('qr'));
    queue.enqueue('main', connection('connected'));
    await receiver.waitFor((events) => events.length === 1);
    expect(receiver.events[0]?.data).toEqual({ status: 'connected' });
    await waitUntil(() => queue.pendingCount === 1, 2000, 'the accepted event to be acknowledged');
  });

  it('persists events before posting and keeps them while no webhook is configured', () => {
    const dataDir = tempDir();
    const queue = newQueue(dataDir, null);
    queue.start();
    const event = queue.enqueue('main', connection('qr'));
    expect(queue.pendingCount).toBe(1);
    expect(linesOf(path.join(dataDir, EVENTS_FILE)).map((line) => (JSON.parse(line) as GatewayEvent).id)).toEqual([
      event.id,
    ]);
  });
});

describe('EventQueue across restarts', () => {
  it('delivers events a previous run left pending', async () => {
    const dataDir = tempDir();
    await receiver.stop();
    const first = newQueue(dataDir);
    first.start();
    const sent = ['a', 'b', 'c'].map((name) => first.enqueue(name, connection('connected')));
    await first.close();
    expect(linesOf(path.join(dataDir, EVENTS_FILE))).toHaveLength(3);

    await receiver.start();
    const second = newQueue(dataDir);
    second.open();
    expect(second.pendingCount).toBe(3);
    second.start();
    await receiver.waitFor((events) => events.length === 3, 3000);
    expect(receiver.events.map((event) => event.id).sort()).toEqual(sent.map((event) => event.id).sort());
    await waitUntil(() => second.pendingCount === 0);
    // Drained: the files are compacted.
    expect(linesOf(path.join(dataDir, EVENTS_FILE))).toEqual([]);
    expect(linesOf(path.join(dataDir, ACKED_FILE))).toEqual([]);
  });

  it('does not re-deliver events Greenline already acknowledged', async () => {
    const dataDir = tempDir();
    const first = newQueue(dataDir);
    receiver.decide = (event) => (event.sessionId === 'acked' ? 200 : 503);
    first.start();
    const acked = first.enqueue('acked', connection('connected'));
    const pending = first.enqueue('pending', connection('connected'));
    await receiver.waitFor((events) => events.length === 1);
    await waitUntil(() => first.pendingCount === 1);
    await first.close();
    expect(linesOf(path.join(dataDir, ACKED_FILE))).toEqual([acked.id]);

    receiver.events.length = 0;
    receiver.decide = null;
    const second = newQueue(dataDir);
    second.start();
    await receiver.waitFor((events) => events.length === 1, 3000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(receiver.events.map((event) => event.id)).toEqual([pending.id]);
  });

  it('skips a line torn by a crash and keeps the rest', () => {
    const dataDir = tempDir();
    const event = { id: 'e1', sessionId: 'main', type: 'connection', timestamp: 1, data: { status: 'qr' } };
    fs.writeFileSync(path.join(dataDir, EVENTS_FILE), `${JSON.stringify(event)}\n{"id":"e2","sessio`);
    const queue = newQueue(dataDir, null);
    queue.open();
    expect(queue.pendingCount).toBe(1);
    expect(linesOf(path.join(dataDir, EVENTS_FILE))).toEqual([JSON.stringify(event)]);
  });

  it('compacts the queue file after enough acknowledgements', async () => {
    const dataDir = tempDir();
    const queue = newQueue(dataDir, receiver.url, 3);
    receiver.decide = (event) => (event.sessionId === 'stuck' ? 503 : 200);
    queue.start();
    const stuck = queue.enqueue('stuck', connection('qr'));
    for (let index = 0; index < 3; index += 1) queue.enqueue('ok', connection('connected'));
    await receiver.waitFor((events) => events.length === 3, 3000);
    await waitUntil(() => linesOf(path.join(dataDir, EVENTS_FILE)).length === 1, 3000, 'compaction');
    expect(linesOf(path.join(dataDir, EVENTS_FILE))[0]).toContain(stuck.id);
    expect(linesOf(path.join(dataDir, ACKED_FILE))).toEqual([]);
  });
});
