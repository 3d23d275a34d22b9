"""The runner: a world's pid 1, the process that runs its cells.

It builds the world's mounts, moves to the cell's descriptors, drops every privilege, installs
the seccomp filter, then reads cells from its command pipe. A stateless cell's status is the
runner's exit status; a session's runner reports each cell's status on its done pipe and waits
for the next.
"""

import ast
import builtins
import ctypes
import linecache
import os
import resource
import signal
import struct
import sys
import traceback
from dataclasses import dataclass

from .linux import (
    CAPABILITY_VERSION_3,
    CLONE_NEWCGROUP,
    EINVAL,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    libc_call,
    mount,
)
from .seccomp import install_seccomp_filter
from .settings import MB

# Exit status of a runner that failed before the cell ran (setup, not the cell's code).
SETUP_FAILED = 70
# The runner's fixed descriptors after setup: the cell's command pipe and its done pipe.
COMMAND_FD = 3
DONE_FD = 4
# A cell command: code length, stdin length, flags; then the code and the stdin bytes.
CELL_HEADER = struct.Struct("<IIB")
ECHO_FLAG = 1
SESSION_FLAG = 2


@dataclass
class RunnerPipes:
    """The runner's ends of the pipes the worker made for a world."""

    command: int
    done: int
    stdout: int
    stderr: int


def encode_cell(code, stdin, echo, session):
    """A cell command as the worker writes it to the runner's command pipe."""
    data = code.encode("utf-8", "replace")
    feed = stdin.encode("utf-8", "replace")
    flags = (ECHO_FLAG if echo else 0) | (SESSION_FLAG if session else 0)
    return CELL_HEADER.pack(len(data), len(feed), flags) + data + feed


def build_world(settings):
    """Mounts of the record's own: its /proc, a fresh scratch tmpfs, /dev/shm inside scratch.

    The worker's cgroup directory is covered by an empty, read-only, inaccessible tmpfs (in a user
    namespace the bind under it is locked and cannot be unmounted), and the world gets a cgroup
    namespace of its own: a cell can neither change its memory limit nor learn the host's cgroup paths.
    """
    mount(b"none", b"/", None, MS_REC | MS_PRIVATE)
    if settings.cgroup:
        cover = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
        mount(b"tmpfs", settings.cgroup["mount"].encode(), b"tmpfs", cover, b"size=4k,mode=0")
    try:
        libc_call("unshare", CLONE_NEWCGROUP)
    except OSError as error:
        if error.errno != EINVAL:  # a kernel without cgroup namespaces
            raise
    mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    scratch = settings.scratch.encode()
    options = f"size={settings.limits['scratchMb'] * MB},mode=1777".encode()
    mount(b"tmpfs", scratch, b"tmpfs", MS_NOSUID | MS_NODEV, options)
    # POSIX shared memory and semaphores live in /dev/shm: there they count against scratch.
    mount(scratch, b"/dev/shm", None, MS_BIND)


def is_live(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def kill_all_but(keep):
    """Kill every live process of this pid namespace except the ones kept.

    Passes repeat until one finds nothing new, so processes forked mid-pass die too. A
    process already sent SIGKILL runs no more code, so its teardown is not waited for.
    """
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


def sweep():
    """Between the cells of a session: the cell's stray processes die (and are reaped), the session stays.

    The runner is pid 1 of its world, so every orphan of the cell is its child.
    """
    kill_all_but({os.getpid()})
    while True:  # every child left was just killed: wait for each to be gone
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def cpu_limit_reached(_signum, _frame):
    # pid 1 ignores SIGXCPU's default action, so the runner ends itself the same way.
    os.write(2, b"CPU time limit exceeded\n")
    os._exit(128 + signal.SIGXCPU)


def apply_limits(limits):
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpuSeconds"], limits["sessionCpuSeconds"]))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memoryMb"] * MB,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["fileSizeMb"] * MB,) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["openFiles"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def drop_privileges(cell_uid):
    """As root: the worker's own uid, then no capabilities at all, in either mode."""
    if cell_uid is not None:
        os.setgroups([])
        os.setresgid(cell_uid, cell_uid, cell_uid)
        os.setresuid(cell_uid, cell_uid, cell_uid)
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)  # this process
    libc_call("capset", header, (ctypes.c_uint32 * 6)())


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
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
        return tree, last
    return tree, None


def run_cell(code, namespace, index, echo):
    """Run one cell; returns 0 on success, 1 if it raised."""
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


def take_stdin(scratch, data):
    """The cell's stdin: the request's text through a file in scratch, or /dev/null."""
    if not data:
        return
    path = os.path.join(scratch, ".stdin")
    with open(path, "wb") as file:
        file.write(data)
    fd = os.open(path, os.O_RDONLY)
    os.unlink(path)
    os.dup2(fd, 0)
    os.close(fd)


def enter_world(settings, seccomp_program, pipes, cgroup):
    """Everything before the first cell; a failure ends the runner with SETUP_FAILED and the reason."""
    try:
        if cgroup:
            cgroup.join()
        build_world(settings)
        os.setsid()
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(pipes.stdout, 1)
        os.dup2(pipes.stderr, 2)
        os.dup2(pipes.command, COMMAND_FD)
        os.dup2(pipes.done, DONE_FD)
        os.closerange(DONE_FD + 1, 1 << 16)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGXCPU, cpu_limit_reached)
        apply_limits(settings.limits)
        drop_privileges(settings.cell_uid)
        install_seccomp_filter(seccomp_program)
        os.chdir(settings.scratch)
    except BaseException as error:  # noqa: BLE001
        os.write(pipes.stderr, f"sandbox setup failed: {error}\n".encode())
        os._exit(SETUP_FAILED)
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
    sys.argv = ["<cell>"]


def exit_status(stop):
    """A cell's sys.exit(...) as the exit status a process would have."""
    status = stop.code
    if status is None:
        return 0
    if not isinstance(status, int):
        print(status, file=sys.stderr)
        return 1
    return status & 0xFF


def runner_main(settings, seccomp_program, pipes, cgroup):
    enter_world(settings, seccomp_program, pipes, cgroup)
    limits = settings.limits
    # A throwaway cell while nobody waits: it takes the copy-on-write faults of the
    # parse/compile/exec/print path now rather than on the first real cell.
    run_cell("_ = repr(1 + 1)\nprint(end='')", {"__builtins__": builtins}, "warm", True)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    index = 0
    while True:
        (code_length, stdin_length, flags) = CELL_HEADER.unpack(read_exact(COMMAND_FD, CELL_HEADER.size))
        code = read_exact(COMMAND_FD, code_length).decode("utf-8", "replace")
        take_stdin(settings.scratch, read_exact(COMMAND_FD, stdin_length) if stdin_length else b"")
        session = bool(flags & SESSION_FLAG)
        if not session:
            # A one-cell world: the cell keeps no channel back. Its status is its exit status.
            os.close(COMMAND_FD)
            os.close(DONE_FD)
        # Each cell gets its own CPU seconds on top of what the session used, within the session's total.
        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(used.ru_utime + used.ru_stime) + limits["cpuSeconds"]
        session_cpu = limits["sessionCpuSeconds"]
        resource.setrlimit(resource.RLIMIT_CPU, (min(soft, session_cpu), session_cpu))
        try:
            status = run_cell(code, namespace, index, bool(flags & ECHO_FLAG))
        except SystemExit as stop:
            status = exit_status(stop)
            session = False
        sys.stdout.flush()
        sys.stderr.flush()
        if not session:
            os._exit(status)
        index += 1
        sweep()
        os.write(DONE_FD, b"%d\n" % status)
