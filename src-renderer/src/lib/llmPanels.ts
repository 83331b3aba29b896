/**
 * The small multiples of an LLM run's page: TRL's training metrics, both balance ratios, throughput, memory
 * and the eval curves (metrics the trainer prefixes with `eval_`). Colours follow the run's loss.
 */
import type { LineSpec } from '../components/charts/LiveMetricChart.vue';

export interface LlmChartSpec {
  id: string;
  title: string;
  lines: LineSpec[];
  balance?: boolean;
  rightAxis?: { min?: number; max?: number; name?: string };
}

/** `c` is the run's colour, `c2` a lighter shade of the same hue for second lines. */
export function llmCharts(c: string, c2: string): LlmChartSpec[] {
  return [
    { id: 'loss', title: 'loss', lines: [{ metric: 'loss', color: c }] },
    {
      id: 'rewards',
      title: 'rewards: chosen vs rejected',
      lines: [
        { metric: 'rewards/chosen', label: 'chosen', color: c },
        { metric: 'rewards/rejected', label: 'rejected', color: c2, style: 'dashed' },
      ],
    },
    { id: 'margins', title: 'rewards/margins', lines: [{ metric: 'rewards/margins', label: 'margins', color: c }] },
    {
      id: 'accuracies',
      title: 'rewards/accuracies',
      lines: [{ metric: 'rewards/accuracies', label: 'accuracies', color: c }],
    },
    {
      id: 'logps',
      title: 'logps: chosen vs rejected',
      lines: [
        { metric: 'logps/chosen', label: 'chosen', color: c },
        { metric: 'logps/rejected', label: 'rejected', color: c2, style: 'dashed' },
      ],
    },
    {
      id: 'balance',
      title: 'balance/log10_prob_ratio',
      lines: [{ metric: 'balance/log10_prob_ratio', label: 'log10 ρ', color: c }],
      balance: true,
    },
    {
      id: 'logp-grad-ratio',
      title: 'balance/logp_grad_ratio |gw|/|gl|',
      lines: [{ metric: 'balance/logp_grad_ratio', label: '|gw|/|gl|', color: c }],
    },
    {
      id: 'grad',
      title: 'grad_norm · learning_rate',
      lines: [
        { metric: 'grad_norm', label: 'grad_norm', color: c },
        { metric: 'learning_rate', label: 'lr →', color: c2, style: 'dashed', axis: 1 },
      ],
      rightAxis: {},
    },
    {
      id: 'throughput',
      title: 'perf: tokens/s · RSS MB',
      lines: [
        { metric: 'perf/tokens_per_second', label: 'tokens/s', color: c },
        { metric: 'perf/rss_mb', label: 'RSS MB →', color: c2, style: 'dashed', axis: 1 },
      ],
      rightAxis: {},
    },
    {
      id: 'eval-loss',
      title: 'eval: loss · margins',
      lines: [
        { metric: 'eval_loss', label: 'eval_loss', color: c },
        { metric: 'eval_rewards/margins', label: 'margins →', color: c2, style: 'dashed', axis: 1 },
      ],
      rightAxis: {},
    },
    {
      id: 'eval-acc',
      title: 'eval: accuracies · log10 ρ',
      lines: [
        { metric: 'eval_rewards/accuracies', label: 'accuracies', color: c },
        { metric: 'eval_balance/log10_prob_ratio', label: 'log10 ρ →', color: c2, style: 'dashed', axis: 1 },
      ],
      rightAxis: {},
    },
  ];
}
