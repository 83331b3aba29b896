/**
 * The lab's saved custom losses, shared by the Losses view and every launcher. A launcher sends a chosen one as
 * `loss: 'custom', customLoss: { name, formula }` (customLossConfig).
 */
import { reactive } from 'vue';
import type { CustomLossRecord } from '@shared/contract';
import { errorText, lab } from '../api/client';

export const customLosses = reactive({ list: [] as CustomLossRecord[], loaded: false, error: '' });

export async function refreshCustomLosses(): Promise<void> {
  try {
    customLosses.list = await lab['losses:listCustom']({});
    customLosses.error = '';
  } catch (err) {
    customLosses.error = errorText(err);
  } finally {
    customLosses.loaded = true;
  }
}

/** The config fields that make a run train with a saved custom loss. */
export function customLossConfig(c: Pick<CustomLossRecord, 'name' | 'formula'>): { loss: 'custom'; customLoss: { name: string; formula: string } } {
  return { loss: 'custom', customLoss: { name: c.name, formula: c.formula } };
}
