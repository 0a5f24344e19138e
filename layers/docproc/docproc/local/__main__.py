"""The ``docproc`` command's entry point (also ``python -m docproc.local``).

Before the command imports the pipeline (~0.4 s), it glances at what an ``ingest`` was given:
when that will run on a pool of workers, the workers' fork server starts now and loads on
another core meanwhile (docproc.local.workers). Then the command runs (docproc.local.cli).
"""

from __future__ import annotations

import gc
import os
import sys


def main() -> int:
    from docproc.local.workers import pool_expected, start_workers_server

    arguments = sys.argv[1:]
    if pool_expected(arguments, os.environ, os.cpu_count() or 1):
        start_workers_server()
    from docproc.local.cli import main as run_command

    try:
        return run_command(arguments)
    finally:
        # The command is done (its stores and files closed): what remains is the interpreter's
        # teardown, whose garbage collections would walk every object the pipeline's modules
        # made, ~0.1 s of a small file's command here. Frozen, they are left to the exit.
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
