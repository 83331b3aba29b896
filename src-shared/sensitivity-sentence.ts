/**
 * The sensitivity study's summary in words, written from its numbers (issue 13 item 3): which loss ranks first
 * how often, how well our rankings agree with the paper's (mean Kendall's τ, in words by its size), and what
 * Welch's tests say about bDPO against DPO before and after Holm's correction, with the conclusion that follows
 * from those counts. Pure and browser-safe, so the CLI, the Sweeps view and a report say the same thing.
 */
import type { SensitivityStudy } from './sensitivity';

/** How strong an agreement a τ is, in words. */
export function tauWords(tau: number): string {
  if (tau >= 0.7) return 'closely';
  if (tau >= 0.4) return 'moderately';
  if (tau > 0.1) return 'weakly';
  if (tau >= -0.1) return 'not at all';
  return 'in reverse';
}

const times = (n: number, of: number) => `${n} of ${of} setting${of === 1 ? '' : 's'}`;

export function sensitivitySentence(study: SensitivityStudy): string {
  const n = study.rows.length;
  if (n === 0 || study.rows.every((r) => r.ranking.length === 0)) return 'No run of the study has finished yet.';
  const parts: string[] = [];

  const firsts = Object.entries(study.firstPlaces).sort((a, b) => b[1] - a[1]);
  const [top, topN] = firsts[0];
  const others = firsts.slice(1).map(([l, k]) => `${l} in ${k}`);
  parts.push(`${top} ranks first in ${times(topN, n)}${others.length ? ` (${others.join(', ')})` : ''}.`);

  const taus = study.rows.map((r) => r.tau).filter((t): t is number => t !== null);
  if (study.meanTau !== null) {
    const lo = Math.min(...taus);
    const hi = Math.max(...taus);
    parts.push(
      `Our rankings agree with the paper's ${tauWords(study.meanTau)} (mean Kendall's τ ${study.meanTau.toFixed(2)}, from ${lo.toFixed(2)} to ${hi.toFixed(2)}).`,
    );
  }

  const tested = study.rows.filter((r) => r.welch !== null).length;
  if (tested === 0) parts.push("bDPO and DPO could not be compared: Welch's test needs at least two seeds of each.");
  else {
    const b = study.bdpoBetterHolm;
    const d = study.dpoBetterHolm;
    parts.push(
      `By Welch's test, bDPO beats DPO in ${times(study.bdpoBetter, tested)} and DPO beats bDPO in ${study.dpoBetter} (p < 0.05); after Holm's correction over the ${tested}, ${b} and ${d}.`,
    );
    if (b > 0 && d === 0) parts.push("This supports the paper's claim that bDPO improves on DPO here.");
    else if (d > 0 && b === 0) parts.push("This contradicts the paper's claim that bDPO improves on DPO: where the two differ, DPO is ahead.");
    else if (b > 0 && d > 0) parts.push('Which of the two is better depends on the setting.');
    else parts.push('No setting separates the two once the number of tests is accounted for.');
  }
  return parts.join(' ');
}
