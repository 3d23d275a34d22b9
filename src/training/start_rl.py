"""The Python side of `start rl`: GRPO (TRL's GRPOTrainer) whose rollouts the CLI drives.

The CLI runs the rollout loop of hint-infer (stop points, hints, code in its sandbox, grading); this
process holds the policy and generates for it. They talk in JSON lines: events on stdout (as every
start trainer script), operations on stdin.

The events and operations, each with its fields, are declared once in src/training/trainer-protocol.ts
(trainer-protocol.json here): "rollouts" asks for a batch; "start", "next", "append", "retract" and
"finish" drive one rollout ("started" and "generated" answer); "end" closes the batch ("ended").

"next" requests are answered together: once every unfinished rollout of the batch waits for one, they
run as one batched `generate` call.
"""
import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

# Run as a script, so its own folder (start_trainer.py's) is first on sys.path.
from start_trainer import load_tokenizer, save_checkpoint, with_lora
from trainer_protocol import emit, receive, speak
from transformers import StoppingCriteria

# How many tokens before a new one are decoded with it, so a SentencePiece word start keeps its space.
DECODE_CONTEXT = 4


class ChannelClosed(Exception):
    pass


def read_op():
    line = sys.stdin.readline()
    if not line:
        raise ChannelClosed("the CLI closed the rollout channel")
    return receive(line)


class Rollout:
    """One trajectory's tokens after the prompt: what the model sampled (trained) and what was inserted (masked)."""

    def __init__(self, prompt, prompt_ids):
        self.prompt = prompt
        self.prompt_ids = prompt_ids
        self.ids = []
        self.mask = []
        # The text each token stands for in the trajectory (an inserted block: all on its last token).
        self.texts = []
        # The end-of-turn token the model sampled, held back until the rollout is over (a hint may follow).
        self.end_token = None
        # Whether a one-pass tokenization of its text gives other ids (token_divergences), once it is over.
        self.divergent = False


class PolicyGenerator:
    """Holds the rollouts of one batch and generates for them with the policy."""

    def __init__(self, tokenizer, sampling, turn_end_markers):
        self.tokenizer = tokenizer
        self.sampling = sampling
        self.rollouts = {}
        self.newline_ids = tokenizer("\n", add_special_tokens=False)["input_ids"]
        vocabulary = tokenizer.get_vocab()
        ends = {tokenizer.eos_token_id} | {vocabulary[marker] for marker in turn_end_markers if marker in vocabulary}
        self.end_ids = {token for token in ends if token is not None}

    def prompt_ids(self, prompt):
        # The CLI renders the chat template with its BOS, as SFT and transformers' apply_chat_template do.
        return list(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])

    def continuation_ids(self, text):
        """Tokens of `text` continuing a context: tokenized after a newline that is then dropped, so a
        SentencePiece vocabulary does not open it with a word-start piece. Inserted text is data (a hint,
        a cell's output): a "</s>" it holds is text, never the special token."""
        plain = dict(add_special_tokens=False, split_special_tokens=True)
        ids = list(self.tokenizer("\n" + text, **plain)["input_ids"])
        if ids[: len(self.newline_ids)] == self.newline_ids:
            return ids[len(self.newline_ids):]
        return list(self.tokenizer(text, **plain)["input_ids"])

    def start(self, rid, prompt, continuation=""):
        ids = self.prompt_ids(prompt) + (self.continuation_ids(continuation) if continuation else [])
        rollout = Rollout(prompt + continuation, ids)
        self.rollouts[rid] = rollout
        return len(rollout.prompt_ids)

    def append(self, rid, text, trained=False):
        rollout = self.rollouts[rid]
        rollout.end_token = None
        ids = self.continuation_ids(text)
        if not ids:
            return 0
        rollout.ids += ids
        rollout.mask += [1 if trained else 0] * len(ids)
        rollout.texts += [""] * (len(ids) - 1) + [text]
        return len(ids)

    def retract(self, rid, chars):
        """Drops the last `chars` characters of sampled text; a token that straddles the cut comes back as
        the text it keeps (the model's, so still trained)."""
        rollout = self.rollouts[rid]
        rollout.end_token = None
        dropped = ""
        while len(dropped) < chars and rollout.ids:
            rollout.ids.pop()
            rollout.mask.pop()
            dropped = rollout.texts.pop() + dropped
        if len(dropped) > chars:
            self.append(rid, dropped[: len(dropped) - chars], trained=True)

    def generate(self, model, requests):
        """One batched generate call for every waiting rollout; each stops at its own stop strings or budget."""
        import torch

        tokenizer = self.tokenizer
        rows = [self.rollouts[request["rid"]] for request in requests]
        sequences = [row.prompt_ids + row.ids for row in rows]
        width = max(len(sequence) for sequence in sequences)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        device = next(model.parameters()).device
        input_ids = torch.tensor([[pad] * (width - len(s)) + s for s in sequences], device=device)
        attention = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in sequences], device=device)
        budgets = [max(1, int(request["maxTokens"])) for request in requests]
        criteria = RowStops(tokenizer, width, budgets, [request["stops"] for request in requests], self.end_ids)
        sampling = self.sampling
        greedy = sampling["temperature"] <= 0
        was_training = model.training
        model.eval()
        with torch.no_grad():
            output = model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                max_new_tokens=max(budgets),
                do_sample=not greedy,
                temperature=None if greedy else sampling["temperature"],
                top_p=None if greedy else sampling["top_p"],
                top_k=None if greedy else (sampling["top_k"] or 0),
                stopping_criteria=[criteria],
                pad_token_id=pad,
                eos_token_id=None,  # RowStops ends rows on their end-of-turn token and says which did
                use_cache=True,
            )
        if was_training:
            model.train()
        replies = []
        for index, (request, row) in enumerate(zip(requests, rows)):
            end = criteria.done_at[index] or output.shape[1]
            new = output[index, width:end].tolist()
            stop = criteria.reason[index] or "limit"
            if stop == "eos":
                row.end_token = new.pop()
            texts = token_texts(tokenizer, row.ids[-DECODE_CONTEXT:], new)
            row.ids += new
            row.mask += [1] * len(new)
            row.texts += texts
            replies.append({
                "rid": request["rid"],
                "text": "".join(texts),
                "stop": stop,
                "sampled": len(new) + (stop == "eos"),
                "completionTokens": len(row.ids),
                "insertedTokens": len(row.ids) - sum(row.mask),
            })
        return replies

    def finish(self, rid, text_length, excluded=False):
        """Ends a rollout where the loop's trajectory ends: a loop that stopped at its token budget may
        not have taken all the text of the last answer, and the policy is trained on what was graded.
        An excluded rollout (cut off, a void turn) keeps its tokens and its reward in its group, but none of
        its tokens is trained on."""
        rollout = self.rollouts[rid]
        excess = sum(len(text) for text in rollout.texts) - text_length
        if excess > 0:
            self.retract(rid, excess)
        if rollout.end_token is not None:
            rollout.ids.append(rollout.end_token)  # the policy learns to end its turn
            rollout.mask.append(1)
            rollout.texts.append("")
        if not rollout.ids:  # nothing generated (a prompt that did not fit): one masked token for TRL
            rollout.ids, rollout.mask, rollout.texts = [self.tokenizer.eos_token_id], [0], [""]
        if excluded:
            rollout.mask = [0] * len(rollout.ids)
        return rollout


def token_texts(tokenizer, context, new):
    """The text each of `new` adds after what precedes it, decoded with a few tokens before it so a word
    start keeps its space; two batched decodes for the whole answer."""
    ids = context + new
    windows = [ids[max(0, at - DECODE_CONTEXT):at] for at in range(len(context), len(ids))]
    before = tokenizer.batch_decode(windows)
    after = tokenizer.batch_decode([window + [token] for window, token in zip(windows, new)])
    return [whole[len(prefix):] for prefix, whole in zip(before, after)]


class RowStops(StoppingCriteria):
    """Stopping criteria per row of a batch: its end-of-turn token, its own stop strings, its token budget.
    Records where and why each row stopped (generate pads a row after it stops)."""

    def __init__(self, tokenizer, width, budgets, stops, end_ids):
        self.tokenizer = tokenizer
        self.width = width
        self.budgets = budgets
        self.stops = stops
        self.end_ids = end_ids
        self.longest = max((len(stop) for row in stops for stop in row), default=0)
        self.done_at = [None] * len(budgets)
        self.reason = [None] * len(budgets)

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        length = input_ids.shape[1]
        # Enough trailing tokens to hold the longest stop string (a token is at least a character); one
        # copy off the tensor and one batched decode per step, as this runs once per generated token.
        tails = input_ids[:, max(self.width, length - self.longest - 1):].tolist()
        open_rows = [row for row in range(len(self.budgets)) if self.done_at[row] is None]
        checked = [row for row in open_rows if self.stops[row] and tails[row][-1] not in self.end_ids]
        texts = dict(zip(checked, self.tokenizer.batch_decode([tails[row] for row in checked]))) if checked else {}
        for row in open_rows:
            reason = None
            if tails[row][-1] in self.end_ids:
                reason = "eos"
            elif row in texts and any(stop in texts[row] for stop in self.stops[row]):
                reason = "stop"
            elif length - self.width >= self.budgets[row]:
                reason = "limit"
            if reason is not None:
                self.done_at[row] = length
                self.reason[row] = reason
        return torch.tensor([at is not None for at in self.done_at], device=input_ids.device)


# ---------------------------------------------------------------- the trainer


def serve_rollouts(generator, model, batch, items, timing):
    """Answers the CLI's operations until every rollout of the batch is finished and the CLI ends it."""
    started_at = time.time()
    waiting = {}
    unfinished = {item["rid"] for item in items}
    finished = {}
    while True:
        op = read_op()
        kind, rid = op.get("op"), op.get("rid")
        if kind == "end":
            if unfinished:
                raise ValueError(f"batch {batch} ended with {len(unfinished)} rollouts unfinished")
            break
        if kind == "start":
            emit("started", rid=rid, promptTokens=generator.start(rid, op["prompt"], op.get("continuation", "")))
        elif kind == "next":
            waiting[rid] = op
        elif kind == "append":
            generator.append(rid, op["text"])
        elif kind == "tokenize":
            emit("tokenized", rid=rid, tokens=generator.continuation_ids(op["text"]))
        elif kind == "detokenize":
            emit("detokenized", rid=rid, text=generator.tokenizer.decode(op["tokens"]))
        elif kind == "retract":
            generator.retract(rid, int(op["chars"]))
        elif kind == "finish":
            finished[rid] = (generator.finish(rid, int(op["textLength"]), excluded=bool(op.get("exclude"))), op)
            unfinished.discard(rid)
        else:
            raise ValueError(f"unknown rollout operation {kind!r}")
        if waiting and all(rid in waiting for rid in unfinished):
            started = time.time()
            replies = generator.generate(model, list(waiting.values()))
            timing["generateSeconds"] += time.time() - started
            timing["generatedTokens"] += sum(reply["sampled"] for reply in replies)
            for reply in replies:
                emit("generated", **reply)
            waiting = {}
    timing["rolloutSeconds"] += time.time() - started_at
    done = [finished[item["rid"]] for item in items]
    # What the loss sees of each rollout: the CLI keeps it with the rollout, and tests check the mask.
    summaries = [token_summary(generator.tokenizer, rollout) for rollout, _ in done]
    for (rollout, _), summary in zip(done, summaries):
        rollout.divergent = bool(summary["divergences"])
    emit("ended", rid=f"batch:{batch}", rollouts=summaries)
    return done


def token_summary(tokenizer, rollout):
    masked = [token for token, trained in zip(rollout.ids, rollout.mask) if not trained]
    return {
        "completionTokens": len(rollout.ids),
        "trainedTokens": sum(rollout.mask),
        "maskedText": tokenizer.decode(masked),
        "divergences": token_divergences(tokenizer, rollout),
    }


def token_divergences(tokenizer, rollout, limit=20):
    """Where the ids trained on (the ids sampled, and each inserted piece's own ids) differ from the
    rollout's whole text tokenized once, as verl's strict tokenization check compares them: for each
    differing stretch, its position in the completion and the text each side gives it. The ids are never
    re-tokenized; this only says where a one-pass tokenization would have seen other tokens (a piece
    boundary inside what would be one token), so a trainer that re-tokenizes text can be judged."""
    import difflib

    # The end-of-turn token the policy sampled is no text: it is not part of the comparison.
    ids = rollout.ids[:-1] if rollout.ids and rollout.texts and rollout.texts[-1] == "" else rollout.ids
    text = "".join(rollout.texts)
    once = list(tokenizer(rollout.prompt + text, add_special_tokens=False)["input_ids"])
    trained = rollout.prompt_ids + ids
    start = len(rollout.prompt_ids)
    found = []
    matcher = difflib.SequenceMatcher(a=trained, b=once, autojunk=False)
    for kind, a0, a1, b0, b1 in matcher.get_opcodes():
        if kind == "equal":
            continue
        found.append({
            "at": max(0, a0 - start),
            "trained": tokenizer.decode(trained[a0:a1]),
            "once": tokenizer.decode(once[b0:b1]),
        })
        if len(found) == limit:
            break
    return found


class StepMetrics:
    """What the rollouts of the current optimizer step did, merged into the trainer's log line."""

    def __init__(self):
        self.rows = []
        # Time spent on rollouts (the CLI's loop, sandbox and grading included) and in generate calls,
        # the tokens those calls sampled, and when the last step was logged: what the benchmarks divide.
        # Counted in place by serve_rollouts, zeroed at each log line.
        self.timing = dict.fromkeys(("rolloutSeconds", "generateSeconds", "generatedTokens"), 0)
        self.last_log = time.time()
        self.advantages = []  # mean |advantage| of each generation batch: is anything learnt?
        # Dynamic sampling: groups rolled out this step, groups of the batch with a reward spread, rounds.
        self.groups = dict.fromkeys(("groupsSampled", "groupsKept", "extraRounds"), 0)

    def add(self, rollout, op):
        sampled = sum(rollout.mask)
        self.rows.append({
            "divergent": 1.0 if rollout.divergent else 0.0,
            "correct": 1.0 if op.get("correct") else 0.0,
            "refused": op.get("refused"),
            "excluded": op.get("exclude"),
            "hinted": 1.0 if op.get("hinted") else 0.0,
            "toolCalls": op.get("toolCalls", 0),
            "failedCalls": op.get("failedCalls", 0),
            "responseTokens": len(rollout.ids),
            "maskedFraction": 1 - sampled / len(rollout.ids) if rollout.ids else 0.0,
        })

    def drain(self):
        rows, self.rows = self.rows, []
        advantages, self.advantages = self.advantages, []
        groups, self.groups = self.groups, dict.fromkeys(self.groups, 0)
        timing, now = dict(self.timing), time.time()
        self.timing.update(dict.fromkeys(self.timing, 0))
        step_seconds, self.last_log = now - self.last_log, now
        if not rows:
            return {}
        mean = lambda key: sum(row[key] for row in rows) / len(rows)  # noqa: E731
        return {
            **timing,
            "stepSeconds": step_seconds,
            "accuracy": mean("correct"),
            "toolCallsPerRollout": mean("toolCalls"),
            "failedCallsPerRollout": mean("failedCalls"),
            "responseTokens": mean("responseTokens"),
            "maskedFraction": mean("maskedFraction"),
            "hintedShare": mean("hinted"),
            # rollouts whose trained ids a one-pass tokenization of their text would not give
            "tokenDivergentShare": mean("divergent"),
            "rollouts": len(rows),
            **(groups if groups["groupsSampled"] else {}),
            # the share of rollouts left out of the loss, by reason (--overlong mask, --void-turns mask)
            **{
                f"excluded.{reason}": sum(row["excluded"] == reason for row in rows) / len(rows)
                for reason in ("overlong", "void")
            },
            # the share of rollouts refused for each reason (start grade's classes): a rising "hedged"
            # share is a policy learning to hedge
            **{
                f"refused.{reason}": sum(row["refused"] == reason for row in rows) / len(rows)
                for reason in sorted({row["refused"] for row in rows if row["refused"]})
            },
            **({"absAdvantage": sum(advantages) / len(advantages)} if advantages else {}),
        }


def latest_checkpoint(work):
    """The newest complete checkpoint: the trainer writes trainer_state.json last, so one without it is a
    save that a kill cut short."""
    best = None
    for path in Path(work).glob("checkpoint-*"):
        try:
            step = int(path.name.split("-", 1)[1])
        except ValueError:
            continue
        if (path / "trainer_state.json").exists() and (best is None or step > best[0]):
            best = (step, path)
    return str(best[1]) if best else None


class CliRollouts:
    """TRL's rollout_func: each batch of prompts is rolled out by the CLI (the hint-infer loop, the sandbox,
    the grader), this process generating what the CLI asks for.

    With dynamic sampling (DAPO), a group whose rollouts all have the same outcome (all right or all
    wrong: no gradient) is set aside and a new group, of a problem drawn from the training set, is rolled
    out in its place, for at most `max_rounds` extra rounds; the groups set aside fill what is still
    missing. The filter reads each rollout's outcome (right or not), never the shaped reward."""

    def __init__(self, generator, metrics, group_size, problem_ids, dynamic_rounds=None, seed=0, oversample=1):
        self.generator = generator
        self.oversample = oversample
        self.metrics = metrics
        self.group_size = group_size
        self.problem_ids = problem_ids
        self.dynamic_rounds = dynamic_rounds  # None: every group is kept as sampled
        self.random = random.Random(seed)
        self.batches = 0
        self.rewards = []  # the rewards of the batch trained on last, in rollout order

    def roll_out(self, prompts, trainer):
        # `step`: the optimizer step these rollouts train (1-based), the same after a resume.
        model = trainer.accelerator.unwrap_model(trainer.model)
        return self.roll_out_for(prompts, model, trainer.state.global_step + 1)

    def roll_out_for(self, prompts, model, step, purpose="training"):
        batch = self.batches
        self.batches += 1
        items = [{"rid": f"{batch}.{index}", "problem": problem} for index, problem in enumerate(prompts)]
        self.generator.rollouts = {}
        emit("rollouts", step=step, batch=batch, items=items, purpose=purpose)
        # Validation's and the pass band's time is no training step's: it is left out of the step's timing.
        timing = self.metrics.timing if purpose == "training" else dict.fromkeys(self.metrics.timing, 0)
        return serve_rollouts(self.generator, model, batch, items, timing)

    def validate(self, model, step, problem_ids, batch_rows):
        """Greedy pass@1 and tool use on the held-out problems, for the step's log line (`val.*`)."""
        sampling = self.generator.sampling
        self.generator.sampling = {**sampling, "temperature": 0}
        try:
            done = []
            for start in range(0, len(problem_ids), batch_rows):
                done += self.roll_out_for(problem_ids[start:start + batch_rows], model, step, "validation")
        finally:
            self.generator.sampling = sampling
        mean = lambda values: sum(values) / len(values)  # noqa: E731
        return {
            "val.accuracy": mean([1.0 if op.get("correct") else 0.0 for _, op in done]),
            "val.toolCallsPerRollout": mean([op.get("toolCalls", 0) for _, op in done]),
            "val.problems": len(done),
        }

    def groups(self, done):
        return [done[start:start + self.group_size] for start in range(0, len(done), self.group_size)]

    def informative(self, group):
        return len({bool(op.get("correct")) for _, op in group}) > 1

    def sample_groups(self, prompts, trainer):
        """Rollouts of `prompts` (groups of `group_size` alike), each group sampled `oversample` times over
        and down-sampled to `group_size` (rStar2-Agent's resample-on-correct)."""
        if self.oversample == 1:
            return self.roll_out(prompts, trainer)
        wide = [prompt for prompt in prompts for _ in range(self.oversample)]
        done = self.roll_out(wide, trainer)
        size = self.group_size * self.oversample
        return [row for start in range(0, len(done), size) for row in self.down_sample(done[start:start + size])]

    def down_sample(self, rows):
        """`group_size` of one problem's rollouts: the pass rate kept (at least one of each outcome when
        both occur, so the group still has a spread), the right ones with the fewest failed tool calls
        and no refusal, then the shortest; the wrong ones drawn uniformly."""
        right = [row for row in rows if row[1].get("correct")]
        wrong = [row for row in rows if not row[1].get("correct")]
        size = self.group_size
        keep_right = round(size * len(right) / len(rows))
        if right and wrong:
            keep_right = min(max(keep_right, 1), size - 1)
        keep_right = max(min(keep_right, len(right)), size - len(wrong))
        right.sort(key=lambda row: (row[1].get("failedCalls", 0), row[1].get("refused") is not None, len(row[0].ids)))
        return right[:keep_right] + self.random.sample(wrong, size - keep_right)

    def __call__(self, prompts, trainer):
        done = self.sample_groups(prompts, trainer)
        if self.dynamic_rounds is not None:
            done = self.fill_with_informative(done, len(prompts) // self.group_size, trainer)
        for rollout, op in done:
            self.metrics.add(rollout, op)
        self.rewards = [float(op["reward"]) for _, op in done]
        return {
            "prompt_ids": [rollout.prompt_ids for rollout, _ in done],
            "completion_ids": [rollout.ids for rollout, _ in done],
            "logprobs": None,
            "env_mask": [rollout.mask for rollout, _ in done],
            "start_reward": self.rewards,
        }

    def fill_with_informative(self, done, needed, trainer):
        kept, flat = [], []
        sampled = 0
        for round_ in range(self.dynamic_rounds + 1):
            if round_ > 0:
                missing = needed - len(kept)
                problems = [self.random.choice(self.problem_ids) for _ in range(missing)]
                done = self.sample_groups([problem for problem in problems for _ in range(self.group_size)], trainer)
            for group in self.groups(done):
                sampled += 1
                (kept if self.informative(group) else flat).append(group)
            if len(kept) >= needed:
                break
        chosen = kept[:needed] + flat[: needed - min(needed, len(kept))]
        self.metrics.groups["groupsSampled"] += sampled
        self.metrics.groups["groupsKept"] += min(needed, len(kept))
        self.metrics.groups["extraRounds"] += round_
        return [row for group in chosen for row in group]


def pass_rates(rollouts, model, problem_ids, samples, batch_rows):
    """Each problem's pass rate under the starting policy: `samples` rollouts each, through the CLI's
    loop and grader like every rollout (step 0: before any update)."""
    per_batch = max(1, batch_rows // samples)
    rates = {}
    for start in range(0, len(problem_ids), per_batch):
        chunk = problem_ids[start:start + per_batch]
        done = rollouts.roll_out_for([problem for problem in chunk for _ in range(samples)], model, 0, "estimate")
        for index, problem in enumerate(chunk):
            group = done[index * samples:(index + 1) * samples]
            rates[problem] = sum(1 for _, op in group if op.get("correct")) / samples
    return rates


def in_pass_band(args, rollouts, model, problem_ids):
    """The problems whose pass rate is within --pass-band (SimpleTIR keeps 0.1-0.9): too easy or too hard a
    problem gives a group with one outcome. Rates already in --pass-rates (from the starting policy's samples,
    or a run before a kill) are read; the problems they lack are estimated once and added."""
    low, high = args.pass_band_low, args.pass_band_high
    if low <= 0 and high >= 1:
        return problem_ids
    path = Path(args.pass_rates)
    rates = json.loads(path.read_text()) if path.exists() else {}
    missing = [problem for problem in problem_ids if problem not in rates]
    if missing:
        rows = args.num_generations * args.prompts_per_step
        rates.update(pass_rates(rollouts, model, missing, args.pass_band_samples, rows))
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(rates, indent=1) + "\n")
        os.replace(partial, path)
    kept = [problem for problem in problem_ids if low <= rates[problem] <= high]
    emit("band", problems=len(problem_ids), kept=len(kept), low=low, high=high, estimated=len(missing))
    if not kept:
        raise ValueError(f"no problem has a pass rate within [{low}, {high}] (rates in {path})")
    return kept


def validation_every(args, rollouts):
    """--eval-every N: a function of (step, model) that validates on every Nth step, else None."""
    if args.eval_every <= 0:
        return None
    with open(args.eval_problems, encoding="utf-8") as handle:
        held_out = [json.loads(line)["id"] for line in handle if line.strip()]
    rows = args.num_generations * args.prompts_per_step

    def validate(step, model):
        if step % args.eval_every != 0:
            return {}
        return rollouts.validate(model, step, held_out, rows)

    return validate


def start_reward(completions, start_reward, **kwargs):
    """The reward the CLI computed (grader and reward rules live there, out of the policy's reach)."""
    return list(start_reward)


def grpo_config(args, cuda, dtype):
    import torch
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=args.work,
        max_steps=args.max_steps,
        learning_rate=args.lr,
        lr_scheduler_type="constant",
        per_device_train_batch_size=args.num_generations * args.prompts_per_step,
        gradient_accumulation_steps=1,
        num_generations=args.num_generations,
        max_completion_length=args.max_tokens,
        temperature=args.temperature if args.temperature > 0 else 1.0,
        beta=args.beta,
        epsilon=args.clip,
        logging_steps=1,
        save_strategy="steps",
        save_steps=args.save_steps,
        save_total_limit=2,
        report_to=[],
        seed=args.seed,
        bf16=dtype == torch.bfloat16,
        use_cpu=not cuda,
        gradient_checkpointing=False,  # on by default; it turns the KV cache off while generating
        dataloader_num_workers=0,
        disable_tqdm=True,
    )


def memory_metrics(model, optimizer):
    """What training holds, in MiB: the weights, the optimizer's state (what LoRA saves: Adam keeps two
    numbers per trainable weight) and the peak so far (the GPU's allocations on CUDA, else the process's
    resident memory)."""
    import resource

    import torch

    def mib(tensors):
        return sum(t.numel() * t.element_size() for t in tensors) / 2**20

    state = [v for s in (optimizer.state.values() if optimizer else []) for v in s.values() if torch.is_tensor(v)]
    if torch.cuda.is_available():
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "memory.weightsMB": mib(model.parameters()) if model is not None else 0.0,
        "memory.optimizerStateMB": mib(state),
        "memory.peakMB": peak,
    }


def stream_logs(metrics, validation=None):
    """A callback that streams each optimizer step's log line, with the rollouts' metrics (and, on the
    steps `validation(step, model)` answers for, the held-out figures), and each save."""
    from transformers import TrainerCallback

    class StreamLogs(TrainerCallback):
        def on_log(self, args, state, control, logs=None, model=None, **kwargs):
            if state.is_world_process_zero and logs:
                numbers = {k: v for k, v in logs.items() if isinstance(v, (int, float)) and math.isfinite(v)}
                if "loss" in numbers:  # the end-of-training summary is not a step
                    held_out = validation(state.global_step, model) if validation else {}
                    memory = memory_metrics(model, kwargs.get("optimizer"))
                    step_metrics = {**numbers, **metrics.drain(), **held_out, **memory}
                    emit("log", step=state.global_step, maxSteps=state.max_steps, metrics=step_metrics)

        def on_save(self, args, state, control, **kwargs):
            emit("checkpoint", step=state.global_step)

    return StreamLogs()


def start_grpo_trainer(baseline, rollouts, metrics):
    """TRL's GRPOTrainer, or with --baseline batch each advantage against the leave-one-out mean of the batch.

    GRPO's baseline is the group's mean: a group whose samples all get the same reward (every step-wise
    action judged alike, a single sample per state) teaches nothing. The batch baseline (RLOO over the
    batch, unscaled) still does. One process: the batch is all the rollouts of this step.
    """
    import torch
    from trl import GRPOTrainer

    class StartGRPOTrainer(GRPOTrainer):
        def _generate_and_score_completions(self, inputs):
            output = super()._generate_and_score_completions(inputs)
            if baseline == "batch":
                rewards = torch.tensor(rollouts.rewards, dtype=torch.float32)
                others = (rewards.sum() - rewards) / max(len(rewards) - 1, 1)
                advantages = output["advantages"]
                if advantages.shape[0] != rewards.shape[0]:
                    raise RuntimeError(f"{advantages.shape[0]} advantages for {rewards.shape[0]} rollouts")
                output["advantages"] = (rewards - others).to(advantages.device, advantages.dtype)
            metrics.advantages.append(float(output["advantages"].abs().mean()))
            return output

    return StartGRPOTrainer


def command_rl(args):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    torch.manual_seed(args.seed)
    tokenizer = load_tokenizer(args.base)
    with open(args.problems, encoding="utf-8") as handle:
        problem_ids = [json.loads(line)["id"] for line in handle if line.strip()]
    cuda = torch.cuda.is_available()
    dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=dtype)
    if args.lora:
        model = with_lora(model, args.lora_r, args.lora_alpha)
    # The CLI's loop needs the policy's context before any rollout (the pass band's come before training).
    emit("loaded", contextSize=getattr(model.config, "max_position_embeddings", None) or args.max_tokens * 4)
    # start rl samples by temperature and top-p (RL_OPTIONS); top-k stays off.
    sampling = {"temperature": args.temperature, "top_p": args.top_p, "top_k": 0}
    metrics = StepMetrics()
    rollouts = CliRollouts(
        PolicyGenerator(tokenizer, sampling, json.loads(args.turn_end_markers)),
        metrics,
        group_size=args.num_generations,
        problem_ids=problem_ids,
        dynamic_rounds=args.max_sample_rounds if args.dynamic_sampling else None,
        seed=args.seed,
        oversample=args.oversample,
    )
    problem_ids = in_pass_band(args, rollouts, model.to("cuda") if cuda else model, problem_ids)
    rollouts.problem_ids = problem_ids  # dynamic sampling draws from the band too
    trainer = start_grpo_trainer(args.baseline, rollouts, metrics)(
        model=model,
        reward_funcs=[start_reward],
        args=grpo_config(args, cuda, dtype),
        train_dataset=Dataset.from_list([{"prompt": problem} for problem in problem_ids]),
        processing_class=tokenizer,
        rollout_func=rollouts,
        callbacks=[stream_logs(metrics, validation_every(args, rollouts))],
    )
    resume = latest_checkpoint(args.work)
    emit(
        "start",
        problems=len(problem_ids),
        parameters=sum(p.numel() for p in model.parameters()),
        trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
        device="cuda" if cuda else "cpu",
        resumedFrom=resume,
    )
    started = time.time()
    trainer.train(resume_from_checkpoint=resume)
    seconds = time.time() - started
    policy = trainer.accelerator.unwrap_model(trainer.model)
    if args.lora:
        policy = policy.merge_and_unload()
    save_checkpoint(policy, tokenizer, args.base, args.out)
    emit("done", steps=trainer.state.global_step, seconds=seconds)


def main():
    parser = argparse.ArgumentParser(prog="start_rl")
    parser.add_argument("--base", required=True)
    parser.add_argument("--problems", required=True, help="JSONL of {id}: the prompts TRL samples")
    parser.add_argument("--out", required=True)
    parser.add_argument("--work", required=True)
    # Every setting is required: the defaults are RL_OPTIONS' (src/rl/options.ts), passed by the CLI.
    for flag, kind in [
        ("--max-steps", int),
        ("--lr", float),
        ("--num-generations", int),
        ("--prompts-per-step", int),
        ("--max-tokens", int),
        ("--temperature", float),
        ("--top-p", float),
        ("--beta", float),
        ("--clip", float),
        ("--save-steps", int),
        ("--seed", int),
        ("--max-sample-rounds", int),
        ("--lora-r", int),
        ("--lora-alpha", int),
        ("--pass-band-low", float),
        ("--pass-band-high", float),
        ("--pass-band-samples", int),
        ("--eval-every", int),
        ("--oversample", int),
    ]:
        parser.add_argument(flag, type=kind, required=True)
    parser.add_argument("--baseline", choices=["group", "batch"], required=True)
    parser.add_argument("--dynamic-sampling", action="store_true")
    parser.add_argument("--eval-problems", required=True, help="JSONL of {id}: the held-out problems (--eval-every)")
    parser.add_argument("--pass-rates", required=True, help="JSON {problem: pass rate}: the rates it has are read, those it lacks estimated and added")
    parser.add_argument("--lora", action="store_true", help="train a LoRA adapter, merged into the saved policy")
    parser.add_argument("--turn-end-markers", required=True, help="JSON list of strings")
    args = parser.parse_args()
    speak("rl")
    try:
        command_rl(args)
    except ChannelClosed as error:
        emit("error", message=str(error), usage=False)
        sys.exit(1)
    except Exception as error:
        emit("error", message=f"{type(error).__name__}: {error}".splitlines()[0], usage=False)
        raise


if __name__ == "__main__":
    main()
