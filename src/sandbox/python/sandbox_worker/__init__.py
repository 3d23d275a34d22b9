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

Modules: settings (the worker's configuration), linux (system calls and their flag bits),
seccomp (the cells' filter), cgroup (a world's memory cgroup), runner (the cell's process),
world (a runner as the worker sees it), protocol (the request/reply channel and output capture),
main (the worker's loop). Importing any of them changes nothing in the process.
"""
