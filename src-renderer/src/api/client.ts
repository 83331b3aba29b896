/**
 * The renderer's one door to the lab: `window.lab` (Electron preload) when present, else HTTP + server-sent
 * events to web mode. Envelopes are unwrapped here; failures become a LabClientError carrying the code, the
 * message and the per-field issues (paths like "config.lr"), never a stack trace.
 */
import { z } from 'zod';
import { ref } from 'vue';
import type { CommandName, CommandInput, CommandOutputs, Envelope, ErrorCode, FieldIssue, LabApi, LabEvent } from '@shared/contract';
import type { LabBridge } from '@shared/bridge';

// Zod (used for the launcher's instant validation) must not probe `new Function` under our CSP.
z.config({ jitless: true });

/** The lab's error codes, plus 'network' for a lab that could not be reached. */
export type ClientErrorCode = ErrorCode | 'network';

export class LabClientError extends Error {
  readonly code: ClientErrorCode;
  readonly issues: FieldIssue[];
  readonly command: string;
  constructor(command: string, code: ClientErrorCode, message: string, issues: FieldIssue[] = []) {
    super(message);
    this.name = 'LabClientError';
    this.command = command;
    this.code = code;
    this.issues = issues;
  }
  /** Issues keyed by dotted path, e.g. { "config.lr": "lr must be positive" }. */
  byPath(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const i of this.issues) out[i.path] = out[i.path] ? `${out[i.path]}; ${i.message}` : i.message;
    return out;
  }
}

/** A message fit for the UI from anything thrown. */
export function errorText(err: unknown): string {
  if (err instanceof LabClientError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

function bridge(): LabBridge | null {
  const w = window as unknown as { lab?: LabBridge };
  return w.lab && typeof w.lab.onEvent === 'function' ? w.lab : null;
}

export const isElectron = (): boolean => bridge() !== null;

function unwrap<T>(command: string, env: Envelope<unknown> | undefined | null): T {
  if (!env || typeof env !== 'object' || !('ok' in env)) throw new LabClientError(command, 'internal', `${command}: malformed reply`);
  if (env.ok) return env.value as T;
  const e = env.error as { code?: string; message?: string; issues?: FieldIssue[] };
  return raise(command, (e.code as ClientErrorCode) ?? 'internal', e.message ?? 'unknown error', e.issues ?? []);
}

function raise(command: string, code: ClientErrorCode, message: string, issues: FieldIssue[] = []): never {
  throw new LabClientError(command, code, message, issues);
}

async function httpCall(command: string, input: unknown): Promise<Envelope<unknown>> {
  let res: Response;
  try {
    res = await fetch(`/api/${command}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input ?? {}),
      credentials: 'same-origin',
    });
  } catch (err) {
    return raise(command, 'network', `cannot reach the lab server (${(err as Error).message})`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return raise(command, res.status === 401 ? 'unauthorised' : 'internal', `${command}: HTTP ${res.status}`);
  }
  return body as Envelope<unknown>;
}

/** Calls one command by name; resolves to its output or throws LabClientError. */
export async function call<C extends CommandName>(command: C, input: CommandInput<C>): Promise<CommandOutputs[C]> {
  const b = bridge();
  const fn = b ? (b[command] as (i: unknown) => Promise<Envelope<unknown>>) : null;
  const env = fn ? await fn(input) : await httpCall(command, input);
  return unwrap<CommandOutputs[C]>(command, env);
}

/** Every command as a method: `await lab['runs:list']({})`. */
export const lab: LabApi = new Proxy({} as LabApi, {
  get: (_t, name: string | symbol) => (typeof name === 'string' && name !== 'then' ? (input: unknown) => call(name as CommandName, input as never) : undefined),
});

// ---- live events -------------------------------------------------------------------------------------------

type EventListener = (e: LabEvent) => void;
const listeners = new Set<EventListener>();
const reconnectListeners = new Set<() => void>();
let source: EventSource | null = null;
let bridgeOff: (() => void) | null = null;
let everOpened = false;

/**
 * Whether the lab answers the event stream: 'lost' while the browser retries a dropped connection (a stopped or
 * restarted `serve`), so the app can say so and hold live controls until it is back.
 */
export const connection = ref<'ok' | 'lost'>('ok');

function dispatch(e: LabEvent): void {
  for (const l of [...listeners]) {
    try {
      l(e);
    } catch (err) {
      console.error('event listener failed', err);
    }
  }
}

function ensureConnected(): void {
  const b = bridge();
  if (b) {
    bridgeOff ??= b.onEvent(dispatch);
    return;
  }
  if (source) return;
  source = new EventSource('/api/events', { withCredentials: true });
  source.onmessage = (m) => {
    try {
      dispatch(JSON.parse(m.data as string) as LabEvent);
    } catch {
      /* a malformed line is dropped, never fatal */
    }
  };
  source.onerror = () => {
    // EventSource retries by itself (every few seconds) while readyState is CONNECTING, e.g. after the server
    // dropped a tab that fell too far behind. An answer that is not an event stream (a restarting server's
    // error page) closes it for good: start a new one, and the reconnect listeners resync as usual.
    if (everOpened) connection.value = 'lost';
    if (source?.readyState === EventSource.CLOSED) {
      source = null;
      setTimeout(ensureConnected, 2000);
    }
  };
  source.onopen = () => {
    connection.value = 'ok';
    // After a dropped connection the views refetch what they may have missed.
    if (everOpened) for (const l of [...reconnectListeners]) l();
    everOpened = true;
  };
}

/** Subscribes to every live event (one shared connection); returns the unsubscribe function. */
export function onEvent(cb: EventListener): () => void {
  listeners.add(cb);
  ensureConnected();
  return () => listeners.delete(cb);
}

/** Called when the event stream reconnects after a drop (events in between were lost). */
export function onReconnect(cb: () => void): () => void {
  reconnectListeners.add(cb);
  return () => reconnectListeners.delete(cb);
}

/** Feeds an event to the listeners as if the lab had sent it (tests and the chart benchmark use this). */
export function injectEvent(e: LabEvent): void {
  dispatch(e);
}

// ---- files -------------------------------------------------------------------------------------------------

function downloadHref(filename: string, href: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** Saves text: the native save dialog in Electron, a browser download in web mode. */
export async function saveTextFile(filename: string, content: string, mime = 'text/csv;charset=utf-8'): Promise<boolean> {
  const b = bridge();
  if (b) {
    const r = await b.saveFile({ filename, content });
    if (r.error) throw new Error(r.error);
    return r.saved;
  }
  const url = URL.createObjectURL(new Blob([content], { type: mime }));
  try {
    downloadHref(filename, url);
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  return true;
}

/** Saves a data URL (a chart's PNG): the native save dialog in Electron, a browser download in web mode. */
export async function saveDataUrl(filename: string, dataUrl: string): Promise<void> {
  const [head, b64] = dataUrl.split(',', 2);
  const b = bridge();
  if (b) {
    const r = await b.saveFile({ filename, content: b64 ?? '', encoding: 'base64' });
    if (r.error) throw new Error(r.error);
    return;
  }
  const mime = /data:([^;]+)/.exec(head)?.[1] ?? 'application/octet-stream';
  const bytes = Uint8Array.from(atob(b64 ?? ''), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
  downloadHref(filename, url);
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
