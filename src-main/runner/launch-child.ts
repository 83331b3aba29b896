import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker, WorkerHandle, WorkerLauncher } from './protocol';

/** What V8 prints on stderr when a process reaches its heap limit, just before it aborts. */
const OUT_OF_MEMORY = /JavaScript heap out of memory|Reached heap limit|FATAL ERROR: .*Allocation failed/;

export interface ChildLauncherOptions {
  /** Extra Node flags for each worker (tests give a tiny --max-old-space-size to see an out-of-memory end). */
  execArgv?: string[];
}

/**
 * Starts workers as Node child processes (CLI and web mode). From source (tsx, vitest) the worker is the .ts
 * file beside this one, loaded through tsx; from a build it is out/main/worker.js beside the bundle.
 */
export function childWorkerLauncher(opts: ChildLauncherOptions = {}): WorkerLauncher {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url));
  const execArgv = [...(fromSource ? ['--import', import.meta.resolve('tsx')] : []), ...(opts.execArgv ?? [])];
  return () => {
    const child = fork(script, [], {
      execArgv,
      serialization: 'advanced',
      // The worker's stdout goes to our stderr: the CLI's stdout carries only its own (JSON) output. Its stderr
      // is passed through, read on the way for V8's out-of-memory message, so the run's error can say so.
      stdio: ['ignore', 2, 'pipe', 'ipc'],
    });
    let tail = '';
    let outOfMemory = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4096);
      if (!outOfMemory && OUT_OF_MEMORY.test(tail)) outOfMemory = true;
    });
    const handle: WorkerHandle = {
      pid: child.pid,
      send: (msg: ToWorker) => {
        if (child.connected) child.send(msg);
      },
      onMessage: (cb) => child.on('message', (m) => cb(m as FromWorker)),
      // 'close', not 'exit': it comes after the worker's stderr is read to its end, out-of-memory message included
      onExit: (cb) => child.on('close', (code, signal) => cb(code, signal)),
      kill: (signal = 'SIGTERM') => {
        child.kill(signal);
      },
      ranOutOfMemory: () => outOfMemory,
    };
    return handle;
  };
}
