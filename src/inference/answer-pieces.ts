import { splitAtDecisionPoints } from './stop-points.js'

/**
 * The pieces of an engine's multi-token answer as the hint-infer loop takes them, one per `next()`, and
 * what `retract` takes back: for engines that generate to a stop point per request (a server, the policy
 * in `start rl`). The end of the turn counts as the last "token", as it does in process.
 */
export class AnswerPieces {
  private queue: string[] = []
  /** Pieces handed out since the last append, for `retract`. */
  private handed: string[] = []
  private turnEnded = false
  private endReturned = false

  /** Whether the engine must be asked for more (nothing queued, the turn not over). */
  get empty(): boolean {
    return this.queue.length === 0 && !this.turnEnded
  }

  /** An answer: cut at every line, fence and stop, so each decision point ends a piece. */
  fill(text: string, stops: readonly string[], turnEnded: boolean): void {
    this.turnEnded = turnEnded
    this.queue = splitAtDecisionPoints(text, stops)
    // An answer with no text that did not end the turn (a partial character) is an empty piece.
    if (this.queue.length === 0 && !turnEnded) this.queue = ['']
  }

  /** The next piece, or null at the end of the turn. */
  take(): string | null {
    const piece = this.queue.shift()
    if (piece === undefined) {
      this.endReturned = true
      return null
    }
    this.handed.push(piece)
    if (this.handed.length > 64) this.handed.shift()
    return piece
  }

  /** Takes back the last `count` pieces handed out (the end of the turn included); returns them, last first. */
  retract(count: number): string[] {
    if (this.endReturned) {
      count--
      this.endReturned = false
      this.turnEnded = false
    }
    this.queue = []
    const taken: string[] = []
    for (; count > 0 && this.handed.length > 0; count--) taken.push(this.handed.pop()!)
    return taken
  }

  /** Text went in after the pieces: the queue and the retractable pieces are gone, the turn goes on. */
  appended(): void {
    this.queue = []
    this.handed = []
    this.turnEnded = false
    this.endReturned = false
  }
}
