/**
 * The desktop app's rules, free of Electron imports so they are unit-tested in plain Node: which URLs may use
 * the API and be navigated to, and where a remembered window may reappear.
 */

/** Only our own renderer page (the built file, or the dev server in `npm run dev`) is trusted. */
export function urlTrust(rendererIndexUrl: string, devServerUrl?: string): (url: string) => boolean {
  const sameDocument = (url: string, base: string) => {
    try {
      const u = new URL(url);
      const b = new URL(base);
      if (u.protocol !== b.protocol || u.host !== b.host) return false;
      return b.protocol === 'file:' ? u.pathname === b.pathname : u.pathname.startsWith(b.pathname);
    } catch {
      return false;
    }
  };
  return (url) => sameDocument(url, rendererIndexUrl) || (!!devServerUrl && sameDocument(url, devServerUrl));
}

export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized?: boolean;
}

export interface Area {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_WINDOW: WindowState = { width: 1400, height: 900 };

/** The saved bounds if their top-left corner is on a connected display; else the saved size, placed by the OS. */
export function fitWindowState(saved: unknown, displays: Area[]): WindowState {
  const s = saved as Partial<WindowState> | null;
  const num = (v: unknown, min: number) => (typeof v === 'number' && Number.isFinite(v) && v >= min ? v : undefined);
  const width = num(s?.width, 400) ?? DEFAULT_WINDOW.width;
  const height = num(s?.height, 300) ?? DEFAULT_WINDOW.height;
  const maximized = s?.maximized === true;
  const x = num(s?.x, -1e6);
  const y = num(s?.y, -1e6);
  if (x === undefined || y === undefined) return { width, height, maximized };
  const visible = displays.some((d) => x >= d.x - 50 && y >= d.y - 50 && x < d.x + d.width - 50 && y < d.y + d.height - 50);
  return visible ? { x, y, width, height, maximized } : { width, height, maximized };
}
