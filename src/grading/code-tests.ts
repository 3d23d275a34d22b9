import { definesFunction } from './extract-answer.js'

/** One stdin/stdout case: the program reads `input` and must print `output`. */
export interface IoCase {
  input: string
  output: string
}

/**
 * HumanEval's protocol: prompt + completion + tests + `check(entry_point)`. A completion that defines
 * the function itself replaces the prompt's stub (the prompt still supplies its imports and helpers).
 * The program prints `marker` last: a solution that exits early with status 0 must not pass.
 */
export function humanEvalProgram(
  prompt: string,
  code: string,
  tests: string,
  entryPoint: string,
  marker: string,
): string {
  const solution = definesFunction(code, entryPoint) ? `${prompt}\n    pass\n\n${code}` : `${prompt}${code}`
  return `${solution}\n\n${tests}\n\ncheck(${entryPoint})\nprint(${JSON.stringify(marker)})\n`
}

/** The run passed when it exited 0 and its last line is the marker. */
export function printedMarker(stdout: string, marker: string): boolean {
  return stdout.trimEnd().split('\n').at(-1) === marker
}

/**
 * Runs `code` once per case, each with fresh globals, its stdin and captured stdout, and prints one
 * line of pass/fail per case after `marker`. Output compares line by line with trailing spaces ignored.
 */
export function stdioProgram(code: string, cases: IoCase[], marker: string): string {
  return `import io, json, sys, contextlib
_code = compile(${JSON.stringify(code)}, "<solution>", "exec")
_cases = json.loads(${JSON.stringify(JSON.stringify(cases))})
def _lines(text):
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return lines
_results = []
for _case in _cases:
    _out = io.StringIO()
    sys.stdin = io.StringIO(_case["input"])
    try:
        with contextlib.redirect_stdout(_out):
            exec(_code, {"__name__": "__main__"})
    except SystemExit as _stop:
        if _stop.code not in (None, 0):
            _results.append(False)
            continue
    except BaseException:
        _results.append(False)
        continue
    _results.append(_lines(_out.getvalue()) == _lines(_case["output"]))
sys.stdin = sys.__stdin__
print(${JSON.stringify(marker)} + json.dumps(_results))
`
}

/** Reads the pass/fail line that `stdioProgram` prints after its marker. */
export function stdioPassed(stdout: string, cases: number, marker: string): boolean {
  const last = stdout.trimEnd().split('\n').at(-1) ?? ''
  if (!last.startsWith(marker)) return false
  try {
    const results = JSON.parse(last.slice(marker.length)) as unknown
    return Array.isArray(results) && results.length === cases && results.every((passed) => passed === true)
  } catch {
    return false
  }
}
