import type { GenerationStream, StreamStats } from '../../src/inference/engine.js'
import type { ExecutionResult } from '../../src/sandbox/types.js'

/** A cell's result: one that succeeded, printing nothing, unless `fields` say otherwise. */
export const executionResult = (fields: Partial<ExecutionResult> = {}): ExecutionResult => ({
  stdout: '',
  stderr: '',
  exitCode: 0,
  signal: null,
  timedOut: false,
  truncated: false,
  stdoutBytes: fields.stdout?.length ?? 0,
  stderrBytes: 0,
  durationMs: 1,
  sessionEnded: false,
  ...fields,
})

/** A cell that ran and printed `stdout`: what a scripted code runner answers. */
export const printed = (stdout: string): ExecutionResult => executionResult({ stdout })

/**
 * A scripted engine for the loop's decisions: it "generates" fixed pieces in order, and records
 * what the loop appended and retracted. Integration tests run the real model instead.
 */
export class ScriptedStream implements GenerationStream {
  readonly log: string[] = []
  context = ''
  private pending: string | null = null
  readonly stats: StreamStats = {
    promptTokens: 0,
    generatedTokens: 0,
    appendedTokens: 0,
    reevaluatedTokens: 0,
  }
  /** Pieces of text so far in the context, so retract can take them back. */
  private pieces: string[] = []

  constructor(
    private readonly script: string[],
    readonly remaining = 10_000,
  ) {}

  async next(): Promise<string | null> {
    if (this.pending !== null) {
      this.context += this.pending
      this.pieces.push(this.pending)
    }
    const piece = this.script.shift() ?? null
    this.pending = piece
    if (piece !== null) this.stats.generatedTokens++
    return piece
  }

  async retract(count: number): Promise<void> {
    this.log.push(`retract ${count}`)
    this.pending = null
    for (let i = 1; i < count; i++) {
      const piece = this.pieces.pop() ?? ''
      this.context = this.context.slice(0, this.context.length - piece.length)
    }
  }

  append(text: string): number {
    if (this.pending !== null) {
      this.context += this.pending
      this.pieces.push(this.pending)
      this.pending = null
    }
    this.log.push(`append ${JSON.stringify(text)}`)
    this.context += text
    this.pieces.push(text)
    this.stats.appendedTokens += text.length
    return text.length
  }

  async close(): Promise<void> {}
}
