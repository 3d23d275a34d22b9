/**
 * The schema, as an append-only list: migration N brings a store from user_version N-1 to N.
 * Never edit a released migration; add the next one.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    command TEXT NOT NULL,
    flags TEXT NOT NULL,              -- JSON
    model TEXT,
    tool_version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
    total INTEGER,                    -- units of work expected, when known
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  -- A finished unit of work (one input record, one sample) and its result, written in the
  -- same transaction as the rows it produced: a rerun of the run skips it.
  CREATE TABLE work_units (
    run_id TEXT NOT NULL REFERENCES runs(id),
    unit_key TEXT NOT NULL,
    result TEXT NOT NULL,             -- JSON, what the stage emitted for this unit
    done_at TEXT NOT NULL,
    PRIMARY KEY (run_id, unit_key)
  );

  CREATE TABLE problems (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('math', 'code')),
    problem TEXT NOT NULL,
    answer TEXT,
    tests TEXT,
    entry_point TEXT,
    meta TEXT                         -- JSON
  );

  CREATE TABLE trajectories (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    problem_id TEXT NOT NULL,
    sample INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    text TEXT NOT NULL,
    answer TEXT,
    finish_reason TEXT NOT NULL,
    tool_calls INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    details TEXT,                     -- JSON: hints placed, timings
    created_at TEXT NOT NULL,
    UNIQUE (run_id, problem_id, sample)
  );

  CREATE TABLE segments (
    trajectory_id INTEGER NOT NULL REFERENCES trajectories(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('model', 'hint', 'output')),
    text TEXT NOT NULL,
    details TEXT,                     -- JSON
    PRIMARY KEY (trajectory_id, position)
  );

  CREATE TABLE executions (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    unit_key TEXT NOT NULL,
    trajectory_id INTEGER REFERENCES trajectories(id) ON DELETE CASCADE,
    block INTEGER NOT NULL,
    code TEXT NOT NULL,
    stdout TEXT NOT NULL,
    stderr TEXT NOT NULL,
    exit_code INTEGER,
    signal TEXT,
    timed_out INTEGER NOT NULL,
    truncated INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    UNIQUE (run_id, unit_key, block)
  );

  CREATE TABLE scores (
    trajectory_id INTEGER NOT NULL REFERENCES trajectories(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value REAL,
    details TEXT,
    PRIMARY KEY (trajectory_id, name)
  );

  CREATE TABLE datasets (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    path TEXT,
    records INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );

  -- Lineage: which trajectories, datasets or models a dataset (or model) was made from.
  CREATE TABLE lineage (
    child_kind TEXT NOT NULL,
    child_id TEXT NOT NULL,
    parent_kind TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    PRIMARY KEY (child_kind, child_id, parent_kind, parent_id)
  );

  CREATE INDEX trajectories_problem ON trajectories(problem_id);
  CREATE INDEX executions_trajectory ON executions(trajectory_id);
  `,
  `
  -- The trainer's log lines (loss, learning rate) as they stream, per run and training step.
  CREATE TABLE training_log (
    run_id TEXT NOT NULL REFERENCES runs(id),
    unit_key TEXT NOT NULL,           -- which training of the run (e.g. train-start-0)
    step INTEGER NOT NULL,
    loss REAL,
    learning_rate REAL,
    epoch REAL,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, unit_key, step)
  );
  `,
  `
  -- What \`start runs\` shows: the step a multi-step run is at, and the counts of its summary.
  ALTER TABLE runs ADD COLUMN stage TEXT;
  ALTER TABLE runs ADD COLUMN counts TEXT;  -- JSON: the numbers of the run's summary
  `,
  `
  -- Everything else a trainer logs per step (RL: reward, accuracy, tool calls, KL, ...).
  ALTER TABLE training_log ADD COLUMN metrics TEXT;  -- JSON
  `,
  `
  -- The process that runs a run, and where: a running run whose process is gone was interrupted.
  ALTER TABLE runs ADD COLUMN pid INTEGER;
  ALTER TABLE runs ADD COLUMN host TEXT;
  `,
  `
  -- A hint library version written by \`start hints evolve\`: where it came from, what it holds (each
  -- hint's measured efficacy), and every candidate tried for it with the verdict and its reason.
  CREATE TABLE hint_libraries (
    path TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    generation INTEGER NOT NULL,
    parent_path TEXT NOT NULL,
    run_id TEXT NOT NULL REFERENCES runs(id),
    library TEXT NOT NULL,            -- JSON, the library as written
    verdicts TEXT NOT NULL,           -- JSON, one per candidate tried
    created_at TEXT NOT NULL
  );
  `,
]
