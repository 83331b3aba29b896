import fs from 'node:fs';
import path from 'node:path';

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping each tensor name to
 * {dtype, shape, data_offsets: [begin, end]} (offsets relative to the end of the header), then the raw data.
 * Tensors are read one at a time at their offsets, so a big file is never held in memory twice.
 */
export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** absolute byte range in the file */
  begin: number;
  end: number;
  file: string;
}

export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
export const FLOAT_DTYPES = ['F32', 'F16', 'BF16'] as const;

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** Reads and checks a file's header: every tensor's byte range must lie inside the file and match its shape. */
export function readHeader(file: string): { entries: TensorEntry[]; metadata: Record<string, string> } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new SafetensorsError(`${file}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) throw new SafetensorsError(`${file}: truncated file (${size} bytes, no header)`);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > 100_000_000 || 8 + headerLen > size)
      throw new SafetensorsError(`${file}: truncated file or bad header length (${headerLen} bytes of header, ${size} bytes in the file)`);
    const hbuf = Buffer.alloc(headerLen);
    fs.readSync(fd, hbuf, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(hbuf.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new SafetensorsError(`${file}: the header is not valid JSON`);
    }
    const base = 8 + headerLen;
    const entries: TensorEntry[] = [];
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = (v ?? {}) as Record<string, string>;
        continue;
      }
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof e?.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2)
        throw new SafetensorsError(`${file}: tensor ${name}: malformed header entry`);
      const shape = e.shape as number[];
      const [b, en] = e.data_offsets as [number, number];
      const width = BYTES[e.dtype];
      if (width === undefined) throw new SafetensorsError(`${file}: tensor ${name}: unknown dtype ${e.dtype}`);
      const count = shape.reduce((a, d) => a * d, 1);
      if (en - b !== count * width)
        throw new SafetensorsError(`${file}: tensor ${name}: ${en - b} bytes for shape [${shape}] of ${e.dtype} (expected ${count * width})`);
      if (base + en > size) throw new SafetensorsError(`${file}: truncated file: tensor ${name} ends at byte ${base + en}, the file has ${size}`);
      entries.push({ name, dtype: e.dtype, shape, begin: base + b, end: base + en, file });
    }
    return { entries, metadata };
  } finally {
    fs.closeSync(fd);
  }
}

/** float16 bits → float32 value. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function readRange(e: TensorEntry, into: Uint8Array): void {
  const fd = fs.openSync(e.file, 'r');
  try {
    let got = 0;
    while (got < into.length) {
      const k = fs.readSync(fd, into, got, into.length - got, e.begin + got);
      if (k === 0) throw new SafetensorsError(`${e.file}: truncated file while reading tensor ${e.name}`);
      got += k;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A tensor's data as float32, read from its file at its offsets (F32, F16 and BF16). The bytes go straight
 * into typed arrays (little-endian, as every platform the lab runs on), with no intermediate copy.
 */
export function readTensor(e: TensorEntry): FloatTensor {
  const count = e.shape.reduce((a, d) => a * d, 1);
  const out = new Float32Array(count);
  if (e.dtype === 'F32') {
    readRange(e, new Uint8Array(out.buffer));
    return { shape: e.shape.slice(), data: out };
  }
  if (e.dtype !== 'F16' && e.dtype !== 'BF16') throw new SafetensorsError(`${e.file}: tensor ${e.name}: dtype ${e.dtype} is not a float type (F32, F16, BF16)`);
  const half = new Uint16Array(count);
  readRange(e, new Uint8Array(half.buffer));
  if (e.dtype === 'BF16') {
    // bfloat16 is the top half of a float32
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) u32[i] = half[i] << 16;
  } else for (let i = 0; i < count; i++) out[i] = halfToFloat(half[i]);
  return { shape: e.shape.slice(), data: out };
}

/** Every tensor of one file, as float32. */
export function readSafetensorsFile(file: string): Map<string, FloatTensor> {
  const out = new Map<string, FloatTensor>();
  for (const e of readHeader(file).entries) out.set(e.name, readTensor(e));
  return out;
}

/** The file that says which tensors a model folder has: its shard index when it has one, else model.safetensors. */
export function modelWeightsFile(dir: string): string {
  const index = path.join(dir, 'model.safetensors.index.json');
  return fs.existsSync(index) ? index : path.join(dir, 'model.safetensors');
}

/**
 * The weight files of a model folder: model.safetensors, or the shards listed by model.safetensors.index.json.
 * Returns every tensor's entry (headers only; data is read on demand).
 */
export function modelTensorEntries(dir: string): Map<string, TensorEntry> {
  const single = path.join(dir, 'model.safetensors');
  const index = path.join(dir, 'model.safetensors.index.json');
  const out = new Map<string, TensorEntry>();
  if (fs.existsSync(index)) {
    let weightMap: Record<string, string>;
    try {
      weightMap = (JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
      if (!weightMap || typeof weightMap !== 'object') throw new Error('no weight_map');
    } catch (err) {
      throw new SafetensorsError(`${index}: not a valid shard index (${(err as Error).message})`);
    }
    const shards = [...new Set(Object.values(weightMap))];
    for (const shard of shards) {
      const file = path.join(dir, shard);
      if (path.relative(dir, file).startsWith('..')) throw new SafetensorsError(`${index}: shard ${shard} is outside the model folder`);
      if (!fs.existsSync(file))
        throw new SafetensorsError(`${index}: shard ${shard} is missing (listed for ${Object.keys(weightMap).find((k) => weightMap[k] === shard)})`);
      for (const e of readHeader(file).entries) out.set(e.name, e);
    }
    for (const [name, shard] of Object.entries(weightMap))
      if (!out.has(name)) throw new SafetensorsError(`${path.join(dir, shard)}: tensor ${name} is listed in the index but not in the shard`);
    return out;
  }
  if (!fs.existsSync(single)) throw new SafetensorsError(`${dir}: no model.safetensors or model.safetensors.index.json`);
  for (const e of readHeader(single).entries) out.set(e.name, e);
  return out;
}

/** Writes float32 tensors (sorted by name; the header padded to 8 bytes as the reference writer does). */
export function writeSafetensors(file: string, tensors: Record<string, FloatTensor>, metadata?: Record<string, string>): void {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const n of names) {
    const t = tensors[n];
    const bytes = t.data.length * 4;
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (count !== t.data.length) throw new SafetensorsError(`${file}: tensor ${n} has ${t.data.length} values for shape [${t.shape}]`);
    header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const hbuf = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hbuf.length));
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, len);
    fs.writeSync(fd, hbuf);
    for (const n of names) {
      const d = tensors[n].data;
      const le = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
      fs.writeSync(fd, le);
    }
  } finally {
    fs.closeSync(fd);
  }
}
