import type { PreferencePair } from '@shared/llm-data';
import { loadPreferenceFile } from './data';

/**
 * Reads a preference file for scorer training: helpfulness pairs for a reward model; for a cost model the safety
 * pairs (PKU-SafeRLHF's safer_response_id) with both safety labels, which every pair must carry. Free of tfjs, so
 * the API can check a file before a worker starts.
 */
export async function loadScorerPairs(file: string, kind: 'reward' | 'cost'): Promise<PreferencePair[]> {
  const data = await loadPreferenceFile(file, { preference: kind === 'cost' ? 'safer' : 'better' });
  if (kind === 'cost') {
    const bad = data.pairs.find((p) => p.chosenSafe === undefined || p.rejectedSafe === undefined);
    if (bad)
      throw new Error(
        `${data.file}:${bad.line}: a cost model needs safety labels for both responses (PKU-SafeRLHF's is_response_0_safe / is_response_1_safe); this ${data.format} file has none`,
      );
  }
  return data.pairs;
}
