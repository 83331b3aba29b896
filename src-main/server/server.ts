import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { LabService } from '../api/service';
import type { MetricsExport } from '../api/metrics-export';
import type { Envelope } from '@shared/contract';
import { CONTENT_SECURITY_POLICY } from '../api/csp';
import { EventStream, type EventStreamOptions, type EventStreamStats } from './event-stream';
import { HTTP_STATUS, type ErrorCode, type LabErrorBody } from '@shared/errors';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};
/**
 * Browsers do not separate cookies by port, so one name for every lab on 127.0.0.1 would leak the token to any
 * other local server and let two labs overwrite each other's login: the name carries the port (as Jupyter's does).
 */
const cookieName = (port: number) => `dpo_lab_token_${port}`;
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The Host header's name without its port ("[::1]:8765" → "[::1]"). */
function hostName(header: string | undefined): string {
  if (!header) return '';
  return header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.replace(/:\d+$/, '');
}
const MAX_BODY = 64 * 1024 * 1024;

export interface WebServerOptions {
  service: LabService;
  /** Folder holding the built renderer (out/renderer). */
  staticDir: string;
  host?: string;
  port?: number;
  /** Fixed token (tests); random otherwise. */
  token?: string;
  /** Bounds of the live event stream (tests make them small). */
  events?: EventStreamOptions;
}

export interface WebServer {
  url: string;
  token: string;
  port: number;
  /** The live event stream's clients and queued bytes (diagnostics, and the tests of its bounds). */
  eventStats(): EventStreamStats;
  /** Metrics exports being streamed right now (diagnostics, and the test that others are answered meanwhile). */
  openExports(): number;
  close(): Promise<void>;
}

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function cookieToken(req: http.IncomingMessage, name: string): string | undefined {
  const raw = req.headers.cookie ?? '';
  for (const part of raw.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return safeDecode(v.join('=')) ?? undefined;
  }
  return undefined;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** An error envelope with the status its code maps to (405 is the one status no code stands for). */
function sendError(res: http.ServerResponse, code: ErrorCode, message: string, status = HTTP_STATUS[code]): void {
  const error: LabErrorBody = { code, message };
  sendJson(res, status, { ok: false, error });
}

/** Resolves when the response can take more (or is gone: a client that left must not hold the export open). */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * A metrics export as the same JSON envelope a whole answer would be ({ ok, value: { filename, csv } }), written
 * page by page as the client takes it: the server neither builds a 30 MB string nor stops answering others
 * while it reads a 500k-row run. A failure after the first byte cuts the response, so the client sees an
 * error (a truncated body), never a shorter CSV that looks complete.
 */
async function streamExport(res: http.ServerResponse, opened: Envelope<MetricsExport>, open: { count: number }): Promise<void> {
  if (!opened.ok) {
    sendJson(res, HTTP_STATUS[opened.error.code], opened);
    return;
  }
  const { filename, chunks } = opened.value;
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  open.count++;
  try {
    res.write(`{"ok":true,"value":{"filename":${JSON.stringify(filename)},"csv":"`);
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      // the chunk's JSON string form, without its quotes: the pieces join into one JSON string
      if (!res.write(JSON.stringify(chunk).slice(1, -1))) await drained(res);
    }
    res.end('"}}');
  } catch (err) {
    res.destroy(err as Error);
  } finally {
    open.count--;
  }
}

class BodyTooLarge extends Error {}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new BodyTooLarge(`request body larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Web mode: the built renderer plus the API over HTTP, live events over server-sent events. Loopback by
 * default and guarded by a token given in the URL (as Jupyter does), then kept in an HttpOnly cookie.
 */
export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? crypto.randomBytes(24).toString('hex');
  const host = opts.host ?? '127.0.0.1';
  const staticRoot = path.resolve(opts.staticDir);
  const events = new EventStream((l) => opts.service.onEvent(l), opts.events);
  const streaming = { count: 0 };

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: Error) => {
      if (!res.headersSent) sendError(res, 'internal', err.message);
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // DNS rebinding: a page on evil.example re-resolved to 127.0.0.1 reaches us with its own name as Host.
    if (hostGuard && !hostGuard.has(hostName(req.headers.host))) {
      sendError(res, 'forbidden', `Host "${req.headers.host ?? ''}" refused: open the lab as http://127.0.0.1:${port}/ or http://localhost:${port}/`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const queryToken = url.searchParams.get('token') ?? undefined;
    const bearer = req.headers.authorization?.replace(/^Bearer\s+/i, '');
    const explicit = sameToken(queryToken, token) || sameToken(bearer, token);
    const viaCookie = !explicit && sameToken(cookieToken(req, cookieName(port)), token);
    const authorised = explicit || viaCookie;
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    if (!authorised) {
      if (url.pathname.startsWith('/api/')) {
        sendError(res, 'unauthorised', 'missing or wrong token; open the URL printed by `dpo-lab serve`');
      } else {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('401: DPO Lab needs the token from the URL printed by `dpo-lab serve` (…/?token=…).\n');
      }
      return;
    }
    if (sameToken(queryToken, token)) {
      res.setHeader('set-cookie', `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }

    if (url.pathname === '/api/events' && req.method === 'GET') {
      const only = url.searchParams.get('runs')?.split(',').map(Number).filter(Number.isFinite);
      events.attach(req, res, only);
      return;
    }

    if (url.pathname.startsWith('/api/')) {
      // The cookie rides along with any request from the same site, and every port of 127.0.0.1 is the same
      // site: a page served by another local server could post here. Only our own page may use the cookie.
      if (viaCookie && req.method === 'POST') {
        const origin = req.headers.origin;
        const json = (req.headers['content-type'] ?? '').startsWith('application/json');
        if ((origin !== undefined && origin !== `http://${req.headers.host}`) || !json) {
          sendError(res, 'forbidden', 'cross-origin or non-JSON request refused');
          return;
        }
      }
      if (req.method !== 'POST') {
        sendError(res, 'invalid_input', 'API commands are POST requests', 405);
        return;
      }
      const command = safeDecode(url.pathname.slice('/api/'.length));
      if (command === null) {
        sendError(res, 'invalid_input', 'malformed command name in the URL');
        return;
      }
      let input: unknown;
      try {
        const text = await readBody(req);
        input = text.trim() ? JSON.parse(text) : {};
      } catch (err) {
        sendError(res, err instanceof BodyTooLarge ? 'too_large' : 'invalid_input', `request body: ${(err as Error).message}`);
        return;
      }
      if (command === 'runs:exportCsv') {
        await streamExport(res, opts.service.openMetricsExport(input), streaming);
        return;
      }
      const result = await opts.service.invoke(command, input);
      const status = result.ok ? 200 : HTTP_STATUS[result.error.code];
      sendJson(res, status, result);
      return;
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const decoded = safeDecode(url.pathname);
    if (decoded === null) {
      res.writeHead(400).end();
      return;
    }
    let file = path.resolve(staticRoot, '.' + decoded);
    const rel = path.relative(staticRoot, file);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      res.writeHead(403).end();
      return;
    }
    if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(staticRoot, 'index.html');
    if (!fs.existsSync(file)) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The renderer is not built (${staticRoot} has no index.html). Run \`npm run build\` first.\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': file.endsWith('index.html') ? 'no-store' : 'max-age=3600',
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8765, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  // Bound to every interface, any name may be the lab's; otherwise only loopback names and the bound one.
  const hostGuard = host === '0.0.0.0' || host === '::' ? null : new Set([...LOOPBACK_NAMES, host, shownHost]);
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    port,
    eventStats: () => events.stats(),
    openExports: () => streaming.count,
    close: () =>
      new Promise<void>((resolve) => {
        events.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
