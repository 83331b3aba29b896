/**
 * The walls between layers are lint rules (eslint.config.js); these cases show each wall holds: a forbidden
 * import is an error naming the wall, and the allowed neighbour passes. Real ESLint, real config.
 */
import { ESLint } from 'eslint';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** Lints `code` as if it lived at `file` (the file need not exist) and returns the boundary messages. */
async function walls(file: string, code: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return res.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer walls', () => {
  it('refuses a renderer import of main-side code (the fixture) and allows @shared', async () => {
    const fixture = fs.readFileSync(path.join(root, 'test/fixtures/lint/renderer-imports-main.ts'), 'utf8');
    const msgs = await walls('src-renderer/src/lib/fixture.ts', fixture);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatch(/renderer imports only @shared/);
    expect(await walls('src-renderer/src/lib/fixture.ts', `import type { RunSummary } from '@shared/contract';\nexport type R = RunSummary;\n`)).toEqual([]);
  });

  it('keeps Node, Electron and tfjs out of the renderer', async () => {
    const code = `import fs from 'node:fs';\nimport { ipcRenderer } from 'electron';\nimport * as tf from '@tensorflow/tfjs-core';\nexport const x = [fs, ipcRenderer, tf];\n`;
    expect(await walls('src-renderer/src/views/Fixture.ts', code)).toHaveLength(3);
  });

  it('lets src-shared import only itself and zod', async () => {
    expect(await walls('src-shared/fixture.ts', `import { LabService } from '../src-main/api/service';\nexport const s = LabService;\n`)).toHaveLength(1);
    expect(
      await walls('src-shared/fixture.ts', `import { z } from 'zod';\nimport { LOSS_NAMES } from './losses';\nexport const s = [z, LOSS_NAMES];\n`),
    ).toEqual([]);
  });

  it('keeps the main process and serve free of tfjs: no static import of computing engine modules outside workers', async () => {
    const code = `import { trainSynthetic } from '../engine/synthetic/experiment';\nexport const t = trainSynthetic;\n`;
    expect((await walls('src-main/api/fixture.ts', code))[0]).toMatch(/loads tfjs/);
    expect(await walls('src-main/electron/fixture.ts', code)).toHaveLength(1);
    // types and import() are fine: a command that computes loads the engine when it runs
    expect(
      await walls(
        'src-main/api/fixture.ts',
        `import type { BackendInfo } from '../engine/backend';\nexport const f = (b: BackendInfo) => import('../engine/backend').then(() => b);\n`,
      ),
    ).toEqual([]);
    expect(await walls('src-main/runner/worker.ts', code)).toEqual([]);
  });

  it('makes front doors call the service, not the store or the runner', async () => {
    const code = `import { RunStore } from '../store/runs';\nexport const r = RunStore;\n`;
    expect((await walls('src-main/cli/fixture.ts', code))[0]).toMatch(/call the service/);
    expect(await walls('src-main/server/fixture.ts', code)).toHaveLength(1);
    expect(await walls('src-main/cli/fixture.ts', `import { resolveDbPath } from '../store/paths';\nexport const p = resolveDbPath;\n`)).toEqual([]);
  });

  it('keeps engine/ free of the store, the runner, the api and Electron', async () => {
    const code = `import { LabStore } from '../../store';\nimport { app } from 'electron';\nexport const x = [LabStore, app];\n`;
    expect(await walls('src-main/engine/synthetic/fixture.ts', code)).toHaveLength(2);
  });
});
