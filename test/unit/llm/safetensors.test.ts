/**
 * Bad model folders: every problem is a clear error naming the file and the tensor, thrown before the model is
 * usable, with nothing left behind (tf.memory().numTensors as before the load). Real files, damaged on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../../src-main/engine/tf';
import { loadCausalLM, type LoadOptions } from '../../../src-main/engine/llm/models';
import { readHeader, readTensor, SafetensorsError } from '../../../src-main/engine/llm/safetensors';
import { writeTinyModel, writeTypedSafetensors, type TinyModelOptions } from '../../support/tiny-models';
import { tempDir } from '../tmp';

const tmp = tempDir('dpo-lab-safetensors-');
afterAll(() => tmp.cleanup());

let counter = 0;
function tiny(o: Partial<TinyModelOptions> = {}): { dir: string; file: string; weights: ReturnType<typeof writeTinyModel>['weights'] } {
  const dir = tmp.file(`m${counter++}`);
  const { weights } = writeTinyModel(dir, { arch: 'llama', vocabSize: 40, hidden: 16, layers: 2, tokenizer: false, ...o });
  return { dir, file: path.join(dir, 'model.safetensors'), weights };
}

/** A safetensors file's parts, to damage its header and write it back with the same data. */
function splitFile(file: string): { header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; data: Buffer } {
  const buf = fs.readFileSync(file);
  const len = Number(buf.readBigUInt64LE(0));
  return { header: JSON.parse(buf.subarray(8, 8 + len).toString('utf8')), data: buf.subarray(8 + len) };
}
function joinFile(file: string, header: object, data: Buffer): void {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
}

/** Loads and expects a failure matching every pattern, with no tfjs tensor left over. */
async function expectLoadFails(dir: string, patterns: (string | RegExp)[], opts: LoadOptions = {}): Promise<string> {
  const before = tf.memory().numTensors;
  let message = '';
  try {
    const m = await loadCausalLM(dir, opts);
    m.dispose();
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message, 'the load should have failed').not.toBe('');
  for (const p of patterns) expect(message).toMatch(typeof p === 'string' ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : p);
  expect(tf.memory().numTensors, 'tensors left behind by a failed load').toBe(before);
  return message;
}

describe('safetensors files', () => {
  it('a good file loads, and dispose() frees every tensor it made', async () => {
    const { dir } = tiny();
    const before = tf.memory().numTensors;
    const m = await loadCausalLM(dir);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a truncated file names the file and the first tensor that does not fit', async () => {
    const { dir, file } = tiny();
    const { header } = splitFile(file);
    const last = Object.entries(header)
      .filter(([n]) => n !== '__metadata__')
      .sort((a, b) => a[1].data_offsets[1] - b[1].data_offsets[1])
      .pop()![0];
    fs.truncateSync(file, fs.statSync(file).size - 7);
    await expectLoadFails(dir, [file, 'truncated', `tensor ${last}`]);
  });

  it('a header length past the end of the file', async () => {
    const { dir, file } = tiny();
    const fd = fs.openSync(file, 'r+');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(fs.statSync(file).size));
    fs.writeSync(fd, len, 0, 8, 0);
    fs.closeSync(fd);
    await expectLoadFails(dir, [file, /header length/]);
  });

  it('a file shorter than the 8-byte header length, and a header that is not JSON', async () => {
    const a = tiny();
    fs.writeFileSync(a.file, Buffer.from([1, 2, 3]));
    await expectLoadFails(a.dir, [a.file, 'truncated']);
    const b = tiny();
    const { data } = splitFile(b.file);
    const junk = Buffer.from('{"model.norm.weight": ');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(junk.length));
    fs.writeFileSync(b.file, Buffer.concat([len, junk, data]));
    await expectLoadFails(b.dir, [b.file, 'not valid JSON']);
  });

  it('a missing tensor names the weights file and the tensor', async () => {
    const { dir, file, weights } = tiny();
    const gone = 'model.layers.1.mlp.up_proj.weight';
    const { [gone]: _, ...rest } = weights;
    writeTypedSafetensors(file, rest, 'F32');
    await expectLoadFails(dir, [file, `tensor ${gone}`, 'missing']);
  });

  it('an untied model without lm_head.weight', async () => {
    const { dir, file, weights } = tiny({ tie: false });
    const { ['lm_head.weight']: _, ...rest } = weights;
    writeTypedSafetensors(file, rest, 'F32');
    await expectLoadFails(dir, [file, 'tensor lm_head.weight', 'tie_word_embeddings']);
  });

  it('a wrong shape names the file, the tensor and both shapes', async () => {
    // k_proj of a GQA model is [kv·D, d] = [8, 16]: stored transposed, as a Conv1D-minded writer might
    const { dir, file, weights } = tiny({ kvHeads: 2 });
    const name = 'model.layers.0.self_attn.k_proj.weight';
    const [rows, cols] = weights[name].shape;
    writeTypedSafetensors(file, { ...weights, [name]: { shape: [cols, rows], values: weights[name].values } }, 'F32');
    await expectLoadFails(dir, [file, `tensor ${name}`, `[${cols},${rows}]`, `[${rows},${cols}]`]);
  });

  it('a wrong lm_head shape (read after the other weights) leaves nothing behind', async () => {
    const { dir, file, weights } = tiny({ tie: false });
    const w = weights['lm_head.weight'];
    writeTypedSafetensors(file, { ...weights, 'lm_head.weight': { shape: [w.shape[0] - 1, w.shape[1]], values: w.values.slice(w.shape[1]) } }, 'F32');
    await expectLoadFails(dir, [file, 'tensor lm_head.weight', 'shape']);
  });

  it('an unknown dtype names the file, the tensor and the dtype', async () => {
    const { dir, file } = tiny();
    const { header, data } = splitFile(file);
    header['model.norm.weight'].dtype = 'F4X';
    joinFile(file, header, data);
    await expectLoadFails(dir, [file, 'tensor model.norm.weight', 'F4X']);
  });

  it('a known but non-float dtype fails while loading and disposes what was already loaded (also for training)', async () => {
    const { dir, file } = tiny();
    const { header, data } = splitFile(file);
    // sorted last, so the other weights are already tfjs tensors (or Variables) when it is read
    header['model.norm.weight'].dtype = 'I32';
    joinFile(file, header, data);
    await expectLoadFails(dir, [file, 'tensor model.norm.weight', 'I32']);
    await expectLoadFails(dir, [file, 'tensor model.norm.weight'], { train: true });
    await expectLoadFails(dir, [file, 'tensor model.norm.weight'], { lora: { rank: 2, alpha: 4 } });
  });

  it('a byte range that disagrees with the shape', async () => {
    const { dir, file } = tiny();
    const { header, data } = splitFile(file);
    header['model.norm.weight'].shape = [17];
    joinFile(file, header, data);
    await expectLoadFails(dir, [file, 'tensor model.norm.weight', '[17]']);
  });

  it('an unknown model_type names config.json and the supported types', async () => {
    const { dir } = tiny();
    const cfgFile = path.join(dir, 'config.json');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), model_type: 'mamba' }));
    await expectLoadFails(dir, [cfgFile, 'mamba', 'gpt2, llama, qwen2']);
  });

  it('a GPT-2 activation the model does not compute (exact-erf "gelu") is refused, naming config.json', async () => {
    const dir = tmp.file(`m${counter++}`);
    writeTinyModel(dir, { arch: 'gpt2', vocabSize: 40, tokenizer: false });
    const cfgFile = path.join(dir, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, activation_function: 'gelu' }));
    await expectLoadFails(dir, [cfgFile, 'activation_function "gelu"', 'gelu_new']);
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, activation_function: 'gelu_pytorch_tanh' }));
    const m = await loadCausalLM(dir);
    m.dispose();
  });

  it('a LoRA target the model does not have fails after loading and disposes the weights', async () => {
    const { dir } = tiny();
    await expectLoadFails(dir, ['c_attn', 'not in this llama model'], { lora: { rank: 2, alpha: 4, targetModules: ['c_attn'] } });
  });

  it('an F16 and a BF16 value decode to what was written', () => {
    const { file, weights } = tiny({ dtype: 'F16' });
    for (const e of readHeader(file).entries) expect(Array.from(readTensor(e).data)).toEqual(Array.from(weights[e.name].values));
    const b = tiny({ dtype: 'BF16' });
    for (const e of readHeader(b.file).entries) expect(Array.from(readTensor(e).data)).toEqual(Array.from(b.weights[e.name].values));
  });
});

describe('sharded models', () => {
  const shardFiles = (dir: string) => fs.readdirSync(dir).filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f));

  it('a shard the index lists but the folder lacks names the index, the shard and a tensor it holds', async () => {
    const { dir } = tiny({ shards: 2 });
    const index = path.join(dir, 'model.safetensors.index.json');
    const weightMap = (JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
    const [, second] = shardFiles(dir).sort();
    fs.rmSync(path.join(dir, second));
    const held = Object.keys(weightMap).filter((n) => weightMap[n] === second);
    const msg = await expectLoadFails(dir, [index, second, 'missing']);
    expect(
      held.some((n) => msg.includes(n)),
      msg,
    ).toBe(true);
  });

  it('a tensor neither the index nor a shard has names the index and the tensor', async () => {
    const { dir, weights } = tiny({ shards: 2 });
    const index = path.join(dir, 'model.safetensors.index.json');
    const parsed = JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map: Record<string, string> };
    const victim = 'model.layers.1.self_attn.o_proj.weight';
    const shard = parsed.weight_map[victim];
    delete parsed.weight_map[victim];
    fs.writeFileSync(index, JSON.stringify(parsed));
    writeTypedSafetensors(path.join(dir, shard), Object.fromEntries(Object.entries(weights).filter(([n]) => parsed.weight_map[n] === shard)), 'F32');
    await expectLoadFails(dir, [index, `tensor ${victim}`, 'missing']);
  });

  it('a tensor the index lists that its shard does not hold', async () => {
    const { dir, weights } = tiny({ shards: 2 });
    const index = path.join(dir, 'model.safetensors.index.json');
    const weightMap = (JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
    const victim = 'model.layers.0.input_layernorm.weight';
    const shard = weightMap[victim];
    const keep = Object.fromEntries(Object.entries(weights).filter(([n]) => weightMap[n] === shard && n !== victim));
    writeTypedSafetensors(path.join(dir, shard), keep, 'F32');
    await expectLoadFails(dir, [path.join(dir, shard), `tensor ${victim}`]);
  });

  it('a truncated shard names the shard file', async () => {
    const { dir } = tiny({ shards: 2 });
    const file = path.join(dir, shardFiles(dir).sort()[1]);
    fs.truncateSync(file, fs.statSync(file).size - 3);
    await expectLoadFails(dir, [file, 'truncated']);
  });

  it('a shard outside the model folder and an index that is not JSON', async () => {
    const { dir } = tiny({ shards: 2 });
    const index = path.join(dir, 'model.safetensors.index.json');
    const parsed = JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map: Record<string, string> };
    const first = Object.keys(parsed.weight_map)[0];
    parsed.weight_map[first] = '../elsewhere.safetensors';
    fs.writeFileSync(index, JSON.stringify(parsed));
    await expectLoadFails(dir, [index, 'outside the model folder']);
    fs.writeFileSync(index, '{ not json');
    await expectLoadFails(dir, [index, 'not a valid shard index']);
  });

  it('no weights at all', async () => {
    const { dir, file } = tiny();
    fs.rmSync(file);
    await expectLoadFails(dir, [dir, 'no model.safetensors']);
  });

  it('SafetensorsError is what the format errors are', () => {
    const { file } = tiny();
    fs.writeFileSync(file, Buffer.alloc(4));
    expect(() => readHeader(file)).toThrow(SafetensorsError);
  });
});
