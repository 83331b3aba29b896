import cliProgress from 'cli-progress';
import type { LabEvent } from '@shared/events';

/**
 * A progress bar on stderr while runs train (only when stderr is a terminal, so logs and pipes stay clean).
 * Returns a function that stops it.
 */
export function showProgress(onEvent: (cb: (e: LabEvent) => void) => () => void, runIds: number[], label: string): () => void {
  if (!process.stderr.isTTY) return () => {};
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} steps | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const watched = new Set(runIds);
  const off = onEvent((e) => {
    if (e.type !== 'run:progress' || !watched.has(e.runId)) return;
    if (!started) {
      bar.start(e.total, e.done);
      started = true;
    } else bar.update(e.done);
  });
  return () => {
    off();
    if (started) bar.stop();
  };
}
