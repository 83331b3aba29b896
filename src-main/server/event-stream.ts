import type http from 'node:http';
import type { LabEvent } from '@shared/events';

export interface EventStreamOptions {
  /**
   * Bytes one client may have waiting (ours plus what the socket buffers) before it is dropped. A suspended
   * laptop tab stops reading; without a bound its events pile up in server memory for as long as it sleeps.
   */
  maxQueuedBytes?: number;
  /** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
  heartbeatMs?: number;
}

export interface EventStreamStats {
  clients: number;
  /** Bytes now waiting for all clients together. */
  queuedBytes: number;
  /** The most bytes any one client has had waiting since the server started. */
  peakQueuedBytes: number;
  /** Clients dropped for falling too far behind. */
  dropped: number;
  /** Id of the last event sent (event ids count up from 1). */
  lastEventId: number;
}

export const DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024;
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** One connected browser: writes as fast as it reads, queues a bounded amount while it does not. */
class EventClient {
  private readonly pending: string[] = [];
  private pendingBytes = 0;
  private waitingForDrain = false;
  closed = false;

  constructor(
    private readonly res: http.ServerResponse,
    readonly only: number[] | undefined,
    private readonly limit: number,
    private readonly onDrop: (c: EventClient) => void,
  ) {}

  get queuedBytes(): number {
    return this.pendingBytes + this.res.writableLength;
  }

  send(text: string): void {
    if (this.closed) return;
    if (!this.waitingForDrain) {
      // write() buffers the text either way; false means the socket is full, so hold further text ourselves.
      if (!this.res.write(text)) {
        this.waitingForDrain = true;
        this.res.once('drain', () => this.flush());
      }
    } else {
      this.pending.push(text);
      this.pendingBytes += Buffer.byteLength(text);
    }
    if (this.queuedBytes > this.limit) this.onDrop(this);
  }

  private flush(): void {
    this.waitingForDrain = false;
    while (this.pending.length && !this.closed) {
      const text = this.pending.shift()!;
      this.pendingBytes -= Buffer.byteLength(text);
      if (!this.res.write(text)) {
        this.waitingForDrain = true;
        this.res.once('drain', () => this.flush());
        return;
      }
    }
  }

  /** Frees what is queued at once: a client that is not reading would never take it. */
  destroy(): void {
    this.closed = true;
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.res.destroy();
  }

  end(): void {
    this.closed = true;
    this.res.end();
  }
}

/**
 * Server-sent events to every connected browser from one subscription to the lab (200 tabs are 200 clients,
 * not 200 listeners). Each event carries an id; a client dropped for falling behind reconnects by itself
 * (EventSource does) and the views refetch what they missed from `afterStep`, so dropping loses nothing stored.
 */
export class EventStream {
  private readonly clients = new Set<EventClient>();
  private readonly limit: number;
  private readonly heartbeatMs: number;
  private off: (() => void) | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private nextId = 1;
  private peak = 0;
  private dropped = 0;

  constructor(
    private readonly subscribe: (listener: (e: LabEvent) => void) => () => void,
    opts: EventStreamOptions = {},
  ) {
    this.limit = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  /** Takes over a response: headers, the retry hint, then events until the client or the server goes. */
  attach(req: http.IncomingMessage, res: http.ServerResponse, only: number[] | undefined): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    const client = new EventClient(res, only?.length ? only : undefined, this.limit, (c) => this.drop(c));
    this.clients.add(client);
    client.send('retry: 2000\n\n');
    req.on('close', () => this.remove(client));
    res.on('close', () => this.remove(client));
    this.off ??= this.subscribe((e) => this.broadcast(e));
    this.heartbeat ??= setInterval(() => this.ping(), this.heartbeatMs).unref();
  }

  stats(): EventStreamStats {
    let queued = 0;
    for (const c of this.clients) queued += c.queuedBytes;
    return { clients: this.clients.size, queuedBytes: queued, peakQueuedBytes: this.peak, dropped: this.dropped, lastEventId: this.nextId - 1 };
  }

  /** Ends every stream (server closing). */
  close(): void {
    for (const c of [...this.clients]) {
      c.end();
      this.remove(c);
    }
  }

  private broadcast(e: LabEvent): void {
    if (!this.clients.size) return;
    const text = `id: ${this.nextId++}\ndata: ${JSON.stringify(e)}\n\n`;
    for (const c of [...this.clients]) {
      if (c.only && 'runId' in e && !c.only.includes(e.runId)) continue;
      c.send(text);
      this.notePeak(c);
    }
  }

  private ping(): void {
    for (const c of [...this.clients]) {
      c.send(': ping\n\n');
      this.notePeak(c);
    }
  }

  private notePeak(c: EventClient): void {
    if (!c.closed && c.queuedBytes > this.peak) this.peak = c.queuedBytes;
  }

  private drop(c: EventClient): void {
    if (c.closed) return;
    this.dropped++;
    c.destroy();
    this.remove(c);
  }

  private remove(c: EventClient): void {
    if (!this.clients.delete(c)) return;
    c.closed = true;
    if (this.clients.size) return;
    this.off?.();
    this.off = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
