"""Sandbox worker: one long-lived Python inside a bubblewrap sandbox.

It pre-imports the heavy modules (numpy, sympy) once, then runs each record in a world of
its own, cloned from the warm worker so a cell pays neither the interpreter start nor the
imports. A world is one process, the runner, cloned into new pid, IPC and mount namespaces:
pid 1 there, with its own /proc and a fresh scratch tmpfs; it then drops to its own uid (as
root), gives up every capability, installs a seccomp filter and waits for its cell.

A stateless execution is a world used for one cell; a session is a world kept for the cells
of one trajectory. When the runner dies the kernel kills everything left in its pid
namespace, and the IPC namespace and scratch mount vanish, so nothing a record makes
(processes, shared memory, files) outlives it. The runner is the worker's own child: its
exit status comes from waitpid, its output from pipes only the worker reads.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout.
Requests: {"op": "exec", "id", "code", "timeout", "session": bool, "echo": bool, "stdin": str?},
{"op": "reset", "id"}. Nothing else may write to this process's stdout.
"""

import builtins
import ctypes
import ctypes.util
import gc
import json
import linecache
import os
import platform
import resource
import selectors
import signal
import struct
import sys
import time
import traceback

# The worker's settings, from the JSON its command line carries; set by configure() in main(), so that
# importing this module (a test does) changes nothing.
CONFIG = LIMITS = SCRATCH = CELL_UID = HEAD_BYTES = TAIL_BYTES = MEMORY_LIMIT_NOTE = None
# {"version": 1 or 2, "mount": where the worker's own memory cgroup directory is}, or None.
CGROUP = None
# The protocol channel: the worker's own stdin/stdout, kept on private fds (open_channel()) so that
# nothing a child does with fds 0-2 can touch it.
REQUESTS = REPLIES = None
# The cells' compiled seccomp filter, built once in main().
SECCOMP_PROGRAM = b""
MB = 1024 * 1024

LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
SYS_CLONE = {"x86_64": 56, "aarch64": 220}
# Exit status of a runner that failed before the cell ran (setup, not the cell's code).
SETUP_FAILED = 70


def libc_call(name, *args):
    result = getattr(LIBC, name)(*args)
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{name}: {os.strerror(error)}")
    return result


# ---------------------------------------------------------------- memory cgroups


def write_control(path, value):
    with open(path, "w") as control:
        control.write(value)


class WorldCgroup:
    """A world's memory cgroup: everything the world holds (all its processes, its scratch tmpfs,
    its shared memory) counted together and capped at the memory limit; no swap to escape to."""

    made = 0

    def __init__(self):
        WorldCgroup.made += 1
        self.path = f"{CGROUP['mount']}/world-{WorldCgroup.made}"
        os.mkdir(self.path)
        limit = str(LIMITS["memoryMb"] * MB)
        if CGROUP["version"] == 1:
            self.events = f"{self.path}/memory.oom_control"
            write_control(f"{self.path}/memory.limit_in_bytes", limit)
            swap = (f"{self.path}/memory.memsw.limit_in_bytes", limit)  # memory + swap, at least the memory limit
        else:
            self.events = f"{self.path}/memory.events"
            write_control(f"{self.path}/memory.max", limit)
            swap = (f"{self.path}/memory.swap.max", "0")
        if os.path.exists(swap[0]):  # absent where the kernel does not account swap
            write_control(*swap)
        self.oom_kills_reported = 0

    def join(self):
        """Called by the runner: it, and every process it starts, is counted here."""
        write_control(f"{self.path}/cgroup.procs", "0")

    def new_oom_kills(self):
        """How many of the world's processes the kernel killed for memory since the last call."""
        try:
            with open(self.events) as events:
                lines = dict(line.split() for line in events if line.strip())
        except OSError:
            return 0
        total = int(lines.get("oom_kill", 0))
        new, self.oom_kills_reported = total - self.oom_kills_reported, total
        return new

    def remove(self):
        """False while a process of the world is still dying; the worker tries again later."""
        try:
            os.rmdir(self.path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            return False


def configure(config):
    """The worker's settings: limits, scratch, the cells' uid, its cgroup, the output caps."""
    global CONFIG, LIMITS, SCRATCH, CELL_UID, CGROUP, HEAD_BYTES, TAIL_BYTES, MEMORY_LIMIT_NOTE
    CONFIG = config
    LIMITS = config["limits"]
    SCRATCH = config["scratch"]
    CELL_UID = config.get("uid")
    CGROUP = config.get("cgroup")
    HEAD_BYTES = config["outputHeadBytes"]
    TAIL_BYTES = config["outputTailBytes"]
    MEMORY_LIMIT_NOTE = (
        f"memory limit exceeded: a record's processes, scratch and shared memory hold at most {LIMITS['memoryMb']} MiB\n"
    ).encode()


def open_channel():
    global REQUESTS, REPLIES
    REQUESTS = os.fdopen(os.dup(0), "rb")
    REPLIES = os.dup(1)


# ---------------------------------------------------------------- the seccomp filter


def compile_seccomp_filter(rules):
    """The cells' system call filter as raw BPF, built once with libseccomp.

    libseccomp knows each architecture's system call numbers and its ABI quirks (x32 on
    x86_64); the runner installs the compiled program itself, so no cell pays for building it.
    """
    path = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        raise SystemExit("libseccomp is not installed: the sandbox needs it (apt-get install libseccomp2)")
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]

    class ArgCompare(ctypes.Structure):
        _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]

    def errno_action(number):
        return 0x00050000 | number  # SCMP_ACT_ERRNO

    masked_equal = 7  # SCMP_CMP_MASKED_EQ
    context = lib.seccomp_init(0x7FFF0000)  # SCMP_ACT_ALLOW: a deny list
    try:
        def add(name, action, compare=None):
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:
                return  # not a system call on this architecture
            count, array = (1, ctypes.byref(compare)) if compare else (0, None)
            if lib.seccomp_rule_add_array(context, action, number, count, array) < 0:
                raise SystemExit(f"seccomp: cannot add a rule for {name}")

        for name in rules["deny"]:
            add(name, errno_action(1))  # EPERM
        for name in rules["unavailable"]:
            add(name, errno_action(38))  # ENOSYS: callers such as glibc fall back to the older call
        for flag in rules["cloneFlags"]:
            add("clone", errno_action(1), ArgCompare(0, masked_equal, flag, flag))
        read_end, write_end = os.pipe()
        if lib.seccomp_export_bpf(context, write_end) < 0:
            raise SystemExit("seccomp: cannot compile the filter")
        os.close(write_end)
        program = b""
        while chunk := os.read(read_end, 1 << 16):
            program += chunk
        os.close(read_end)
        return program
    finally:
        lib.seccomp_release(context)


def install_seccomp_filter(program):
    class Program(ctypes.Structure):
        _fields_ = [("length", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    libc_call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    fprog = Program(len(program) // 8, program)
    libc_call("prctl", PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)


# ---------------------------------------------------------------- the warm worker


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


def clone_world():
    """fork() into new pid, IPC and mount namespaces: the child is pid 1 of its own world.

    os.fork cannot take namespace flags, so this is the raw clone system call, wrapped in
    the interpreter's own before/after-fork hooks exactly as os.fork wraps fork().
    """
    number = SYS_CLONE.get(platform.machine())
    if number is None:
        raise SystemExit(f"the sandbox supports x86_64 and aarch64, not {platform.machine()}")
    syscall = ctypes.PyDLL(None, use_errno=True).syscall  # PyDLL: the GIL stays held
    syscall.restype = ctypes.c_long
    syscall.argtypes = [ctypes.c_long, ctypes.c_ulong] + [ctypes.c_void_p] * 4
    python = ctypes.pythonapi
    python.PyOS_BeforeFork()
    pid = syscall(number, CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS | signal.SIGCHLD, None, None, None, None)
    error = ctypes.get_errno()
    if pid == 0:
        python.PyOS_AfterFork_Child()
    else:
        python.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(error, f"clone: {os.strerror(error)}")
    return pid


def build_world():
    """Mounts of the record's own: its /proc, a fresh scratch tmpfs, /dev/shm inside scratch.

    The worker's cgroup directory is covered by an empty, read-only, inaccessible tmpfs (in a user
    namespace the bind under it is locked and cannot be unmounted), and the world gets a cgroup
    namespace of its own: a cell can neither change its memory limit nor learn the host's cgroup paths.
    """
    libc_call("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    if CGROUP:
        cover = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
        libc_call("mount", b"tmpfs", CGROUP["mount"].encode(), b"tmpfs", cover, b"size=4k,mode=0")
    try:
        libc_call("unshare", CLONE_NEWCGROUP)
    except OSError as error:
        if error.errno != 22:  # EINVAL: a kernel without cgroup namespaces
            raise
    libc_call("mount", b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    options = f"size={LIMITS['scratchMb'] * MB},mode=1777".encode()
    libc_call("mount", b"tmpfs", SCRATCH.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options)
    # POSIX shared memory and semaphores live in /dev/shm: there they count against scratch.
    libc_call("mount", SCRATCH.encode(), b"/dev/shm", None, MS_BIND, None)


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


# ---------------------------------------------------------------- the runner: the cell's process


def apply_limits():
    cpu = LIMITS["cpuSeconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, LIMITS["sessionCpuSeconds"]))
    resource.setrlimit(resource.RLIMIT_AS, (LIMITS["memoryMb"] * MB,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMITS["fileSizeMb"] * MB,) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (LIMITS["processes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMITS["openFiles"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def drop_privileges():
    """As root: the worker's own uid, then no capabilities at all, in either mode."""
    if CELL_UID is not None:
        os.setgroups([])
        os.setresgid(CELL_UID, CELL_UID, CELL_UID)
        os.setresuid(CELL_UID, CELL_UID, CELL_UID)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
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


def take_stdin(data):
    """The cell's stdin: the request's text through a file in scratch, or /dev/null."""
    if not data:
        return
    path = os.path.join(SCRATCH, ".stdin")
    with open(path, "wb") as file:
        file.write(data)
    fd = os.open(path, os.O_RDONLY)
    os.unlink(path)
    os.dup2(fd, 0)
    os.close(fd)


def runner_main(cmd_r, done_w, out_w, err_w, cgroup):
    try:
        if cgroup:
            cgroup.join()
        build_world()
        os.setsid()
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(cmd_r, 3)
        os.dup2(done_w, 4)
        os.closerange(5, 1 << 16)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGXCPU, cpu_limit_reached)
        apply_limits()
        drop_privileges()
        install_seccomp_filter(SECCOMP_PROGRAM)
        os.chdir(SCRATCH)
    except BaseException as error:  # noqa: BLE001
        os.write(err_w, f"sandbox setup failed: {error}\n".encode())
        os._exit(SETUP_FAILED)
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
        (code_length, stdin_length, flags) = struct.unpack("<IIB", read_exact(3, 9))
        code = read_exact(3, code_length).decode("utf-8", "replace")
        take_stdin(read_exact(3, stdin_length) if stdin_length else b"")
        session = bool(flags & 2)
        if not session:
            # A one-cell world: the cell keeps no channel back. Its status is its exit status.
            os.close(3)
            os.close(4)
        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(used.ru_utime + used.ru_stime) + LIMITS["cpuSeconds"]
        resource.setrlimit(resource.RLIMIT_CPU, (min(soft, LIMITS["sessionCpuSeconds"]), LIMITS["sessionCpuSeconds"]))
        try:
            status = run_cell(code, namespace, index, bool(flags & 1))
        except SystemExit as stop:
            status = stop.code
            if status is None:
                status = 0
            elif not isinstance(status, int):
                print(status, file=sys.stderr)
                status = 1
            status &= 0xFF
            session = False
        sys.stdout.flush()
        sys.stderr.flush()
        if not session:
            os._exit(status)
        index += 1
        sweep()
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


class World:
    """A record's world: the runner, cloned into namespaces of its own, waiting for a cell."""

    def __init__(self):
        self.cgroup = WorldCgroup() if CGROUP else None
        cmd_r, self.cmd_w = os.pipe()
        self.done_r, done_w = os.pipe()
        self.out_r, out_w = os.pipe()
        self.err_r, err_w = os.pipe()
        self.pid = clone_world()
        if self.pid == 0:
            try:
                runner_main(cmd_r, done_w, out_w, err_w, self.cgroup)
            finally:
                os._exit(SETUP_FAILED)
        for fd in (cmd_r, done_w, out_w, err_w):
            os.close(fd)
        self.exited = os.pidfd_open(self.pid)
        for fd in (self.done_r, self.out_r, self.err_r):
            os.set_blocking(fd, False)
        self.ended = None  # ("exit", code) or ("signal", name), from waitpid
        self.killed = False

    def send(self, code, stdin, echo, session):
        data = code.encode("utf-8", "replace")
        feed = stdin.encode("utf-8", "replace")
        flags = (1 if echo else 0) | (2 if session else 0)
        view = memoryview(struct.pack("<IIB", len(data), len(feed), flags) + data + feed)
        while view:
            view = view[os.write(self.cmd_w, view) :]

    def reap(self, block):
        """The runner's end, seen by its parent, the worker: waitpid, nothing the cell could write."""
        if self.ended is not None:
            return True
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:  # never expected; never reported as a success
            self.ended = ("signal", "SIGKILL")
            return True
        if pid == 0:
            return False
        if os.WIFSIGNALED(status):
            self.ended = ("signal", signal.Signals(os.WTERMSIG(status)).name)
        else:
            self.ended = ("exit", os.WEXITSTATUS(status))
        return True

    def kill(self):
        """Ends the world: the runner dies, and with it everything in its pid namespace."""
        if not self.killed and self.ended is None:
            self.killed = True
            try:
                os.kill(self.pid, signal.SIGKILL)  # from outside the namespace, so it is delivered
            except ProcessLookupError:
                pass

    def close(self):
        """After the runner is reaped: its descriptors, and its cgroup (False while that is still busy)."""
        for fd in (self.cmd_w, self.done_r, self.out_r, self.err_r, self.exited):
            try:
                os.close(fd)
            except OSError:
                pass
        return self.cgroup.remove() if self.cgroup else True


def drain(fd, capture):
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except (BlockingIOError, OSError):
            return
        if not data:
            return
        capture.add(data)


class Worker:
    """Serves requests one at a time; always keeps a fresh world built and waiting."""

    def __init__(self):
        self.session = None  # the world that holds the current session, if any
        self.spare = World()
        self.finished = []  # ended worlds whose runner is reaped once the reply is out
        self.leftover_cgroups = []  # cgroups of reaped worlds whose last processes were still dying

    def take_world(self):
        if self.session is None:
            self.session, self.spare = (self.spare or World()), None
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
            self.spare = World()
            take_copy_faults()

    def execute(self, request):
        session = bool(request.get("session"))
        if not session:
            self.end_session()
        world = self.take_world()
        out, err = Capture(), Capture()
        started = time.monotonic()
        deadline = started + float(request["timeout"])
        done = None  # a session cell's own report: b"0" or b"1"
        timed_out = False
        try:
            world.send(request["code"], request.get("stdin") or "", bool(request.get("echo")), session)
        except BrokenPipeError:
            pass  # the runner is gone: its exit says why
        if self.spare is None and not session:
            # The next world is cloned while this cell runs (on another core, if there is one),
            # not after the reply, where the next request would wait for it. Not for a session's first
            # cell: the clone holds this loop for milliseconds, its trajectory is waiting for the reply,
            # and the session's later cells need no spare (after_reply builds it).
            self.spare = World()
        selector = selectors.DefaultSelector()
        selector.register(world.out_r, selectors.EVENT_READ, out)
        selector.register(world.err_r, selectors.EVENT_READ, err)
        selector.register(world.exited, selectors.EVENT_READ, "exited")
        if session:
            selector.register(world.done_r, selectors.EVENT_READ, "done")
        while done is None and world.ended is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in selector.select(min(remaining, 0.25)):
                if key.data == "exited":
                    world.reap(block=True)
                    continue
                try:
                    data = os.read(key.fd, 1 << 16)
                except BlockingIOError:
                    continue
                if key.data == "done":
                    if data.strip() in (b"0", b"1"):
                        done = data.strip()
                    else:
                        selector.unregister(key.fd)
                    continue
                if data:
                    key.data.add(data)
                else:
                    selector.unregister(key.fd)
        selector.close()
        duration = (time.monotonic() - started) * 1000
        finished_cell = done is not None and world.ended is None
        if not finished_cell:
            self.retire(world)
        drain(world.out_r, out)
        drain(world.err_r, err)
        # Only a cell that failed can have been cut short by the memory limit; the others skip the read.
        failed = not finished_cell or done != b"0"
        if failed and world.cgroup and world.cgroup.new_oom_kills():
            err.add(MEMORY_LIMIT_NOTE)
        if finished_cell:
            exit_code, killed_by = int(done), None
        elif timed_out:
            exit_code, killed_by = None, "SIGKILL"
        else:
            kind, value = world.ended
            exit_code, killed_by = (value, None) if kind == "exit" else (None, value)
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


def take_copy_faults():
    """After a clone the worker shares its pages with the new world, and its first write to each one
    copies it. A throwaway pass over a request's path (parse, capture, select, reply) takes most of
    those copies now, while no cell waits, rather than in the next cell (measured on a slow VM, 50 ms
    between cells: a session's second cell 4.2-4.4 ms without it, 2.6-3.2 ms with it)."""
    json.loads('{"op": "exec", "id": 0, "code": "print(1)", "timeout": 1, "session": true}')
    capture = Capture()
    capture.add(b"1\n")
    selectors.DefaultSelector().close()
    json.dumps({"id": 0, "stdout": capture.text(), "durationMs": round(time.monotonic(), 3), "signal": None})


def reply(message):
    data = (json.dumps(message) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(REPLIES, view) :]


def main():
    global SECCOMP_PROGRAM
    configure(json.loads(sys.argv[1]))
    open_channel()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.close(0)
    os.open("/dev/null", os.O_RDONLY)  # fd 0 again, so no child inherits the channel there
    os.dup2(2, 1)  # a stray print in the worker goes to the log, never into the protocol
    # Nothing of the same uid may read this process's memory or descriptors through /proc.
    libc_call("prctl", PR_SET_DUMPABLE, 0, 0, 0, 0)
    SECCOMP_PROGRAM = compile_seccomp_filter(CONFIG["seccomp"])
    loaded = preload()
    # Move everything imported so far out of the collector's reach: a forked child's
    # collections would otherwise write to every object and copy the whole heap.
    gc.collect()
    gc.freeze()
    worker = Worker()
    # One empty cell before saying ready: a kernel that refuses to build a world (a mount, a namespace,
    # the filter) stops the worker here with the reason, rather than failing every cell later.
    probe = worker.execute({"code": "", "timeout": 30})
    if probe["exitCode"] != 0:
        print(f"cannot build a world for a cell: {probe['stderr'].strip() or probe}", file=sys.stderr)
        sys.exit(1)
    worker.after_reply()
    reply({"ready": True, "preloaded": loaded, "python": sys.version.split()[0]})
    for line in REQUESTS:
        request = json.loads(line)
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
        reply(result)
        worker.after_reply()


if __name__ == "__main__":
    main()
