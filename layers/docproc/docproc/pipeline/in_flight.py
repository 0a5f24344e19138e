"""Batches embedded and stored while the next ones are read, up to a limit at once.

With an embeddings API and a Qdrant server each batch waits for answers: the vector store's
(what it holds already), the API's (the vectors), the store's again (the upsert). One after
the other, a text segment of thousands of chunks spends most of its (billed) time waiting
(BENCHMARKS.md, Batches in flight). Here each batch is computed (looked up and
embedded) on a thread of its own, up to ``limit`` at once, and finished (upserted) on one
thread of its own, while the segment goes on extracting and chunking the next: the requests
overlap. The offline embedders and the laptop's store compute in this process, where threads
would mostly contend for the interpreter: they are computed in the caller's thread
(``compute_in_caller``), and only finishing overlaps, where the store is another process's (a
Qdrant server, or the laptop runner's parent serving its workers): the caller hashes the next
batches while the store writes earlier ones (docproc.config.batches_in_flight).

Batches are finished one at a time, in the order they were submitted. Upserted each on its
batch's thread, four at once (commit 0d8e54e), the 8 MiB segment of BENCHMARKS.md's Batches
in flight peaked at 340 MB against 265 MB one batch at a time; upserted in turn on one
thread, 266 MB in a run where upserts in the caller's thread peaked at 247 MB, in the time of
four at once. A batch counts toward the limit until it is finished: memory holds ``limit``
batches. Its threads allocate from the process's one glibc arena (docproc.malloc): with an
arena a thread, that segment at 1536 dimensions and four requests at once peaked at 349 MB as
deployed, against 294 MB with one (and 283 against 260 MB in a bare process); the threads
mostly wait, and take turns anyway (the GIL).

Leaving the block finishes every batch, so a segment is recorded done only once all of its
points are stored; a batch that failed raises its error at the next ``submit`` or on leaving,
and nothing after it is finished. After an error in the caller, the batches under way end
before it propagates, and their results are dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

from docproc.malloc import share_one_malloc_arena

Batch = TypeVar("Batch")
Result = TypeVar("Result")


class BatchesInFlight(Generic[Batch, Result]):
    """``compute(batch)`` for up to ``limit`` batches at once, then ``finish(result)`` for each
    in the order submitted: with a limit of 1 in the caller's thread as each is submitted, else
    on threads (one that finishes, in turn) while the caller goes on; with
    ``compute_in_caller``, each is computed as it is submitted and only finished on the thread."""

    def __init__(
        self,
        limit: int,
        compute: Callable[[Batch], Result],
        finish: Callable[[Result], None],
        compute_in_caller: bool = False,
    ) -> None:
        """``compute_in_caller``: for work that waits on nothing (threads would only take
        turns at the interpreter with the caller)."""
        if limit < 1:
            raise ValueError(f"at least one batch must be in flight, not {limit}")
        self._limit = limit
        self._compute = compute
        self._finish = finish
        self._computing: ThreadPoolExecutor | None = None
        self._finishing: ThreadPoolExecutor | None = None
        if limit > 1:
            # Before this process's first thread, in Lambda (docproc.malloc says why)
            share_one_malloc_arena()
            if not compute_in_caller:
                self._computing = ThreadPoolExecutor(
                    max_workers=limit, thread_name_prefix="compute"
                )
            self._finishing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="finish")
        # Each batch's finishing, in the order submitted: done once it is finished.
        self._batches: deque[Future[None]] = deque()
        # Set once a batch failed, or the caller did: what is finished after it is dropped.
        self._dropping = False

    def __enter__(self) -> BatchesInFlight[Batch, Result]:
        return self

    def submit(self, batch: Batch) -> None:
        """Start ``batch``: at once when fewer than ``limit`` are unfinished, else once the
        oldest is finished. Batches that are finished are settled on the way (a failed one
        raises its error here)."""
        if self._finishing is None:
            self._finish(self._compute(batch))
            return
        while self._batches and (len(self._batches) >= self._limit or self._batches[0].done()):
            self._batches.popleft().result()
        if self._computing is None:
            computed: Future[Result] = Future()
            computed.set_result(self._compute(batch))
        else:
            computed = self._computing.submit(self._compute, batch)
        self._batches.append(self._finishing.submit(self._finish_computed, computed))

    def _finish_computed(self, computed: Future[Result]) -> None:
        """On the finishing thread, in the order submitted: the batch finished once computed,
        unless an earlier one failed (then its result is dropped)."""
        try:
            result = computed.result()
            if not self._dropping:
                self._finish(result)
        except BaseException:
            self._dropping = True
            raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._finishing is None:
            return
        try:
            if error is None:
                while self._batches:
                    self._batches.popleft().result()
        finally:
            # After an error, what is still under way ends before the error goes on.
            self._dropping = True
            if self._computing is not None:
                self._computing.shutdown(wait=True, cancel_futures=True)
            self._finishing.shutdown(wait=True, cancel_futures=True)
