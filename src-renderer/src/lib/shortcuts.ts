/**
 * Keyboard: `n` new run, `c` compare selected, `/` search, `Esc` closes panels (or leaves a field).
 * Letters are ignored while typing in a field and while a dialog or panel is open.
 */
import { ref } from 'vue';
import { closeTopPanel } from './panels';
import { navigate, route } from './router';
import { runsStore } from '../stores/runs';

/** Bumped when `/` is pressed; the runs view focuses its search box when it changes. */
export const searchRequest = ref(0);

function typing(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
  if (tag !== 'INPUT') return false;
  const type = (el as HTMLInputElement).type;
  return !['checkbox', 'radio', 'range', 'button', 'submit'].includes(type);
}

/** A dialog or drawer is open: letter shortcuts would act behind it, so they wait until it closes. */
function panelOpen(): boolean {
  return !!document.querySelector('[role="dialog"], [aria-modal="true"], [data-panel-open]');
}

export function compareSelected(): boolean {
  const ids = [...runsStore.selected].sort((a, b) => a - b);
  if (!ids.length) return false;
  navigate('compare', { ids: ids.join(',') });
  return true;
}

export function installShortcuts(): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape') {
      if (closeTopPanel()) return e.preventDefault();
      if (typing(e.target)) (e.target as HTMLElement).blur();
      return;
    }
    if (typing(e.target) || panelOpen()) return;
    if (e.key === 'n') {
      e.preventDefault();
      navigate('experiments');
    } else if (e.key === 'c') {
      if (compareSelected()) e.preventDefault();
    } else if (e.key === '/') {
      e.preventDefault();
      if (route.path[0] !== 'runs' || route.path.length > 1) navigate('runs');
      searchRequest.value++;
    }
  };
  window.addEventListener('keydown', onKey);
  return () => window.removeEventListener('keydown', onKey);
}
