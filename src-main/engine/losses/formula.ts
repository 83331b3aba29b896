import * as tf from '../tf';
import { parseFormulaOrThrow, type Expr, type Formula, type FormulaVar } from '@shared/formula';
import type { CustomLossSpec } from '@shared/losses';
import { stopGradient } from './stopGradient';
import type { LossDefinition, LossHyper, LossInputs } from './types';

type Env = Record<FormulaVar, tf.Tensor | number>;

function lift(x: tf.Tensor | number): tf.Tensor {
  return typeof x === 'number' ? tf.scalar(x) : x;
}

function binary(op: string, a: tf.Tensor | number, b: tf.Tensor | number): tf.Tensor | number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (op === '+') return a + b;
    if (op === '-') return a - b;
    if (op === '*') return a * b;
    if (op === '/') return a / b;
    return Math.pow(a, b);
  }
  if (op === '+') return tf.add(a, b);
  if (op === '-') return tf.sub(a, b);
  if (op === '*') return tf.mul(a, b);
  if (op === '/') return tf.div(a, b);
  return b === 2 ? tf.square(lift(a)) : tf.pow(lift(a), b);
}

function call(fn: string, args: (tf.Tensor | number)[]): tf.Tensor | number {
  const [x, y, z] = args;
  switch (fn) {
    case 'log':
      return tf.log(lift(x));
    case 'exp':
      return tf.exp(lift(x));
    case 'sigmoid':
      return tf.sigmoid(lift(x));
    case 'logsigmoid':
      return tf.neg(tf.softplus(tf.neg(lift(x))));
    case 'softplus':
      return tf.softplus(lift(x));
    case 'abs':
      return tf.abs(lift(x));
    case 'min':
      return tf.minimum(x, y);
    case 'max':
      return tf.maximum(x, y);
    case 'clip':
      // min(max(x, lo), hi): lo and hi may be tensors; gradient reaches x for lo ≤ x ≤ hi, as clipByValue's
      return tf.minimum(tf.maximum(x, y), z);
    default:
      return typeof x === 'number' ? x : stopGradient(x);
  }
}

function compile(e: Expr, env: Env, named: Map<string, tf.Tensor | number>): tf.Tensor | number {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'var':
      return env[e.name];
    case 'ref':
      return named.get(e.name) as tf.Tensor | number;
    case 'neg': {
      const a = compile(e.arg, env, named);
      return typeof a === 'number' ? -a : tf.neg(a);
    }
    case 'bin':
      return binary(e.op, compile(e.left, env, named), compile(e.right, env, named));
    case 'call':
      return call(
        e.fn,
        e.args.map((a) => compile(a, env, named)),
      );
  }
}

/**
 * A parsed formula as tfjs ops over per-pair tensors (any shape, elementwise), with sg through
 * tf.customGrad. beta and clip stay plain numbers, so constant parts fold in JS and cost no ops.
 */
export function formulaPerPair(f: Formula, inputs: LossInputs, hyper: LossHyper): tf.Tensor {
  const env: Env = { logp_w: inputs.lw, logp_l: inputs.ll, ref_w: inputs.refW, ref_l: inputs.refL, beta: hyper.beta, clip: hyper.clip };
  const named = new Map<string, tf.Tensor | number>();
  for (const b of f.program.bindings) named.set(b.name, compile(b.expr, env, named));
  const out = compile(f.program.result, env, named);
  return typeof out === 'number' ? tf.fill(inputs.lw.shape, out) : tf.add(out, tf.zerosLike(inputs.lw));
}

/**
 * A custom loss as the trainers use it: the formula parsed once (a bad one throws its located message) and
 * compiled per call. Diagnostics (balance, rewards) come from autodiff through perPair, as for the built-ins.
 */
export function customLossDefinition(spec: CustomLossSpec): LossDefinition {
  const f = parseFormulaOrThrow(spec.formula);
  return {
    name: 'custom',
    label: spec.name,
    description: spec.formula,
    formula: spec.formula,
    perPair: (inputs, hyper) => formulaPerPair(f, inputs, hyper),
  };
}
