/** Layout checks on ECharts canvases: every drawn text (title, legend, axis labels, marks) and its box. */
import type { Page } from 'playwright-core';

export interface TextOverlaps {
  /** "chart: "a" overlaps "b"" for each overlapping pair */
  found: string[];
  /** every text seen, so a check can tell that it saw what it is about */
  seen: string[];
}

/** Pairs of drawn texts whose boxes overlap by more than a pixel each way, in the charts registered under `ids`. */
export function overlappingTexts(page: Page, ids: string[]): Promise<TextOverlaps> {
  return page.evaluate((chartIds) => {
    type Rect = { x: number; y: number; width: number; height: number; clone(): Rect; applyTransform(m: unknown): void };
    type El = {
      type: string;
      ignore?: boolean;
      invisible?: boolean;
      style?: { text?: string; opacity?: number; font?: string; y?: number; textBaseline?: string };
      getBoundingRect(): Rect;
      getComputedTransform(): unknown;
    };
    type Chart = { getZr(): { storage: { getDisplayList(update: boolean): El[] } } };
    const charts = (window as unknown as { __dpoLab: { charts: Map<string, Chart> } }).__dpoLab.charts;
    const found: string[] = [];
    const seen: string[] = [];
    for (const id of chartIds) {
      const chart = charts.get(id);
      if (!chart) {
        found.push(`${id}: no such chart`);
        continue;
      }
      // ZRText draws through 'tspan' displayables
      const texts = chart
        .getZr()
        .storage.getDisplayList(true)
        .filter((el) => (el.type === 'text' || el.type === 'tspan') && !el.ignore && !el.invisible && el.style?.text && el.style.opacity !== 0)
        .map((el) => {
          // zrender's line height comes from measuring one CJK glyph, which is near zero where no CJK font is
          // installed (headless CI): take the height from the font size and the baseline instead
          const r = el.getBoundingRect().clone();
          const st = el.style!;
          const fs = Number(/(\d+(?:\.\d+)?)px/.exec(st.font ?? '')?.[1] ?? 12);
          if (el.type === 'tspan' && typeof st.y === 'number') {
            const base = st.textBaseline ?? 'alphabetic';
            r.y = base === 'top' || base === 'hanging' ? st.y : base === 'middle' ? st.y - fs / 2 : st.y - fs * 0.8;
            r.height = fs;
          }
          r.applyTransform(el.getComputedTransform());
          return { text: st.text!, r };
        });
      seen.push(...texts.map((t) => t.text));
      for (let i = 0; i < texts.length; i++)
        for (let j = i + 1; j < texts.length; j++) {
          const [a, b] = [texts[i].r, texts[j].r];
          const ox = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
          const oy = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
          if (ox > 1 && oy > 1) found.push(`${id}: "${texts[i].text}" overlaps "${texts[j].text}"`);
        }
    }
    return { found, seen };
  }, ids);
}
