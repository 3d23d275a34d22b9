"""START's rollout loop and grading for verl, written by `start export --format verl`.

Three things verl needs to run ReTool-style RL the way `start rl` runs it:

  StartToolAgentLoop   an agent loop (registered as "start_tir_agent"): the model writes ```python blocks in
                       its reasoning; each closed block runs in a SandboxFusion-compatible sandbox (`start
                       sandbox serve --port`, or SandboxFusion itself) and its output is appended as an
                       ```output block; with hints on, a hint replaces the first end of thinking. Appended
                       text is masked from the loss (response_mask 0), as in `start rl`.
  compute_score        the reward function: `start grade`'s rules, asked of `start sandbox serve`'s /grade
                       (+1 correct, -1 otherwise, as ReTool; `start_verl.json` says which).
  start_verl.json      the settings `start export` wrote: stop strings, hints, limits, server URLs.

The URLs come from the environment when set: START_SANDBOX_URL (code) and START_GRADER_URL (grading).
Only the standard library is needed outside verl; the agent loop is defined when verl is importable.
"""
import json
import os
import random
import re
import urllib.request
from pathlib import Path
from uuid import uuid4

CONFIG = json.loads(Path(__file__).with_name("start_verl.json").read_text(encoding="utf-8"))


def _url(name, key):
    return os.environ.get(name, CONFIG[key]).rstrip("/")


def _post(url, body, timeout):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    token = os.environ.get("START_SANDBOX_TOKEN")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


# ---------------------------------------------------------------- what the loop decides (as start's hint loop)


_OPEN_FENCE = re.compile(r"(?:^|\n)```(?:python|py)[ \t]*\n")
_LINE_FENCE = re.compile(r"(?:^|\n)```")


def closed_code_block(text):
    """The code of a ```python block the text just closed, or None: as start's stop points read it
    (src/inference/stop-points.ts): the last opening fence (```python or ```py), then the first fence at
    the start of a line closes the block."""
    stripped = text.rstrip()
    if not stripped.endswith("```"):
        return None
    before = stripped[:-3]
    opens = list(_OPEN_FENCE.finditer(before))
    if not opens:
        return None
    body = before[opens[-1].end():]
    if _LINE_FENCE.search(body):
        return None  # the block closed earlier: this fence is something else
    if body == "":
        return ""
    return body[:-1] if body.endswith("\n") else None


def truncate_tokens(text, max_tokens, side, encode, decode):
    """`text` cut to `max_tokens` of the model's tokens, as start's truncateTokens cuts it: `left` keeps the
    end, `right` the start, `middle` both ends (the start's half rounded down), a line saying how many."""
    tokens = list(encode(text))
    cut = len(tokens) - max_tokens
    if cut <= 0:
        return text
    marker = f"... [{cut} tokens truncated] ..."
    if side == "left":
        return f"{marker}\n{decode(tokens[cut:])}"
    if side == "right":
        return f"{decode(tokens[:max_tokens])}\n{marker}"
    head = max_tokens // 2
    return f"{decode(tokens[:head])}\n{marker}\n{decode(tokens[len(tokens) - (max_tokens - head):])}"


def token_limit(tokenizer):
    """--max-tool-output-tokens on the policy's tokenizer (text continuing a context), or None."""
    if not CONFIG.get("maxToolOutputTokens"):
        return None
    newline = tokenizer("\n", add_special_tokens=False)["input_ids"]

    def encode(text):
        ids = tokenizer("\n" + text, add_special_tokens=False, split_special_tokens=True)["input_ids"]
        return ids[len(newline):] if ids[: len(newline)] == newline else tokenizer(text, add_special_tokens=False)["input_ids"]

    return (CONFIG["maxToolOutputTokens"], CONFIG.get("truncateSide", "middle"), encode, tokenizer.decode)


def format_output(run_result, max_chars, tokens=None):
    """The ```output block, as start's formatOutput writes it: stdout, then the error's last line; cut to
    `tokens` (max, side, encode, decode) first when given, then to `max_chars`."""
    text = run_result.get("stdout") or ""
    sep = lambda: "\n" if text and not text.endswith("\n") else ""  # noqa: E731
    if run_result.get("status") == "TimeLimitExceeded":
        text += sep() + "TimeoutError: execution timed out"
    elif run_result.get("return_code") != 0:
        lines = (run_result.get("stderr") or "").strip().split("\n")
        if lines[-1]:
            text += sep() + lines[-1]
    text = text.rstrip()
    if tokens:
        text = truncate_tokens(text, *tokens)
    if len(text) > max_chars:
        half = max_chars // 2
        text = f"{text[:half]}\n... [{len(text) - 2 * half} characters truncated] ...\n{text[-half:]}"
    # a fence longer than any backtick run inside: nothing the cell prints can end the block
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}output\n{text}\n{fence}\n"


def execute(code, session):
    """Runs a cell in the rollout's session through the SandboxFusion API. `session` holds the id the
    service issued ({"id": None} until the first cell opens it: the id is the capability to use it)."""
    url = _url("START_SANDBOX_URL", "sandboxUrl")
    try:
        if session["id"] is None:
            session["id"] = _post(f"{url}/open_session", {}, timeout=30)["session"]
        answer = _post(
            f"{url}/run_code",
            {"code": code, "language": "python", "run_timeout": CONFIG["runTimeout"], "session": session["id"]},
            timeout=CONFIG["runTimeout"] + 30,
        )
        return answer.get("run_result") or {"stdout": "", "stderr": answer.get("message", ""), "return_code": 1}
    except Exception as error:  # noqa: BLE001 - the model sees a failed run, the rollout goes on
        return {"stdout": "", "stderr": f"SandboxError: {error}", "return_code": 1}


def close_session(session):
    if session["id"] is None:
        return
    try:
        _post(f"{_url('START_SANDBOX_URL', 'sandboxUrl')}/close_session", {"session": session["id"]}, timeout=30)
    except Exception:  # noqa: BLE001 - an idle session closes on its own
        pass


class Trajectory:
    """Tokens after the prompt and their mask: 1 sampled by the model, 0 inserted by the loop."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.ids, self.mask, self.text = [], [], ""
        self.newline = tokenizer.encode("\n", add_special_tokens=False)
        self.starts = []  # (kind, first character) of each piece: "model", "hint" or "output"

    def _starts_piece(self, kind, start):
        if not self.starts or self.starts[-1][0] != kind:
            self.starts.append((kind, start))

    def segments(self):
        """The text's pieces as start's records keep them: what the model wrote, hints, outputs."""
        ends = [start for _, start in self.starts[1:]] + [len(self.text)]
        return [{"kind": kind, "text": self.text[start:end]} for (kind, start), end in zip(self.starts, ends) if end > start]

    def add_sampled(self, ids):
        start = len(self.text)
        self.ids += ids
        self.mask += [1] * len(ids)
        self.text = self.tokenizer.decode(self.ids)
        self._starts_piece("model", start)

    def add_inserted(self, text, kind="output"):
        start = len(self.text)
        # Tokenized as a continuation: after a newline that is dropped (no word-start piece at the seam).
        # Inserted text is data (a hint, a cell's output): a "</s>" it holds is text, never the special token.
        plain = dict(add_special_tokens=False, split_special_tokens=True)
        ids = self.tokenizer.encode("\n" + text, **plain)
        ids = ids[len(self.newline):] if ids[: len(self.newline)] == self.newline else self.tokenizer.encode(text, **plain)
        self.ids += ids
        self.mask += [0] * len(ids)
        self.text = self.tokenizer.decode(self.ids)
        self._starts_piece(kind, start)

    def drop_from(self, char):
        """Drops the sampled tokens from the one holding text position `char` on (a closing tag)."""
        while self.ids and len(self.tokenizer.decode(self.ids[:-1])) >= char:
            self.ids.pop()
            self.mask.pop()
        if self.ids and len(self.tokenizer.decode(self.ids)) > char:
            self.ids.pop()
            self.mask.pop()
        self.text = self.tokenizer.decode(self.ids)
        self.starts = [(kind, start) for kind, start in self.starts if start < len(self.text)]


async def roll_out(generate, tokenizer, prompt_ids, response_length, seed=None):
    """One rollout. `generate(ids, stops, max_tokens)` returns new token ids (stop string included)."""
    trajectory = Trajectory(tokenizer)
    session = {"id": None}
    random_ = random.Random(seed)
    tool_calls = think_hints = 0
    finish_reason = "length"  # unless the model ends its turn
    eos = {tokenizer.eos_token_id}
    try:
        while len(trajectory.ids) < response_length:
            stops = ["```\n"] + (["</think>"] if think_hints < CONFIG["thinkHints"] else [])
            new = await generate(prompt_ids + trajectory.ids, stops, response_length - len(trajectory.ids))
            if not new:
                break
            before = len(trajectory.text)
            trajectory.add_sampled(list(new))
            code = closed_code_block(trajectory.text)
            tag = trajectory.text.find("</think>", before)
            if code is not None and tool_calls < CONFIG["maxToolCalls"]:
                tool_calls += 1
                output = format_output(execute(code, session), CONFIG["maxOutputChars"], token_limit(tokenizer))
                trajectory.add_inserted(("" if trajectory.text.endswith("\n") else "\n") + output)
            elif tag >= 0 and think_hints < CONFIG["thinkHints"] and tool_calls == 0 and CONFIG["hints"]:
                think_hints += 1
                trajectory.drop_from(tag)
                trajectory.add_inserted(random_.choice(CONFIG["hints"]) + "\n", kind="hint")
            elif new[-1] in eos:
                finish_reason = "stop"
                break
    finally:
        close_session(session)
    return trajectory, {"tool_calls": tool_calls, "think_hints": think_hints, "finish_reason": finish_reason}


# What the referee reads beside the completion, where the caller has it: how the rollout ended (cut off at
# the length limit: no answer), the prompt (one that opens <think> needs it closed), the segments (only the
# model's own text is read) and the problem (the form it asks for).
GRADE_CONTEXT = ("finish_reason", "prompt", "segments", "problem")


def grade(solution_str, ground_truth, context=None):
    """`start grade`'s verdict on one completion, with its context: the same referee as start rl's."""
    record = {"completion": solution_str}
    record.update({key: value for key, value in (context or {}).items() if key in GRADE_CONTEXT and value is not None})
    if isinstance(ground_truth, str) and ground_truth.startswith('{"tests"'):
        tests = json.loads(ground_truth)
        record.update(tests=tests["tests"], entry_point=tests.get("entry_point"), problem=tests.get("problem"))
    else:
        record["answer"] = ground_truth
    return _post(f"{_url('START_GRADER_URL', 'graderUrl')}/grade", record, timeout=120)


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """verl's custom reward function: `start grade`'s verdict, as +1 / -1 (ReTool). The agent loop below
    scores its own rollouts with their finish reason, prompt and segments; this reads them from
    `extra_info` where a reward manager passes them."""
    verdict = grade(solution_str, ground_truth, extra_info)
    return {"score": 1.0 if verdict["correct"] else -1.0, "acc": bool(verdict["correct"]), "pred": verdict.get("predicted")}


try:
    from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput, register
except ImportError:  # verl is not installed: the helpers above still work (and are tested)
    AgentLoopBase = None

if AgentLoopBase is not None:

    @register("start_tir_agent")
    class StartToolAgentLoop(AgentLoopBase):
        """START's hint-infer loop as a verl agent loop; inserted text has response_mask 0."""

        async def run(self, sampling_params, **kwargs):
            response_length = self.config.actor_rollout_ref.rollout.response_length
            prompt_ids = await self.apply_chat_template(list(kwargs["raw_prompt"]))

            async def generate(ids, stops, max_tokens):
                params = dict(sampling_params, stop=stops, include_stop_str_in_output=True, max_tokens=max_tokens)
                output = await self.server_manager.generate(request_id=uuid4().hex, prompt_ids=ids, sampling_params=params)
                return output.token_ids

            trajectory, info = await roll_out(generate, self.tokenizer, prompt_ids, response_length)
            context = {
                "finish_reason": info["finish_reason"],
                "prompt": self.tokenizer.decode(prompt_ids),
                "segments": trajectory.segments(),
                "problem": (kwargs.get("extra_info") or {}).get("problem"),
            }
            # The referee's verdict with everything it reads, as start rl computes it: verl takes a rollout's
            # reward_score as its reward, so a cut-off or unclosed rollout scores -1 here as in start rl.
            ground_truth = (kwargs.get("reward_model") or {}).get("ground_truth")
            verdict = grade(trajectory.text, ground_truth, context) if ground_truth is not None else None
            return AgentLoopOutput(
                prompt_ids=prompt_ids,
                response_ids=trajectory.ids[:response_length],
                response_mask=trajectory.mask[:response_length],
                num_turns=2 + 2 * info["tool_calls"],
                metrics={},
                reward_score=None if verdict is None else (1.0 if verdict["correct"] else -1.0),
                extra_fields=info,
            )
