import * as tf from '../tf';

/**
 * A linear-time UnsortedSegmentSum (the gradient of gather: embedding lookups and the next-token pick of the
 * log-probs). The WASM backend has none, and the pure-JS backend's loops over segments × rows, which for a
 * 50k-token vocabulary makes one backward pass take minutes. One loop over the rows serves both.
 */
interface SegmentInputs {
  x: tf.TensorInfo;
  segmentIds: tf.TensorInfo;
}
interface ReadableBackend {
  readSync(dataId: tf.DataId): unknown;
}
interface CpuLike extends ReadableBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array | Int32Array): tf.TensorInfo;
}
interface WasmLike extends ReadableBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

function segmentSum(x: Float32Array | Int32Array, ids: Int32Array, numSegments: number, out: Float32Array | Int32Array): void {
  const inner = ids.length ? x.length / ids.length : 0;
  out.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner;
    const r = i * inner;
    for (let j = 0; j < inner; j++) out[o + j] += x[r + j];
  }
}

function kernelFor(backendName: 'cpu' | 'wasm'): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as unknown as SegmentInputs;
    const numSegments = (attrs as { numSegments: number }).numSegments;
    const be = backend as unknown as ReadableBackend;
    const xv = be.readSync(x.dataId) as Float32Array | Int32Array;
    const idv = Int32Array.from(be.readSync(segmentIds.dataId) as ArrayLike<number>);
    const inner = x.shape.slice(segmentIds.shape.length);
    const shape = [numSegments, ...inner];
    const size = shape.reduce((a, d) => a * d, 1);
    if (backendName === 'wasm') {
      const w = backend as unknown as WasmLike;
      const out = w.makeOutput(shape, x.dtype);
      segmentSum(xv, idv, numSegments, w.typedArrayFromHeap(out));
      return out;
    }
    const out = x.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
    segmentSum(xv, idv, numSegments, out);
    return (backend as unknown as CpuLike).makeTensorInfo(shape, x.dtype, out);
  };
}

let done = false;
/** Registers the lab's kernels on the cpu and wasm backends (once per process). */
export function registerLlmKernels(): void {
  if (done) return;
  done = true;
  for (const name of ['cpu', 'wasm'] as const) {
    if (tf.getKernel('UnsortedSegmentSum', name)) tf.unregisterKernel('UnsortedSegmentSum', name);
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: name, kernelFunc: kernelFor(name) });
  }
}
