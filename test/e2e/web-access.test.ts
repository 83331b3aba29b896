/** Web mode's guard: the API, the app and the event stream all refuse requests without the token. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebLab, type WebLab } from './harness';

let web: WebLab;
beforeAll(async () => {
  web = await startWebLab();
});
afterAll(async () => {
  await web?.close();
});

describe('web mode access', () => {
  it('refuses requests without the token', async () => {
    const base = `http://127.0.0.1:${web.server.port}`;
    const apiRes = await fetch(`${base}/api/app:info`, { method: 'POST', body: '{}' });
    expect(apiRes.status).toBe(401);
    const body = (await apiRes.json()) as { ok: boolean };
    expect(body.ok).toBe(false);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(401);
    const events = await fetch(`${base}/api/events`);
    expect(events.status).toBe(401);
  });
});
