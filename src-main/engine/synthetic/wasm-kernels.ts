/**
 * Kernels the synthetic trainer adds to tfjs's WASM backend, each with a plain-tfjs twin used on every other
 * backend (and for shapes the kernel does not take):
 *
 *  - batchMatMul: batched small matrix products. tfjs-backend-wasm hands [R, M, K] × [R, K, N] with R > 1 to a
 *    scalar triple loop whose every multiply-add waits for the previous one (~1 GFLOP/s; only R = 1 reaches
 *    XNNPACK). The lab multiplies 90 tiny matrices (20 × 64 × 20) several times a step, so that loop was most
 *    of a sweep; the kernel here is 4 × 4-blocked SIMD, ~10× faster.
 *  - adamUpdate: Adam's five elementwise lines as one pass instead of thirteen ops per parameter.
 *  - rowSumSquares: Σ of squares (or of squared differences) per run over several tensors, one pass each.
 *  - splitRows: tf.split along axis 0 without the backend's Slice, which first copies the WHOLE input out of the
 *    heap for every piece.
 *
 * The first three are WebAssembly SIMD functions assembled here at load time (a few hundred bytes; no
 * toolchain) that import the backend's own memory and work on tensors in place, registered as tfjs kernels.
 * Numbers: each kernel computes every run's values in a fixed order that does not depend on how many runs
 * share the tensor (a run alone and inside a batch stay bit-identical). adamUpdate performs the same float32
 * operations in the same order as its tfjs twin, so both give the same bits; batchMatMul and rowSumSquares
 * sum in a different order than tfjs (differences at float32 rounding).
 */
import * as tf from '../tf';

// ---- a tiny WebAssembly emitter -------------------------------------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const str = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const simd = (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm];

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const MEM = [2, 0]; // memarg: align 2^2, offset 0
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  remU: [0x70],
  ltS: [0x48],
  gtS: [0x4a],
  geS: [0x4e],
  ne: [0x47],
  select: [0x1b],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  f32Load: [0x2a, ...MEM],
  f32Store: [0x38, ...MEM],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  load: simd(0x00, ...MEM),
  load32Splat: simd(0x09, ...MEM),
  store: simd(0x0b, ...MEM),
  zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  splat: simd(0x13),
  lane: (i: number) => simd(0x1f, i),
  vAdd: simd(0xe4),
  vSub: simd(0xe5),
  vMul: simd(0xe6),
  vDiv: simd(0xe7),
  vSqrt: simd(0xe3),
};

/** (x < y ? x : y) for the i32 values the two fragments push. */
const minI32 = (x: number[], y: number[]) => [...x, ...y, ...x, ...y, ...op.ltS, ...op.select];

/** A function of the module: its parameter and local types, and a body builder given local indices. */
interface WasmFunction {
  name: string;
  params: number[];
  locals: number[];
  body: number[];
}

/** A function builder: named parameters and locals, code appended with emit(). */
class Fn {
  private readonly types: number[] = [];
  private readonly index = new Map<string, number>();
  private readonly nParams: number;
  readonly code: number[] = [];

  constructor(
    readonly name: string,
    params: [string, number][],
    locals: [string, number][],
  ) {
    for (const [n, t] of [...params, ...locals]) {
      this.index.set(n, this.types.length);
      this.types.push(t);
    }
    this.nParams = params.length;
  }

  get = (n: string) => op.get(this.at(n));
  set = (n: string) => op.set(this.at(n));
  private at(n: string): number {
    const i = this.index.get(n);
    if (i === undefined) throw new Error(`wasm emitter: no local ${n}`);
    return i;
  }
  emit(...parts: number[][]): void {
    for (const p of parts) this.code.push(...p);
  }
  done(): WasmFunction {
    return { name: this.name, params: this.types.slice(0, this.nParams), locals: this.types.slice(this.nParams), body: [...this.code, ...op.end] };
  }
}

/**
 * bmm(a, b, out, scratch, batch, aBatch, bBatch, M, K, N, sab, sai, sak, sbb, sbk, sbj):
 * out[bi, i, j] = Σ_k A(bi mod aBatch, i, k) · B(bi mod bBatch, k, j), with A(x, i, k) at a + x·sab + i·sai + k·sak
 * and B(x, k, j) at b + x·sbb + k·sbk + j·sbj (pointers and strides in bytes); out is contiguous [batch, M, N].
 * Needs batch, M, K ≥ 1 and N ≥ 4. When B's columns are not contiguous (sbj ≠ 4) each B is first copied into
 * `scratch` (K·N floats). Rows go in blocks of 4 and columns in vectors of 4; the last block of each is clamped
 * to end at the matrix edge (a few elements are computed twice, identically), so any M and N ≥ 4 work.
 */
function bmmFunction(): WasmFunction {
  const p = ['a', 'b', 'out', 'scratch', 'batch', 'aBatch', 'bBatch', 'M', 'K', 'N', 'sab', 'sai', 'sak', 'sbb', 'sbk', 'sbj'];
  const l = ['bi', 'A0', 'Bp', 'bstride', 'O', 'i0', 'a0', 'a1', 'a2', 'a3', 'o0', 'o1', 'o2', 'o3', 'j0', 'jj', 'k', 'ak', 'bk', 'pk', 'pj'];
  const f = new Fn(
    'bmm',
    p.map((n) => [n, I32]),
    [...l.map((n): [string, number] => [n, I32]), ['acc0', V128], ['acc1', V128], ['acc2', V128], ['acc3', V128], ['bv', V128]],
  );
  const { get: g, set: s } = f;
  const c = op.i32;
  f.emit(c(0), s('bi'), g('out'), s('O'));
  f.emit(op.loop); // batch
  f.emit(g('a'), g('bi'), g('aBatch'), op.remU, g('sab'), op.mul, op.add, s('A0'));
  f.emit(g('b'), g('bi'), g('bBatch'), op.remU, g('sbb'), op.mul, op.add, s('Bp'));
  f.emit(g('sbk'), s('bstride'));
  // B's columns not contiguous: copy it into scratch as [K, N]
  f.emit(g('sbj'), c(4), op.ne, op.if);
  f.emit(c(0), s('pk'), op.loop, c(0), s('pj'), op.loop);
  f.emit(g('scratch'), g('pk'), g('N'), op.mul, g('pj'), op.add, c(4), op.mul, op.add);
  f.emit(g('Bp'), g('pk'), g('sbk'), op.mul, op.add, g('pj'), g('sbj'), op.mul, op.add, op.f32Load, op.f32Store);
  f.emit(g('pj'), c(1), op.add, s('pj'), g('pj'), g('N'), op.ltS, op.brIf(0), op.end);
  f.emit(g('pk'), c(1), op.add, s('pk'), g('pk'), g('K'), op.ltS, op.brIf(0), op.end);
  f.emit(g('scratch'), s('Bp'), g('N'), c(4), op.mul, s('bstride'));
  f.emit(op.end);

  f.emit(c(0), s('i0'), op.loop); // row blocks
  for (let q = 0; q < 4; q++) {
    // row q of the block: r = min(i0 + q, M − 1); a_q = A0 + r·sai; o_q = O + r·N·4
    const r = minI32([...g('i0'), ...c(q), ...op.add], [...g('M'), ...c(1), ...op.sub]);
    f.emit(g('A0'), r, g('sai'), op.mul, op.add, s(`a${q}`));
    f.emit(g('O'), r, g('N'), op.mul, c(4), op.mul, op.add, s(`o${q}`));
  }
  f.emit(c(0), s('j0'), op.loop); // column vectors
  f.emit(minI32(g('j0'), [...g('N'), ...c(4), ...op.sub]), c(4), op.mul, s('jj')); // jj = min(j0, N − 4)·4
  for (let q = 0; q < 4; q++) f.emit(op.zero, s(`acc${q}`));
  f.emit(c(0), s('k'), c(0), s('ak'), g('Bp'), g('jj'), op.add, s('bk'));
  f.emit(op.loop); // k
  f.emit(g('bk'), op.load, s('bv'));
  for (let q = 0; q < 4; q++) f.emit(g(`acc${q}`), g(`a${q}`), g('ak'), op.add, op.load32Splat, g('bv'), op.vMul, op.vAdd, s(`acc${q}`));
  f.emit(g('ak'), g('sak'), op.add, s('ak'), g('bk'), g('bstride'), op.add, s('bk'));
  f.emit(g('k'), c(1), op.add, s('k'), g('k'), g('K'), op.ltS, op.brIf(0), op.end);
  for (let q = 0; q < 4; q++) f.emit(g(`o${q}`), g('jj'), op.add, g(`acc${q}`), op.store);
  f.emit(g('j0'), c(4), op.add, s('j0'), g('j0'), g('N'), op.ltS, op.brIf(0), op.end);
  f.emit(g('i0'), c(4), op.add, s('i0'), g('i0'), g('M'), op.ltS, op.brIf(0), op.end);

  f.emit(g('O'), g('M'), g('N'), op.mul, c(4), op.mul, op.add, s('O'));
  f.emit(g('bi'), c(1), op.add, s('bi'), g('bi'), g('batch'), op.ltS, op.brIf(0), op.end);
  return f.done();
}

/**
 * adam(p, m, v, g, lr, pOut, mOut, vOut, R, n, c2, b1, omb1, b2, omb2, eps), per run r (lr[r] already ×c1):
 * m' = m·b1 + g·omb1; v' = v·b2 + (g·g)·omb2; p' = p − (m'·lr) / (√v'·c2 + eps), elementwise over the run's n
 * values (n ≥ 4; the last vector is clamped to end at the run's edge, recomputing a few elements identically).
 */
function adamFunction(): WasmFunction {
  const ptrs = ['p', 'm', 'v', 'g', 'lr', 'pOut', 'mOut', 'vOut', 'R', 'n'];
  const consts = ['c2', 'b1', 'omb1', 'b2', 'omb2', 'eps'];
  const f = new Fn(
    'adam',
    [...ptrs.map((n): [string, number] => [n, I32]), ...consts.map((n): [string, number] => [n, F32])],
    [['r', I32], ['row', I32], ['i', I32], ['ii', I32], ...['lrv', 'gv', 'mv', 'vv', ...consts.map((n) => `${n}V`)].map((n): [string, number] => [n, V128])],
  );
  const { get: g, set: s } = f;
  const c = op.i32;
  for (const k of consts) f.emit(g(k), op.splat, s(`${k}V`));
  f.emit(c(0), s('r'), c(0), s('row'), op.loop);
  f.emit(g('lr'), g('r'), c(4), op.mul, op.add, op.load32Splat, s('lrv'));
  f.emit(c(0), s('i'), op.loop);
  f.emit(g('row'), minI32(g('i'), [...g('n'), ...c(4), ...op.sub]), c(4), op.mul, op.add, s('ii'));
  const at = (ptr: string) => [...g(ptr), ...g('ii'), ...op.add];
  f.emit(at('g'), op.load, s('gv'));
  f.emit(at('m'), op.load, g('b1V'), op.vMul, g('gv'), g('omb1V'), op.vMul, op.vAdd, s('mv'));
  f.emit(at('v'), op.load, g('b2V'), op.vMul, g('gv'), g('gv'), op.vMul, g('omb2V'), op.vMul, op.vAdd, s('vv'));
  f.emit(at('mOut'), g('mv'), op.store, at('vOut'), g('vv'), op.store);
  f.emit(at('pOut'), at('p'), op.load, g('mv'), g('lrv'), op.vMul, g('vv'), op.vSqrt, g('c2V'), op.vMul, g('epsV'), op.vAdd, op.vDiv, op.vSub, op.store);
  f.emit(g('i'), c(4), op.add, s('i'), g('i'), g('n'), op.ltS, op.brIf(0), op.end);
  f.emit(g('row'), g('n'), c(4), op.mul, op.add, s('row'));
  f.emit(g('r'), c(1), op.add, s('r'), g('r'), g('R'), op.ltS, op.brIf(0), op.end);
  return f.done();
}

/**
 * sumsq(x, y, out, R, n, useY, accumulate): out[r] = (accumulate ? out[r] : 0) + Σ_i (x[r, i] − y[r, i])²
 * (y ignored when useY = 0). Four lanes accumulate vectors of 4, then ((l0 + l1) + (l2 + l3)), then the tail.
 */
function sumsqFunction(): WasmFunction {
  const f = new Fn(
    'sumsq',
    ['x', 'y', 'out', 'R', 'n', 'useY', 'accumulate'].map((n): [string, number] => [n, I32]),
    [
      ['r', I32],
      ['row', I32],
      ['i', I32],
      ['s', F32],
      ['e', F32],
      ['acc', V128],
      ['d', V128],
    ],
  );
  const { get: g, set: s } = f;
  const c = op.i32;
  const at = (ptr: string) => [...g(ptr), ...g('row'), ...op.add, ...g('i'), ...c(4), ...op.mul, ...op.add];
  f.emit(c(0), s('r'), c(0), s('row'), op.loop);
  f.emit(op.zero, s('acc'), c(0), s('i'));
  f.emit(op.block, op.loop, g('i'), c(4), op.add, g('n'), op.gtS, op.brIf(1));
  f.emit(at('x'), op.load, s('d'));
  f.emit(g('useY'), op.if, g('d'), at('y'), op.load, op.vSub, s('d'), op.end);
  f.emit(g('acc'), g('d'), g('d'), op.vMul, op.vAdd, s('acc'));
  f.emit(g('i'), c(4), op.add, s('i'), op.br(0), op.end, op.end);
  f.emit(g('acc'), op.lane(0), g('acc'), op.lane(1), op.f32Add, g('acc'), op.lane(2), g('acc'), op.lane(3), op.f32Add, op.f32Add, s('s'));
  f.emit(op.block, op.loop, g('i'), g('n'), op.geS, op.brIf(1));
  f.emit(at('x'), op.f32Load, s('e'));
  f.emit(g('useY'), op.if, g('e'), at('y'), op.f32Load, op.f32Sub, s('e'), op.end);
  f.emit(g('s'), g('e'), g('e'), op.f32Mul, op.f32Add, s('s'));
  f.emit(g('i'), c(1), op.add, s('i'), op.br(0), op.end, op.end);
  f.emit(g('accumulate'), op.if, g('out'), g('r'), c(4), op.mul, op.add, op.f32Load, g('s'), op.f32Add, s('s'), op.end);
  f.emit(g('out'), g('r'), c(4), op.mul, op.add, g('s'), op.f32Store);
  f.emit(g('row'), g('n'), c(4), op.mul, op.add, s('row'));
  f.emit(g('r'), c(1), op.add, s('r'), g('r'), g('R'), op.ltS, op.brIf(0), op.end);
  return f.done();
}

function moduleBytes(fns: WasmFunction[]): Uint8Array {
  const type = section(1, vec(fns.map((fn) => [0x60, ...vec(fn.params.map((t) => [t])), ...vec([])])));
  // (import "env" "memory" (memory 1)): no maximum, so any memory of at least one page matches
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, ...uleb(1)]]));
  const funcs = section(3, vec(fns.map((_, i) => uleb(i))));
  const exports = section(7, vec(fns.map((fn, i) => [...str(fn.name), 0x00, ...uleb(i)])));
  const bodies = fns.map((fn) => {
    const groups: number[][] = [];
    for (const t of fn.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...vec(groups.map(([n, t]) => [...uleb(n), t])), ...fn.body];
    return [...uleb(body.length), ...body];
  });
  const code = section(10, vec(bodies));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imports, ...funcs, ...exports, ...code]);
}

// ---- the kernels ------------------------------------------------------------------------------------------

type WasmFn = (...args: number[]) => void;

interface WasmBackendLike {
  wasm: { asm: { memory: WebAssembly.Memory }; _malloc(n: number): number; _free(p: number): void };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

interface Instance {
  bmm: WasmFn;
  adam: WasmFn;
  sumsq: WasmFn;
  scratch: number;
  scratchBytes: number;
}

let compiled: WebAssembly.Module | null = null;
const instances = new WeakMap<object, Instance>();
let unavailable = false;

function instanceFor(backend: WasmBackendLike): Instance {
  let inst = instances.get(backend);
  if (!inst) {
    compiled ??= new WebAssembly.Module(moduleBytes([bmmFunction(), adamFunction(), sumsqFunction()]) as BufferSource);
    const exports = new WebAssembly.Instance(compiled, { env: { memory: backend.wasm.asm.memory } }).exports as unknown as Instance;
    inst = { bmm: exports.bmm, adam: exports.adam, sumsq: exports.sumsq, scratch: 0, scratchBytes: 0 };
    instances.set(backend, inst);
  }
  return inst;
}

const ptr = (be: WasmBackendLike, t: tf.TensorInfo) => be.dataIdMap.get(t.dataId)!.memoryOffset;

export const KERNELS = {
  batchMatMul: 'DpoLabBatchMatMul',
  adam: 'DpoLabAdam',
  rowSumSquares: 'DpoLabRowSumSquares',
  splitRows: 'DpoLabSplitRows',
} as const;

interface BmmAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Output dims and byte strides of a·b (batch from the larger operand; the other repeats). */
function bmmLayout(aShape: readonly number[], bShape: readonly number[], { transposeA, transposeB }: BmmAttrs) {
  const [ab, a1, a2] = aShape;
  const [bb, b1, b2] = bShape;
  return {
    batch: Math.max(ab, bb),
    aBatch: ab,
    bBatch: bb,
    M: transposeA ? a2 : a1,
    K: transposeA ? a1 : a2,
    N: transposeB ? b1 : b2,
    sab: a1 * a2 * 4,
    sai: (transposeA ? 1 : a2) * 4,
    sak: (transposeA ? a2 : 1) * 4,
    sbb: b1 * b2 * 4,
    sbk: (transposeB ? 1 : b2) * 4,
    sbj: (transposeB ? b2 : 1) * 4,
  };
}

type KernelFunc = (args: {
  inputs: Record<string, tf.TensorInfo>;
  attrs: Record<string, unknown>;
  backend: WasmBackendLike;
}) => tf.TensorInfo | tf.TensorInfo[];

const KERNEL_FUNCS: Record<(typeof KERNELS)[keyof typeof KERNELS], KernelFunc> = {
  [KERNELS.batchMatMul]: ({ inputs: { a, b }, attrs, backend: be }) => {
    const l = bmmLayout(a.shape, b.shape, attrs as unknown as BmmAttrs);
    const inst = instanceFor(be);
    if (l.sbj !== 4 && inst.scratchBytes < l.K * l.N * 4) {
      if (inst.scratch) be.wasm._free(inst.scratch);
      inst.scratchBytes = l.K * l.N * 4;
      inst.scratch = be.wasm._malloc(inst.scratchBytes);
    }
    const out = be.makeOutput([l.batch, l.M, l.N], 'float32');
    inst.bmm(ptr(be, a), ptr(be, b), ptr(be, out), inst.scratch, l.batch, l.aBatch, l.bBatch, l.M, l.K, l.N, l.sab, l.sai, l.sak, l.sbb, l.sbk, l.sbj);
    return out;
  },
  [KERNELS.adam]: ({ inputs: { p, m, v, g, lr }, attrs, backend: be }) => {
    const a = attrs as unknown as { c2: number; b1: number; b2: number; eps: number };
    const R = p.shape[0];
    const outs = [p, m, v].map((t) => be.makeOutput([...t.shape], 'float32'));
    instanceFor(be).adam(
      ptr(be, p),
      ptr(be, m),
      ptr(be, v),
      ptr(be, g),
      ptr(be, lr),
      ...outs.map((o) => ptr(be, o)),
      R,
      sizeOf(p.shape) / R,
      a.c2,
      a.b1,
      1 - a.b1,
      a.b2,
      1 - a.b2,
      a.eps,
    );
    return outs;
  },
  [KERNELS.rowSumSquares]: ({ inputs, attrs, backend: be }) => {
    const count = (attrs as { count: number }).count;
    const R = inputs.x0.shape[0];
    const out = be.makeOutput([R], 'float32');
    const inst = instanceFor(be);
    for (let k = 0; k < count; k++) {
      const x = inputs[`x${k}`];
      const y = inputs[`y${k}`];
      inst.sumsq(ptr(be, x), y ? ptr(be, y) : 0, ptr(be, out), R, sizeOf(x.shape) / R, y ? 1 : 0, k > 0 ? 1 : 0);
    }
    return out;
  },
  [KERNELS.splitRows]: ({ inputs: { x }, attrs, backend: be }) => {
    const sizes = (attrs as { sizes: number[] }).sizes;
    const inner = sizeOf(x.shape.slice(1));
    let row = 0;
    return sizes.map((n) => {
      const out = be.makeOutput([n, ...x.shape.slice(1)], 'float32');
      // views after the allocation: it may have grown (and so replaced) the heap's buffer
      be.typedArrayFromHeap(out).set(be.typedArrayFromHeap(x).subarray(row * inner, (row + n) * inner));
      row += n;
      return out;
    });
  },
};

const sizeOf = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** True where the kernels can be used: the WASM backend is active and the JS engine has WASM SIMD. */
let registered = false;

export function wasmKernels(): boolean {
  if (unavailable || tf.getBackend() !== 'wasm') return false;
  try {
    instanceFor(tf.backend() as unknown as WasmBackendLike);
    if (!registered) {
      for (const [name, kernelFunc] of Object.entries(KERNEL_FUNCS)) {
        if (!tf.getKernel(name, 'wasm')) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
      }
      registered = true;
    }
    return true;
  } catch {
    unavailable = true; // no WASM SIMD in this engine, or a backend without the expected internals
    return false;
  }
}

const run = <T>(name: string, inputs: Record<string, tf.Tensor>, attrs: object) =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as unknown as T;

// ---- the ops ------------------------------------------------------------------------------------------------

/** Whether batchMatMul takes the lab's WASM kernel for products with N output columns (it needs N ≥ 4). */
export function batchMatMulUsesWasmKernel(N: number): boolean {
  return N >= 4 && wasmKernels();
}

/**
 * Batched a·b for rank-3 tensors ([batch, M, K]·[batch, K, N], transposes as tf.matMul); one operand may have
 * a batch that divides the other's (it repeats: operand index = output batch index mod its batch).
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transposeA = false, transposeB = false): tf.Tensor3D {
  const attrs = { transposeA, transposeB };
  const l = bmmLayout(a.shape, b.shape, attrs);
  if (batchMatMulUsesWasmKernel(l.N)) return run(KERNELS.batchMatMul, { a, b }, attrs);
  if (a.shape[0] === b.shape[0]) return tf.matMul(a, b, transposeA, transposeB);
  // repeat the smaller batch (tf.matMul broadcasts only a batch of 1)
  const tile = (t: tf.Tensor3D) => (t.shape[0] === l.batch ? t : tf.tile(t, [l.batch / t.shape[0], 1, 1]));
  return tf.matMul(tile(a), tile(b), transposeA, transposeB);
}

/**
 * One Adam update of a parameter [R, ...] (PyTorch's form, see step.ts adamStep): returns the new parameter and
 * moments. `lr` holds each run's learning rate already multiplied by c1 = 1/(1−β1^t); c2 = 1/√(1−β2^t).
 */
export function adamUpdate(
  p: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  lr: { perRun: tf.Tensor1D; same: number | null },
  c: { c2: number; beta1: number; beta2: number; eps: number },
): { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  if (p.size / p.shape[0] >= 4 && wasmKernels()) {
    const [np, nm, nv] = run<tf.Tensor[]>(KERNELS.adam, { p, m, v, g, lr: lr.perRun }, { c2: c.c2, b1: c.beta1, b2: c.beta2, eps: c.eps });
    return { p: np, m: nm, v: nv };
  }
  const lrT = lr.same ?? lr.perRun.reshape([-1, ...new Array<number>(p.rank - 1).fill(1)]);
  const nm = tf.add(tf.mul(m, c.beta1), tf.mul(g, 1 - c.beta1));
  const nv = tf.add(tf.mul(v, c.beta2), tf.mul(tf.square(g), 1 - c.beta2));
  const update = tf.div(tf.mul(nm, lrT), tf.add(tf.mul(tf.sqrt(nv), c.c2), c.eps));
  return { p: tf.sub(p, update), m: nm, v: nv };
}

/** Per run (axis 0), Σ over all tensors of x² (or of (x − y)² when ys is given): [R]. */
export function rowSumSquares(xs: readonly tf.Tensor[], ys?: readonly tf.Tensor[]): tf.Tensor1D {
  if (wasmKernels()) {
    const inputs: Record<string, tf.Tensor> = {};
    xs.forEach((x, k) => {
      inputs[`x${k}`] = x;
      if (ys) inputs[`y${k}`] = ys[k];
    });
    return run(KERNELS.rowSumSquares, inputs, { count: xs.length });
  }
  const axes = (t: tf.Tensor) => Array.from({ length: t.rank - 1 }, (_, i) => i + 1);
  const parts = xs.map((x, k) => {
    const d = ys ? tf.sub(x, ys[k]) : x;
    return tf.sum(tf.square(d), axes(d));
  });
  return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Tensor1D;
}

/** tf.split(x, sizes, 0) for float32 tensors; on WASM each piece costs one copy of its own size. */
export function splitRows<T extends tf.Tensor>(x: T, sizes: readonly number[]): T[] {
  if (x.dtype !== 'float32' || !wasmKernels()) return tf.split(x, [...sizes], 0) as T[];
  return run<T[]>(KERNELS.splitRows, { x }, { sizes: [...sizes] });
}
