/**
 * App-wide run state: every run's summary (for the rail badge, filters and pickers), kept fresh from status
 * events, and the selection that "Compare" acts on. Plain reactive objects; no store library needed.
 */
import { computed, reactive } from 'vue';
import type { LabEvent, RunSummary } from '@shared/contract';
import { errorText, lab, onEvent, onReconnect } from '../api/client';

export const runsStore = reactive({
  all: [] as RunSummary[],
  loaded: false,
  error: '',
  /** ids checked in the runs list */
  selected: new Set<number>(),
  /** bumped whenever the list changes, so views holding filtered copies refetch */
  version: 0,
});

export const runningCount = computed(() => runsStore.all.filter((r) => r.status === 'running').length);
export const queuedCount = computed(() => runsStore.all.filter((r) => r.status === 'queued').length);

let timer: ReturnType<typeof setTimeout> | null = null;
let inflight: Promise<void> | null = null;

export async function refreshRuns(): Promise<void> {
  if (inflight) return inflight;
  inflight = (async () => {
    try {
      runsStore.all = await lab['runs:list']({});
      runsStore.error = '';
      runsStore.loaded = true;
      runsStore.version++;
      for (const id of [...runsStore.selected]) if (!runsStore.all.some((r) => r.id === id)) runsStore.selected.delete(id);
    } catch (err) {
      runsStore.error = errorText(err);
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

/** Coalesces bursts of events (a sweep finishing) into one refetch. */
export function refreshSoon(ms = 300): void {
  if (timer) return;
  timer = setTimeout(() => {
    timer = null;
    void refreshRuns();
  }, ms);
}

function onLabEvent(e: LabEvent): void {
  if (e.type === 'run:status') {
    const r = runsStore.all.find((x) => x.id === e.runId);
    if (r) {
      r.status = e.status;
      if (e.backend) r.backend = e.backend;
      if (e.error) r.error = e.error;
    }
    refreshSoon(r ? 400 : 100);
  } else if (e.type === 'run:deleted') {
    const i = runsStore.all.findIndex((x) => x.id === e.runId);
    if (i >= 0) {
      runsStore.all.splice(i, 1);
      runsStore.version++;
    }
    runsStore.selected.delete(e.runId);
  } else if (e.type === 'sweep:status') refreshSoon();
}

let started = false;
export function startRunsStore(): void {
  if (started) return;
  started = true;
  onEvent(onLabEvent);
  onReconnect(() => void refreshRuns());
  void refreshRuns();
}

export function toggleSelected(id: number, on?: boolean): void {
  const want = on ?? !runsStore.selected.has(id);
  if (want) runsStore.selected.add(id);
  else runsStore.selected.delete(id);
}
