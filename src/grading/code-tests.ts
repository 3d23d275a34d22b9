import { definesFunction } from './extract-answer.js'

/** One stdin/stdout case: the program reads `input` and must print `output`. */
export interface IoCase {
  input: string
  output: string
}

/**
 * Plain data across a pipe: JSON with exact Python types (tuple vs list, int vs float, bytes). Encoding
 * turns whatever the candidate returns into plain values (an int subclass with a forged `__eq__` becomes
 * an int), and anything else (an object, a function) cannot cross at all.
 */
const CODEC = `
import builtins, json, numbers, os
def _encode(value, depth=0):
    if depth > 200:
        raise ValueError("nested too deeply")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return {"int": str(int(value))}
    if isinstance(value, numbers.Real):
        return {"float": repr(float(value))}
    if isinstance(value, numbers.Complex):
        return {"complex": [repr(float(value.real)), repr(float(value.imag))]}
    if isinstance(value, str):
        return {"str": str.__str__(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": bytes(value).hex()}
    for kind in (list, tuple, set, frozenset):
        if isinstance(value, kind):
            return {kind.__name__: [_encode(item, depth + 1) for item in list(value)]}
    if isinstance(value, dict):
        return {"dict": [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in list(value.items())]}
    raise TypeError(f"a {type(value).__name__} cannot be compared as plain data")
def _decode(data):
    if data is None or isinstance(data, bool):
        return data
    (kind, value), = data.items()
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "complex":
        return complex(float(value[0]), float(value[1]))
    if kind == "str":
        return value
    if kind == "bytes":
        return bytes.fromhex(value)
    if kind == "dict":
        return {_decode(k): _decode(v) for k, v in value}
    return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[kind](_decode(item) for item in value)
def _send(fd, message):
    data = (json.dumps(message) + "\\n").encode()
    while data:
        data = data[os.write(fd, data):]
`

/**
 * The candidate's side, started as a fresh interpreter: it receives its own source over a pipe and
 * answers calls with plain data. It never holds the tests, their expected values or the verdict.
 */
const CANDIDATE_SERVER = `${CODEC}
import sys
_requests = os.fdopen(int(sys.argv[1]), "rb")
_replies = int(sys.argv[2])
_setup = json.loads(_requests.readline())
_namespace = {"__name__": "__candidate__"}
try:
    exec(compile(_setup["source"], "<solution>", "exec"), _namespace)
    _function = _namespace[_setup["entry"]]
    _send(_replies, {"ready": True})
except BaseException as error:
    _send(_replies, {"raised": type(error).__name__, "message": str(error)[:500]})
    sys.exit(0)
for _line in _requests:
    _call = json.loads(_line)
    try:
        _result = _function(*_decode(_call["args"]), **_decode(_call["kwargs"]))
        _send(_replies, {"result": _encode(_result)})
    except BaseException as error:
        _send(_replies, {"raised": type(error).__name__, "message": str(error)[:500]})
`

/** The last line the HumanEval harness prints when every test passed. */
export const PASSED = '{"passed": true}'

/**
 * HumanEval's protocol, with the pass decision out of the candidate's reach. The harness (trusted: the
 * dataset's prompt and tests) runs `check(candidate)` where `candidate` forwards each call to the
 * solution in a separate, freshly started interpreter and gets back plain data. The solution's process
 * never sees the tests or their expected values, cannot write to the harness's output, and a value that
 * is not plain data (an object whose `__eq__` always says yes) fails the test. A completion that defines
 * the function itself replaces the prompt's stub (the prompt still supplies its imports and helpers).
 */
export function humanEvalProgram(prompt: string, code: string, tests: string, entryPoint: string): string {
  const solution = definesFunction(code, entryPoint) ? `${prompt}\n    pass\n\n${code}` : `${prompt}${code}`
  return `${CODEC}
import subprocess, sys
_to_candidate, _candidate_reads = os.pipe()
_candidate_writes, _from_candidate = os.pipe()
_process = subprocess.Popen(
    [sys.executable, "-c", ${JSON.stringify(CANDIDATE_SERVER)}, str(_to_candidate), str(_from_candidate)],
    pass_fds=(_to_candidate, _from_candidate), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL, close_fds=True)
os.close(_to_candidate)
os.close(_from_candidate)
_replies = os.fdopen(_candidate_writes, "rb")
def _receive():
    line = _replies.readline()
    if not line:
        raise RuntimeError("the solution's process ended")
    return json.loads(line)
def _reraise(reply):
    kind = getattr(builtins, reply["raised"], None)
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        kind = RuntimeError
    raise kind(reply["message"])
_send(_candidate_reads, {"source": ${JSON.stringify(solution)}, "entry": ${JSON.stringify(entryPoint)}})
_ready = _receive()
if "raised" in _ready:
    _reraise(_ready)
def candidate(*args, **kwargs):
    _send(_candidate_reads, {"args": _encode(list(args)), "kwargs": _encode(kwargs)})
    reply = _receive()
    if "raised" in reply:
        _reraise(reply)
    return _decode(reply["result"])
_harness = {"__name__": "__harness__"}
try:
    exec(compile(${JSON.stringify(prompt)}, "<prompt>", "exec"), _harness)
except SyntaxError:
    exec(compile(${JSON.stringify(`${prompt}\n    pass\n`)}, "<prompt>", "exec"), _harness)
# Tests may name the function rather than use their argument: the name is the candidate too.
_harness[${JSON.stringify(entryPoint)}] = candidate
exec(compile(${JSON.stringify(tests)}, "<tests>", "exec"), _harness)
_harness["check"](candidate)
_process.kill()
print(${JSON.stringify(PASSED)})
`
}

/** The harness passed when it exited 0 and its last line is the verdict (only the harness writes there). */
export function harnessPassed(stdout: string): boolean {
  return stdout.trimEnd().split('\n').at(-1) === PASSED
}

/** A stdin/stdout case passed when the program printed the expected lines (trailing spaces ignored). */
export function outputMatches(stdout: string, expected: string): boolean {
  const lines = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((line) => line.trimEnd())
  return JSON.stringify(lines(stdout)) === JSON.stringify(lines(expected))
}
