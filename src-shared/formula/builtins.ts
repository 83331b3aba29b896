import type { LossName } from '@shared/losses';

/**
 * The nine built-in losses written in the formula language (losses.md), as starting points for a custom
 * loss and as the test that the language and its compiler agree with the hand-written definitions.
 * cDPO's label smoothing ε is not an input of the language, so it is a named constant here (0.1).
 */
const rw = 'rw = logp_w - ref_w';
const rl = 'rl = logp_l - ref_l';
const h = 'h = (logp_w - ref_w) - (logp_l - ref_l)';
const lamAsymm = 'lam = 1 + clip(sg(logp_w - logp_l), 0, clip)';
const lamSymm = 'lam = 1 + clip(sg(logp_w - logp_l), 1 / (1 + clip) - 1, clip)';
const nbdpo = '-logsigmoid(beta * lam * rw - beta * rl - beta * (lam - 1) * sg(rw))';
const nbdpo2 = '-logsigmoid(beta * lam * rw - beta * rl)';

export const BUILTIN_FORMULAS: Readonly<Record<LossName, string>> = {
  dpo: '-logsigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))',
  'nbdpo-asymm': [rw, rl, lamAsymm, nbdpo].join('\n'),
  'nbdpo-symm': [rw, rl, lamSymm, nbdpo].join('\n'),
  'nbdpo2-asymm': [rw, rl, lamAsymm, nbdpo2].join('\n'),
  'nbdpo2-symm': [rw, rl, lamSymm, nbdpo2].join('\n'),
  bdpo: ['lam_w = sg(logp_l / (logp_w + logp_l))', '-logsigmoid(beta * lam_w * (logp_w - ref_w) - beta * (1 - lam_w) * (logp_l - ref_l))'].join('\n'),
  ipo: '((logp_w - ref_w) - (logp_l - ref_l) - 1 / (2 * beta))^2',
  cdpo: ['eps = 0.1  # label smoothing ε', h, '-(1 - eps) * logsigmoid(beta * h) - eps * logsigmoid(-beta * h)'].join('\n'),
  hinge: 'max(0, 1 - beta * ((logp_w - ref_w) - (logp_l - ref_l)))',
};

/** The label smoothing BUILTIN_FORMULAS.cdpo is written with. */
export const BUILTIN_CDPO_LABEL_SMOOTHING = 0.1;
