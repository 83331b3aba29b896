import os from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '../../tf';
import type { LlmConfig } from '@shared/llm-config';
import type { TokenizedSequence } from '../sequence-batch';
import { C, PeerChannel, type PeerInit } from './channel';

/** Two threads when the run trains LoRA adapters (small gradients to exchange) and the machine has two cores. */
export function trainingThreads(c: LlmConfig, entry: string | undefined): 1 | 2 {
  if (!entry || c.finetune !== 'lora') return 1;
  if (c.threads === 1 || c.threads === 2) return c.threads;
  return os.availableParallelism() >= 2 ? 2 : 1;
}

/** The main thread's handle on the peer thread (see channel.ts). */
export class TrainingPeer {
  private gen = 0;
  private constructor(
    private readonly worker: Worker,
    readonly ch: PeerChannel,
  ) {}

  /** Starts the peer; it loads the model while the main thread goes on (e.g. with the reference pass). */
  static start(entry: string, o: { config: LlmConfig; backend: string; rejected: TokenizedSequence[]; padId: number; trainableSize: number }): TrainingPeer {
    const ch = PeerChannel.create(o.config.batchSize, o.trainableSize);
    const init: PeerInit = { role: 'llm-peer', config: o.config, backend: o.backend, rejected: o.rejected, padId: o.padId, ...ch.shared };
    const worker = new Worker(entry, { workerData: init });
    worker.on('error', (err) => ch.fail(err.message));
    worker.on('exit', (code) => {
      if (Atomics.load(ch.ctrl, C.state) !== -1 && code !== 0) ch.fail(`exited with code ${code}`);
    });
    return new TrainingPeer(worker, ch);
  }

  /** Blocks until the peer has its model (or throws its error). */
  waitReady(): void {
    this.ch.waitFor(C.state, 1, { what: 'the model to load' });
  }

  /**
   * Posts one micro-batch (pair indices, dropout seed, reference log-probs; the trainable weights when `params`)
   * and returns its generation.
   */
  post(idx: number[], dropoutSeed: number, refW: number[], refL: number[], params: tf.Variable[] | null): number {
    const ch = this.ch;
    const rows = idx.length;
    ch.idx.set(idx);
    ch.f64[0] = dropoutSeed;
    ch.column('refW', rows).set(refW);
    ch.column('refL', rows).set(refL);
    if (params) {
      let off = 0;
      for (const v of params) {
        ch.params.set(v.dataSync() as Float32Array, off);
        off += v.size;
      }
    }
    Atomics.store(ch.ctrl, C.freshParams, params ? 1 : 0);
    Atomics.store(ch.ctrl, C.rows, rows);
    Atomics.store(ch.ctrl, C.cmd, 1);
    this.gen++;
    ch.signal(C.gen, this.gen);
    return this.gen;
  }

  /** Inside the autodiff closure: publishes the chosen log-probs, returns the peer's rejected ones. */
  exchange(gen: number, lw: Float32Array | Float64Array): Float64Array {
    const rows = lw.length;
    this.ch.column('lw', rows).set(lw);
    this.ch.signal(C.lwReady, gen);
    this.ch.waitFor(C.llReady, gen, { what: 'the rejected log-probs' });
    return this.ch.column('ll', rows).slice();
  }

  /** The peer's gradient of the micro-batch, one tensor per trainable variable. */
  grads(gen: number, vars: tf.Variable[]): tf.Tensor[] {
    this.ch.waitFor(C.gradsReady, gen, { what: 'the gradients' });
    let off = 0;
    return vars.map((v) => {
      const t = tf.tensor(this.ch.grads.slice(off, off + v.size), v.shape, 'float32');
      off += v.size;
      return t;
    });
  }

  async stop(): Promise<void> {
    Atomics.store(this.ch.ctrl, C.cmd, 2);
    this.gen++;
    this.ch.signal(C.gen, this.gen);
    await this.worker.terminate();
  }
}
