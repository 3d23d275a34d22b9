import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
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
  const child = execa('node', [CLI, 'sandbox', 'serve', '--port', '0', ...extra], { reject: false, env })
  const url = await new Promise<string>((resolve, reject) => {
    let seen = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      const found = /listening on (http:\/\/\S+)/.exec(seen)
      if (found) resolve(found[1]!)
    })
    void child.then(() => reject(new Error(`exited: ${seen}`)))
  })
  return { child, url }
}

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers })
  return { status: response.status, body: await response.json() }
}

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

      await post(`${url}/run_code`, { code: 'y = 7', language: 'python', session: 'a' })
      const shared = await post(`${url}/run_code`, { code: 'print(y * 6)', language: 'python', session: 'a' })
      expect(shared.body.run_result.stdout).toBe('42\n')
      const other = await post(`${url}/run_code`, { code: 'print(y)', language: 'python', session: 'b' })
      expect(other.body.run_result.stderr).toContain('NameError')
      const health = await (await fetch(`${url}/health`)).json()
      expect(health).toMatchObject({ status: 'ok', sessions: 2 })
      expect(await post(`${url}/close_session`, { session: 'a' })).toMatchObject({ body: { closed: true } })
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
})
