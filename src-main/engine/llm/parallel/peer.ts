/**
 * The second training thread of a two-thread LoRA run (see channel.ts): loads the same model, then for each
 * micro-batch the main thread posts, computes the rejected responses' log-probs and their share of the gradient.
 */
import { initBackend } from '../../backend';
import { attachNativeGemm } from '../native-gemm';
import * as tf from '../../tf';
import { lossOfConfig } from '../../losses/registry';
import { loadCausalLM } from '../models';
import { sequenceLogps } from '../logps';
import { usesCheckpointing } from '../memory';
import { packSequences } from '../sequence-batch';
import { C, PeerChannel, type PeerInit } from './channel';
import { loadOptionsOf } from './load-options';

export async function runLlmPeer(init: PeerInit): Promise<void> {
  const c = init.config;
  const ch = PeerChannel.attach(init, c.batchSize);
  try {
    attachNativeGemm(await initBackend(init.backend as Parameters<typeof initBackend>[0]));
    const lm = await loadCausalLM(c.model, loadOptionsOf(c));
    const vars = lm.trainableVariables();
    // the same decision as the main thread's, from the same config and model
    const checkpoint = usesCheckpointing(c.gradientCheckpointing, lm.spec, {
      trainable: vars.reduce((n, v) => n + v.size, 0),
      batchSize: c.batchSize,
      maxLength: c.maxLength,
    });
    const lossDef = lossOfConfig(c);
    const hyper = { beta: c.beta, clip: c.clip, labelSmoothing: c.labelSmoothing };
    ch.signal(C.state, 1);
    let gen = 0;
    for (;;) {
      gen = ch.waitFor(C.gen, gen, { other: true, what: 'a command', peerSide: true });
      if (Atomics.load(ch.ctrl, C.cmd) === 2) break;
      const rows = Atomics.load(ch.ctrl, C.rows);
      if (Atomics.load(ch.ctrl, C.freshParams) === 1) {
        let off = 0;
        for (const v of vars) {
          v.assign(tf.tensor(ch.params.slice(off, off + v.size), v.shape, 'float32'));
          off += v.size;
        }
      }
      const idx = Array.from(ch.idx.subarray(0, rows));
      const batch = packSequences(
        idx.map((i) => init.rejected[i]),
        init.padId,
      );
      const refW = tf.tensor1d(Array.from(ch.column('refW', rows)));
      const refL = tf.tensor1d(Array.from(ch.column('refL', rows)));
      const g = gen;
      const { value, grads } = tf.variableGrads(() => {
        const ll = sequenceLogps(lm, batch, { training: true, adapters: true, dropoutSeed: ch.f64[0], checkpoint });
        ch.column('ll', rows).set(ll.dataSync());
        ch.signal(C.llReady, g);
        ch.waitFor(C.lwReady, g, { what: 'the chosen log-probs', peerSide: true });
        const lw = tf.tensor1d(Array.from(ch.column('lw', rows)));
        return tf.div(tf.mean(lossDef.perPair({ lw, ll, refW, refL }, hyper)), c.gradAccum) as tf.Scalar;
      }, vars);
      let off = 0;
      for (const v of vars) {
        const gr = grads[v.name];
        if (gr) ch.grads.set(gr.dataSync() as Float32Array, off);
        else ch.grads.fill(0, off, off + v.size);
        off += v.size;
      }
      tf.dispose([value, refW, refL, ...Object.values(grads)]);
      ch.signal(C.gradsReady, g);
    }
    lm.dispose();
  } catch (err) {
    ch.fail((err as Error).message ?? String(err));
  }
}
