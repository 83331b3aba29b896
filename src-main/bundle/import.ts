/**
 * Loads a decoded bundle into this lab: new ids for the sweep and every run, nothing existing touched, all in one
 * transaction (a failure leaves no half-imported sweep). A bundle this lab already holds (same content hash, its
 * runs still here) is not imported again: the answer names the runs of the earlier import.
 */
import type { LabStore } from '../store';
import { findImport, insertImportedRun } from '../store/bundles';
import type { BundleContent, BundleImportResult } from '@shared/bundle';
import { FINGERPRINTS_ARTIFACT } from './collect';

export function importBundle(store: LabStore, content: BundleContent, contentHash: string, filename: string): BundleImportResult {
  const earlier = findImport(store, contentHash);
  if (earlier) {
    const what = earlier.sweepId != null ? `sweep ${earlier.sweepId} (runs ${earlier.runIds.join(', ')})` : `run ${earlier.runIds.join(', ')}`;
    return {
      contentHash,
      duplicate: true,
      runIds: earlier.runIds,
      sweepId: earlier.sweepId,
      message: `${filename} was already imported as ${what}; nothing added`,
    };
  }
  const when = new Date().toISOString();
  const result = store.db.transaction(() => {
    let sweepId: number | null = null;
    if (content.sweep) {
      sweepId = store.sweeps.create(content.sweep.name, content.sweep.preset, content.sweep.config);
      store.sweeps.finish(sweepId, content.sweep.status, content.sweep.summary);
    }
    const runIds = content.runs.map((r) =>
      insertImportedRun(
        store,
        {
          ...r,
          snapshots: r.snapshots.map((s) => ({ ...s, data: Buffer.from(s.data, 'base64') })),
          log: [
            ...r.log,
            {
              ts: Date.now(),
              level: 'info',
              text: `imported from ${filename} (bundle ${contentHash.slice(0, 12)}…, run ${r.sourceId} in a DPO Lab ${content.app.version}) at ${when}`,
            },
          ],
          artifacts: [
            ...(r.dataset ? [{ kind: 'dataset', name: 'dataset.json', content: JSON.stringify(r.dataset) }] : []),
            ...(r.fingerprints ? [{ kind: FINGERPRINTS_ARTIFACT, name: 'fingerprints.json', content: JSON.stringify(r.fingerprints) }] : []),
          ],
        },
        sweepId,
        contentHash,
      ),
    );
    return { sweepId, runIds };
  })();
  const what = result.sweepId != null ? `sweep ${result.sweepId} with ${result.runIds.length} run(s)` : `run ${result.runIds[0]}`;
  return { contentHash, duplicate: false, ...result, message: `imported ${filename} as ${what}` };
}
