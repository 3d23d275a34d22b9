"""The trainer protocol as the Python side speaks it: every event a trainer command writes on stdout
and every operation `start rl` sends on stdin is checked against trainer-protocol.json, the object
src/training/trainer-protocol.ts declares (the TypeScript checks the same lines as it reads them).

A command says once which one it is (speak), then writes its events with emit.
"""

import json
from pathlib import Path

PROTOCOL = json.loads(Path(__file__).with_name("trainer-protocol.json").read_text())


class ProtocolError(RuntimeError):
    pass


def matches(kind, value):
    if kind.startswith("'"):
        return value == kind[1:-1]
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    raise ProtocolError(f"unknown type {kind}")


def violation(spec, value, path):
    """What is wrong with `value` against `spec`, or None (the same rules as the TypeScript's)."""
    if isinstance(spec, str):
        if any(matches(kind, value) for kind in spec.split("|")):
            return None
        return f"{path} is {json.dumps(value)}, not {spec}"
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{path} is not a list"
        for index, item in enumerate(value):
            wrong = violation(spec[0], item, f"{path}[{index}]")
            if wrong:
                return wrong
        return None
    if not isinstance(value, dict):
        return f"{path} is not an object"
    for key in spec:
        if key != "*" and not key.endswith("?") and key not in value:
            return f"{path}.{key} is missing"
    for key, item in value.items():
        field = spec.get(key) or spec.get(f"{key}?") or spec.get("*")
        if field is None:
            return f"{path}.{key} is not in the protocol"
        wrong = violation(field, item, f"{path}.{key}")
        if wrong:
            return wrong
    return None


def message_violation(specs, key, message):
    name = message.get(key)
    spec = specs.get(name) if isinstance(name, str) else None
    if spec is None:
        return f"unknown {key} {json.dumps(name)}"
    return violation(spec, {k: v for k, v in message.items() if k != key}, f"{key} {name}")


class Speaker:
    """One trainer command's end of the protocol."""

    def __init__(self, command):
        if command not in PROTOCOL["commands"]:
            raise ProtocolError(f"no command {command!r} in the trainer protocol")
        self.events = {**PROTOCOL["commands"][command]["events"], "error": PROTOCOL["error"]}
        self.ops = PROTOCOL["commands"][command].get("ops", {})

    def event_line(self, event, fields):
        message = {"event": event, **fields}
        wrong = message_violation(self.events, "event", message)
        if wrong:
            raise ProtocolError(f"the trainer would break its protocol: {wrong}")
        return json.dumps(message)

    def op(self, line):
        op = json.loads(line)
        wrong = message_violation(self.ops, "op", op)
        if wrong:
            raise ProtocolError(f"the CLI broke the trainer protocol: {wrong}")
        return op


SPEAKER = None


def speak(command):
    """Says which command this process is: its events are checked against that command's."""
    global SPEAKER
    SPEAKER = Speaker(command)
    return SPEAKER


def receive(line):
    """An operation line from the CLI, checked."""
    return SPEAKER.op(line)


def emit(event, **fields):
    if SPEAKER is None:
        raise ProtocolError("emit before speak: the process has not said which trainer command it is")
    print(SPEAKER.event_line(event, fields), flush=True)
