"""The baseline of the folders section: every file of a folder ingested by the runner in this
one process, a loop over ``ingest`` (what the command saves a user from writing).

    python -m benchmarks.folder_loop FOLDER   # prints {"seconds": ..., "documents": ...}
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from docproc.config import LocalSettings, load_settings
from docproc.local.runner import LocalEnvironment, ingest


def main() -> None:
    folder = Path(sys.argv[1])
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    started = time.perf_counter()
    env = LocalEnvironment(load_settings(LocalSettings))
    try:
        for path in files:
            ingest(env, path, document_id=path.stem)
    finally:
        env.close()
    print(json.dumps({"seconds": time.perf_counter() - started, "documents": len(files)}))


if __name__ == "__main__":
    main()
