import { Args, Flags } from '@oclif/core'
import { BaseCommand, describeSettings } from '../../cli/base-command.js'
import { configFlag, configFrom, flagsFor, settingsFrom } from '../../cli/flags.js'
import { STDIN } from '../../core/jsonl.js'
import { newRunId } from '../../core/run-id.js'
import { SANDBOX_JOB_OPTIONS, SANDBOX_OPTIONS, toSandboxOptions } from '../../sandbox/options.js'
import type { MemoryScope } from '../../sandbox/pool.js'
import { runSandboxFile } from '../../sandbox/run-sandbox.js'

const MEMORY_LIMIT_SCOPES: Record<MemoryScope, string> = {
  world: "each record's processes, scratch and shared memory together (a memory cgroup)",
  process: 'each process alone (no memory cgroup: --memory-cgroup off, or none this user may make)',
}

export default class Sandbox extends BaseCommand {
  static override summary =
    'Run the Python in JSONL records (a "code" field, or a trajectory\'s ```python blocks) in the sandbox'

  static override description =
    `Each record comes back with "result" (a code record: run alone, in a fresh namespace)
or "executions" (a trajectory: its blocks run in order in one session, like notebook cells), as soon as it
is done (input order kept). Results are stored under --run; rerunning the same --run skips records already done.`

  static override examples = [
    'start sandbox cells.jsonl --out results.jsonl',
    'echo \'{"code": "print(2**100)"}\' | start sandbox',
    'start sandbox trajectories.jsonl --run check-1 --concurrency 4 --timeout 5000',
  ]

  static override args = {
    input: Args.string({ description: 'JSONL file, or - for stdin', default: STDIN, ignoreStdin: true }),
  }

  static override flags = {
    out: Flags.string({ char: 'o', description: 'write JSONL here (atomically) instead of stdout' }),
    run: Flags.string({ description: 'run id: resume this run (default: a new one)' }),
    ...configFlag,
    ...flagsFor(SANDBOX_JOB_OPTIONS),
    ...flagsFor(SANDBOX_OPTIONS),
  }

  async run() {
    const { args, flags } = await this.parse(Sandbox)
    const config = configFrom(flags)
    const job = settingsFrom(SANDBOX_JOB_OPTIONS, flags)
    const limits = settingsFrom(SANDBOX_OPTIONS, flags, config && { config, section: 'sandbox' })
    const runId = flags.run ?? newRunId('sandbox')
    const progress = this.progress(`sandbox ${runId}`, flags)
    const summary = await runSandboxFile({
      input: args.input,
      out: flags.out,
      db: flags.db,
      runId,
      flags: { ...flags, input: args.input },
      toolVersion: this.config.version,
      ...job,
      sandbox: toSandboxOptions(limits, job.concurrency),
      onEvent: this.stageEvents(progress),
    })
    progress.end()
    this.say(
      `run ${summary.run}: ${summary.records} records, ${summary.executed} cells run, ${summary.resumed} resumed, ` +
        `${summary.failed} failed, ${summary.timedOut} timed out, ${summary.skipped} skipped` +
        (summary.memoryLimit ? `\nmemory limit: ${MEMORY_LIMIT_SCOPES[summary.memoryLimit]}` : '') +
        `\nsettings: ${describeSettings({ ...job, ...limits })}`,
    )
    return { ...summary, settings: { ...job, ...limits } }
  }
}
