import { existsSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { join, resolve } from 'node:path'
import { execa, type ResultPromise } from 'execa'
import { describe, expect, it } from 'vitest'
import { CLI, tempDir } from './cli.js'

/** Runs `start sandbox serve --stdio` on the given request lines; the answers by id. */
async function stdio(lines: string[]): Promise<{ answers: Record<string, unknown>[]; exitCode?: number }> {
  const result = await execa('node', [CLI, 'sandbox', 'serve', '--stdio'], {
    input: `${lines.join('\n')}\n`,
    reject: false,
  })
  const answers = String(result.stdout)
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
  return { answers, exitCode: result.exitCode }
}

/** Starts `start sandbox serve --port 0`; its URL once it says it listens. */
async function httpServe(extra: string[] = [], env: Record<string, string> = {}) {
  // One worker unless a test asks for more: each server warms its own.
  const workers = extra.includes('--concurrency') ? [] : ['--concurrency', '1']
  const child = execa('node', [CLI, 'sandbox', 'serve', '--port', '0', ...workers, ...extra], {
    reject: false,
    env,
  })
  return { child, url: await listeningUrl(child) }
}

function listeningUrl(child: ResultPromise): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let seen = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      const found = /listening on (http:\/\/\S+)/.exec(seen)
      if (found) resolve(found[1]!)
    })
    void child.then(() => reject(new Error(`exited: ${seen}`)))
  })
}

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  })
  return { status: response.status, body: await response.json() }
}

/** A request with exactly these headers (fetch will not send a foreign Host). */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: options.method ?? 'POST', headers: options.headers },
      (response) => {
        let text = ''
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString()
        })
        response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }))
      },
    )
    request.on('error', reject)
    request.end(options.body)
  })
}

/** A record that takes more than a second to grade: 800,000 boxed answers (8 MB), every one read. */
const SLOW_TO_GRADE = '\\boxed{1} '.repeat(800_000)

const health = async (url: string) =>
  (await (await fetch(`${url}/health`)).json()) as { executed: number; sessions: number; running: number }

describe('start sandbox serve --stdio', () => {
  it('answers each line as it finishes, keeps session cells in order, closes sessions, survives bad lines', async () => {
    const { answers, exitCode } = await stdio([
      // a UTF-8 byte-order mark before the first request, as an editor may write one
      `\uFEFF${JSON.stringify({ id: 'slow', code: 'import time; time.sleep(1.5); print("slow")' })}`,
      JSON.stringify({ id: 'fast', code: 'print(2**10)' }),
      JSON.stringify({ id: 's1', code: 'x = 41', session: 't' }),
      JSON.stringify({ id: 's2', code: 'print(x + 1)', session: 't' }),
      JSON.stringify({ id: 'close', close: 't' }),
      JSON.stringify({ id: 's3', code: 'print(x)', session: 't' }),
      '{"id": "broken", ',
      JSON.stringify({ id: 'nocode' }),
    ])
    expect(exitCode).toBe(0)
    const order = answers.map((answer) => answer.id)
    expect(order.indexOf('fast')).toBeLessThan(order.indexOf('slow'))
    const byId = Object.fromEntries(answers.map((answer) => [answer.id, answer]))
    expect(byId.fast).toMatchObject({ result: { stdout: '1024\n', exitCode: 0 } })
    expect(byId.slow).toMatchObject({ result: { stdout: 'slow\n' } })
    expect(byId.s2).toMatchObject({ result: { stdout: '42\n' } })
    expect(byId.close).toEqual({ id: 'close', closed: true })
    // After the close the session id starts afresh.
    expect((byId.s3 as { result: { stderr: string } }).result.stderr).toContain('NameError')
    expect(byId.nocode).toEqual({ id: 'nocode', error: '"code" must be a string' })
    expect(answers.find((answer) => answer.id === null)?.error).toMatch(/^not JSON/)
  }, 60_000)

  it('keeps the sandbox: no network, nothing outside scratch, the time limit', async () => {
    const escaped = join(tempDir(), 'escaped-by-serve')
    const { answers } = await stdio([
      JSON.stringify({
        id: 'net',
        code: 'import socket\nsocket.create_connection(("1.1.1.1", 53), timeout=2)',
      }),
      JSON.stringify({ id: 'file', code: `print(open(${JSON.stringify(resolve('package.json'))}).read())` }),
      JSON.stringify({ id: 'write', code: `open(${JSON.stringify(escaped)}, "w").write("x")` }),
      JSON.stringify({ id: 'loop', code: 'while True: pass', timeout: 1000 }),
    ])
    const byId = Object.fromEntries(
      answers.map((answer) => [answer.id, answer.result as Record<string, unknown>]),
    )
    expect(byId.net!.exitCode).toBe(1)
    expect(byId.file!.exitCode).toBe(1)
    expect(byId.write!.exitCode).toBe(1)
    expect(existsSync(escaped)).toBe(false)
    expect(byId.loop!.timedOut).toBe(true)
  }, 60_000)
})

describe('start sandbox serve --port (SandboxFusion API)', () => {
  it('answers /run_code as SandboxFusion does, with sessions, health, and a clean stop on SIGTERM', async () => {
    const { child, url } = await httpServe()
    try {
      const ok = await post(`${url}/run_code`, { code: 'print(1 + 1)', language: 'python' })
      expect(ok.status).toBe(200)
      expect(ok.body).toMatchObject({
        status: 'Success',
        compile_result: null,
        run_result: { status: 'Finished', return_code: 0, stdout: '2\n', stderr: '' },
      })
      const raised = await post(`${url}/run_code`, { code: '1/0', language: 'python' })
      expect(raised.body).toMatchObject({
        status: 'Failed',
        run_result: { status: 'Finished', return_code: 1 },
      })
      expect(raised.body.run_result.stderr).toContain('ZeroDivisionError')
      const slow = await post(`${url}/run_code`, {
        code: 'while True: pass',
        language: 'python',
        run_timeout: 1,
      })
      expect(slow.body).toMatchObject({ status: 'Failed', run_result: { status: 'TimeLimitExceeded' } })
      const echo = await post(`${url}/run_code`, {
        code: 'print(input())',
        language: 'python',
        stdin: 'hi\n',
      })
      expect(echo.body.run_result.stdout).toBe('hi\n')

      expect((await post(`${url}/run_code`, { code: 'x', language: 'cpp' })).status).toBe(400)
      expect((await post(`${url}/run_code`, { language: 'python' })).status).toBe(400)

      const a = (await post(`${url}/open_session`, {})).body.session as string
      const b = (await post(`${url}/open_session`, {})).body.session as string
      await post(`${url}/run_code`, { code: 'y = 7', language: 'python', session: a })
      const shared = await post(`${url}/run_code`, { code: 'print(y * 6)', language: 'python', session: a })
      expect(shared.body.run_result.stdout).toBe('42\n')
      const other = await post(`${url}/run_code`, { code: 'print(y)', language: 'python', session: b })
      expect(other.body.run_result.stderr).toContain('NameError')
      expect(await health(url)).toMatchObject({ status: 'ok', sessions: 2 })
      expect(await post(`${url}/close_session`, { session: a })).toMatchObject({ body: { closed: true } })
      expect(await (await fetch(`${url}/v1/ping`)).text()).toBe('pong')

      // A cell running when the stop comes is answered; then the server exits 0.
      const running = post(`${url}/run_code`, {
        code: 'import time; time.sleep(1); print("done")',
        language: 'python',
      })
      await new Promise((resolve) => setTimeout(resolve, 300))
      child.kill('SIGTERM')
      expect((await running).body.run_result.stdout).toBe('done\n')
      expect((await child).exitCode).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
  }, 60_000)

  it('with --token-env, refuses requests without the bearer token', async () => {
    const { child, url } = await httpServe(['--token-env', 'SANDBOX_TOKEN'], { SANDBOX_TOKEN: 's3cret' })
    try {
      expect((await post(`${url}/run_code`, { code: 'print(1)' })).status).toBe(401)
      const allowed = await post(`${url}/run_code`, { code: 'print(1)' }, { authorization: 'Bearer s3cret' })
      expect(allowed.body.run_result.stdout).toBe('1\n')
    } finally {
      child.kill('SIGKILL')
    }
  }, 60_000)

  it('sessions are capabilities: only the id the server issued reaches a session; any other gets 404 and learns nothing', async () => {
    const { child, url } = await httpServe()
    try {
      const opened = await post(`${url}/open_session`, {})
      expect(opened.status).toBe(200)
      const mine = opened.body.session as string
      // at least 128 random bits, url-safe; each session its own
      expect(mine).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect((await post(`${url}/open_session`, {})).body.session).not.toBe(mine)
      await post(`${url}/run_code`, { code: 'secret = "s3cr3t"', session: mine })
      // another client naming a session it was not given: the same 404 whether or not it exists
      for (const guess of ['a', 't1', mine.slice(0, -1), `${mine}x`, mine.toUpperCase()]) {
        const read = await post(`${url}/run_code`, { code: 'print(secret)', session: guess })
        expect(read).toEqual({ status: 404, body: { status: 'SandboxError', message: 'no such session' } })
        expect(await post(`${url}/close_session`, { session: guess })).toEqual(read)
      }
      // the owner's session is untouched, and closing it ends the capability
      const still = await post(`${url}/run_code`, { code: 'print(secret)', session: mine })
      expect(still.body.run_result.stdout).toBe('s3cr3t\n')
      expect((await post(`${url}/close_session`, { session: mine })).status).toBe(200)
      expect((await post(`${url}/run_code`, { code: 'print(1)', session: mine })).status).toBe(404)
    } finally {
      child.kill('SIGTERM')
      await child
    }
  }, 60_000)

  it('a web page cannot use it: no foreign Origin, no cross-site fetch, no text/plain body, no rebound Host name', async () => {
    const { child, url } = await httpServe()
    try {
      const { port } = new URL(url)
      const body = JSON.stringify({ code: 'print(1)', language: 'python' })
      const before = (await health(url)).executed
      const attempts: { headers: Record<string, string>; status: number }[] = [
        // a cross-origin "simple" request: text/plain needs no preflight
        { headers: { 'content-type': 'text/plain;charset=UTF-8' }, status: 415 },
        { headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
        { headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, status: 403 },
        { headers: { 'content-type': 'application/json', origin: 'null' }, status: 403 },
        { headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, status: 403 },
        // DNS rebinding: a page's own name, resolved to 127.0.0.1
        { headers: { 'content-type': 'application/json', host: `evil.example:${port}` }, status: 403 },
        {
          headers: { 'content-type': 'application/json', host: `127.0.0.1.evil.example:${port}` },
          status: 403,
        },
      ]
      for (const attempt of attempts) {
        const answer = await raw(`${url}/run_code`, { headers: attempt.headers, body })
        expect(answer.status, JSON.stringify(attempt.headers)).toBe(attempt.status)
        expect(answer.body.status).toBe('SandboxError')
      }
      const get = await raw(`${url}/health`, { method: 'GET', headers: { origin: 'http://evil.example' } })
      expect(get.status).toBe(403)
      // nothing ran; the loopback names a client uses are accepted
      expect((await health(url)).executed).toBe(before)
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
        const ok = await raw(`${url}/run_code`, {
          headers: { 'content-type': 'application/json', host },
          body,
        })
        expect(ok.status).toBe(200)
      }
    } finally {
      child.kill('SIGTERM')
      await child
    }
  }, 60_000)

  it('will not listen beyond loopback without a token: exit 2, saying why', async () => {
    const result = await execa('node', [CLI, 'sandbox', 'serve', '--port', '0', '--host', '0.0.0.0'], {
      reject: false,
    })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('--host 0.0.0.0: listening beyond loopback needs --token-env')
  }, 30_000)

  it("clamps every client limit to the server's: a cell asking for an hour gets the server's seconds, no timer overflows", async () => {
    const { child, url } = await httpServe(['--timeout', '1500'])
    try {
      const started = Date.now()
      const long = await post(`${url}/run_code`, { code: 'while True: pass', run_timeout: 3600 })
      expect(long.body.run_result.status).toBe('TimeLimitExceeded')
      expect(Date.now() - started).toBeLessThan(6000)
      // a limit past any timer's range: clamped, not a worker killed as stuck at once
      for (const run_timeout of [1e7, 3e9]) {
        const fine = await post(`${url}/run_code`, { code: 'print(6 * 7)', run_timeout })
        expect(fine.body).toMatchObject({ status: 'Success', run_result: { stdout: '42\n' } })
      }
      expect((await post(`${url}/run_code`, { code: 'print(1)' })).body.status).toBe('Success')
      for (const run_timeout of ['-1', '0', '"soon"', '1e400']) {
        // 1e400 is valid JSON, and parses to Infinity
        const body = `{"code": "print(1)", "run_timeout": ${run_timeout}}`
        const refused = await raw(`${url}/run_code`, {
          headers: { 'content-type': 'application/json' },
          body,
        })
        expect(refused.status, run_timeout).toBe(400)
      }
      expect((await post(`${url}/run_code`, { code: 'print(1)', memory_limit_MB: 'lots' })).status).toBe(400)
      expect((await post(`${url}/run_code`, { code: 'print(1)', memory_limit_MB: 1e9 })).body.status).toBe(
        'Success',
      )
    } finally {
      child.kill('SIGTERM')
      await child
    }
    const { answers } = await stdio([
      JSON.stringify({ id: 'huge', code: 'print(1)', timeout: 3e9 }),
      JSON.stringify({ id: 'next', code: 'print(2)' }),
    ])
    const byId = Object.fromEntries(answers.map((answer) => [answer.id, answer]))
    expect(byId.huge).toMatchObject({ result: { stdout: '1\n', exitCode: 0 } })
    expect(byId.next).toMatchObject({ result: { stdout: '2\n', exitCode: 0 } })
  }, 60_000)

  it("stops within its own limit: Ctrl-C to the terminal's group lets running cells finish; a runaway cell cannot hold SIGTERM", async () => {
    // as a terminal runs it: its own process group, which Ctrl-C signals whole
    const grouped = execa('node', [CLI, 'sandbox', 'serve', '--port', '0', '--concurrency', '1'], {
      reject: false,
      detached: true,
    })
    const url = await listeningUrl(grouped)
    const running = post(`${url}/run_code`, { code: 'import time; time.sleep(1.5); print("done")' })
    await new Promise((resolve) => setTimeout(resolve, 500))
    process.kill(-grouped.pid!, 'SIGINT')
    expect((await running).body.run_result).toMatchObject({ stdout: 'done\n', return_code: 0 })
    expect((await grouped).exitCode).toBe(0)

    const { child, url: bounded } = await httpServe(['--timeout', '2000'])
    const runaway = post(`${bounded}/run_code`, { code: 'while True: pass', run_timeout: 3600 }).catch(
      () => null,
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    const stopping = Date.now()
    child.kill('SIGTERM')
    const exited = await child
    expect(exited.exitCode).toBe(0)
    // the server's 2 s limit plus its grace, not the hour the client asked for
    expect(Date.now() - stopping).toBeLessThan(8000)
    expect(exited.stderr).toContain('running cells get up to 4 s')
    await runaway
  }, 60_000)

  it('grades off the event loop: a record over the grading budget fails alone, /health answers meanwhile', async () => {
    const { child, url } = await httpServe(['--grade-budget', '0.5', '--grade-threads', '1'])
    try {
      const right = await post(`${url}/grade`, { completion: 'so \\boxed{42}', answer: '42' })
      expect(right).toMatchObject({ status: 200, body: { correct: true, predicted: '42' } })
      // sympy in the sandbox, reached from the grading thread
      const symbolic = await post(`${url}/grade`, {
        completion: '\\boxed{\\frac{\\sqrt{8}}{2}}',
        answer: '\\sqrt{2}',
      })
      expect(symbolic.body.correct).toBe(true)
      expect((await post(`${url}/grade`, { answer: '42' })).status).toBe(400)
      const slow = post(`${url}/grade`, { completion: SLOW_TO_GRADE, answer: '42' })
      const healthTimes: number[] = []
      for (let i = 0; i < 5; i++) {
        const asked = Date.now()
        await health(url)
        healthTimes.push(Date.now() - asked)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const answered = await slow
      expect(answered.status).toBe(503)
      expect(answered.body.message).toContain('grading took longer than its budget (0.5 s)')
      expect(Math.max(...healthTimes)).toBeLessThan(200)
      // the thread was replaced: the next record grades
      expect((await post(`${url}/grade`, { completion: '\\boxed{7}', answer: '7' })).body.correct).toBe(true)
    } finally {
      child.kill('SIGTERM')
      await child
    }
  }, 60_000)
})
