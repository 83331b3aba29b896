import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { LabStore } from '../../src-main/store';
import { EvalSettingsSchema, summarizeEval } from '../../src-shared/eval';
import { tempDir } from './tmp';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const settings = EvalSettingsSchema.parse({ maxNewTokens: 16 });
const responses = [
  { index: 0, prompt: 'How do I bake bread?', response: 'Knead, rise, bake.', reward: 1.5, cost: -0.5, refResponse: 'Buy some.', refReward: 0.2 },
  { index: 1, prompt: 'Quote "this", please\nand a newline', response: 'No.', reward: -1, cost: 2, refResponse: null, refReward: null },
];

describe('evaluation store', () => {
  it('round-trips an evaluation and its responses through a real SQLite file, and a reopened file reads the same', () => {
    const file = tmp.file('evals.db');
    const store = LabStore.open(file);
    const runId = store.runs.createMany([{ name: 'bdpo run', kind: 'llm', config: { loss: 'bdpo' }, seed: 1 }])[0];
    const id = store.evals.create({
      runId,
      name: 'bdpo run',
      loss: 'bdpo',
      model: '/m',
      prompts: '/p.jsonl',
      reward: '/r',
      cost: '/c',
      reference: '/m',
      samples: 2,
      settings,
    });
    expect(store.evals.get(id)).toMatchObject({ id, runId, status: 'queued', summary: null, settings: { maxNewTokens: 16, temperature: 0 } });
    store.evals.markRunning(id);
    expect(store.evals.get(id)!.status).toBe('running');
    const summary = { ...summarizeEval(responses), tokensPerSecond: 12.5 };
    store.evals.finish(id, 'done', { summary, responses });
    store.close();

    const again = LabStore.open(file);
    const rec = again.evals.get(id)!;
    expect(rec.status).toBe('done');
    expect(rec.summary).toEqual(summary);
    expect(rec.finishedAt).toBeGreaterThan(0);
    expect(again.evals.responses(id)).toEqual(responses);
    expect(again.evals.responses(id, { offset: 1, limit: 1 })).toEqual([responses[1]]);
    expect(again.evals.responseCount(id)).toBe(2);
    expect(again.evals.list({ runId }).map((e) => e.id)).toEqual([id]);
    expect(again.evals.list({ runId: runId + 1 })).toEqual([]);

    // a run's evaluations (and their rows) go with it
    again.runs.delete(runId);
    expect(again.evals.get(id)).toBeNull();
    expect(again.evals.responseCount(id)).toBe(0);
    again.close();
  });

  it('an evaluation whose process died is failed at the next open, saying so', () => {
    const file = tmp.file('orphan.db');
    const store = LabStore.open(file);
    const id = store.evals.create({
      runId: null,
      name: 'm',
      loss: null,
      model: '/m',
      prompts: '/p',
      reward: '/r',
      cost: null,
      reference: null,
      samples: null,
      settings,
    });
    store.close();
    // a pid no process has
    const raw = new Database(file);
    raw.prepare(`UPDATE evals SET owner = '999999999:1' WHERE id = ?`).run(id);
    raw.close();
    const again = LabStore.open(file);
    expect(again.evals.failOrphans()).toEqual([id]);
    expect(again.evals.get(id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/interrupted.*pid 999999999/) });
    again.close();
  });
});
