/**
 * A grading thread: `start sandbox serve`'s /grade runs here, off the server's event loop, so a record
 * that is slow to grade holds up no other request, and one over its budget is stopped with its thread.
 * The sandbox stays in the main thread: cells the referee runs (sympy, code tests) are sent there.
 */
import { parentPort } from 'node:worker_threads'
import { Grader } from '../grading/grader.js'
import { completionOf, contextOf, parseReference } from '../grading/reference.js'
import type { ExecuteOptions, ExecutionResult } from '../sandbox/types.js'
import type { FromGradingThread, ToGradingThread } from './grading.js'

const port = parentPort!
const send = (message: FromGradingThread) => port.postMessage(message)
const executions = new Map<number, (result: ExecutionResult) => void>()
let nextExecution = 0

const grader = new Grader({
  execute: (code: string, options?: ExecuteOptions) =>
    new Promise<ExecutionResult>((resolve) => {
      const execution = nextExecution++
      executions.set(execution, resolve)
      send({ kind: 'execute', execution, code, options })
    }),
})

port.on('message', (message: ToGradingThread) => {
  if (message.kind === 'executed') {
    executions.get(message.execution)?.(message.result)
    executions.delete(message.execution)
    return
  }
  void grade(message.request, message.body)
})

async function grade(request: number, body: Record<string, unknown>): Promise<void> {
  try {
    const completion = completionOf(body)
    const parsed = parseReference(body)
    if (completion === undefined)
      return send({ kind: 'invalid', request, message: 'missing "completion" (or "text")' })
    if ('error' in parsed) return send({ kind: 'invalid', request, message: parsed.error })
    send({
      kind: 'graded',
      request,
      grade: await grader.grade(completion, parsed.reference, contextOf(body)),
    })
  } catch (error) {
    send({ kind: 'failed', request, message: (error as Error).message })
  }
}

send({ kind: 'ready' })
