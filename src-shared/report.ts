/**
 * The Table 1 report's request and answer (issue 13 item 3): which finished sweeps it reads and in which format.
 * HTML is one self-contained file; Markdown comes with its figures (SVG) and data (CSV) as files to lay beside it.
 */
import { z } from 'zod';

export const REPORT_FORMATS = ['html', 'md'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const SweepId = z.number({ error: 'expected a sweep id' }).int('a sweep id is an integer').positive('a sweep id is positive');

export const ReportInputSchema = z
  .object({
    /** a finished Table 1 sweep */
    table1: SweepId.optional(),
    /** a finished sensitivity sweep */
    sensitivity: SweepId.optional(),
    format: z.enum(REPORT_FORMATS, { error: 'format must be "html" or "md"' }).default('html'),
    /** the report's file name; Markdown names its figure and data files after it (default table1-report.<format>) */
    filename: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^/\\]+$/, 'filename: a file name, without a folder')
      .optional(),
  })
  .strict()
  .refine((r) => r.table1 !== undefined || r.sensitivity !== undefined, { message: 'give table1, sensitivity or both (sweep ids)', path: ['table1'] });
export type ReportInput = z.output<typeof ReportInputSchema>;

export interface ReportOutput {
  /** the report itself: HTML or Markdown */
  filename: string;
  content: string;
  /** Markdown only: SVG figures and CSV data the report links to by these names (same folder) */
  assets: { filename: string; content: string }[];
}
