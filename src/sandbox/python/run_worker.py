"""Entry point of the sandbox worker: bubblewrap runs this file as /opt/start/run_worker.py.

The worker itself is the `sandbox_worker` package beside this file (bound read-only with it);
this file only calls its main(), so that importing the package (a test does) starts nothing.
"""

from sandbox_worker.main import main

if __name__ == "__main__":
    main()
