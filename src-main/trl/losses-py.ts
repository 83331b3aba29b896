import { isLossName, LOSS_NAMES, type CustomLossSpec, type LossName } from '@shared/losses';
import { parseFormulaOrThrow } from '@shared/formula';
import { formulaComment, programToPythonBody } from './formula-py';

/**
 * The Python function that implements each registry loss in dpo_lab_losses.py. A Record over LossName, so a loss
 * added to the registry fails to compile here until the export has it too.
 */
const PY_FUNCTION: Readonly<Record<LossName, string>> = {
  dpo: 'dpo',
  'nbdpo-asymm': 'nbdpo_asymm',
  'nbdpo-symm': 'nbdpo_symm',
  'nbdpo2-asymm': 'nbdpo2_asymm',
  'nbdpo2-symm': 'nbdpo2_symm',
  bdpo: 'bdpo',
  ipo: 'ipo',
  cdpo: 'cdpo',
  hinge: 'hinge',
};

const registryLines = LOSS_NAMES.map((n) => `    ${JSON.stringify(n)}: ${PY_FUNCTION[n]},`).join('\n');

/** A custom loss's Python: comment with its formula, then the function written from its syntax tree. */
function customLossPy(spec: CustomLossSpec, fnName: string): string {
  const formula = parseFormulaOrThrow(spec.formula);
  return [
    `# custom loss ${JSON.stringify(spec.name)}, written from its formula:`,
    ...formulaComment(spec.formula, ''),
    `def ${fnName}(lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):`,
    ...programToPythonBody(formula.program),
  ].join('\n');
}

/**
 * dpo_lab_losses.py: the lab's losses (src-main/engine/losses) as plain PyTorch, op for op, with the same detached
 * factors (`.detach()` where the lab uses stopGradient), the lab's balance diagnostics (diagnostics.ts), and the
 * given custom (formula) losses written from their parsed formulas. Needs torch only. test/unit/trl-export.test.ts
 * checks values and autograd gradients against tfjs.
 */
export function lossesPy(custom: readonly CustomLossSpec[] = []): string {
  const seen = new Set<string>();
  for (const c of custom) {
    if (isLossName(c.name)) throw new Error(`custom loss ${JSON.stringify(c.name)} has the name of a built-in loss; rename it to export it`);
    if (seen.has(c.name)) throw new Error(`two custom losses are named ${JSON.stringify(c.name)}`);
    seen.add(c.name);
  }
  const fnNames = custom.map((_, i) => `custom_loss_${i + 1}`);
  const customFunctions = custom.map((c, i) => customLossPy(c, fnNames[i]) + '\n\n').join('\n');
  const customLines = custom.map((c, i) => `    ${JSON.stringify(c.name)}: ${fnNames[i]},`).join('\n');
  return LOSSES_PY_HEAD + customFunctions + LOSSES_PY_REGISTRY.replace('%CUSTOM%', () => customLines) + LOSSES_PY_TAIL;
}

const LOSSES_PY_HEAD = `"""DPO Lab's preference losses as plain PyTorch functions (exported by \`lab export-trl\`).

Every function takes per-pair sequence log-probs (any shape, elementwise) and returns per-pair losses with the
same stop-gradients as the lab (losses.md): lw/ll are the policy's log-probs of the chosen/rejected response,
ref_w/ref_l the reference model's. Needs torch only. LOSS_NAMES are the lab's built-in losses, CUSTOM_LOSS_NAMES
the custom (formula) losses exported with this job, each written from its formula (shown above its function).

    from dpo_lab_losses import dpo_lab_loss
    losses = dpo_lab_loss("bdpo", lw, ll, ref_w, ref_l, beta=0.1, clip=0.5)
"""
import math

import torch
import torch.nn.functional as F

__all__ = ["LOSS_NAMES", "CUSTOM_LOSS_NAMES", "dpo_lab_loss", "lab_metrics", "logp_grads"]


def _neg_log_sigmoid_scaled(x, scale):
    # -log sigmoid(scale * x) as softplus(-scale * x): log(sigmoid) underflows for large negative arguments
    return F.softplus(x * -scale)


def _margin(lw, ll, ref_w, ref_l, gap=None):
    # h = rw - rl, grouped as (lw - ll) - (ref_w - ref_l) like the lab
    if gap is None:
        gap = lw - ll
    return gap - (ref_w - ref_l)


def dpo(lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    """DPO (eq. 1): -log sigmoid(beta (rw - rl))."""
    return _neg_log_sigmoid_scaled(_margin(lw, ll, ref_w, ref_l), beta)


def _lambda_minus_one(gap, clip, symmetric):
    # lambda - 1 = clip(sg(lw - ll), dmin, dmax) (eq. 26), detached
    low = 1.0 / (1.0 + clip) - 1.0 if symmetric else 0.0
    return torch.clamp(gap.detach(), low, clip)


def _nbdpo(lw, ll, ref_w, ref_l, beta, clip, symmetric):
    # eq. 25 as -log sigmoid(beta [h + (lambda - 1)(lw - sg(lw))]): DPO's value, chosen gradient scaled by lambda
    gap = lw - ll
    lam_m1 = _lambda_minus_one(gap, clip, symmetric)
    zero_with_grad = lw - lw.detach()
    z = _margin(lw, ll, ref_w, ref_l, gap) + lam_m1 * zero_with_grad
    return _neg_log_sigmoid_scaled(z, beta)


def nbdpo_asymm(lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    return _nbdpo(lw, ll, ref_w, ref_l, beta, clip, False)


def nbdpo_symm(lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    return _nbdpo(lw, ll, ref_w, ref_l, beta, clip, True)


def _nbdpo2(lw, ll, ref_w, ref_l, beta, clip, symmetric):
    # eq. 27: -log sigmoid(beta lambda rw - beta rl) = -log sigmoid(beta [h + (lambda - 1) rw])
    gap = lw - ll
    lam_m1 = _lambda_minus_one(gap, clip, symmetric)
    rw = lw - ref_w
    z = _margin(lw, ll, ref_w, ref_l, gap) + lam_m1 * rw
    return _neg_log_sigmoid_scaled(z, beta)


def nbdpo2_asymm(lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    return _nbdpo2(lw, ll, ref_w, ref_l, beta, clip, False)


def nbdpo2_symm(lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    return _nbdpo2(lw, ll, ref_w, ref_l, beta, clip, True)


def bdpo(lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    """Balanced-DPO (eqs. 28-29): -log sigmoid(beta lam_w rw - beta (1 - lam_w) rl), lam_w = sg(ll / (lw + ll))."""
    lam_w = (ll / (lw + ll)).detach()
    rw = lw - ref_w
    rl = ll - ref_l
    return _neg_log_sigmoid_scaled(lam_w * (rw + rl) - rl, beta)


def ipo(lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    """IPO: (h - 1/(2 beta))^2 on the log-probs as given (no length normalisation here)."""
    return torch.square(_margin(lw, ll, ref_w, ref_l) - 1.0 / (2.0 * beta))


def cdpo(lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    """Conservative DPO: -(1-eps) log sigmoid(z) - eps log sigmoid(-z), z = beta h, as softplus(-z) + eps z."""
    z = _margin(lw, ll, ref_w, ref_l) * beta
    base = F.softplus(-z)
    return base if label_smoothing == 0 else base + z * label_smoothing


def hinge(lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    """SLiC hinge: max(0, 1 - beta h)."""
    return F.relu(1.0 - _margin(lw, ll, ref_w, ref_l) * beta)


# ---------------------------------------------------------------------------------------------------------------
# Custom (formula) losses, written from each formula's syntax tree with the lab's semantics (formula.ts): numbers
# are lifted to tensors where an elementwise function needs one; min/max send the gradient to the first argument
# on ties; parts made of numbers only stay floats, with JavaScript's answers where Python would raise.
# ---------------------------------------------------------------------------------------------------------------
def _lift(x, like):
    return x if torch.is_tensor(x) else torch.tensor(float(x), dtype=like.dtype, device=like.device)


def _maximum(a, b, like):
    a, b = _lift(a, like), _lift(b, like)
    return torch.where(a >= b, a, b)


def _minimum(a, b, like):
    a, b = _lift(a, like), _lift(b, like)
    return torch.where(a <= b, a, b)


def _num_div(a, b):
    if b == 0:
        return math.nan if (a == 0 or a != a) else math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _num_pow(a, b):
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError):
        return math.inf if a == 0 else math.nan


`;

const LOSSES_PY_REGISTRY = `LOSSES = {
${registryLines}
}
LOSS_NAMES = tuple(LOSSES)
CUSTOM_LOSSES = {
%CUSTOM%
}
CUSTOM_LOSS_NAMES = tuple(CUSTOM_LOSSES)
LOSSES.update(CUSTOM_LOSSES)


`;

const LOSSES_PY_TAIL = `

def dpo_lab_loss(name, chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, beta, clip, label_smoothing=0.0):
    """Per-pair loss of the lab's loss \`name\` (same shape as the inputs)."""
    if name not in LOSSES:
        raise ValueError("unknown loss %r; valid losses: %s" % (name, ", ".join(LOSS_NAMES + CUSTOM_LOSS_NAMES)))
    return LOSSES[name](chosen_logps, rejected_logps, ref_chosen_logps.detach(), ref_rejected_logps.detach(), beta, clip, label_smoothing)


def logp_grads(name, lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    """Per-pair dL/dlw and dL/dll through the loss itself (elementwise, so the gradient of the sum), on detached copies."""
    with torch.enable_grad():
        w = lw.detach().clone().requires_grad_(True)
        l = ll.detach().clone().requires_grad_(True)
        loss = dpo_lab_loss(name, w, l, ref_w.detach(), ref_l.detach(), beta, clip, label_smoothing)
        gw, gl = torch.autograd.grad(loss.sum(), [w, l])
    return gw, gl


def _masked_mean(x, mask, empty):
    count = mask.sum()
    if count.item() == 0:
        return torch.tensor(float(empty), dtype=x.dtype, device=x.device)
    return (x * mask).sum() / count


def lab_metrics(name, lw, ll, ref_w, ref_l, beta, clip, label_smoothing=0.0):
    """The lab's balance diagnostics (diagnostics.ts) for one batch, under the lab's names.

    balance/log10_prob_ratio: mean log10 rho, rho = |dL/d pi(y_w)| / |dL/d pi(y_l)| = |gw| e^(ll - lw) / |gl|;
    balance/logp_grad_ratio: mean |gw| / |gl|. Both over the pairs whose two gradients are non-zero
    (0 and 1 when there is none), as the lab computes them.
    """
    lw, ll, ref_w, ref_l = (t.detach().float() for t in (lw, ll, ref_w, ref_l))
    gw, gl = logp_grads(name, lw, ll, ref_w, ref_l, beta, clip, label_smoothing)
    aw, al = gw.abs(), gl.abs()
    defined = (torch.minimum(aw, al) > 0).float()
    safe_aw = torch.where(defined > 0, aw, torch.ones_like(aw))
    safe_al = torch.where(defined > 0, al, torch.ones_like(al))
    ln_rho = torch.log(safe_aw) - torch.log(safe_al) + (ll - lw)
    return {
        "balance/log10_prob_ratio": _masked_mean(ln_rho / math.log(10.0), defined, 0.0),
        "balance/logp_grad_ratio": _masked_mean(safe_aw / safe_al, defined, 1.0),
    }
`;
