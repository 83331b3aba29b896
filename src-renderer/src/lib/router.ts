/**
 * A hash router small enough to read at a glance: `#/runs/12?tab=x` → { path: ['runs', '12'], query }.
 * Hash routing keeps web mode's `?token=` in the page URL untouched and needs no server support.
 */
import { reactive, readonly } from 'vue';

export interface Route {
  /** path segments, e.g. ['runs', '12'] */
  path: string[];
  query: Record<string, string>;
  /** the raw hash without '#' */
  full: string;
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/runs';
  const [p, q = ''] = raw.split('?', 2);
  const path = p.split('/').filter(Boolean).map(decodeURIComponent);
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(q)) query[k] = v;
  return { path: path.length ? path : ['runs'], query, full: raw };
}

const state = reactive<Route>(parse(location.hash));

window.addEventListener('hashchange', () => Object.assign(state, parse(location.hash)));

export const route = readonly(state);

/** Builds a hash link: link('runs', 12) → '#/runs/12'; query values that are undefined are left out. */
export function link(...parts: (string | number | Record<string, string | number | undefined>)[]): string {
  const segs: string[] = [];
  let query = '';
  for (const p of parts) {
    if (typeof p === 'object') {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== '') q.set(k, String(v));
      query = q.toString();
    } else segs.push(encodeURIComponent(String(p)));
  }
  return `#/${segs.join('/')}${query ? `?${query}` : ''}`;
}

export function navigate(...parts: Parameters<typeof link>): void {
  const target = link(...parts);
  if (location.hash !== target) location.hash = target;
}
