"""The ``docproc`` command's entry point (also ``python -m docproc.local``).

Before the command imports the pipeline (~0.4 s), it glances at what an ``ingest`` was given,
and starts on another core what that will need: the copy of a large file into the store
(docproc.storage.local.begin_upload_copy), and when the work will run on a pool of workers,
the workers' fork server, which loads meanwhile (docproc.local.workers). Then the command runs
(docproc.local.cli).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

# LocalSettings.home's default (a test keeps the two equal): read here without the settings.
DEFAULT_HOME = ".docproc"


def main() -> int:
    from docproc.local.workers import ingested_file, pool_expected, start_workers_server
    from docproc.malloc import share_one_malloc_arena

    arguments = sys.argv[1:]
    # Before the process's first thread (the upload's copy; the vector store's, later): see
    # docproc.malloc.
    share_one_malloc_arena()
    upload = ingested_file(arguments)
    if upload is not None:
        from docproc.storage.local import EARLY_COPY_FROM, begin_upload_copy, objects_root

        if upload.stat().st_size >= EARLY_COPY_FROM:
            home = Path(os.environ.get("DOCPROC_HOME") or DEFAULT_HOME)
            begin_upload_copy(upload, objects_root(home))
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
