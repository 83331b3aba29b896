import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { createLab, type Lab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { startWebServer, type WebServer } from '../../src-main/server/server';
import { tempDir } from './tmp';

const tmp = tempDir();
const LIMIT = 256 * 1024;
let lab: Lab;
let server: WebServer;

beforeAll(async () => {
  fs.writeFileSync(tmp.file('index.html'), '<!doctype html><title>DPO Lab</title>');
  lab = createLab({ dbFile: tmp.file('lab.db'), mode: 'web', launcher: childWorkerLauncher(), backend: 'cpu' });
  server = await startWebServer({ service: lab.service, staticDir: tmp.dir, port: 0, events: { maxQueuedBytes: LIMIT, heartbeatMs: 50 } });
});
afterAll(async () => {
  await server.close();
  lab.close();
  tmp.cleanup();
});

/** A raw event-stream connection: everything it has read so far, and whether the server closed it. */
async function openStream(): Promise<{ socket: net.Socket; text: () => string; closed: Promise<void>; waitFor: (s: string) => Promise<void> }> {
  const socket = net.connect(server.port, '127.0.0.1');
  let buf = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.write(`GET /api/events?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
  const waitFor = async (s: string) => {
    while (!buf.includes(s)) await new Promise<void>((r) => waiters.push(r));
  };
  await waitFor('retry: 2000');
  return { socket, text: () => buf, closed, waitFor };
}

const bigLog = (i: number) => ({ type: 'run:log' as const, runId: 1, ts: i, level: 'info' as const, text: 'x'.repeat(16 * 1024) });

describe('live events (server-sent events)', () => {
  it('numbers every event, and sends heartbeats on a quiet stream', async () => {
    const s = await openStream();
    lab.manager.publish({ type: 'run:status', runId: 42, status: 'queued' });
    await s.waitFor('"runId":42');
    expect(s.text()).toMatch(/id: \d+\ndata: \{"type":"run:status","runId":42/);
    await s.waitFor(': ping');
    s.socket.destroy();
    await s.closed;
  });

  it('bounds what a client that stops reading holds in server memory, and drops it; a reconnect gets events again', async () => {
    const before = server.eventStats().dropped;
    const s = await openStream();
    s.socket.pause(); // a suspended laptop tab
    let sent = 0;
    // Up to 200 MB of events: far more than the kernel's socket buffers can absorb.
    while (server.eventStats().dropped === before && sent < 12_800) {
      lab.manager.publish(bigLog(sent++));
      if (sent % 8 === 0) await tick();
    }
    const stats = server.eventStats();
    expect(stats.dropped).toBe(before + 1);
    // ours plus the socket's buffer never went past the bound by more than one event
    expect(stats.peakQueuedBytes).toBeLessThanOrEqual(LIMIT + 17 * 1024);
    expect(stats.queuedBytes).toBe(0);
    s.socket.resume();
    await s.closed;

    // EventSource reconnects by itself; the new stream works (the views refetch from afterStep meanwhile)
    const again = await openStream();
    lab.manager.publish({ type: 'run:status', runId: 43, status: 'running' });
    await again.waitFor('"runId":43');
    again.socket.destroy();
    await again.closed;
  });

  it('keeps a client that reads slowly but keeps up', async () => {
    const s = await openStream();
    const before = server.eventStats().dropped;
    for (let i = 0; i < 200; i++) {
      lab.manager.publish(bigLog(i));
      await tick();
      await tick();
    }
    lab.manager.publish({ type: 'run:status', runId: 44, status: 'done' });
    await s.waitFor('"runId":44');
    expect(server.eventStats().dropped).toBe(before);
    s.socket.destroy();
    await s.closed;
  });

  it('serves 200 clients from one subscription: no MaxListeners warning, each gets the event', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const streams = [];
      for (let i = 0; i < 200; i++) streams.push(await openStream());
      expect(server.eventStats().clients).toBe(200);
      lab.manager.publish({ type: 'run:status', runId: 45, status: 'done' });
      await Promise.all(streams.map((s) => s.waitFor('"runId":45')));
      for (const s of streams) s.socket.destroy();
      await Promise.all(streams.map((s) => s.closed));
      await tick();
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      // a closed tab leaves nothing behind
      while (server.eventStats().clients) await tick();
    } finally {
      process.off('warning', onWarning);
    }
  });
});
