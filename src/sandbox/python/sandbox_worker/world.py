"""A world as the worker sees it: its runner's pid, the pipes to it, its cgroup, how it ended."""

import ctypes
import os
import platform
import signal

from .cgroup import WorldCgroup
from .linux import CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWPID, SYS_CLONE
from .runner import SETUP_FAILED, RunnerPipes, encode_cell, runner_main


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


class World:
    """A record's world: the runner, cloned into namespaces of its own, waiting for a cell."""

    def __init__(self, settings, seccomp_program):
        self.cgroup = WorldCgroup(settings.cgroup, settings.memory_bytes) if settings.cgroup else None
        cmd_r, self.cmd_w = os.pipe()
        self.done_r, done_w = os.pipe()
        self.out_r, out_w = os.pipe()
        self.err_r, err_w = os.pipe()
        self.pid = clone_world()
        if self.pid == 0:
            try:
                runner_main(settings, seccomp_program, RunnerPipes(cmd_r, done_w, out_w, err_w), self.cgroup)
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
        view = memoryview(encode_cell(code, stdin, echo, session))
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
