import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { COMMAND_NAME_LIST, EVENT_CHANNEL, SAVE_FILE_CHANNEL, channelOf } from '@shared/channels';

// One function per command; the renderer never sees ipcRenderer itself.
const lab: Record<string, unknown> = {};
for (const name of COMMAND_NAME_LIST) lab[name] = (input: unknown) => ipcRenderer.invoke(channelOf(name), input);
lab.onEvent = (cb: (e: unknown) => void) => {
  const listener = (_: IpcRendererEvent, e: unknown) => cb(e);
  ipcRenderer.on(EVENT_CHANNEL, listener);
  return () => ipcRenderer.off(EVENT_CHANNEL, listener);
};
lab.saveFile = (req: { filename: string; content: string; encoding?: string }) => ipcRenderer.invoke(SAVE_FILE_CHANNEL, req);

contextBridge.exposeInMainWorld('lab', lab);
