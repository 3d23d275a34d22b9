import { execFileSync } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureTrainingEnv } from '../../src/training/python-env.js'

/** start_rl.py's CliRollouts with its rollouts stubbed: what the group selection keeps. */
const SCRIPT = `
import json
from start_rl import CliRollouts, StepMetrics

class Row:
    def __init__(self, length):
        self.ids = [0] * length

def row(correct, failed=0, length=10, refused=None, name=""):
    return (Row(length), {"correct": correct, "failedCalls": failed, "refused": refused, "name": name})

def names(rows):
    return [op["name"] for _, op in rows]

out = {}
selector = CliRollouts(None, StepMetrics(), group_size=4, problem_ids=["a", "b"], seed=1, oversample=4)
rights = [row(True, failed=2, name="r-2-errors"), row(True, name="r-clean-long", length=30), row(True, name="r-clean-short")]
wrongs = [row(False, name=f"w{i}") for i in range(13)]
out["few right"] = names(selector.down_sample(rights + wrongs))
out["all right"] = names(selector.down_sample([row(True, failed=i % 3, length=40 - i, name=f"r{i}") for i in range(16)]))
out["half"] = names(selector.down_sample([row(True, name=f"r{i}", length=i) for i in range(8)] + [row(False, name=f"w{i}") for i in range(8)]))
out["refused last"] = names(selector.down_sample([row(True, refused="hedged", name="hedged-but-right")] + [row(True, name=f"r{i}") for i in range(2)] + [row(False, name=f"w{i}") for i in range(13)]))

# dynamic sampling: a group with one outcome is set aside for a new one, within the rounds
rounds = iter([
    [row(False, name="a") for _ in range(4)],
    [row(True, name="b1"), row(False, name="b2"), row(False, name="b3"), row(True, name="b4")],
])
dynamic = CliRollouts(None, StepMetrics(), group_size=4, problem_ids=["a", "b"], dynamic_rounds=2, seed=1)
dynamic.roll_out = lambda prompts, trainer: next(rounds)
kept = dynamic.fill_with_informative(dynamic.roll_out(None, None), 1, None)
out["dynamic"] = {"kept": names(kept), **dynamic.metrics.groups}
flat = CliRollouts(None, StepMetrics(), group_size=2, problem_ids=["a"], dynamic_rounds=1, seed=1)
flat.roll_out = lambda prompts, trainer: [row(False, name="x"), row(False, name="x")]
out["never informative"] = {"kept": names(flat.fill_with_informative(flat.roll_out(None, None), 1, None)), **flat.metrics.groups}
print(json.dumps(out))
`

describe('which rollouts a step trains on (start_rl.py: resample-on-correct, dynamic sampling)', () => {
  let selected: Record<string, unknown>
  beforeAll(async () => {
    const env = await ensureTrainingEnv()
    const stdout = execFileSync(env.python, ['-c', SCRIPT], {
      env: { ...process.env, PYTHONPATH: 'src/training', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    selected = JSON.parse(String(stdout).trim().split('\n').at(-1)!)
  }, 600_000)

  it('resample-on-correct keeps the pass rate, the cleanest right rollouts and wrong ones at random', () => {
    // 3 right of 16: one right (the clean short one), three wrong
    const few = selected['few right'] as string[]
    expect(few[0]).toBe('r-clean-short')
    expect(few.slice(1).every((name) => name.startsWith('w'))).toBe(true)
    expect(new Set(few).size).toBe(4)
    // all right: the fewest failed calls first, then the shortest
    expect(selected['all right']).toEqual(['r15', 'r12', 'r9', 'r6'])
    // half right: two of each, the shortest right ones
    const half = selected.half as string[]
    expect(half.slice(0, 2)).toEqual(['r0', 'r1'])
    expect(half.slice(2).every((name) => name.startsWith('w'))).toBe(true)
    // a refused answer is never preferred to a clean one
    expect((selected['refused last'] as string[])[0]).not.toBe('hedged-but-right')
  })

  it('dynamic sampling replaces a one-outcome group and counts what it did; with no spread found, fills with what it has', () => {
    expect(selected.dynamic).toEqual({
      kept: ['b1', 'b2', 'b3', 'b4'],
      groupsSampled: 2,
      groupsKept: 1,
      extraRounds: 1,
    })
    expect(selected['never informative']).toEqual({
      kept: ['x', 'x'],
      groupsSampled: 2,
      groupsKept: 0,
      extraRounds: 1,
    })
  })
})
