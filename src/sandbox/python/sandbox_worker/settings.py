"""The worker's settings, from the JSON its command line carries (built by worker-process.ts)."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    limits: dict  # cpuSeconds, sessionCpuSeconds, memoryMb, scratchMb, fileSizeMb, processes, openFiles
    scratch: str  # the mount point of each world's scratch tmpfs
    cell_uid: int | None  # the uid a cell drops to when the worker runs as root; None otherwise
    cgroup: dict | None  # {"version": 1 or 2, "mount": the worker's memory cgroup directory}, or None
    seccomp_rules: dict  # {"deny": [...], "unavailable": [...], "cloneFlags": [...]}
    output_head_bytes: int
    output_tail_bytes: int
    preload: tuple = ()
    warmup: str | None = None

    @classmethod
    def from_config(cls, config):
        return cls(
            limits=config["limits"],
            scratch=config["scratch"],
            cell_uid=config.get("uid"),
            cgroup=config.get("cgroup"),
            seccomp_rules=config.get("seccomp") or {"deny": [], "unavailable": [], "cloneFlags": []},
            output_head_bytes=config["outputHeadBytes"],
            output_tail_bytes=config["outputTailBytes"],
            preload=tuple(config.get("preload") or ()),
            warmup=config.get("warmup"),
        )

    @property
    def memory_bytes(self):
        return self.limits["memoryMb"] * MB

    @property
    def memory_limit_note(self):
        return (
            "memory limit exceeded: a record's processes, scratch and shared memory hold at most "
            f"{self.limits['memoryMb']} MiB\n"
        ).encode()
