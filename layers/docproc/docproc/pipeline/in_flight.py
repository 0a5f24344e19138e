"""Batches stored while the next ones are read, up to a limit at once.

With an embeddings API and a Qdrant server each batch waits for answers: the vector store's
(what it holds already), the API's (the vectors), the store's again (the upsert). One after
the other, a text segment of thousands of chunks spends most of its (billed) time waiting
(BENCHMARKS.md, Embedding through an API). Here each batch's work runs on a thread of its
own, up to ``limit`` at once, while the segment goes on extracting and chunking the next: the
requests overlap, the store's too. The offline embedders and the laptop's store compute in
this process, where threads would only contend for the interpreter: they run with a limit of
1, in the caller's thread, one batch after another.

Batches finish in any order: what one writes does not depend on another (its own point ids).
Leaving the block waits for every batch, so a segment is recorded done only once all of its
points are stored. A batch that failed raises its error at the next ``submit`` or on leaving,
once the batches under way have ended (what they stored stays: their point ids are
deterministic, and a retry finds them). After an error in the caller, the batches under way
end before it propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Generic, TypeVar

Batch = TypeVar("Batch")


class BatchesInFlight(Generic[Batch]):
    """``work(batch)`` for up to ``limit`` batches at once: on threads when above 1, else in
    the caller's thread as each is submitted."""

    def __init__(self, limit: int, work: Callable[[Batch], None]) -> None:
        if limit < 1:
            raise ValueError(f"at least one batch must be in flight, not {limit}")
        self._limit = limit
        self._work = work
        self._pool = (
            ThreadPoolExecutor(max_workers=limit, thread_name_prefix="batch") if limit > 1 else None
        )
        # In the order submitted: of batches that failed, the earliest one's error is raised.
        self._pending: list[Future[None]] = []

    def __enter__(self) -> BatchesInFlight[Batch]:
        return self

    def submit(self, batch: Batch) -> None:
        """Start ``batch``: at once when fewer than ``limit`` are under way, else once one of
        them has finished."""
        if self._pool is None:
            self._work(batch)
            return
        self._settle(future for future in self._pending if future.done())
        while len(self._pending) >= self._limit:
            wait(self._pending, return_when=FIRST_COMPLETED)
            self._settle(future for future in self._pending if future.done())
        self._pending.append(self._pool.submit(self._work, batch))

    def _settle(self, finished: Iterable[Future[None]]) -> None:
        """Forget the ``finished`` batches; if one failed, raise its error once the others
        under way have ended."""
        done = list(finished)
        for future in done:
            self._pending.remove(future)
        failed = next((future for future in done if future.exception() is not None), None)
        if failed is not None:
            wait(self._pending)
            self._pending.clear()
            failed.result()

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
                wait(self._pending)
                self._settle(list(self._pending))
        finally:
            # After an error, what is still under way ends before the error goes on.
            self._pool.shutdown(wait=True, cancel_futures=True)
