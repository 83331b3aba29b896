import { utilityProcess } from 'electron';
import { fileURLToPath } from 'node:url';
import type { FromWorker, WorkerHandle, WorkerLauncher } from '../runner/protocol';

/** Workers inside the app are Electron utility processes (out/main/worker.js), never the main thread. */
export function utilityWorkerLauncher(): WorkerLauncher {
  const script = fileURLToPath(new URL('./worker.js', import.meta.url));
  return () => {
    const child = utilityProcess.fork(script, [], { serviceName: 'dpo-lab worker', stdio: 'inherit' });
    const handle: WorkerHandle = {
      get pid() {
        return child.pid;
      },
      send: (msg) => child.postMessage(msg),
      onMessage: (cb) => child.on('message', (m: unknown) => cb(m as FromWorker)),
      onExit: (cb) => child.on('exit', (code: number) => cb(code, null)),
      kill: () => {
        child.kill();
      },
    };
    return handle;
  };
}
