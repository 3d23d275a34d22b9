"""Sandbox worker: one long-lived Python inside a bubblewrap sandbox.

It pre-imports the heavy modules (numpy, sympy) once, then runs each code cell in a
forked child so a cell pays neither the interpreter start nor the imports. The child
drops to an unprivileged uid (when the worker is real root), takes its resource limits,
and runs cells in one persistent namespace: a stateless execution is a child used for
one cell, a session is a child kept for the cells of one trajectory.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout.
Requests: {"op": "exec", "id", "code", "timeout", "session": bool}, {"op": "reset", "id"}.
Nothing else may write to this process's stdout.
"""

import builtins
import gc
import json
import linecache
import os
import resource
import selectors
import shutil
import signal
import struct
import sys
import time
import traceback

CONFIG = json.loads(sys.argv[1])
LIMITS = CONFIG["limits"]
SCRATCH = CONFIG["scratch"]
CHILD_UID = CONFIG.get("uid")
CHILD_GID = CONFIG.get("gid")
HEAD_BYTES = CONFIG["outputHeadBytes"]
TAIL_BYTES = CONFIG["outputTailBytes"]
# The protocol channel: the worker's own stdin/stdout, kept on private fds so that
# nothing a child does with fds 0-2 can touch it.
REQUESTS = os.fdopen(os.dup(0), "rb")
REPLIES = os.dup(1)
MB = 1024 * 1024


def preload():
    """Import the heavy modules and run the warm-up code once, in the worker.

    Libraries such as sympy import most of themselves lazily on first use; the warm-up
    pays that once here instead of in every forked child.
    """
    loaded = []
    for name in CONFIG.get("preload", []):
        try:
            __import__(name)
            loaded.append(name)
        except Exception:  # a missing optional module must not stop the worker
            pass
    warmup = CONFIG.get("warmup")
    if warmup:
        try:
            exec(compile(warmup, "<warmup>", "exec"), {"__name__": "__warmup__"})
        except Exception as error:
            print(f"warm-up failed: {error}", file=sys.stderr)
    return loaded


# ---------------------------------------------------------------- the child side


def apply_limits():
    cpu = LIMITS["cpuSeconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, LIMITS["sessionCpuSeconds"]))
    resource.setrlimit(resource.RLIMIT_AS, (LIMITS["memoryMb"] * MB,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMITS["fileSizeMb"] * MB,) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (LIMITS["processes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMITS["openFiles"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def drop_privileges():
    if CHILD_UID is None:
        return
    os.setgroups([])
    os.setresgid(CHILD_GID, CHILD_GID, CHILD_GID)
    os.setresuid(CHILD_UID, CHILD_UID, CHILD_UID)


def clear_scratch():
    """Empty the scratch directory left by the previous cell, as the cell's own uid."""
    for entry in os.listdir(SCRATCH):
        path = os.path.join(SCRATCH, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            os._exit(0)  # the worker closed the command pipe: the session is over
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def echo_last_expression(tree):
    """Split off a trailing expression so its value can be shown, as a notebook does."""
    import ast

    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
        return tree, last
    return tree, None


def run_cell(code, namespace, index, echo):
    """Run one cell; returns 0 on success, 1 if it raised."""
    import ast

    filename = f"<cell-{index}>"
    # Registered so that tracebacks show the offending source lines.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        tree = ast.parse(code, filename, "exec")
        last = None
        if echo:
            tree, last = echo_last_expression(tree)
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            value = eval(compile(last, filename, "eval"), namespace)
            if value is not None:
                print(repr(value))
        return 0
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001 - the cell's own error is its result
        tb = error.__traceback__
        # Drop this runner's frames: the user sees only frames of their own code.
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        traceback.print_exception(type(error), error, tb)
        return 1


def child_main(cmd_r, done_w, out_w, err_w):
    os.setsid()
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    os.dup2(cmd_r, 3)
    os.dup2(done_w, 4)
    os.closerange(5, 1 << 16)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    apply_limits()
    drop_privileges()
    os.chdir(SCRATCH)
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
    sys.argv = ["<cell>"]
    # A throwaway cell while nobody waits: it takes the copy-on-write faults of the
    # parse/compile/exec/print path now rather than on the first real cell.
    run_cell("_ = repr(1 + 1)\nprint(end='')", {"__builtins__": builtins}, "warm", True)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    index = 0
    while True:
        (length, echo) = struct.unpack("<IB", read_exact(3, 5))
        code = read_exact(3, length).decode("utf-8", "replace")
        if index == 0:
            # Only now is the previous cell's process gone: a spare waits while a session
            # still works in the scratch directory, so it must not clear it any earlier.
            clear_scratch()
        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(used.ru_utime + used.ru_stime) + LIMITS["cpuSeconds"]
        resource.setrlimit(resource.RLIMIT_CPU, (min(soft, LIMITS["sessionCpuSeconds"]), LIMITS["sessionCpuSeconds"]))
        try:
            status = run_cell(code, namespace, index, echo)
        except SystemExit as stop:
            sys.stdout.flush()
            sys.stderr.flush()
            code_ = stop.code
            if code_ is None:
                os._exit(0)
            if isinstance(code_, int):
                os._exit(code_ & 0xFF)
            print(code_, file=sys.stderr)
            sys.stderr.flush()
            os._exit(1)
        index += 1
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(4, b"%d\n" % status)


# ---------------------------------------------------------------- the worker side


class Capture:
    """Keeps the first and last bytes of a stream and counts what it cut."""

    def __init__(self):
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data):
        self.total += len(data)
        room = HEAD_BYTES - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > TAIL_BYTES:
                del self.tail[: len(self.tail) - TAIL_BYTES]

    @property
    def cut(self):
        return self.total - len(self.head) - len(self.tail)

    def text(self):
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        if self.cut > 0:
            return f"{head}\n... [{self.cut} bytes truncated] ...\n{tail}"
        return head + tail


class Child:
    """A forked cell runner with its pipes."""

    def __init__(self):
        cmd_r, self.cmd_w = os.pipe()
        self.done_r, done_w = os.pipe()
        self.out_r, out_w = os.pipe()
        self.err_r, err_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(self.cmd_w)
                os.close(self.done_r)
                os.close(self.out_r)
                os.close(self.err_r)
                child_main(cmd_r, done_w, out_w, err_w)
            finally:
                os._exit(70)
        for fd in (cmd_r, done_w, out_w, err_w):
            os.close(fd)
        for fd in (self.done_r, self.out_r, self.err_r):
            os.set_blocking(fd, False)
        self.exit_code = None
        self.signal = None

    def send(self, code, echo):
        data = code.encode("utf-8", "replace")
        os.write(self.cmd_w, struct.pack("<IB", len(data), 1 if echo else 0))
        view = memoryview(data)
        while view:
            written = os.write(self.cmd_w, view)
            view = view[written:]

    def reap(self, block):
        if self.exit_code is not None or self.signal is not None:
            return True
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            self.exit_code = -1
            return True
        if pid == 0:
            return False
        if os.WIFSIGNALED(status):
            self.signal = signal.Signals(os.WTERMSIG(status)).name
        else:
            self.exit_code = os.WEXITSTATUS(status)
        return True

    def close(self):
        for fd in (self.cmd_w, self.done_r, self.out_r, self.err_r):
            try:
                os.close(fd)
            except OSError:
                pass


def is_live(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def kill_all_but(keep):
    """Kill every live process of this sandbox's pid namespace except the ones kept.

    The namespace holds only this worker, its children and bwrap's reaper (pid 1), so
    anything else was started by a cell: a background process, a daemon, a fork bomb.
    Passes repeat until one finds nothing new, so processes forked mid-pass die too. A
    process already sent SIGKILL runs no more code, so its teardown is not waited for.
    """
    keep = set(keep) | {1, os.getpid()}
    killed = set()
    for _ in range(1000):
        victims = [
            pid
            for pid in (int(p) for p in os.listdir("/proc") if p.isdigit())
            if pid not in keep and pid not in killed and is_live(pid)
        ]
        if not victims:
            return
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        killed.update(victims)


def drain(fd, capture):
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            return
        if not data:
            return
        capture.add(data)


class Worker:
    """Serves requests one at a time; always keeps a fresh child forked and waiting."""

    def __init__(self):
        self.child = None  # the child that holds the current session, if any
        self.spare = Child()
        self.finished = []  # killed children to reap once the reply is out

    def kept(self, *pids):
        return set(pids) | ({self.spare.pid} if self.spare else set())

    def take_child(self):
        if self.child is None:
            self.child, self.spare = (self.spare or Child()), None
        return self.child

    def end_child(self):
        if self.child is None:
            return
        try:
            os.kill(self.child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        kill_all_but(self.kept())
        self.finished.append(self.child)
        self.child = None

    def after_reply(self):
        """Work that must not delay the reply: reaping and forking the next child."""
        # Reaped without waiting: tearing down a large heap takes milliseconds.
        for child in list(self.finished):
            if child.reap(block=False):
                child.close()
                self.finished.remove(child)
        if self.spare is None:
            self.spare = Child()

    def execute(self, request):
        session = bool(request.get("session"))
        if not session:
            self.end_child()
        child = self.take_child()
        out, err = Capture(), Capture()
        started = time.monotonic()
        deadline = started + float(request["timeout"])
        status = None
        timed_out = False
        try:
            child.send(request["code"], bool(request.get("echo")))
        except BrokenPipeError:
            status = b"dead"
        selector = selectors.DefaultSelector()
        selector.register(child.out_r, selectors.EVENT_READ, out)
        selector.register(child.err_r, selectors.EVENT_READ, err)
        selector.register(child.done_r, selectors.EVENT_READ, None)
        while status is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in selector.select(min(remaining, 0.25)):
                if key.data is None:
                    try:
                        status = os.read(child.done_r, 64).strip() or b"dead"
                    except BlockingIOError:
                        continue
                    break
                try:
                    data = os.read(key.fd, 1 << 16)
                except BlockingIOError:
                    continue
                if data:
                    key.data.add(data)
                else:
                    selector.unregister(key.fd)
            if status is None and child.reap(block=False):
                status = b"dead"
        selector.close()
        duration = (time.monotonic() - started) * 1000
        finished_cell = status in (b"0", b"1")
        if session and finished_cell:
            kill_all_but(self.kept(child.pid))  # the cell's stray processes, not the session
        else:
            self.end_child()
        drain(child.out_r, out)
        drain(child.err_r, err)
        if finished_cell:
            exit_code, killed_by = int(status), None
        else:
            child.reap(block=True)  # a crashed cell's status is part of the result
            exit_code, killed_by = child.exit_code, child.signal
        if timed_out:
            exit_code, killed_by = None, "SIGKILL"
        return {
            "stdout": out.text(),
            "stderr": err.text(),
            "exitCode": exit_code,
            "signal": killed_by,
            "timedOut": timed_out,
            "truncated": out.cut > 0 or err.cut > 0,
            "stdoutBytes": out.total,
            "stderrBytes": err.total,
            "durationMs": round(duration, 3),
            # A session whose process died (timeout, crash, exit) starts afresh next time.
            "sessionEnded": session and not finished_cell,
        }


def reply(message):
    data = (json.dumps(message) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(REPLIES, view) :]


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.close(0)
    os.open("/dev/null", os.O_RDONLY)  # fd 0 again, so no child inherits the channel there
    os.dup2(2, 1)  # a stray print in the worker goes to the log, never into the protocol
    loaded = preload()
    # Move everything imported so far out of the collector's reach: a forked child's
    # collections would otherwise write to every object and copy the whole heap.
    gc.collect()
    gc.freeze()
    worker = Worker()
    reply({"ready": True, "preloaded": loaded, "python": sys.version.split()[0]})
    for line in REQUESTS:
        request = json.loads(line)
        try:
            if request["op"] == "exec":
                result = worker.execute(request)
            elif request["op"] == "reset":
                worker.end_child()
                result = {}
            else:
                raise ValueError(f"unknown op {request['op']!r}")
            result["id"] = request["id"]
        except Exception as error:  # report, keep serving
            result = {"id": request.get("id"), "error": f"{type(error).__name__}: {error}"}
        reply(result)
        worker.after_reply()


if __name__ == "__main__":
    main()
