/** Saved custom losses through the service on a real SQLite file: save, list, bad formula, duplicate name, delete. */
import { afterAll, describe, expect, it } from 'vitest';
import { createLab } from '../../src-main/api/lab';
import { childWorkerLauncher } from '../../src-main/runner/launch-child';
import { LabStore } from '../../src-main/store';
import { tempDir } from './tmp';

const tmp = tempDir('dpo-lab-custom-losses-');
const file = tmp.file('lab.db');
const lab = createLab({ dbFile: file, mode: 'cli', launcher: childWorkerLauncher(), backend: 'cpu' });
afterAll(() => {
  lab.close();
  tmp.cleanup();
});

describe('custom losses', () => {
  it('saves a formula that parses and lists it, also after reopening the file', async () => {
    const res = await lab.service.invoke('losses:saveCustom', { name: 'my loss', formula: '-logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))' });
    expect(res.ok).toBe(true);
    const list = await lab.service.invoke('losses:listCustom', {});
    expect(list.ok && (list.value as { name: string }[]).map((c) => c.name)).toEqual(['my loss']);
    const again = LabStore.open(file);
    try {
      expect(again.customLosses.list().map((c) => c.formula)).toEqual(['-logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))']);
    } finally {
      again.close();
    }
  });

  it('refuses a bad formula naming the character, and stores nothing', async () => {
    const res = await lab.service.invoke('losses:saveCustom', { name: 'bad', formula: '-logsigmoid(beta * (logp_w - nope))' });
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.code).toBe('invalid_input');
      // "nope" starts at 0-based index 29: the message counts from 1
      expect(res.error.message).toMatch(/^formula: unknown name nope.*\(at character 30\)$/);
    }
    expect(lab.store.customLosses.byName('bad')).toBeUndefined();
  });

  it('refuses a duplicate name and a built-in name clearly', async () => {
    const dup = await lab.service.invoke('losses:saveCustom', { name: 'my loss', formula: 'logp_l - logp_w' });
    expect(dup.ok).toBe(false);
    if (!dup.ok) expect(dup.error.message).toMatch(/custom loss named "my loss" already exists/);
    const builtin = await lab.service.invoke('losses:saveCustom', { name: 'DPO', formula: 'logp_l - logp_w' });
    expect(builtin.ok).toBe(false);
    if (!builtin.ok) expect(builtin.error.message).toMatch(/name: is the name of a built-in loss/);
  });

  it('deletes by id; a missing id is not_found', async () => {
    const id = lab.store.customLosses.byName('my loss')!.id;
    expect(await lab.service.invoke('losses:deleteCustom', { id })).toEqual({ ok: true, value: { ok: true } });
    const gone = await lab.service.invoke('losses:deleteCustom', { id });
    expect(!gone.ok && gone.error.code).toBe('not_found');
  });
});
