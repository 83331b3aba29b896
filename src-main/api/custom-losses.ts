import type { LabStore } from '../store';
import type { CommandName, CommandOutputs, CommandParsed } from '@shared/contract';
import { parseFormula } from '@shared/formula';
import { LabError } from '@shared/errors';

type LossCommand = Extract<CommandName, `losses:${string}`>;
type LossHandlers = { [C in LossCommand]: (input: CommandParsed<C>) => CommandOutputs[C] };

/** Saved custom losses: list, save (the formula parsed first, never evaluated here), delete. */
export function customLossHandlers(ctx: { store: LabStore }): LossHandlers {
  const { store } = ctx;
  return {
    'losses:listCustom': () => store.customLosses.list(),
    'losses:saveCustom': ({ name, formula }) => {
      const parsed = parseFormula(formula);
      if (!parsed.ok) {
        const { message, index } = parsed.error;
        const text = `formula: ${message} (at character ${index + 1})`;
        throw new LabError('invalid_input', text, [{ path: 'formula', message: `${message} (at character ${index + 1})` }]);
      }
      const saved = store.customLosses.create(name, formula);
      if (!saved)
        throw new LabError('conflict', `a custom loss named "${name}" already exists; choose another name or delete it first`, [
          { path: 'name', message: `"${name}" is taken by a saved loss` },
        ]);
      return saved;
    },
    'losses:deleteCustom': ({ id }) => {
      if (!store.customLosses.get(id))
        throw new LabError('not_found', `custom loss ${id} does not exist`, [{ path: 'id', message: `no custom loss with id ${id}` }]);
      return { ok: store.customLosses.delete(id) };
    },
  };
}
