/** Talking to a real lab's service from tests: a command that must succeed, and every event the lab sends. */
import type { Lab } from '../../src-main/api/lab';
import type { LabEvent } from '../../src-shared/events';

/** Runs a service command; a refusal throws with the command's name and the lab's message. */
export async function invoke<T>(lab: Lab, command: string, input: unknown): Promise<T> {
  const res = await lab.service.invoke(command, input);
  if (!res.ok) throw new Error(`${command}: ${res.error.message}`);
  return res.value as T;
}

/** The lab's events from now on, in the order they are sent. */
export function heard(lab: Lab): LabEvent[] {
  const events: LabEvent[] = [];
  lab.service.onEvent((e) => events.push(e));
  return events;
}
