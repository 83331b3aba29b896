/**
 * Light and dark themes: CSS variables follow prefers-color-scheme unless Settings overrides it. Charts read
 * the same variables through `chartColors()` and redraw when `theme.resolved` changes.
 */
import { reactive, watch } from 'vue';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'dpo-lab.theme';
const media = window.matchMedia('(prefers-color-scheme: dark)');

function stored(): ThemeChoice {
  const v = localStorage.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

export const theme = reactive({
  choice: stored() as ThemeChoice,
  resolved: 'light' as 'light' | 'dark',
});

function apply(): void {
  theme.resolved = theme.choice === 'system' ? (media.matches ? 'dark' : 'light') : theme.choice;
  document.documentElement.dataset.theme = theme.resolved;
}
apply();
media.addEventListener('change', apply);
watch(
  () => theme.choice,
  (c) => {
    if (c === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, c);
    apply();
  },
);

export interface ChartColors {
  text: string;
  muted: string;
  axis: string;
  grid: string;
  bg: string;
  panel: string;
  accent: string;
  zero: string;
}

export function chartColors(): ChartColors {
  const cs = getComputedStyle(document.documentElement);
  const v = (name: string) => cs.getPropertyValue(name).trim();
  return {
    text: v('--text'),
    muted: v('--muted'),
    axis: v('--chart-axis'),
    grid: v('--chart-grid'),
    bg: v('--bg'),
    panel: v('--panel'),
    accent: v('--accent'),
    zero: v('--chart-zero'),
  };
}
