"""The cells' system call filter: compiled once in the worker with libseccomp, installed by each runner."""

import ctypes
import ctypes.util
import os

from .linux import PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, libc_call

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO = 0x00050000
SCMP_CMP_MASKED_EQ = 7
EPERM = 1
ENOSYS = 38
BPF_INSTRUCTION_BYTES = 8


class ArgCompare(ctypes.Structure):
    """libseccomp's struct scmp_arg_cmp."""

    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]


class SockFprog(ctypes.Structure):
    """The kernel's struct sock_fprog: a BPF program's length in instructions and its bytes."""

    _fields_ = [("length", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def load_libseccomp():
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
    return lib


def compile_seccomp_filter(rules):
    """The cells' filter as raw BPF: a deny list over an allow-by-default policy.

    libseccomp knows each architecture's system call numbers and its ABI quirks (x32 on
    x86_64); the runner installs the compiled program itself, so no cell pays for building it.
    `rules` is what isolation.ts declares: "deny" (EPERM), "unavailable" (ENOSYS: callers such as
    glibc fall back to the older call) and "cloneFlags" (clone with any of them gets EPERM).
    """
    lib = load_libseccomp()
    context = lib.seccomp_init(SCMP_ACT_ALLOW)
    try:
        def add(name, errno, compare=None):
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:
                return  # not a system call on this architecture
            count, array = (1, ctypes.byref(compare)) if compare else (0, None)
            if lib.seccomp_rule_add_array(context, SCMP_ACT_ERRNO | errno, number, count, array) < 0:
                raise SystemExit(f"seccomp: cannot add a rule for {name}")

        for name in rules["deny"]:
            add(name, EPERM)
        for name in rules["unavailable"]:
            add(name, ENOSYS)
        for flag in rules["cloneFlags"]:
            add("clone", EPERM, ArgCompare(0, SCMP_CMP_MASKED_EQ, flag, flag))
        return export_bpf(lib, context)
    finally:
        lib.seccomp_release(context)


def export_bpf(lib, context):
    read_end, write_end = os.pipe()
    if lib.seccomp_export_bpf(context, write_end) < 0:
        raise SystemExit("seccomp: cannot compile the filter")
    os.close(write_end)
    program = b""
    while chunk := os.read(read_end, 1 << 16):
        program += chunk
    os.close(read_end)
    return program


def install_seccomp_filter(program):
    """In the runner: no new privileges, then the filter, for this process and all it starts."""
    libc_call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    fprog = SockFprog(len(program) // BPF_INSTRUCTION_BYTES, program)
    libc_call("prctl", PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)
