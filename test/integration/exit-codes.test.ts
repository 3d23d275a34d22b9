import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir } from './cli.js'

const dir = tempDir()
const db = join(dir, 's.db')
const file = (name: string, text: string | Buffer) => {
  writeFileSync(join(dir, name), text)
  return join(dir, name)
}
const DEV = resolve('../shared/datasets/testbed-dev.jsonl')

/**
 * Each command through the real CLI, once, on bad input: exit code 2 and one line naming what is wrong
 * (after any progress lines,
 * before an indented hint). The checks of every message live in the unit tests of the stages.
 */
describe('bad input exits 2 with one line, for every command', () => {
  it.each([
    ['sandbox', ['sandbox', join(dir, 'nope.jsonl'), '--db', db], `${join(dir, 'nope.jsonl')}: no such file`],
    [
      'sandbox exec',
      ['sandbox', 'exec', '--timeout', '0', '--code', 'print(1)'],
      '--timeout 0: expected an integer from 1 to 86400000',
    ],
    [
      'hint-infer',
      // The magic, then all ones: node-llama-cpp's reader used to spin on such a header for good.
      [
        'hint-infer',
        DEV,
        '--model',
        file('corrupt.gguf', Buffer.from(`GGUF${'\xff'.repeat(20)}`, 'latin1')),
        '--db',
        db,
      ],
      `--model ${join(dir, 'corrupt.gguf')}: a GGUF model of version 4294967295, not 2 or 3`,
    ],
    [
      'grade',
      ['grade', file('g.jsonl', '{"answer": "2"}\n')],
      `${join(dir, 'g.jsonl')}:1: missing "completion" (or "text")`,
    ],
    ['filter', ['filter', DEV, '--db', db], '--rule hint-gain needs --plain'],
    [
      'rft',
      ['rft', '--stage', '1', '--base', join(dir, 'nope.gguf'), '--data', DEV, '--out', dir, '--db', db],
      `--base ${join(dir, 'nope.gguf')}: no such file or directory`,
    ],
    [
      'eval',
      ['eval', '--model', 'm.gguf', '--benchmarks', join(dir, 'none.jsonl'), '--db', db],
      '--benchmarks',
    ],
    [
      'report',
      ['report', file('rows.jsonl', '{"model": "m"}\n')],
      `${join(dir, 'rows.jsonl')}:1: missing "benchmark"`,
    ],
    [
      'pipeline',
      [
        'pipeline',
        '--config',
        file('c.yaml', 'run: r\nout: o\nmodel: m\nproblems: p\nevals: {}\n'),
        '--db',
        db,
      ],
      `${join(dir, 'c.yaml')}: evals: expected a known key`,
    ],
    [
      'hint-infer --backend openai',
      ['hint-infer', DEV, '--backend', 'openai', '--base-url', 'gpu-box:8000', '--db', db],
      '--base-url gpu-box:8000: not a URL',
    ],
    [
      'eval --backend openai',
      ['eval', '--backend', 'openai', '--benchmarks', DEV, '--db', db],
      '--base-url: required with --backend openai',
    ],
    ['runs', ['runs', '--db', dir], `--db ${dir}: cannot open the run store`],
    ['setup', ['setup', '--no-such-flag'], 'Nonexistent flag: --no-such-flag'],
    [
      'setup --venv (a directory start did not make)',
      ['setup', '--venv', dir],
      `--venv ${dir}: is a directory start did not make`,
    ],
    [
      'server',
      ['server', '--model', file('corrupt-server.gguf', 'not a gguf')],
      `--model ${join(dir, 'corrupt-server.gguf')}: not a GGUF model`,
    ],
    [
      'rl',
      ['rl', '--base', join(dir, 'nope.gguf'), '--problems', DEV, '--out', dir, '--db', db],
      `--base ${join(dir, 'nope.gguf')}: no such file or directory`,
    ],
    ['sandbox serve', ['sandbox', 'serve'], 'give --stdio or --port P'],
    [
      'export --out (a file)',
      ['export', '--format', 'verl', '--problems', DEV, '--out', file('not-a-dir', 'x')],
      `--out ${join(dir, 'not-a-dir')}: exists and is not a directory`,
    ],
    [
      'rl --out (below a file)',
      [
        'rl',
        '--base',
        resolve('../shared/models/testbed-tir-hf'),
        '--problems',
        DEV,
        '--out',
        join(dir, 'not-a-dir', 'rl'),
        '--db',
        db,
      ],
      `--out ${join(dir, 'not-a-dir', 'rl')}: ${join(dir, 'not-a-dir')} is a file, not a directory`,
    ],
    [
      'export --sandbox-url (not a URL)',
      ['export', '--format', 'verl', '--problems', DEV, '--out', dir, '--sandbox-url', 'not a url'],
      '--sandbox-url not a url: expected an http:// or https:// URL',
    ],
    [
      'sandbox serve --port out of range',
      ['sandbox', 'serve', '--port', '70000'],
      'Parsing --port Expected an integer less than or equal to 65535 but received: 70000',
    ],
    [
      'sandbox serve --stdio --port',
      ['sandbox', 'serve', '--stdio', '--port', '1'],
      '--port=1 cannot also be provided when using --stdio',
    ],
    [
      'server --port out of range (llama-server would bind another port)',
      ['server', '--model', file('server-port.gguf', 'x'), '--port', '70000'],
      '--port 70000: expected an integer from 1 to 65535',
    ],
    [
      'sandbox --concurrency past the bound',
      [
        'sandbox',
        file('cells.jsonl', '{"id": "a", "code": "print(1)"}\n'),
        '--concurrency',
        '1e12',
        '--db',
        db,
      ],
      '--concurrency 1e12: expected an integer from 1 to 256',
    ],
    [
      'steps --out (its input)',
      ['steps', file('t.jsonl', '{}\n'), '--out', join(dir, 't.jsonl'), '--db', db],
      `--out ${join(dir, 't.jsonl')}: is the input ${join(dir, 't.jsonl')}`,
    ],
    [
      'filter --scores (its --out)',
      [
        'filter',
        DEV,
        '--rule',
        'correct',
        '--out',
        join(dir, 'kept.jsonl'),
        '--scores',
        join(dir, 'kept.jsonl'),
        '--db',
        db,
      ],
      `--scores ${join(dir, 'kept.jsonl')}: is --out`,
    ],
    [
      'export',
      ['export', '--format', 'verl', '--problems', file('bad-problems.jsonl', '{"id": "a"}\n'), '--out', dir],
      `${join(dir, 'bad-problems.jsonl')}:1:`,
    ],
  ])('start %s', async (_, args, message) => {
    const result = await runCli(args)
    expect(result.exitCode, result.stderr).toBe(2)
    // nothing the user gave is replaced: an input named as the output keeps its bytes
    if (args.includes(join(dir, 't.jsonl'))) expect(readFileSync(join(dir, 't.jsonl'), 'utf8')).toBe('{}\n')
    // The error is the last line but for an indented hint on how to fix it.
    const lines = result.stderr.trim().split('\n')
    const error = [...lines].reverse().find((line) => line.startsWith('start: '))
    expect(error).toContain(message)
    expect(lines.slice(lines.indexOf(error!) + 1).every((line) => line.startsWith('  '))).toBe(true)
  })
})
