/** The wording every boundary uses for a field of the wrong kind or a missing one (src-shared/errors.ts). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatIssues, issuesFromZod } from '@shared/errors';

const Schema = z.object({ filename: z.string(), count: z.number().int(), rate: z.number(), on: z.boolean(), ids: z.array(z.number()) }).strict();
const messageOf = (input: unknown) => {
  const r = Schema.safeParse(input);
  if (r.success) throw new Error('expected a refusal');
  return formatIssues(issuesFromZod(r.error));
};

describe('plain messages for zod issues', () => {
  it('names what a field should be, in words', () => {
    const m = messageOf({ filename: 3, count: 1.5, rate: 'x', on: 'yes', ids: 4 });
    expect(m).toContain('filename must be text');
    expect(m).toContain('count must be a whole number');
    expect(m).toContain('rate must be a number');
    expect(m).toContain('on must be true or false');
    expect(m).toContain('ids must be a list');
  });

  it('says a missing field is required rather than of the wrong kind', () => {
    expect(messageOf({ count: 1, rate: 1, on: true, ids: [] })).toContain('filename is required');
  });
});
