"""A world's memory cgroup: everything the world holds (all its processes, its scratch tmpfs,
its shared memory) counted together and capped at the memory limit; no swap to escape to."""

import os

from .linux import write_control


class WorldCgroup:
    made = 0

    def __init__(self, cgroup, memory_bytes):
        """`cgroup` is the settings' {"version", "mount"}: where the worker's own cgroup directory is."""
        WorldCgroup.made += 1
        self.path = f"{cgroup['mount']}/world-{WorldCgroup.made}"
        os.mkdir(self.path)
        limit = str(memory_bytes)
        if cgroup["version"] == 1:
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
