"""The Linux system calls the worker makes through libc, and the flag bits they take, by name."""

import ctypes
import os

LIBC = ctypes.CDLL(None, use_errno=True)

# prctl(2) options
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

# clone(2) / unshare(2) namespace flags
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000

# mount(2) flags
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

# The raw clone system call's number per architecture (os.fork cannot take namespace flags).
SYS_CLONE = {"x86_64": 56, "aarch64": 220}

# capset(2): _LINUX_CAPABILITY_VERSION_3
CAPABILITY_VERSION_3 = 0x20080522

EINVAL = 22


def libc_call(name, *args):
    result = getattr(LIBC, name)(*args)
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{name}: {os.strerror(error)}")
    return result


def mount(source, target, fstype, flags, options=None):
    libc_call("mount", source, target, fstype, flags, options)


def write_control(path, value):
    """Writes one value to a kernel control file (a cgroup's limits, its procs)."""
    with open(path, "w") as control:
        control.write(value)
