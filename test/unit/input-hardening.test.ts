/** Small input rough edges: formula cells in CSV exports, a byte-order mark in JSON files, contradictory sweep requests. */
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { tableCsv } from '../../src-main/store/export';
import { parseJsonText } from '../../src-main/util/json-file';
import { SweepStartSchema } from '@shared/sweeps';
import { issuesFromZod } from '@shared/errors';

describe('input hardening', () => {
  it('CSV exports neutralise text that a spreadsheet would run as a formula, leaving numbers alone', () => {
    const csv = tableCsv(
      ['name', 'value'],
      [
        ['=HYPERLINK("http://x")', -0.5],
        ['-0.25', 3],
        ['@SUM(A1)', null],
        ['+cmd', 1],
        ['plain', 2],
      ],
    );
    const rows = parse(csv, { columns: true }) as { name: string; value: string }[];
    expect(rows.map((r) => r.name)).toEqual(['\'=HYPERLINK("http://x")', '-0.25', "'@SUM(A1)", "'+cmd", 'plain']);
    expect(rows[0].value).toBe('-0.5');
  });

  it('accepts a UTF-8 byte-order mark at the start of a JSON file, and still names the file on bad JSON', () => {
    expect(parseJsonText('\ufeff{"K": 5}', 'data.json')).toEqual({ K: 5 });
    expect(() => parseJsonText('\ufeff{"K": }', 'data.json')).toThrow(/^data\.json: not valid JSON at line 1/);
  });

  it('refuses a sweep that gives both a preset and a grid', () => {
    const res = SweepStartSchema.safeParse({ preset: 'table1', grid: { lr: [0.1] } });
    expect(res.success).toBe(false);
    expect(issuesFromZod(res.error!)).toEqual([{ path: 'grid', message: 'give a preset or a grid, not both (a preset fixes its own grid)' }]);
  });
});
