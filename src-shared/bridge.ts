import type { CommandName, CommandInput, Envelope, LabEvent } from './contract';

/**
 * What the Electron preload puts on `window.lab`: one function per command (each resolving to the
 * command's envelope), a subscription to live events, and a native save dialog.
 */
export type LabBridge = { [C in CommandName]: (input: CommandInput<C>) => Promise<Envelope<unknown>> } & {
  onEvent(cb: (e: LabEvent) => void): () => void;
  saveFile(req: { filename: string; content: string; encoding?: 'utf8' | 'base64' }): Promise<{ saved: boolean; path?: string; error?: string }>;
};
