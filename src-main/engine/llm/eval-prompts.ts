import fs from 'node:fs';

export interface EvalPrompt {
  /** 1-based line of the file the prompt came from */
  line: number;
  text: string;
}

/**
 * Reads an evaluation prompts file: JSONL whose rows have a "prompt" string (other fields are ignored, so a
 * preference data file works too), or plain text with one prompt a line. Blank lines are skipped. A bad row or an
 * empty file is an error that names the file and the line.
 */
export function readEvalPrompts(file: string, limit?: number): EvalPrompt[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a prompts file' : (err as Error).message}`, {
      cause: err,
    });
  }
  const lines = text.split(/\r?\n/);
  const firstLine = lines.find((l) => l.trim());
  const jsonl = file.endsWith('.jsonl') || file.endsWith('.json') || (firstLine?.trimStart().startsWith('{') ?? false);
  const out: EvalPrompt[] = [];
  for (const [i, raw] of lines.entries()) {
    if (limit !== undefined && out.length >= limit) break;
    if (!raw.trim()) continue;
    const line = i + 1;
    if (!jsonl) {
      // one prompt a line; "\n" written as the two characters \ n stands for a newline inside the prompt
      out.push({ line, text: raw.replace(/\\n/g, '\n') });
      continue;
    }
    let row: unknown;
    try {
      row = JSON.parse(raw);
    } catch (err) {
      throw new Error(`${file} line ${line}: not valid JSON (${(err as Error).message})`, { cause: err });
    }
    const prompt = (row as { prompt?: unknown } | null)?.prompt;
    if (typeof prompt !== 'string')
      throw new Error(`${file} line ${line}: field "prompt": expected a string, got ${prompt === undefined ? 'nothing' : typeof prompt}`);
    if (!prompt.trim()) throw new Error(`${file} line ${line}: field "prompt" is empty`);
    out.push({ line, text: prompt });
  }
  if (!out.length) throw new Error(`${file}: no prompts (the file is empty; give one JSON row with a "prompt" field, or one prompt, a line)`);
  return out;
}
