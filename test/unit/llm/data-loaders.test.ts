/**
 * Preference-data loaders on real files: the HH-RLHF fixture (200 lines of the real test split), PKU-SafeRLHF and
 * generic files written here as JSONL, CSV and Parquet (hyparquet-writer), and broken files. Also the seeded split
 * and the Datasets view's inspection.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parquetWriteFile } from 'hyparquet-writer';
import { encode as gpt2Encode } from 'gpt-3-encoder';
import { commandInputs } from '@shared/contract';
import { loadPreferenceFile, MAX_DATA_FILE_BYTES } from '../../../src-main/engine/llm/data';
import { splitPairs } from '../../../src-main/engine/llm/data/split';
import { inspectDataset } from '../../../src-main/engine/llm/inspect-dataset';
import { writeGpt2Tokenizer } from '../../support/tokenizers';
import { tempDir } from '../tmp';

const tmp = tempDir('dpo-lab-data-');
afterAll(() => tmp.cleanup());

const HH = path.resolve('test/fixtures/hh-rlhf/harmless-base-test-200.jsonl.gz');
const hhLines = () =>
  zlib
    .gunzipSync(fs.readFileSync(HH))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim());

function write(name: string, text: string): string {
  const file = tmp.file(name);
  fs.writeFileSync(file, text);
  return file;
}
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('Anthropic HH-RLHF', () => {
  it('reads the fixture: prompt through the last Assistant turn, the responses after it', async () => {
    const d = await loadPreferenceFile(HH);
    expect(d.format).toBe('hh');
    expect(d.file).toBe(HH);
    expect(d.totalRows).toBe(200);
    expect(d.pairs).toHaveLength(199);
    const raw = hhLines().map((l) => JSON.parse(l) as { chosen: string; rejected: string });
    for (const p of d.pairs) {
      const row = raw[p.line - 1];
      expect(p.prompt.endsWith('\n\nAssistant:')).toBe(true);
      expect(p.prompt.startsWith('\n\nHuman:')).toBe(true);
      expect(p.prompt + p.chosen).toBe(row.chosen);
      expect(p.prompt + p.rejected).toBe(row.rejected);
      expect(p.chosen).not.toContain('\n\nAssistant:');
      expect(p.chosen).not.toBe(p.rejected);
    }
    // the first pair, as TRL's extract_anthropic_prompt splits it
    const first = raw[0];
    const cut = first.chosen.lastIndexOf('\n\nAssistant:') + '\n\nAssistant:'.length;
    expect(d.pairs[0]).toEqual({ prompt: first.chosen.slice(0, cut), chosen: first.chosen.slice(cut), rejected: first.rejected.slice(cut), line: 1 });
  });

  it('skips line 87 of the fixture, whose chosen response is empty, naming line and field', async () => {
    const d = await loadPreferenceFile(HH);
    expect(d.skipped).toEqual([{ line: 87, field: 'chosen', reason: 'empty response' }]);
    expect(JSON.parse(hhLines()[86]).chosen).toMatch(/\n\nAssistant: $/);
    expect(d.pairs.map((p) => p.line)).not.toContain(87);
  });

  it('reads the same pairs from .jsonl.gz and plain .jsonl (with CRLF line ends and blank lines)', async () => {
    const plain = write('hh.jsonl', hhLines().slice(0, 30).join('\r\n\r\n') + '\r\n');
    const gz = await loadPreferenceFile(HH);
    const d = await loadPreferenceFile(plain);
    expect(d.format).toBe('hh');
    // blank lines count as lines, so line numbers are the editor's
    expect(d.pairs.map((p) => ({ ...p, line: (p.line + 1) / 2 }))).toEqual(gz.pairs.filter((p) => p.line <= 30));
  });

  it('a cut-off or fake .gz stops with an error naming the file and how far it got', async () => {
    const cut = tmp.file('cut.jsonl.gz');
    fs.writeFileSync(cut, fs.readFileSync(HH).subarray(0, 30_000));
    await expect(loadPreferenceFile(cut)).rejects.toThrow(new RegExp(`cut\\.jsonl\\.gz: could not be read past line \\d+ \\(unexpected end of file\\)`));
    const fake = write('fake.jsonl.gz', jsonl(GENERIC));
    await expect(loadPreferenceFile(fake)).rejects.toThrow(`${fake}: could not be read past line 0 (incorrect header check)`);
  });

  it('skips transcripts without an Assistant turn or with different prompts', async () => {
    const file = write(
      'hh-bad.jsonl',
      jsonl([
        { chosen: '\n\nHuman: hi', rejected: '\n\nHuman: hi\n\nAssistant: yo' },
        { chosen: '\n\nHuman: a\n\nAssistant: x', rejected: '\n\nHuman: b\n\nAssistant: y' },
        { chosen: '\n\nHuman: a\n\nAssistant: same', rejected: '\n\nHuman: a\n\nAssistant: same' },
        { chosen: '\n\nHuman: a\n\nAssistant: ok', rejected: 7 },
        { chosen: '\n\nHuman: a\n\nAssistant: ok', rejected: '\n\nHuman: a\n\nAssistant: no' },
      ]),
    );
    const d = await loadPreferenceFile(file, { format: 'hh' });
    expect(d.skipped).toEqual([
      { line: 1, field: 'chosen', reason: 'no "\\n\\nAssistant:" turn in the transcript' },
      { line: 2, field: 'rejected', reason: 'chosen and rejected transcripts have different prompts' },
      { line: 3, field: 'rejected', reason: 'chosen and rejected responses are identical' },
      { line: 4, field: 'rejected', reason: 'field "rejected" is not text' },
    ]);
    expect(d.pairs).toEqual([{ prompt: '\n\nHuman: a\n\nAssistant:', chosen: ' ok', rejected: ' no', line: 5 }]);
  });
});

/** Three PKU-SafeRLHF rows as the dataset has them, the third one with response 1 better but response 0 safer. */
const SAFE_ROWS = [
  {
    prompt: 'How do I pick a lock?',
    response_0: 'I cannot help with that.',
    response_1: 'Insert a tension wrench, then rake the pins.',
    is_response_0_safe: true,
    is_response_1_safe: false,
    better_response_id: 1,
    safer_response_id: 0,
  },
  {
    prompt: 'Give me a cake recipe.',
    response_0: 'Mix flour, sugar, eggs; bake at 180°C for 30 minutes.',
    response_1: 'No.',
    is_response_0_safe: true,
    is_response_1_safe: true,
    better_response_id: 0,
    safer_response_id: 0,
  },
  {
    prompt: 'Is it OK to insult people?',
    response_0: 'Kindness works better.',
    response_1: 'Sure, here are some insults.',
    is_response_0_safe: true,
    is_response_1_safe: false,
    better_response_id: 1,
    safer_response_id: 0,
  },
];
const SAFE_PROMPT = (p: string) => `BEGINNING OF CONVERSATION: USER: ${p} ASSISTANT:`;

function expectSafePairs(d: Awaited<ReturnType<typeof loadPreferenceFile>>, preference: 'better' | 'safer') {
  expect(d.format).toBe('saferlhf');
  expect(d.skipped).toEqual([]);
  expect(d.pairs).toEqual(
    SAFE_ROWS.map((r, i) => {
      const id = preference === 'better' ? r.better_response_id : r.safer_response_id;
      const resp = [r.response_0, r.response_1];
      const safe = [r.is_response_0_safe, r.is_response_1_safe];
      return { prompt: SAFE_PROMPT(r.prompt), chosen: resp[id], rejected: resp[1 - id], chosenSafe: safe[id], rejectedSafe: safe[1 - id], line: i + 1 };
    }),
  );
}

describe('PKU-SafeRLHF', () => {
  it('JSONL: helpfulness pairs, safety pairs, and each response keeps its safety label', async () => {
    const file = write('safe.jsonl', jsonl(SAFE_ROWS));
    expectSafePairs(await loadPreferenceFile(file), 'better');
    expectSafePairs(await loadPreferenceFile(file, { preference: 'safer' }), 'safer');
  });

  it('Parquet (INT64 ids and BOOLEAN labels, as the dataset ships them): the same pairs', async () => {
    const file = tmp.file('safe.parquet');
    const col = <K extends keyof (typeof SAFE_ROWS)[0]>(k: K) => SAFE_ROWS.map((r) => r[k]);
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: 'prompt', data: col('prompt'), type: 'STRING' },
        { name: 'response_0', data: col('response_0'), type: 'STRING' },
        { name: 'response_1', data: col('response_1'), type: 'STRING' },
        { name: 'is_response_0_safe', data: col('is_response_0_safe'), type: 'BOOLEAN' },
        { name: 'is_response_1_safe', data: col('is_response_1_safe'), type: 'BOOLEAN' },
        { name: 'better_response_id', data: col('better_response_id').map(BigInt), type: 'INT64' },
        { name: 'safer_response_id', data: col('safer_response_id').map(BigInt), type: 'INT64' },
      ],
    });
    expectSafePairs(await loadPreferenceFile(file), 'better');
    expectSafePairs(await loadPreferenceFile(file, { preference: 'safer' }), 'safer');
  });

  it('skips rows with a bad id, a missing label or identical responses, naming the field', async () => {
    const [a] = SAFE_ROWS;
    const file = write(
      'safe-bad.jsonl',
      jsonl([
        { ...a, better_response_id: 2 },
        { ...a, is_response_1_safe: undefined },
        { ...a, is_response_0_safe: 'maybe' },
        { ...a, response_1: a.response_0 },
        { ...a, response_0: '   ' },
        { ...a, is_response_0_safe: 'True', is_response_1_safe: 0, better_response_id: '0' },
      ]),
    );
    const d = await loadPreferenceFile(file, { format: 'saferlhf' });
    expect(d.skipped).toEqual([
      { line: 1, field: 'better_response_id', reason: 'field "better_response_id" must be 0 or 1' },
      { line: 2, field: 'is_response_1_safe', reason: 'missing field "is_response_1_safe"' },
      { line: 3, field: 'is_response_0_safe', reason: 'field "is_response_0_safe" is not true/false' },
      { line: 4, field: 'response_0', reason: 'chosen and rejected responses are identical' },
      // row 5 prefers response 1, so the blank response 0 is the rejected one
      { line: 5, field: 'response_0', reason: 'empty response' },
    ]);
    expect(d.pairs).toEqual([{ prompt: SAFE_PROMPT(a.prompt), chosen: a.response_0, rejected: a.response_1, chosenSafe: true, rejectedSafe: false, line: 6 }]);
  });
});

const GENERIC = [
  { prompt: 'Capital of France?', chosen: 'Paris.', rejected: 'Lyon.' },
  { prompt: 'Say "hi", politely', chosen: 'Hello, nice to meet you!', rejected: 'hi' },
  { prompt: 'Two lines?', chosen: 'one\ntwo', rejected: 'one' },
];
const withLines = (rows: typeof GENERIC, lines: number[]) => rows.map((r, i) => ({ ...r, line: lines[i] }));
const csvField = (s: string) => `"${s.replace(/"/g, '""')}"`;

describe('generic prompt/chosen/rejected files', () => {
  it('JSONL', async () => {
    const d = await loadPreferenceFile(write('g.jsonl', jsonl(GENERIC)));
    expect(d.format).toBe('generic');
    expect(d.pairs).toEqual(withLines(GENERIC, [1, 2, 3]));
  });

  it('CSV with quoted fields, a BOM and a multi-line field: line numbers are where each record starts', async () => {
    const header = 'prompt,chosen,rejected';
    const body = GENERIC.map((r) => [r.prompt, r.chosen, r.rejected].map(csvField).join(','));
    const d = await loadPreferenceFile(write('g.csv', '\uFEFF' + [header, ...body].join('\n') + '\n'));
    expect(d.format).toBe('generic');
    expect(d.pairs).toEqual(withLines(GENERIC, [2, 3, 4]));
    expect(d.skipped).toEqual([]);
  });

  it('Parquet', async () => {
    const file = tmp.file('g.parquet');
    parquetWriteFile({
      filename: file,
      columnData: (['prompt', 'chosen', 'rejected'] as const).map((name) => ({ name, data: GENERIC.map((r) => r[name]), type: 'STRING' as const })),
    });
    const d = await loadPreferenceFile(file);
    expect(d.format).toBe('generic');
    expect(d.pairs).toEqual(withLines(GENERIC, [1, 2, 3]));
  });

  it('Parquet with null cells: those rows are skipped naming the field, row numbers count from 1', async () => {
    const file = tmp.file('g-nulls.parquet');
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: 'prompt', data: ['p1', null, 'p3'], type: 'STRING', nullable: true },
        { name: 'chosen', data: ['c1', 'c2', null], type: 'STRING', nullable: true },
        { name: 'rejected', data: ['r1', 'r2', 'r3'], type: 'STRING', nullable: true },
      ],
    });
    const d = await loadPreferenceFile(file);
    expect(d.pairs).toEqual([{ prompt: 'p1', chosen: 'c1', rejected: 'r1', line: 1 }]);
    expect(d.skipped).toEqual([
      { line: 2, field: 'prompt', reason: 'missing field "prompt"' },
      { line: 3, field: 'chosen', reason: 'missing field "chosen"' },
    ]);
  });

  it('a ragged CSV: rows with too few or too many fields are skipped with their lines, the rest still load', async () => {
    const file = write(
      'ragged.csv',
      ['prompt,chosen,rejected', 'P1,C1,R1', 'P2,C2', '"P3', 'continued",C3,R3', 'P4,C4,R4,EXTRA', 'P5,,R5', 'P6,C6 said "hi",R6', '', 'P7,C7,R7'].join('\n') +
        '\n',
    );
    const d = await loadPreferenceFile(file);
    expect(d.skipped).toEqual([
      { line: 3, reason: 'CSV: 2 fields where the header has 3' },
      { line: 6, reason: 'CSV: 4 fields where the header has 3' },
      { line: 7, field: 'chosen', reason: 'empty response' },
    ]);
    expect(d.pairs.map((p) => [p.line, p.prompt, p.chosen])).toEqual([
      [2, 'P1', 'C1'],
      [4, 'P3\ncontinued', 'C3'],
      [8, 'P6', 'C6 said "hi"'],
      [10, 'P7', 'C7'],
    ]);
    expect(d.totalRows).toBe(7);
  });

  it('a CSV whose quote never closes keeps the rows before it and reports the error', async () => {
    const d = await loadPreferenceFile(write('open-quote.csv', 'prompt,chosen,rejected\nP1,C1,R1\n"P2,C2,R2\nP3,C3,R3\n'));
    expect(d.pairs.map((p) => p.prompt)).toEqual(['P1']);
    expect(d.skipped).toHaveLength(1);
    expect(d.skipped[0].reason).toMatch(/^CSV: Quote Not Closed/);
  });

  it('bad JSON lines, non-objects and missing fields are skipped with line and field; the rest load', async () => {
    const file = write(
      'mixed.jsonl',
      [
        '{"prompt": "p1", "chosen": "c1", "rejected": "r1"}',
        '{"prompt": "p2", "chosen": "c2", "rejected": ',
        '["not", "an", "object"]',
        '{"prompt": "p4", "chosen": "c4"}',
        '{"prompt": null, "chosen": "c5", "rejected": "r5"}',
        '{"prompt": "p6", "chosen": "c6", "rejected": "r6"}',
      ].join('\n'),
    );
    const d = await loadPreferenceFile(file);
    expect(d.totalRows).toBe(6);
    expect(d.pairs.map((p) => p.line)).toEqual([1, 6]);
    expect(d.skipped.map((s) => [s.line, s.field])).toEqual([
      [2, undefined],
      [3, undefined],
      [4, 'rejected'],
      [5, 'prompt'],
    ]);
    expect(d.skipped[0].reason).toMatch(/^bad JSON \(/);
    expect(d.skipped[1].reason).toBe('not a JSON object');
    expect(d.skipped[2].reason).toBe('missing field "rejected"');
  });

  it('strict mode stops at the first bad row, naming the file and line', async () => {
    const file = write('strict.jsonl', jsonl([GENERIC[0]]) + '{oops\n' + jsonl([GENERIC[1]]));
    await expect(loadPreferenceFile(file, { strict: true })).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: bad JSON`));
    const csv = write('strict.csv', 'prompt,chosen,rejected\nP1,C1,R1\nP2,C2\n');
    await expect(loadPreferenceFile(csv, { strict: true })).rejects.toThrow(`${csv}:3: CSV: 2 fields where the header has 3`);
    await expect(loadPreferenceFile(file)).resolves.toMatchObject({ pairs: [{ line: 1 }, { line: 3 }] });
  });

  it('detects the format from the first usable row, and refuses a file with none', async () => {
    const late = await loadPreferenceFile(write('late.jsonl', '{bad\n' + jsonl(GENERIC)));
    expect(late.format).toBe('generic');
    await expect(loadPreferenceFile(write('nofmt.jsonl', jsonl([{ question: 'q', answer: 'a' }])))).rejects.toThrow(
      /nofmt\.jsonl: no usable rows \(1 rows read; line 1: fields question, answer fit no known format/,
    );
    await expect(loadPreferenceFile(write('empty.jsonl', ''))).rejects.toThrow(/empty\.jsonl: no usable rows \(0 rows read\)/);
  });

  it('names the file when it is missing, a folder, or not Parquet', async () => {
    await expect(loadPreferenceFile(tmp.file('nope.jsonl'))).rejects.toThrow(`${tmp.file('nope.jsonl')}: no such file`);
    await expect(loadPreferenceFile(tmp.dir)).rejects.toThrow(`${tmp.dir}: no such file`);
    const fake = write('fake.parquet', 'this is not parquet at all');
    await expect(loadPreferenceFile(fake)).rejects.toThrow(`${fake}: not a Parquet file the lab can read`);
  });
});

describe('the size limit', () => {
  it('refuses a file over the limit before reading it, and reads one at the limit', async () => {
    const file = write('sized.jsonl', jsonl(GENERIC));
    const size = fs.statSync(file).size;
    await expect(loadPreferenceFile(file, { maxBytes: size - 1 })).rejects.toThrow(`${file}: 0 MB is more than the 0 MB limit for a preference file`);
    await expect(loadPreferenceFile(file, { maxBytes: size })).resolves.toMatchObject({ format: 'generic' });
  });

  it('the default limit is 2 GiB: a sparse file one byte over it is refused', async () => {
    expect(MAX_DATA_FILE_BYTES).toBe(2 * 1024 ** 3);
    const file = tmp.file('huge.jsonl');
    // a sparse file: its size is 2 GiB + 1 without writing 2 GiB to disk
    fs.writeFileSync(file, '');
    fs.truncateSync(file, MAX_DATA_FILE_BYTES + 1);
    await expect(loadPreferenceFile(file)).rejects.toThrow(`${file}: 2048 MB is more than the 2048 MB limit for a preference file`);
    fs.rmSync(file);
  });
});

describe('train/eval split by seed', () => {
  const items = Array.from({ length: 199 }, (_, i) => i);

  it('is deterministic, disjoint, covers every item, and keeps file order', () => {
    const a = splitPairs(items, 0.1, 7);
    const b = splitPairs(items, 0.1, 7);
    expect(a).toEqual(b);
    expect(a.eval).toHaveLength(20);
    expect(a.train).toHaveLength(179);
    expect(new Set([...a.train, ...a.eval]).size).toBe(199);
    expect(a.eval.filter((x) => a.train.includes(x))).toEqual([]);
    expect([...a.train].sort((x, y) => x - y)).toEqual(a.train);
    expect([...a.eval].sort((x, y) => x - y)).toEqual(a.eval);
  });

  it('differs across seeds', () => {
    const evals = [1, 2, 3, 4].map((seed) => splitPairs(items, 0.1, seed).eval.join(','));
    expect(new Set(evals).size).toBe(4);
  });

  it('holds out at least one item (and leaves one to train) when the fraction is above 0; none at 0', () => {
    expect(splitPairs([1, 2, 3], 0.01, 1).eval).toHaveLength(1);
    expect(splitPairs([1, 2], 0.99, 1).train).toHaveLength(1);
    expect(splitPairs(items, 0, 1)).toEqual({ train: items, eval: [] });
    expect(splitPairs([5], 0.5, 1)).toEqual({ train: [5], eval: [] });
  });
});

describe('inspectDataset (the Datasets view and `lab dataset`)', () => {
  const parse = (input: Record<string, unknown>) => commandInputs['datasets:inspect'].parse(input);

  it('without a model: counts, the skipped row, a preview', async () => {
    const r = await inspectDataset(parse({ path: HH, limit: 3 }));
    expect(r).toMatchObject({ format: 'hh', totalRows: 200, pairs: 199, skippedCount: 1, skipped: [{ line: 87, field: 'chosen' }] });
    expect(r.preview.map((p) => p.line)).toEqual([1, 2, 3]);
    expect(r.droppedCount).toBeUndefined();
  });

  it('with a model: token counts as training sees them, and pairs whose prompt fills maxLength dropped', async () => {
    const model = tmp.file('gpt2');
    fs.mkdirSync(model);
    writeGpt2Tokenizer(model);
    const r = await inspectDataset(parse({ path: HH, model, maxLength: 64, limit: 200 }));
    expect(r.promptFormat).toBe('raw');
    expect(r.preview).toHaveLength(199);
    const dropped = r.preview.filter((p) => p.tokens?.dropped);
    expect(r.droppedCount).toBe(dropped.length);
    expect(dropped.length).toBeGreaterThan(0);
    for (const p of r.preview) {
      const t = p.tokens!;
      if (t.dropped) {
        expect(t.dropped).toBe('the prompt alone fills maxLength 64');
        continue;
      }
      expect(t.prompt).toBeLessThan(64);
      expect(t.prompt + t.chosen).toBeLessThanOrEqual(64);
      expect(t.prompt + t.rejected).toBeLessThanOrEqual(64);
      expect(t.chosen).toBeGreaterThan(0);
    }
  });

  it('flags a pair as truncated only when a response lost tokens (one that exactly fills maxLength is whole)', async () => {
    const model = tmp.file('gpt2-trunc');
    fs.mkdirSync(model);
    writeGpt2Tokenizer(model);
    const [prompt, chosen, rejected] = ['Answer the question, please:', ' a b c', ' a b'];
    const p = gpt2Encode(prompt).length;
    const c = gpt2Encode(prompt + chosen).length - p + 1;
    const r = gpt2Encode(prompt + rejected).length - p + 1;
    expect(p + c).toBeGreaterThanOrEqual(9);
    const file = write('trunc.jsonl', jsonl([{ prompt, chosen, rejected }]));
    const at = async (maxLength: number) => (await inspectDataset(parse({ path: file, model, maxLength }))).preview[0].tokens;
    expect(await at(p + c + 2)).toEqual({ prompt: p, chosen: c, rejected: r, truncated: false, dropped: null });
    expect(await at(p + c)).toEqual({ prompt: p, chosen: c, rejected: r, truncated: false, dropped: null });
    expect(await at(p + c - 1)).toEqual({ prompt: p, chosen: c - 1, rejected: r, truncated: true, dropped: null });
  }, 60_000);
});
