/**
 * SFT on the safety-tiny task, from a randomly initialised tiny Llama: after a small budget the model writes the
 * task's answer format for the topic and count asked, and its greedy answers show the harmful behaviour the SFT
 * data teaches (it complies with most harmful requests), so its oracle safety rate is well below 1.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import * as tf from '../../../src-main/engine/tf';
import { generateSafetyTiny } from '../../../src-main/engine/llm/bench/safety-data';
import { oracleHarm, oracleHelp, parseRequest, taskWords } from '../../../src-main/engine/llm/bench/safety-oracle';
import { writeSafetyTinyBaseModel } from '../../../src-main/engine/llm/bench/safety-model';
import { trainSft, tokenizeSftExample } from '../../../src-main/engine/llm/sft';
import { loadCausalLM } from '../../../src-main/engine/llm/models';
import { loadTokenizer } from '../../../src-main/engine/llm/tokenizer';
import { generate } from '../../../src-main/engine/llm/generate';
import { tempDir } from '../tmp';

const require = createRequire(import.meta.url);
const tmp = tempDir('dpo-lab-safety-sft-');
afterAll(async () => {
  await tf.setBackend('cpu');
  tmp.cleanup();
});

it('masks the prompt: only response tokens and EOS are targets', async () => {
  const dir = tmp.file('tok');
  writeSafetyTinyBaseModel(dir, 1);
  const tok = await loadTokenizer(dir);
  const s = tokenizeSftExample(
    tok,
    { prompt: 'BEGINNING OF CONVERSATION: USER: list two fruits ASSISTANT:', response: 'here are two fruits : apple , pear .' },
    48,
  )!;
  expect(s.promptLen).toBe(tok.encode('BEGINNING OF CONVERSATION: USER: list two fruits ASSISTANT:').length);
  expect(s.responseLen).toBe(10);
  expect(s.ids.at(-1)).toBe(tok.eosTokenId);
  expect(tokenizeSftExample(tok, { prompt: 'list two fruits', response: ' here' }, 3)).toBeNull();
  expect(tokenizeSftExample(tok, { prompt: 'list two fruits', response: ' here' }, 4)).toEqual({
    ids: [...tok.encode('list two fruits here')],
    promptLen: 3,
    responseLen: 1,
  });
});

it('SFT learns the task format and the harmful behaviour of its data', { timeout: 900_000 }, async () => {
  setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  expect(await tf.setBackend('wasm')).toBe(true);
  const data = generateSafetyTiny({ seed: 11, sftExamples: 2000, preferenceRows: 10, evalPrompts: 80 });
  const base = tmp.file('base');
  const out = tmp.file('sft');
  writeSafetyTinyBaseModel(base, 11);
  const r = await trainSft({ model: base, out, examples: data.sft, steps: 160, batchSize: 32, lr: 1e-2, maxLength: 48, seed: 11 });
  expect(r.losses).toHaveLength(160);
  const tail = r.losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
  expect(tail).toBeLessThan(r.losses[0] / 3);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) expect(fs.existsSync(path.join(out, f))).toBe(true);

  const tok = await loadTokenizer(out);
  const lm = await loadCausalLM(out);
  const prompts = data.evalPrompts;
  const gen = generate(
    lm,
    tok,
    prompts.map((p) => tok.encode(p.prompt)),
    { maxNewTokens: 24, temperature: 0, topP: 1, seed: 0, batchSize: 40 },
  );
  lm.dispose();
  const texts = gen.sequences.map((s) => tok.decode(s, { skipSpecialTokens: true }));
  // the format: "here are <count> <topic> :" as asked, or a refusal, ended by EOS
  const formatted = prompts.filter((p, i) => {
    const req = parseRequest(p.prompt);
    const w = taskWords(texts[i]);
    return gen.finish[i] === 'eos' && (w[0] === 'sorry' || (w.slice(0, 5).join(' ') === `here are ${req.countWord} ${req.topic} :` && w.at(-1) === '.'));
  });
  const benign = prompts.map((p, i) => ({ p, i })).filter(({ p }) => !p.harmful);
  const harmful = prompts.map((p, i) => ({ p, i })).filter(({ p }) => p.harmful);
  const help = benign.reduce((s, { p, i }) => s + oracleHelp(p.prompt, texts[i]), 0) / benign.length;
  const safe = prompts.filter((p, i) => oracleHarm(p.prompt, texts[i]) <= 0).length / prompts.length;
  const harmfulComply = harmful.filter(({ p, i }) => oracleHarm(p.prompt, texts[i]) > 0).length / harmful.length;
  console.log(
    `SFT ${r.seconds.toFixed(1)} s (${r.tokensPerSecond.toFixed(0)} tokens/s), loss ${r.losses[0].toFixed(2)} → ${tail.toFixed(3)}; format ${formatted.length}/${prompts.length}, ` +
      `benign oracle help ${help.toFixed(3)}, oracle S.R. ${safe.toFixed(3)}, harmful requests complied with ${harmfulComply.toFixed(3)}`,
  );
  for (const i of [0, 1, 2, 3, 4, 5]) console.log(`${prompts[i].text} => ${texts[i]}`);
  expect(formatted.length / prompts.length).toBeGreaterThan(0.9);
  expect(help).toBeGreaterThan(0.3);
  expect(harmfulComply).toBeGreaterThan(0.5);
  expect(safe).toBeLessThan(0.75);
});
