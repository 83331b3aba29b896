/** Open panels (dialogs, drawers) register a closer here; Esc closes the most recent one. */
import { onBeforeUnmount, watch, type Ref } from 'vue';

const stack: (() => void)[] = [];

/** Closes the top panel; returns false when none was open. */
export function closeTopPanel(): boolean {
  const close = stack.pop();
  if (!close) return false;
  close();
  return true;
}

/** Registers `close` while `open` is true. */
export function usePanel(open: Ref<boolean>, close: () => void): void {
  const entry = () => close();
  const remove = () => {
    const i = stack.indexOf(entry);
    if (i >= 0) stack.splice(i, 1);
  };
  watch(
    open,
    (o) => {
      remove();
      if (o) stack.push(entry);
    },
    { immediate: true },
  );
  onBeforeUnmount(remove);
}
