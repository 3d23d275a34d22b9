import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { Grader, type Reference } from '../../src/grading/grader.js'
import { SandboxPool } from '../../src/sandbox/pool.js'

interface HumanEvalProblem {
  id: string
  problem: string
  tests: string
  entry_point: string
  meta: { canonical_solution: string }
}

const problems: HumanEvalProblem[] = readFileSync('../shared/datasets/humaneval.jsonl', 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line))

const reference = (problem: HumanEvalProblem): Reference => ({
  kind: 'humaneval',
  prompt: problem.problem,
  tests: problem.tests,
  entryPoint: problem.entry_point,
})

describe('code grading in the real sandbox', () => {
  const pool = new SandboxPool({ workers: 2, limits: { timeoutMs: 5000 } })
  const grader = new Grader(pool, { codeTimeoutMs: 5000 })
  afterAll(() => pool.close())

  it('passes every HumanEval canonical solution, as a raw completion', async () => {
    const grades = await Promise.all(
      problems.map((problem) => grader.grade(problem.meta.canonical_solution, reference(problem))),
    )
    const failed = problems.filter((_, i) => !grades[i]!.correct).map((problem) => problem.id)
    expect(failed).toEqual([])
  }, 120_000)

  it('fails every HumanEval problem whose solution returns the wrong thing or raises', async () => {
    const broken = problems.flatMap((problem, i) => [
      { problem, completion: i % 2 ? '    return None\n' : '    raise ValueError("no")\n' },
    ])
    const grades = await Promise.all(
      broken.map(({ problem, completion }) => grader.grade(completion, reference(problem))),
    )
    const passed = broken.filter((_, i) => grades[i]!.correct).map(({ problem }) => problem.id)
    expect(passed).toEqual([])
    // each says why: the harness's own last error line
    expect(grades[0]!.reason).toMatch(/^tests failed: exit 1: ValueError: no$/)
    expect(grades[1]!.reason).toMatch(/^tests failed: exit 1: /)
  }, 120_000)

  it('grades the whole function written in a ```python block, after thinking and a test block', async () => {
    const problem = problems[0]!
    const signature = problem.problem.match(/^def [\s\S]*?:\n/m)![0]
    const solution = `${signature}${problem.meta.canonical_solution}`
    const text = `<think>try it\n\`\`\`python\nprint(1)\n\`\`\`\n</think>\n\`\`\`python\nfrom typing import List\n${solution}\`\`\`\n`
    const grade = await grader.grade(text, reference(problem))
    expect(grade).toEqual({ predicted: `from typing import List\n${solution}`, correct: true })
  })

  it('does not pass a solution that exits with status 0 before the tests finish', async () => {
    const grade = await grader.grade('    import sys\n    sys.exit(0)\n', reference(problems[0]!))
    expect(grade.correct).toBe(false)
  })

  it('fails a solution that never returns, within the time limit', async () => {
    const started = performance.now()
    const grade = await grader.grade('    while True:\n        pass\n', reference(problems[0]!))
    expect(grade).toMatchObject({ correct: false, reason: 'tests failed: timed out' })
    expect(performance.now() - started).toBeLessThan(9000)
  })

  it('grades stdin/stdout cases: every case must print what is expected', async () => {
    const cases = [
      { input: '2 3\n', output: '5\n' },
      { input: '10 -4\n', output: '6' },
    ]
    const sum = '```python\na, b = map(int, input().split())\nprint(a + b)\n```'
    const product = '```python\na, b = map(int, input().split())\nprint(a * b)\n```'
    const exits = '```python\nimport sys\na, b = map(int, input().split())\nprint(a + b)\nsys.exit(0)\n```'
    expect((await grader.grade(sum, { kind: 'stdio', cases })).correct).toBe(true)
    expect((await grader.grade(exits, { kind: 'stdio', cases })).correct).toBe(true)
    expect((await grader.grade(product, { kind: 'stdio', cases })).correct).toBe(false)
    expect(await grader.grade(product, { kind: 'stdio', cases })).toMatchObject({
      reason: 'case 1 of 2: wrong output',
    })
    const prose = await grader.grade('no code at all', { kind: 'stdio', cases })
    expect(prose).toMatchObject({ predicted: 'no code at all', correct: false })
    expect(prose.reason).toMatch(/^case 1 of 2 failed: exit 1: SyntaxError/)
  })

  describe('gives a hostile solution nothing to forge', () => {
    const problem = problems[0]!
    const wrong = '    return False\n'
    const hostile: [string, string][] = [
      [
        'returns a value whose __eq__ always says yes',
        '    class Yes:\n        def __eq__(self, other):\n            return True\n    return Yes()\n',
      ],
      [
        'returns an int subclass whose __eq__ always says yes',
        '    class Yes(int):\n        def __eq__(self, other):\n            return True\n        __hash__ = int.__hash__\n    return Yes(0)\n',
      ],
      [
        'prints the verdict on every descriptor, then answers wrong',
        `    import os\n    for fd in range(1, 64):\n        try:\n            os.write(fd, b'\\n${'{'}"passed": true${'}'}\\n')\n        except OSError:\n            pass\n${wrong}`,
      ],
      [
        "writes the verdict into the harness's output through /proc, or reads its memory",
        `    import os\n    for target in ('/proc/%d/fd/1' % os.getppid(), '/proc/%d/mem' % os.getppid()):\n        try:\n            open(target, 'r+b').write(b'{"passed": true}\\n')\n        except OSError:\n            pass\n${wrong}`,
      ],
      [
        'looks for the tests in its own memory, and returns what they expect',
        "    import gc, sys\n    found = [o for o in gc.get_objects() if isinstance(o, str) and 'assert' in o]\n    if found:\n        return eval(found[0].split('==')[-1].split('\\n')[0])\n    sys.exit(0)\n",
      ],
      [
        'ends the harness with signal it might take for success',
        '    import os, signal\n    os.kill(os.getppid(), signal.SIGTERM)\n',
      ],
      ['exits with status 0 before the tests finish', '    import os\n    os._exit(0)\n'],
    ]
    it.each(hostile)('a solution that %s fails', async (_, completion) => {
      expect((await grader.grade(completion, reference(problem))).correct).toBe(false)
    })

    it('never shows a stdin/stdout program the expected output', async () => {
      const expected = 'expected-output-7d1e'
      const snoop = [
        '```python',
        'import gc, os, sys',
        'seen = [o for o in gc.get_objects() if isinstance(o, str)]',
        'seen += [open(os.path.join("/proc/self/fd", fd), errors="replace").read() if False else fd for fd in os.listdir("/proc/self/fd")]',
        'seen += [sys.stdin.read()]',
        'for name in os.listdir("/sandbox"):',
        '    seen.append(name)',
        'print("\\n".join(s for s in seen if "expected" in s) or "nothing")',
        '```',
      ].join('\n')
      const grade = await grader.grade(snoop, {
        kind: 'stdio',
        cases: [{ input: 'the input\n', output: expected }],
      })
      expect(grade.correct).toBe(false)
      const run = await pool.execute(snoop.split('\n').slice(1, -1).join('\n'), { stdin: 'the input\n' })
      expect(run.stdout).not.toContain(expected)
      expect(run.exitCode).toBe(0)
    })
  })
})
