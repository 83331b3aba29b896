import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker, WorkerHandle, WorkerLauncher } from './protocol';

/**
 * Starts workers as Node child processes (CLI and web mode). From source (tsx, vitest) the worker is the .ts
 * file beside this one, loaded through tsx; from a build it is out/main/worker.js beside the bundle.
 */
export function childWorkerLauncher(): WorkerLauncher {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url));
  const execArgv = fromSource ? ['--import', import.meta.resolve('tsx')] : [];
  return () => {
    const child = fork(script, [], {
      execArgv,
      serialization: 'advanced',
      // The worker's stdout goes to our stderr: the CLI's stdout carries only its own (JSON) output.
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    const handle: WorkerHandle = {
      pid: child.pid,
      send: (msg: ToWorker) => {
        if (child.connected) child.send(msg);
      },
      onMessage: (cb) => child.on('message', (m) => cb(m as FromWorker)),
      onExit: (cb) => child.on('exit', (code, signal) => cb(code, signal)),
      kill: (signal = 'SIGTERM') => {
        child.kill(signal);
      },
    };
    return handle;
  };
}
