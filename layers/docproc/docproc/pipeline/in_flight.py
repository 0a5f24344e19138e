"""Batches embedded while the next ones are read, up to a limit at once.

With an embeddings API each batch is a request that waits for the API's answer; one after the
other, a text segment of thousands of chunks spends most of its (billed) time waiting
(BENCHMARKS.md, Embedding through an API).
Here each batch's embedding runs on a thread of its own, up to ``limit`` at once, while the
segment goes on extracting and chunking the next: the requests overlap. The offline embedders
compute in this process, where threads would only contend for the interpreter: they run with a
limit of 1, in the caller's thread, one batch after another.

Only the embedding runs on those threads. What is done with a batch's result (the upsert) runs
in the caller's thread, batch by batch in the order they were submitted, so the vector stores
(an Edge shard is not thread-safe) and the ledger see one caller as before. Leaving the block
finishes every batch, so a segment is recorded done only once all of its points are stored; a
batch whose embedding failed raises its error when it is its turn to finish. After an error in
the caller, the embeddings under way end before it propagates, and their results are dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

Batch = TypeVar("Batch")
Result = TypeVar("Result")


class BatchesInFlight(Generic[Batch, Result]):
    """``compute(batch)`` for up to ``limit`` batches at once (on threads when above 1), then
    ``finish(result)`` for each in this thread, in the order the batches were submitted."""

    def __init__(
        self, limit: int, compute: Callable[[Batch], Result], finish: Callable[[Result], None]
    ) -> None:
        if limit < 1:
            raise ValueError(f"at least one batch must be in flight, not {limit}")
        self._limit = limit
        self._compute = compute
        self._finish = finish
        self._pool = (
            ThreadPoolExecutor(max_workers=limit, thread_name_prefix="embed") if limit > 1 else None
        )
        self._pending: deque[Future[Result]] = deque()

    def __enter__(self) -> BatchesInFlight[Batch, Result]:
        return self

    def submit(self, batch: Batch) -> None:
        """Start ``batch``: at once when fewer than ``limit`` are under way, else once the oldest
        has finished. Batches that are ready are finished on the way."""
        if self._pool is None:
            self._finish(self._compute(batch))
            return
        while self._pending and (len(self._pending) >= self._limit or self._pending[0].done()):
            self._finish(self._pending.popleft().result())
        self._pending.append(self._pool.submit(self._compute, batch))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pool is None:
            return
        try:
            if error is None:
                while self._pending:
                    self._finish(self._pending.popleft().result())
        finally:
            # After an error, what is still computing ends before the error goes on.
            self._pool.shutdown(wait=True, cancel_futures=True)
