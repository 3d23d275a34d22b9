import { opViolation, type RlEventOf, type RlOp, type TrainerEvent } from './trainer-protocol.js'

/** The operations the trainer answers, and the event that answers each. */
interface Answers {
  start: RlEventOf<'started'>
  next: RlEventOf<'generated'>
  tokenize: RlEventOf<'tokenized'>
  detokenize: RlEventOf<'detokenized'>
  end: RlEventOf<'ended'>
}
type AnsweredOp = Extract<RlOp, { op: keyof Answers }>
const ANSWER_EVENTS = new Set<string>(['started', 'generated', 'tokenized', 'detokenized', 'ended'])

/**
 * `start rl`'s end of the trainer's rollout protocol: operations to the trainer's stdin, each checked
 * against the protocol, and the trainer's answers matched to the request that asked (by rollout id).
 * Made before the trainer starts, so the rollout code can hold it; `TrlTrainer.reinforce` connects it.
 */
export class TrainerChannel {
  private write: ((line: string) => void) | undefined
  private stop: ((reason: Error) => void) | undefined
  private readonly waiting = new Map<string, (answer: TrainerEvent<'rl'>) => void>()

  /** Called by the trainer engine once the process runs. */
  connect(write: (line: string) => void, stop: (reason: Error) => void): void {
    this.write = write
    this.stop = stop
  }

  send(op: RlOp): void {
    const wrong = opViolation(op as unknown as Record<string, unknown>)
    if (wrong) throw new Error(`the trainer protocol has no such operation: ${wrong}`)
    if (!this.write) throw new Error('the trainer channel is not connected')
    this.write(`${JSON.stringify(op)}\n`)
  }

  /** Sends `op` and resolves with the trainer's answer for the same rollout. */
  request<O extends AnsweredOp>(op: O): Promise<Answers[O['op']]> {
    return new Promise((resolve) => {
      this.waiting.set(op.rid, resolve as (answer: TrainerEvent<'rl'>) => void)
      this.send(op)
    })
  }

  /** Hands an answer event to its request; false for any other event. */
  answer(event: TrainerEvent<'rl'>): boolean {
    if (!ANSWER_EVENTS.has(event.event)) return false
    const rid = (event as Answers[keyof Answers]).rid
    const resolve = this.waiting.get(rid)
    this.waiting.delete(rid)
    resolve?.(event)
    return true
  }

  /** Ends the trainer run with `reason` (a rollout failed). */
  abort(reason: Error): void {
    this.stop?.(reason)
  }
}
