import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { runRequest, type SandboxService, ServeError } from './service.js'

/**
 * `--stdio`: one JSON request per line, one answer per line as each finishes (not in order; `id` pairs them).
 *   {"id": 1, "code": "print(1)", "session": "t1", "timeout": 5000, "stdin": "", "echo": false}
 *   {"id": 2, "close": "t1"}
 * Answers: {"id", "result": ExecutionResult} | {"id", "closed": bool} | {"id", "error": "..."}.
 * The pipe has one client, the process at its other end: it names its sessions itself.
 */
export async function serveStdio(
  service: SandboxService,
  input: Readable,
  output: Writable,
): Promise<number> {
  const pending = new Set<Promise<void>>()
  let answered = 0
  let first = true
  for await (const read of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    // A UTF-8 byte-order mark before the first line is not part of the request, as in every JSONL input.
    const line = first && read.startsWith('\uFEFF') ? read.slice(1) : read
    first = false
    if (!line.trim()) continue
    const task = answerLine(service, line).then((answer) => {
      output.write(`${JSON.stringify(answer)}\n`)
      answered++
    })
    pending.add(task)
    void task.finally(() => pending.delete(task))
  }
  await Promise.all(pending)
  return answered
}

async function answerLine(service: SandboxService, line: string): Promise<Record<string, unknown>> {
  let id: unknown = null
  try {
    const request = JSON.parse(line) as Record<string, unknown>
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw new ServeError('expected a JSON object')
    }
    id = request.id ?? null
    if (request.close !== undefined) {
      if (typeof request.close !== 'string') throw new ServeError('"close" must be a session id')
      return { id, closed: await service.closeSession(request.close) }
    }
    return { id, result: await service.run(runRequest(request, 'timeout', 1), { openNamed: true }) }
  } catch (error) {
    const message = error instanceof SyntaxError ? `not JSON (${error.message})` : (error as Error).message
    return { id, error: message }
  }
}
