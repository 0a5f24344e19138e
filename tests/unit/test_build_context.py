"""The image's build context: what functions/Dockerfile copies, .dockerignore must let through
(`docker build` fails on a COPY of a path the context left out; no Docker here to find out)."""

from __future__ import annotations

import importlib.util
import sys

from tests.e2e.harness import ROOT

_spec = importlib.util.spec_from_file_location("deploy_check", ROOT / "tools" / "deploy_check.py")
assert _spec and _spec.loader
deploy_check = importlib.util.module_from_spec(_spec)
sys.modules["deploy_check"] = deploy_check
_spec.loader.exec_module(deploy_check)


def test_every_path_the_dockerfile_copies_is_in_the_build_context():
    _, copies, _ = deploy_check._dockerfile()
    sources = [source for sources, _ in copies for source in sources]
    assert "functions/reindex/app.py" in sources
    assert [s for s in sources if not deploy_check._in_build_context(s)] == []


def test_the_build_context_leaves_out_what_no_copy_needs():
    # The first rule excludes everything; only what a COPY names is let back in
    for path in (".venv/bin/python", "tests/e2e/harness.py", "functions/start/app.py", "README.md"):
        assert not deploy_check._in_build_context(path), path
    assert deploy_check._in_build_context("layers/docproc/docproc/models.py")


def test_a_handlers_import_is_counted_in_units_of_the_sdks_fastest_import():
    # Given runs where slow spells hit some handler runs and some SDK runs (their medians,
    # means or slowest give another ratio)
    handler_runs, sdk_runs = [0.9, 0.40, 0.50], [0.20, 0.55, 0.30]

    # When they are compared, Then the fastest of each is: noise only adds time
    assert deploy_check.import_ratio(handler_runs, sdk_runs) == 2.0
