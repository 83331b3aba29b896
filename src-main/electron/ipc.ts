import { ipcMain, dialog, BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import fs from 'node:fs';
import { z } from 'zod';
import type { Lab } from '../api/lab';
import { COMMAND_NAME_LIST, EVENT_CHANNEL, SAVE_FILE_CHANNEL, channelOf } from '@shared/channels';

const SaveFileSchema = z.object({ filename: z.string().min(1).max(255), content: z.string(), encoding: z.enum(['utf8', 'base64']).default('utf8') }).strict();

/** Binds every contract command to ipcMain, accepting calls only from our own renderer's frames. */
export function bindIpc(lab: Lab, isTrustedUrl: (url: string) => boolean): void {
  const trusted = (e: IpcMainInvokeEvent) => {
    const url = e.senderFrame?.url ?? '';
    return isTrustedUrl(url);
  };
  for (const name of COMMAND_NAME_LIST) {
    ipcMain.handle(channelOf(name), (e, input: unknown) => {
      if (!trusted(e)) return { ok: false, error: { code: 'invalid_input', message: 'untrusted sender' } };
      return lab.service.invoke(name, input);
    });
  }
  ipcMain.handle(SAVE_FILE_CHANNEL, async (e, raw: unknown) => {
    if (!trusted(e)) return { saved: false, error: 'untrusted sender' };
    const parsed = SaveFileSchema.safeParse(raw);
    if (!parsed.success) return { saved: false, error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
    const req = parsed.data;
    const win = BrowserWindow.fromWebContents(e.sender);
    const ext = req.filename.split('.').pop() ?? '';
    const opts = {
      defaultPath: req.filename,
      filters: [
        { name: ext.toUpperCase() || 'File', extensions: [ext || '*'] },
        { name: 'All files', extensions: ['*'] },
      ],
    };
    const res = win ? await dialog.showSaveDialog(win, opts) : await dialog.showSaveDialog(opts);
    if (res.canceled || !res.filePath) return { saved: false };
    try {
      fs.writeFileSync(res.filePath, Buffer.from(req.content, req.encoding));
    } catch (err) {
      return { saved: false, error: `${res.filePath}: ${(err as Error).message}` };
    }
    return { saved: true, path: res.filePath };
  });
  lab.service.onEvent((event) => {
    for (const w of BrowserWindow.getAllWindows()) if (!w.isDestroyed()) w.webContents.send(EVENT_CHANNEL, event);
  });
}
