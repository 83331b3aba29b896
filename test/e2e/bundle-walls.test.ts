/**
 * The built main-process bundle (Electron main) and the CLI bundle (which `serve` runs) must start without
 * tfjs: walk their static import graphs in out/main and look for any @tensorflow package. The worker bundle
 * is the control: it must reach tfjs, or this walk would prove nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const OUT = path.resolve(import.meta.dirname, '../../out/main');

/** Every bare package a bundle file loads at start-up (static imports, followed through local chunks). */
function staticPackages(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = fs.readFileSync(file, 'utf8');
    // `import … from "x"` and `import "x"`, not `import("x")` (dynamic imports load on demand)
    for (const m of code.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(path.join(OUT, entry));
  return packages;
}

describe('bundle walls', () => {
  it('the Electron main bundle and the CLI (serve) bundle import no tfjs at start-up; the worker does', () => {
    const tfjs = (set: Set<string>) => [...set].filter((p) => p.startsWith('@tensorflow/'));
    expect(tfjs(staticPackages('index.js'))).toEqual([]);
    expect(tfjs(staticPackages('cli.js'))).toEqual([]);
    expect(tfjs(staticPackages('worker.js')).length).toBeGreaterThan(0);
    expect(staticPackages('index.js').has('electron')).toBe(true);
  });
});
