"""The worker's channel: one JSON request per line on its stdin, one JSON reply per line on its stdout.

Requests: {"op": "exec", "id", "code", "timeout", "session": bool, "echo": bool, "stdin": str?},
{"op": "reset", "id"}. The first reply is {"ready": true, "preloaded": [...], "python": version};
each later one carries its request's id: a cell's result (cell_result), {} for a reset, or
{"error": ...}. Nothing else may write to the process's stdout: open_channel() keeps the channel on
private descriptors and points fd 1 at the log.
"""

import json
import os


class Channel:
    def __init__(self, requests, replies_fd):
        self.requests = requests
        self.replies_fd = replies_fd

    def reply(self, message):
        view = memoryview((json.dumps(message) + "\n").encode())
        while view:
            view = view[os.write(self.replies_fd, view) :]

    def __iter__(self):
        for line in self.requests:
            yield json.loads(line)


def open_channel():
    """Moves the protocol off fds 0 and 1, so that nothing a child does with fds 0-2 can touch it."""
    channel = Channel(os.fdopen(os.dup(0), "rb"), os.dup(1))
    os.close(0)
    os.open("/dev/null", os.O_RDONLY)  # fd 0 again, so no child inherits the channel there
    os.dup2(2, 1)  # a stray print in the worker goes to the log, never into the protocol
    return channel


class Capture:
    """Keeps the first and last bytes of a stream and counts what it cut."""

    def __init__(self, head_bytes, tail_bytes):
        self.head_bytes = head_bytes
        self.tail_bytes = tail_bytes
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data):
        self.total += len(data)
        room = self.head_bytes - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.tail_bytes:
                del self.tail[: len(self.tail) - self.tail_bytes]

    @property
    def cut(self):
        return self.total - len(self.head) - len(self.tail)

    def text(self):
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        if self.cut > 0:
            return f"{head}\n... [{self.cut} bytes truncated] ...\n{tail}"
        return head + tail


def cell_result(out, err, exit_code, killed_by, timed_out, duration_ms, session_ended):
    """A cell's reply (ExecutionResult in types.ts, less the id)."""
    return {
        "stdout": out.text(),
        "stderr": err.text(),
        "exitCode": exit_code,
        "signal": killed_by,
        "timedOut": timed_out,
        "truncated": out.cut > 0 or err.cut > 0,
        "stdoutBytes": out.total,
        "stderrBytes": err.total,
        "durationMs": round(duration_ms, 3),
        "sessionEnded": session_ended,
    }
