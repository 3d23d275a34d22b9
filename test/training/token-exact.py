"""Token-exact rollouts, on three tokenizers: the testbed's, and a Llama-3-style and a Qwen2.5-style
byte-level BPE built here from their pre-tokenizer rules (no weights, no download). Prints one JSON
object per tokenizer: the ids trained on against the pieces' own ids, and the divergences reported."""

import json
import sys

from start_rl import PolicyGenerator, token_divergences, token_texts
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

# The split rules of Llama 3's and Qwen2's tokenizer.json (numbers in threes, and one digit at a time).
LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
CORPUS = [
    "Let me compute 6 * 7 with Python.\n```python\nprint(6 * 7)\n```\n```output\n42\n```\nSo the answer is 42.",
    "Wait, maybe using Python here is a good idea.\n```python\nx = sum(range(10))\nprint(x)\n```\n",
    "```output\n45\n```\nThe sum is 45, so the answer is \\boxed{45}.",
] * 50


def byte_level_bpe(split):
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(split), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def sample(generator, rid, text):
    """What generate() records for text the policy sampled: its ids (as the tokenizer continues a context:
    a SentencePiece word start keeps no extra space), trained, each with its text."""
    row = generator.rollouts[rid]
    new = generator.continuation_ids(text)
    row.texts += token_texts(generator.tokenizer, row.ids[-4:], new)
    row.ids += new
    row.mask += [1] * len(new)
    return new


def check(name, tokenizer):
    generator = PolicyGenerator(tokenizer, {"temperature": 1, "top_p": 1, "top_k": 0}, [])
    generator.start("r", "Question: what is 6 * 7?\n")
    first = sample(generator, "r", "Let me compute.\n```python\nprint(6 * 7)\n```")
    inserted = "\n```output\n42\n```\n"
    generator.append("r", inserted)
    second = sample(generator, "r", "So the answer is 42.")
    rollout = generator.finish("r", len("".join(generator.rollouts["r"].texts)))
    once = list(tokenizer(rollout.prompt + "".join(rollout.texts), add_special_tokens=False)["input_ids"])
    # A stepwise state: the text a rollout continues from, with an end-of-turn marker a cell printed.
    state = f"```python\nprint('{tokenizer.eos_token}')\n```\n```output\n{tokenizer.eos_token}\n```\n"
    generator.start("s", "Question: what is 6 * 7?\n", state)
    continued = generator.rollouts["s"]
    return {
        "name": name,
        "pieceExact": rollout.ids == first + generator.continuation_ids(inserted) + second,
        "maskExact": rollout.mask == [1] * len(first) + [0] * len(generator.continuation_ids(inserted)) + [1] * len(second),
        "textExact": "".join(rollout.texts) == "Let me compute.\n```python\nprint(6 * 7)\n```" + inserted + "So the answer is 42.",
        "differs": rollout.prompt_ids + rollout.ids != once,
        "divergences": token_divergences(tokenizer, rollout),
        "continuationPlain": continued.prompt_ids == generator.prompt_ids("Question: what is 6 * 7?\n") + generator.continuation_ids(state)
        and tokenizer.eos_token_id not in continued.prompt_ids
        and tokenizer.eos_token_id in tokenizer(state, add_special_tokens=False)["input_ids"],
    }


tokenizers = {
    "testbed": AutoTokenizer.from_pretrained(sys.argv[1]),
    "llama3-style": byte_level_bpe(LLAMA3),
    "qwen2.5-style": byte_level_bpe(QWEN2),
}
for name, tokenizer in tokenizers.items():
    print(json.dumps(check(name, tokenizer)))
