/**
 * Versioned schema: entry i takes a database from user_version i to i + 1. Never edit a shipped entry;
 * append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  /* 1: the first schema */ `
  CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    preset TEXT,
    config TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    summary TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
  );
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed','cancelled')),
    config TEXT NOT NULL,
    seed INTEGER,
    backend TEXT,
    versions TEXT,
    final TEXT,
    error TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT '',
    sweep_id INTEGER REFERENCES sweeps(id) ON DELETE SET NULL,
    -- '<pid>:<process start ms>' of the process that queued the run: a restart that reuses the pid is still a new owner
    owner TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX runs_sweep ON runs(sweep_id);
  CREATE INDEX runs_status ON runs(status);
  CREATE TABLE metric_names (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
  );
  -- One row per (run, metric, step); names are interned because a sweep writes millions of rows.
  CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name_id INTEGER NOT NULL REFERENCES metric_names(id),
    step INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, name_id, step)
  ) WITHOUT ROWID;
  CREATE TABLE snapshots (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    step INTEGER NOT NULL,
    shape TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (run_id, name, step)
  ) WITHOUT ROWID;
  CREATE TABLE eval_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value REAL,
    details TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX eval_results_run ON eval_results(run_id);
  CREATE TABLE artifacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX artifacts_run ON artifacts(run_id);
  `,
  /* 2: a per-run log (lifecycle, backend choice, errors) for the run page */ `
  CREATE TABLE run_logs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    ts INTEGER NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    text TEXT NOT NULL
  );
  CREATE INDEX run_logs_run ON run_logs(run_id, ts);
  `,
  /* 3: eval_results was made ahead of any use; the LLM lab's evaluations get a table of their own when they land */ `
  DROP TABLE IF EXISTS eval_results;
  `,
  /* 4: evaluations (Help / Harm / S.R. / win rate) of a run's model or a model folder, with every scored response */ `
  CREATE TABLE evals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    loss TEXT,
    model TEXT NOT NULL,
    prompts TEXT NOT NULL,
    reward TEXT,
    cost TEXT,
    reference TEXT,
    samples INTEGER,
    settings TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed','cancelled')),
    error TEXT,
    summary TEXT,
    owner TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX evals_run ON evals(run_id);
  CREATE TABLE eval_responses (
    eval_id INTEGER NOT NULL REFERENCES evals(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    response TEXT NOT NULL,
    reward REAL,
    cost REAL,
    ref_response TEXT,
    ref_reward REAL,
    PRIMARY KEY (eval_id, idx)
  ) WITHOUT ROWID;
  `,
  /* 5: reward and cost models trained in the app (a worker job each), with their held-out accuracy and a log */ `
  CREATE TABLE scorers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('reward', 'cost')),
    model TEXT NOT NULL,
    data TEXT NOT NULL,
    out TEXT NOT NULL,
    settings TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed','cancelled')),
    error TEXT,
    result TEXT,
    log TEXT NOT NULL DEFAULT '[]',
    owner TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  `,
  /* 6: custom losses saved from the Losses view (a formula in the loss language), offered in every launcher */ `
  CREATE TABLE custom_losses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    formula TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  /* 7: benchmark sessions (lab bench safety-tiny): their settings, stage and grid; their evaluations point to them */ `
  CREATE TABLE benches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    settings TEXT NOT NULL,
    work_dir TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued','running','done','failed','cancelled')),
    error TEXT,
    progress TEXT,
    result TEXT,
    log TEXT NOT NULL DEFAULT '[]',
    owner TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  ALTER TABLE evals ADD COLUMN bench_id INTEGER REFERENCES benches(id) ON DELETE CASCADE;
  CREATE INDEX evals_bench ON evals(bench_id);
  `,
];
