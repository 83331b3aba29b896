import os from 'node:os';
import path from 'node:path';

/**
 * The folder Electron's app.getPath('userData') uses for an app named "dpo-lab", computed without Electron
 * so the CLI, web mode and the desktop app share one database.
 */
export function userDataDir(): string {
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'dpo-lab');
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'dpo-lab');
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'dpo-lab');
}

/** --db flag, else $DPO_LAB_DB, else <user data>/dpo-lab.db. */
export function resolveDbPath(flag?: string): string {
  return path.resolve(flag ?? process.env.DPO_LAB_DB ?? path.join(userDataDir(), 'dpo-lab.db'));
}
