"""The worker's loop: requests in, one world per record (or per session), replies out."""

import gc
import json
import os
import selectors
import signal
import sys
import time

from .linux import PR_SET_DUMPABLE, libc_call
from .protocol import Capture, cell_result, open_channel
from .seccomp import compile_seccomp_filter
from .settings import Settings
from .world import World

# How often the wait for a cell wakes to check its deadline.
POLL_SECONDS = 0.25


def drain(fd, capture):
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except (BlockingIOError, OSError):
            return
        if not data:
            return
        capture.add(data)


class CellWait:
    """Reads a running cell's output until it reports (a session), its runner ends, or its deadline passes."""

    def __init__(self, world, session, out, err):
        self.world = world
        self.done = None  # a session cell's own report: b"0" or b"1"
        self.timed_out = False
        self.selector = selectors.DefaultSelector()
        self.selector.register(world.out_r, selectors.EVENT_READ, out)
        self.selector.register(world.err_r, selectors.EVENT_READ, err)
        self.selector.register(world.exited, selectors.EVENT_READ, "exited")
        if session:
            self.selector.register(world.done_r, selectors.EVENT_READ, "done")

    def until(self, deadline):
        while self.done is None and self.world.ended is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.timed_out = True
                break
            for key, _ in self.selector.select(min(remaining, POLL_SECONDS)):
                self.read(key)
        self.selector.close()
        return self

    def read(self, key):
        if key.data == "exited":
            self.world.reap(block=True)
            return
        try:
            data = os.read(key.fd, 1 << 16)
        except BlockingIOError:
            return
        if key.data == "done":
            if data.strip() in (b"0", b"1"):
                self.done = data.strip()
            else:
                self.selector.unregister(key.fd)
        elif data:
            key.data.add(data)
        else:
            self.selector.unregister(key.fd)

    @property
    def finished_cell(self):
        """A session cell that reported and whose runner still lives: the session goes on."""
        return self.done is not None and self.world.ended is None


class Worker:
    """Serves requests one at a time; always keeps a fresh world built and waiting."""

    def __init__(self, settings, seccomp_program):
        self.settings = settings
        self.seccomp_program = seccomp_program
        self.session = None  # the world that holds the current session, if any
        self.spare = self.new_world()
        self.finished = []  # ended worlds whose runner is reaped once the reply is out
        self.leftover_cgroups = []  # cgroups of reaped worlds whose last processes were still dying

    def new_world(self):
        return World(self.settings, self.seccomp_program)

    def capture(self):
        return Capture(self.settings.output_head_bytes, self.settings.output_tail_bytes)

    def take_world(self):
        if self.session is None:
            self.session, self.spare = (self.spare or self.new_world()), None
        return self.session

    def end_session(self):
        if self.session is not None:
            self.retire(self.session)

    def retire(self, world):
        world.kill()
        if self.session is world:
            self.session = None
        self.finished.append(world)

    def after_reply(self):
        """Work that must not delay the reply: reaping and building the next world."""
        # Reaped without waiting: tearing down a large heap takes milliseconds.
        for world in list(self.finished):
            if world.reap(block=False):
                if not world.close():
                    self.leftover_cgroups.append(world.cgroup)
                self.finished.remove(world)
        self.leftover_cgroups = [cgroup for cgroup in self.leftover_cgroups if not cgroup.remove()]
        if self.spare is None:
            self.spare = self.new_world()
            self.take_copy_faults()

    def execute(self, request):
        session = bool(request.get("session"))
        if not session:
            self.end_session()
        world = self.take_world()
        out, err = self.capture(), self.capture()
        started = time.monotonic()
        try:
            world.send(request["code"], request.get("stdin") or "", bool(request.get("echo")), session)
        except BrokenPipeError:
            pass  # the runner is gone: its exit says why
        if self.spare is None and not session:
            # The next world is cloned while this cell runs (on another core, if there is one),
            # not after the reply, where the next request would wait for it. Not for a session's first
            # cell: the clone holds this loop for milliseconds, its trajectory is waiting for the reply,
            # and the session's later cells need no spare (after_reply builds it).
            self.spare = self.new_world()
        wait = CellWait(world, session, out, err).until(started + float(request["timeout"]))
        duration_ms = (time.monotonic() - started) * 1000
        if not wait.finished_cell:
            self.retire(world)
        drain(world.out_r, out)
        drain(world.err_r, err)
        return cell_result(out, err, *self.outcome(world, wait, err), duration_ms, session and not wait.finished_cell)

    def outcome(self, world, wait, err):
        """(exit code, killing signal, timed out) of a cell: from its own report or its runner's end."""
        # Only a cell that failed can have been cut short by the memory limit; the others skip the read.
        failed = not wait.finished_cell or wait.done != b"0"
        if failed and world.cgroup and world.cgroup.new_oom_kills():
            err.add(self.settings.memory_limit_note)
        if wait.finished_cell:
            return int(wait.done), None, False
        if wait.timed_out:
            return None, "SIGKILL", True
        kind, value = world.ended
        return (value, None, False) if kind == "exit" else (None, value, False)

    def take_copy_faults(self):
        """After a clone the worker shares its pages with the new world, and its first write to each one
        copies it. A throwaway pass over a request's path (parse, capture, select, reply) takes most of
        those copies now, while no cell waits, rather than in the next cell (measured on a slow VM, 50 ms
        between cells: a session's second cell 4.2-4.4 ms without it, 2.6-3.2 ms with it)."""
        json.loads('{"op": "exec", "id": 0, "code": "print(1)", "timeout": 1, "session": true}')
        capture = self.capture()
        capture.add(b"1\n")
        selectors.DefaultSelector().close()
        json.dumps({"id": 0, "stdout": capture.text(), "durationMs": round(time.monotonic(), 3), "signal": None})


def preload(settings):
    """Import the heavy modules and run the warm-up code once, in the worker.

    Libraries such as sympy import most of themselves lazily on first use; the warm-up
    pays that once here instead of in every forked child.
    """
    loaded = []
    for name in settings.preload:
        try:
            __import__(name)
            loaded.append(name)
        except Exception:  # a missing optional module must not stop the worker
            pass
    if settings.warmup:
        try:
            exec(compile(settings.warmup, "<warmup>", "exec"), {"__name__": "__warmup__"})
        except Exception as error:
            print(f"warm-up failed: {error}", file=sys.stderr)
    return loaded


def serve(worker, channel):
    for request in channel:
        try:
            if request["op"] == "exec":
                result = worker.execute(request)
            elif request["op"] == "reset":
                worker.end_session()
                result = {}
            else:
                raise ValueError(f"unknown op {request['op']!r}")
            result["id"] = request["id"]
        except Exception as error:  # report, keep serving
            result = {"id": request.get("id"), "error": f"{type(error).__name__}: {error}"}
        channel.reply(result)
        worker.after_reply()


def main():
    settings = Settings.from_config(json.loads(sys.argv[1]))
    channel = open_channel()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # Nothing of the same uid may read this process's memory or descriptors through /proc.
    libc_call("prctl", PR_SET_DUMPABLE, 0, 0, 0, 0)
    seccomp_program = compile_seccomp_filter(settings.seccomp_rules)
    loaded = preload(settings)
    # Move everything imported so far out of the collector's reach: a forked child's
    # collections would otherwise write to every object and copy the whole heap.
    gc.collect()
    gc.freeze()
    worker = Worker(settings, seccomp_program)
    # One empty cell before saying ready: a kernel that refuses to build a world (a mount, a namespace,
    # the filter) stops the worker here with the reason, rather than failing every cell later.
    probe = worker.execute({"code": "", "timeout": 30})
    if probe["exitCode"] != 0:
        print(f"cannot build a world for a cell: {probe['stderr'].strip() or probe}", file=sys.stderr)
        sys.exit(1)
    worker.after_reply()
    channel.reply({"ready": True, "preloaded": loaded, "python": sys.version.split()[0]})
    serve(worker, channel)
