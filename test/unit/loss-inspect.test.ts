import { describe, expect, it } from 'vitest';
import { inspectLosses, parseLossInspectJson } from '../../src-main/engine/losses/inspect';
import { LossInspectInputSchema } from '@shared/loss-inspect';
import { LOSS_NAMES } from '@shared/losses';
import { SyntheticConfigSchema } from '@shared/synthetic-config';

const WORKED = { logp_w: [-2.0], logp_l: [-3.0], ref_w: [-2.5], ref_l: [-2.8] };

function close(actual: number, expected: number, tol = 1e-5) {
  expect(Math.abs(actual - expected), `expected ${expected}, got ${actual}`).toBeLessThanOrEqual(tol);
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error('expected an error, got none');
}

describe('inspectLosses', () => {
  it('reproduces the worked values of losses.md (β = 1, clip = 0.5 by default)', () => {
    const out = inspectLosses(WORKED);
    expect(Object.keys(out)).toEqual([...LOSS_NAMES]);
    close(out.dpo.loss[0], 0.403186);
    close(out.dpo.grad_w[0], -0.331812);
    close(out.dpo.grad_l[0], 0.331812);
    close(out['nbdpo-asymm'].loss[0], 0.403186);
    close(out['nbdpo-asymm'].grad_w[0], -0.497718);
    close(out['nbdpo-asymm'].grad_l[0], 0.331812);
    // bDPO, λw = 0.6: softplus(−0.38), −0.6·σ(−0.38), 0.4·σ(−0.38)
    close(out.bdpo.loss[0], 0.5210896);
    close(out.bdpo.grad_w[0], -0.2436761);
    close(out.bdpo.grad_l[0], 0.1624508);
    close(out.hinge.loss[0], 0.3);
    close(out.ipo.loss[0], 0.04);
  });

  it('returns only the requested losses, honouring beta, clip and label_smoothing', () => {
    const out = inspectLosses({ ...WORKED, losses: ['cdpo', 'nbdpo2-symm'], label_smoothing: 0.1, clip: 0.2, beta: 2 });
    expect(Object.keys(out)).toEqual(['cdpo', 'nbdpo2-symm']);
    // cdpo, z = βh = 1.4: softplus(−1.4) + 0.1·1.4; ∂/∂lw = β(ε − σ(−1.4))
    const s = 1 / (1 + Math.exp(1.4));
    close(out.cdpo.loss[0], Math.log1p(Math.exp(-1.4)) + 0.14);
    close(out.cdpo.grad_w[0], 2 * (0.1 - s));
    // nbdpo2-symm, λ = 1.2 (gap 1 clipped to 0.2): z = 2(1.2·0.5 + 0.2) = 1.6; ∂/∂lw = −βλσ(−1.6)
    const s2 = 1 / (1 + Math.exp(1.6));
    close(out['nbdpo2-symm'].loss[0], Math.log1p(Math.exp(-1.6)));
    close(out['nbdpo2-symm'].grad_w[0], -2 * 1.2 * s2);
    close(out['nbdpo2-symm'].grad_l[0], 2 * s2);
  });

  it('handles several pairs, one entry per pair', () => {
    const out = inspectLosses({
      logp_w: [-2, -3],
      logp_l: [-3, -2],
      ref_w: [-2.5, -2.5],
      ref_l: [-2.8, -2.8],
      losses: ['nbdpo-symm'],
    });
    const r = out['nbdpo-symm'];
    expect(r.loss).toHaveLength(2);
    // pair 1: h = −0.5 − 0.8 = −1.3, gap −1 → λ = 2/3 (symmetric floor)
    const s = 1 / (1 + Math.exp(-1.3));
    close(r.loss[1], Math.log1p(Math.exp(1.3)));
    close(r.grad_w[1], (-2 / 3) * s);
    close(r.grad_l[1], s);
  });

  it('refuses bdpo where logp_w + logp_l = 0, with a message that says why', () => {
    const input = { logp_w: [-2, -1], logp_l: [-3, 1], ref_w: [-2, -1], ref_l: [-3, 1] };
    const msg = errorOf(() => inspectLosses(input));
    expect(msg).toMatch(/bdpo/);
    expect(msg).toMatch(/pair 1/);
    expect(msg).toMatch(/logp_w \+ logp_l = 0/);
    // the other losses are defined there
    expect(() => inspectLosses({ ...input, losses: ['dpo'] })).not.toThrow();
  });

  it('refuses non-finite results instead of printing them (float32 overflow)', () => {
    const msg = errorOf(() => inspectLosses({ logp_w: [-1e39], logp_l: [-1], ref_w: [-1], ref_l: [-1], losses: ['ipo'] }));
    expect(msg).toMatch(/ipo gave a non-finite loss .* pair 0/);
  });
});

describe('LossInspectInputSchema', () => {
  it('defaults β, clip and ε to the run config defaults, so loss --input and a default run compute the same losses', () => {
    const run = SyntheticConfigSchema.parse({});
    const v = LossInspectInputSchema.parse(WORKED);
    expect([v.beta, v.clip, v.label_smoothing]).toEqual([run.beta, run.clip, run.labelSmoothing]);
    expect(v.losses).toBeUndefined();
  });

  it('names the fields of a length mismatch', () => {
    const msg = errorOf(() => inspectLosses({ ...WORKED, ref_l: [-2.8, -1] }));
    expect(msg).toMatch(/ref_l: has 2 entries but logp_w has 1/);
  });

  it('names the offending field and entry', () => {
    expect(errorOf(() => parseLossInspectJson('{"logp_w":[-2,"x"],"logp_l":[-3,-1],"ref_w":[1,1],"ref_l":[1,1]}', 'pairs.json'))).toMatch(
      /^pairs\.json: .*logp_w\[1\]: must be a finite number/,
    );
    expect(errorOf(() => inspectLosses({ ...WORKED, logp_l: [] }))).toMatch(/logp_l: must have at least one entry/);
    expect(errorOf(() => inspectLosses({ ...WORKED, beta: 0 }))).toMatch(/beta: must be positive/);
    expect(errorOf(() => inspectLosses({ ...WORKED, label_smoothing: 0.5 }))).toMatch(/label_smoothing: must be in \[0, 0\.5\)/);
    const { ref_w: _omit, ...missing } = WORKED;
    expect(errorOf(() => inspectLosses(missing as typeof WORKED))).toMatch(/ref_w/);
    expect(errorOf(() => parseLossInspectJson(JSON.stringify({ ...WORKED, betta: 2 }), 'stdin'))).toMatch(/stdin: .*input: .*"betta"/);
  });

  it('lists the valid names for an unknown loss', () => {
    const msg = errorOf(() => parseLossInspectJson(JSON.stringify({ ...WORKED, losses: ['dpo', 'simpo'] }), 'in.json'));
    expect(msg).toMatch(
      /in\.json: .*losses\[1\]: unknown loss "simpo"; valid losses: dpo, nbdpo-asymm, nbdpo-symm, nbdpo2-asymm, nbdpo2-symm, bdpo, ipo, cdpo, hinge/,
    );
  });
});

describe('parseLossInspectJson', () => {
  it('reports a JSON syntax error with the source name', () => {
    expect(errorOf(() => parseLossInspectJson('{"logp_w": [1,', 'pairs.json'))).toMatch(/^pairs\.json: not valid JSON/);
    expect(errorOf(() => parseLossInspectJson('[]', '-'))).toMatch(/^-: invalid loss input/);
  });

  it('returns the validated input with defaults', () => {
    const v = parseLossInspectJson(JSON.stringify({ ...WORKED, losses: ['bdpo'] }), 'x');
    expect(v).toEqual(LossInspectInputSchema.parse({ ...WORKED, losses: ['bdpo'] }));
  });
});
