import { describe, expect, it } from 'vitest';
import { DEFAULT_WINDOW, fitWindowState, urlTrust } from '../../src-main/electron/policy';

describe('Electron URL trust', () => {
  const trusted = urlTrust('file:///opt/dpo-lab/out/renderer/index.html', 'http://localhost:5173/');
  it('trusts our renderer page (with hash routes) and the dev server', () => {
    expect(trusted('file:///opt/dpo-lab/out/renderer/index.html')).toBe(true);
    expect(trusted('file:///opt/dpo-lab/out/renderer/index.html#/runs/3')).toBe(true);
    expect(trusted('http://localhost:5173/#/theory')).toBe(true);
  });
  it('refuses other files, other hosts and look-alikes', () => {
    expect(trusted('file:///etc/passwd')).toBe(false);
    expect(trusted('file:///opt/dpo-lab/out/renderer/index.html.evil')).toBe(false);
    expect(trusted('https://example.com/')).toBe(false);
    expect(trusted('http://localhost:5174/')).toBe(false);
    expect(trusted('http://localhost:5173.evil.com/')).toBe(false);
    expect(trusted('not a url')).toBe(false);
    expect(urlTrust('file:///a/index.html')('http://localhost:5173/')).toBe(false);
  });
});

describe('remembered window bounds', () => {
  const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];
  it('restores bounds that are on a connected display', () => {
    expect(fitWindowState({ x: 100, y: 80, width: 1200, height: 800, maximized: true }, screen)).toEqual({
      x: 100,
      y: 80,
      width: 1200,
      height: 800,
      maximized: true,
    });
  });
  it('keeps the size but lets the OS place a window whose display is gone', () => {
    expect(fitWindowState({ x: 3000, y: 80, width: 1200, height: 800 }, screen)).toEqual({ width: 1200, height: 800, maximized: false });
  });
  it('falls back to defaults for a missing or corrupt state file', () => {
    expect(fitWindowState(null, screen)).toEqual({ ...DEFAULT_WINDOW, maximized: false });
    expect(fitWindowState({ width: 'huge', height: -5 }, screen)).toEqual({ ...DEFAULT_WINDOW, maximized: false });
  });
});
