/**
 * Two threads train one LoRA run: the main thread runs the chosen responses, a peer thread the rejected ones. A
 * DPO-family loss depends on a pair only through (logπ(y_w), logπ(y_l)), so its gradient is exactly
 * ∂L/∂lw·∇lw + ∂L/∂ll·∇ll: each thread backpropagates its own half with the other half's log-probs as constants,
 * and the sum of the two gradients is the one-thread gradient. The threads meet inside the autodiff closure, which
 * is synchronous, so they exchange numbers through shared memory with Atomics rather than messages.
 */
import type { TokenizedSequence } from '../sequence-batch';
import type { LlmConfig } from '@shared/llm-config';

/** What the peer thread is started with (worker_threads workerData). */
export interface PeerInit {
  role: 'llm-peer';
  config: LlmConfig;
  backend: string;
  /** the rejected sequences of the training pairs, by training index */
  rejected: TokenizedSequence[];
  padId: number;
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

/** Int32 control slots. A "generation" counts commands; each side answers a command by storing its number. */
export const C = {
  /** command generation, bumped by the main thread */
  gen: 0,
  /** command: 1 = one micro-batch, 2 = stop */
  cmd: 1,
  /** rows (pairs) in the micro-batch */
  rows: 2,
  /** 1 when the params buffer holds new weights to load first */
  freshParams: 3,
  /** generation whose rejected log-probs the peer has written */
  llReady: 4,
  /** generation whose chosen log-probs the main thread has written */
  lwReady: 5,
  /** generation whose gradients the peer has written */
  gradsReady: 6,
  /** 1 once the peer has loaded its model; -1 when it failed */
  state: 7,
} as const;
const CTRL_SLOTS = 8;

/** A stalled peer (crashed thread, deadlock) must not hang the run forever: no step of a local model takes this long. */
const WAIT_LIMIT_MS = 15 * 60_000;

export class PeerChannel {
  readonly ctrl: Int32Array;
  /** [0] dropout seed, then lw, ll, refW, refL (maxRows each) */
  readonly f64: Float64Array;
  readonly idx: Int32Array;
  readonly params: Float32Array;
  readonly grads: Float32Array;
  /** the peer's error message, once it has failed */
  readonly errorText: Uint8Array;

  constructor(
    readonly maxRows: number,
    private readonly buffers: { ctrl: SharedArrayBuffer; data: SharedArrayBuffer; params: SharedArrayBuffer; grads: SharedArrayBuffer },
  ) {
    this.ctrl = new Int32Array(buffers.ctrl, 0, CTRL_SLOTS);
    this.errorText = new Uint8Array(buffers.ctrl, CTRL_SLOTS * 4);
    this.f64 = new Float64Array(buffers.data, 0, 1 + 4 * maxRows);
    this.idx = new Int32Array(buffers.data, (1 + 4 * maxRows) * 8, maxRows);
    this.params = new Float32Array(buffers.params);
    this.grads = new Float32Array(buffers.grads);
  }

  static create(maxRows: number, trainableSize: number): PeerChannel {
    return new PeerChannel(maxRows, {
      ctrl: new SharedArrayBuffer(CTRL_SLOTS * 4 + 1024),
      data: new SharedArrayBuffer((1 + 4 * maxRows) * 8 + maxRows * 4),
      params: new SharedArrayBuffer(trainableSize * 4),
      grads: new SharedArrayBuffer(trainableSize * 4),
    });
  }

  static attach(init: Pick<PeerInit, 'ctrl' | 'data' | 'params' | 'grads'>, maxRows: number): PeerChannel {
    return new PeerChannel(maxRows, init);
  }

  get shared(): { ctrl: SharedArrayBuffer; data: SharedArrayBuffer; params: SharedArrayBuffer; grads: SharedArrayBuffer } {
    return this.buffers;
  }

  /** lw, ll, refW, refL views of the micro-batch */
  column(which: 'lw' | 'll' | 'refW' | 'refL', rows: number): Float64Array {
    const k = { lw: 0, ll: 1, refW: 2, refL: 3 }[which];
    return this.f64.subarray(1 + k * this.maxRows, 1 + k * this.maxRows + rows);
  }

  signal(slot: number, value: number): void {
    Atomics.store(this.ctrl, slot, value);
    Atomics.notify(this.ctrl, slot);
  }

  /** Blocks until ctrl[slot] === value (or, with `other`, differs from it), failing when the peer has failed. */
  waitFor(slot: number, value: number, opts: { other?: boolean; what: string; peerSide?: boolean }): number {
    const t0 = Date.now();
    for (;;) {
      const now = Atomics.load(this.ctrl, slot);
      if (opts.other ? now !== value : now === value) return now;
      if (!opts.peerSide && Atomics.load(this.ctrl, C.state) === -1) throw new Error(`the second training thread failed: ${this.peerError()}`);
      if (Date.now() - t0 > WAIT_LIMIT_MS)
        throw new Error(`the ${opts.peerSide ? 'main' : 'second'} training thread stopped answering (waiting for ${opts.what})`);
      Atomics.wait(this.ctrl, slot, now, 1000);
    }
  }

  fail(message: string): void {
    const bytes = new TextEncoder().encode(message.slice(0, 1000));
    this.errorText.fill(0);
    this.errorText.set(bytes.subarray(0, this.errorText.length - 1));
    this.signal(C.state, -1);
    // wake a main thread waiting on any slot
    for (const s of [C.llReady, C.gradsReady]) Atomics.notify(this.ctrl, s);
  }

  peerError(): string {
    const end = this.errorText.indexOf(0);
    return new TextDecoder().decode(this.errorText.subarray(0, end < 0 ? undefined : end)) || 'unknown error';
  }
}
