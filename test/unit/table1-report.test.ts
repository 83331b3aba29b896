/**
 * The Table 1 report file: self-contained (nothing to fetch), Table 1 on the paper's scale with 95% intervals and
 * the raw metric apart, the sensitivity sentence of the study it is given, and its CSV data embedded as downloads.
 */
import { describe, expect, it } from 'vitest';
import { SyntheticConfigSchema } from '@shared/synthetic-config';
import { summariseRuns } from '@shared/sweeps';
import { summariseSensitivity } from '@shared/sensitivity';
import { sensitivitySentence } from '@shared/sensitivity-sentence';
import { PAPER_LOSSES } from '@shared/losses';
import { ci95Half, table1ReportHtml, table1ReportMarkdown, toCsv } from '../../src-main/report/table1-report';

let id = 0;
const run = (config: Record<string, unknown>, v: number) => ({
  id: ++id,
  status: 'done',
  config: SyntheticConfigSchema.parse(config) as unknown as Record<string, unknown>,
  final: { expectedUtility: 2 * v, expectedUtilityNormalized: v },
});

const table1Runs = [0, 0.2, 0.4].flatMap((mask) =>
  [0, 1, 2].flatMap((seed) => PAPER_LOSSES.map((loss) => run({ loss, mask, seed }, 4 + seed + (loss === 'dpo' ? 1 : 0)))),
);
const sensRuns = [0, 1, 2].flatMap((seed) =>
  PAPER_LOSSES.map((loss) => run({ loss, mask: 0, seed, steps: 300 }, loss === 'bdpo' ? 7 + seed / 10 : 4 + seed / 10)),
);
const meta = { appVersion: '9.9.9', backend: 'wasm (test)', seeds: 3, createdAt: new Date(0), config: { preset: 'table1', note: '<b>' } };

function decodeDownloads(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(/<a download="([^"]+)" href="data:text\/csv;charset=utf-8;base64,([^"]+)">/g))
    out.set(m[1], Buffer.from(m[2], 'base64').toString('utf8'));
  return out;
}

describe('table1 report', () => {
  const html = table1ReportHtml({ table1: summariseRuns(table1Runs, 'table1'), sensitivity: summariseSensitivity(sensRuns), meta });

  it('fetches nothing: no script, stylesheet link, font, image or URL outside the file', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(https?:)?\/\/[a-z]/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('gives Table 1 on the paper scale as mean ± 95% t-interval beside the paper, the raw metric apart', () => {
    // dpo at mask 0: values 5, 6, 7 → mean 6, sd 1, half-width t(0.975, 2)·1/√3 = 4.302653/√3 = 2.48
    expect(ci95Half(1, 3)).toBeCloseTo(4.302652729911275 / Math.sqrt(3), 9);
    expect(ci95Half(1, 1)).toBeNull();
    expect(html).toContain('6.00 ± 2.48<span class="n">n=3</span><span class="paper">paper 4.28</span>');
    // the raw grid: 12 ± 4.97, no paper value
    expect(html).toContain('12.00 ± 4.97<span class="n">n=3</span></td>');
    expect(html.indexOf('expectedUtilityNormalized')).toBeLessThan(html.indexOf('Raw expected utility'));
  });

  it('holds the sensitivity sentence and table, escapes what it prints, and embeds the CSV data', () => {
    const sentence = sensitivitySentence(summariseSensitivity(sensRuns));
    expect(html).toContain(`<p class="sentence">${sentence.replace(/'/g, '&#39;').replace(/</g, '&lt;')}</p>`);
    expect(html).toContain('bdpo › ');
    expect(html).toContain('&quot;&lt;b&gt;&quot;');
    expect(html).toContain('DPO Lab 9.9.9, backend wasm (test), 3 seeds per cell');
    const files = decodeDownloads(html);
    expect([...files.keys()]).toEqual(['table1.csv', 'sensitivity.csv']);
    const t1 = files.get('table1.csv')!.trim().split('\r\n');
    expect(t1[0]).toBe('metric,mask,loss,n,mean,std,ci95_low,ci95_high,paper');
    expect(t1).toHaveLength(1 + 2 * 18);
    expect(t1[1].startsWith('expectedUtilityNormalized,0,dpo,3,6,1,')).toBe(true);
    expect(t1[1].endsWith(',4.28')).toBe(true);
    const sens = files.get('sensitivity.csv')!.trim().split('\r\n');
    expect(sens).toHaveLength(2);
    expect(sens[1]).toMatch(/^mlp,300,1,0\.01,0,/);
  });

  it("the report's summary follows the data: bDPO ahead in the study, or DPO ahead (HTML and Markdown alike)", () => {
    const flipped = [0, 1, 2].flatMap((seed) =>
      PAPER_LOSSES.map((loss) => run({ loss, mask: 0, seed, steps: 300 }, loss === 'dpo' ? 7 + seed / 10 : 4 + seed / 10)),
    );
    const sentenceOf = (h: string) => /<p class="sentence">([^<]*)<\/p>/.exec(h)![1];
    const bdpoWins = sentenceOf(html);
    const dpoWins = sentenceOf(table1ReportHtml({ sensitivity: summariseSensitivity(flipped), meta }));
    expect(bdpoWins).toMatch(/^bdpo ranks first in 1 of 1 setting/);
    expect(bdpoWins).toContain('supports the paper&#39;s claim');
    expect(dpoWins).toMatch(/^dpo ranks first in 1 of 1 setting/);
    expect(dpoWins).toContain('contradicts the paper&#39;s claim');
    const { md } = table1ReportMarkdown({ sensitivity: summariseSensitivity(flipped), meta }, 'r');
    expect(md).toContain(`> ${sensitivitySentence(summariseSensitivity(flipped))}`);
  });

  it('quotes CSV fields as RFC 4180 says', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['x,y', 'say "hi"'],
          [null, 1],
        ],
      ),
    ).toBe('a,b\r\n"x,y","say ""hi"""\r\n,1\r\n');
  });
});
