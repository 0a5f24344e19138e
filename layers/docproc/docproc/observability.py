"""Logger, Tracer and Metrics: one instance each for the whole package.

Correlation keys (tenant, document, version, segment) are appended per invocation. Never
log document text, presigned URLs or secrets: log ids, counts and error class names.
"""

from __future__ import annotations

import logging
import resource
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

    tracer: Tracer  # provided lazily by __getattr__ below

SERVICE = "docproc"
NAMESPACE = "docproc"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


@cache
def _tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def __getattr__(name: str) -> Any:
    # The Tracer imports the X-Ray SDK (~0.3 s): only handlers, which trace, pay for it;
    # the laptop command line never does.
    if name == "tracer":
        return _tracer()
    raise AttributeError(name)


def reset_peak_rss() -> bool:
    """Start a new peak: from now on ``peak_rss_mb`` reports the peak since this call.

    VmHWM is the process's lifetime peak, and a warm Lambda container serves many
    invocations: without a reset, one large segment would set every later segment's figure.
    Linux resets it when "5" is written to /proc/self/clear_refs (kernel 4.0+). False where
    that is not possible; the peak is then the process's.
    """
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started or since ``reset_peak_rss``.

    Linux's VmHWM, not getrusage's ru_maxrss: ru_maxrss survives exec, so a process started
    by a large parent would report the parent's size at fork.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def log_to_stderr(level: str) -> None:
    """For the command line: keep stdout for results (``--json``), logs on stderr."""
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)
    logger.setLevel(level)


def current_rss_mb() -> float:
    """Resident memory now (Linux /proc), falling back to the peak elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 1024 / 1024
    except OSError:
        return peak_rss_mb()
