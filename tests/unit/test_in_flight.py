"""Batches computed at once while the next are read, then finished in turn: the limit, the
order, and the errors."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from docproc.pipeline.in_flight import BatchesInFlight


class Gate:
    """compute() for batches that wait until the test lets each one through."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.released: dict[int, threading.Event] = {}
        self.lock = threading.Lock()
        self.running = self.most_running = 0
        self.threads: set[str] = set()

    def compute(self, batch: int) -> int:
        with self.lock:
            self.started.append(batch)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.threads.add(threading.current_thread().name)
            release = self.released.setdefault(batch, threading.Event())
        try:
            assert release.wait(timeout=10), f"batch {batch} was never let through"
            if batch < 0:
                raise ValueError(f"batch {batch} failed")
            return batch * 10
        finally:
            with self.lock:
                self.running -= 1

    def let_through(self, *batches: int) -> None:
        for batch in batches:
            with self.lock:
                self.released.setdefault(batch, threading.Event()).set()


def test_one_in_flight_computes_and_finishes_each_batch_in_the_callers_thread():
    # Given a limit of 1 (the offline embedders)
    finished: list[tuple[int, str]] = []
    gate = Gate()
    gate.let_through(1, 2, 3)

    # When three batches are submitted
    with BatchesInFlight(1, gate.compute, lambda r: finished.append((r, thread_name()))) as flight:
        for batch in (1, 2, 3):
            flight.submit(batch)
            # Then each is done before submit returns, on this thread: no thread is started
            assert finished[-1] == (batch * 10, thread_name())
    assert gate.threads == {thread_name()}


def test_up_to_the_limit_compute_at_once_and_finish_in_submission_order_on_one_other_thread():
    # Given a limit of 3 and batches that wait until released, the later ones first
    finished: list[tuple[int, str]] = []
    gate = Gate()
    flight = BatchesInFlight(3, gate.compute, lambda r: finished.append((r, thread_name())))
    with flight:
        for batch in (1, 2, 3):
            flight.submit(batch)  # returns at once: fewer than 3 under way
        wait_until(lambda: len(gate.started) == 3)
        # When a fourth is submitted, it waits for the oldest (1) to be finished, not for any
        # that is computed
        fourth = threading.Thread(target=flight.submit, args=(4,))
        fourth.start()
        gate.let_through(3, 2)
        fourth.join(timeout=0.2)
        assert fourth.is_alive() and finished == []
        gate.let_through(1)
        fourth.join(timeout=10)
        assert not fourth.is_alive()
        # while the caller went on, without finishing any itself
        gate.let_through(4)

    # Then no more than 3 ran at once, all on other threads, and results were finished in
    # the order the batches came, all on one thread, neither the caller's nor a computing one
    assert gate.most_running == 3
    assert thread_name() not in gate.threads
    assert [result for result, _ in finished] == [10, 20, 30, 40]
    finishing = {name for _, name in finished}
    assert len(finishing) == 1 and not finishing & (gate.threads | {thread_name()})


def test_computed_in_the_callers_thread_up_to_the_limit_wait_to_be_finished_on_another():
    # Given a limit of 2, batches computed in the caller's thread (the offline embedder), and
    # a store that finishes each only when the test lets it
    stored: list[tuple[int, str]] = []
    store = Gate()
    gate = Gate()
    gate.let_through(1, 2, 3)
    flight = BatchesInFlight(
        2,
        gate.compute,
        lambda result: stored.append((store.compute(result), thread_name())),
        compute_in_caller=True,
    )
    with flight:
        # When two are submitted while the first is being stored
        flight.submit(1)
        flight.submit(2)
        # Then both were computed here, at once, and the caller went on
        assert gate.started == [1, 2] and gate.threads == {thread_name()}
        wait_until(lambda: store.started == [10])
        # When a third is submitted, it waits for the oldest to be stored before computing
        third = threading.Thread(target=flight.submit, args=(3,))
        third.start()
        third.join(timeout=0.2)
        assert third.is_alive() and gate.started == [1, 2]
        store.let_through(10)
        third.join(timeout=10)
        assert not third.is_alive() and gate.started == [1, 2, 3]
        store.let_through(20, 30)

    # Then each was stored in turn, on one thread that is not the caller's
    assert [result for result, _ in stored] == [100, 200, 300]
    storing = {name for _, name in stored}
    assert len(storing) == 1 and thread_name() not in storing


def test_a_failed_batch_raises_at_its_turn_and_nothing_after_it_is_finished():
    # Given batch -2 fails while 1 and 3 succeed
    finished: list[int] = []
    gate = Gate()
    gate.let_through(1, -2, 3)

    # When they are submitted and the block is left
    with (
        pytest.raises(ValueError, match="batch -2 failed"),
        BatchesInFlight(3, gate.compute, finished.append) as flight,
    ):
        for batch in (1, -2, 3):
            flight.submit(batch)

    # Then what came before it was finished, and what came after was not
    assert finished == [10]


def test_an_error_in_the_caller_waits_for_the_batches_under_way_and_drops_their_results():
    # Given two batches under way
    finished: list[int] = []
    gate = Gate()

    # When the caller fails (an unreadable page) while they compute
    with (
        pytest.raises(RuntimeError, match="extraction failed"),
        BatchesInFlight(2, gate.compute, finished.append) as flight,
    ):
        flight.submit(1)
        flight.submit(2)
        wait_until(lambda: len(gate.started) == 2)
        threading.Timer(0.1, gate.let_through, args=(1, 2)).start()
        raise RuntimeError("extraction failed")

    # Then the error goes on only once neither is still computing, and neither is finished
    assert gate.running == 0
    assert finished == []


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        BatchesInFlight(0, int, print)


def thread_name() -> str:
    return threading.current_thread().name


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.005)


# Four batches at once, each allocating from the C heap on its thread while the others do;
# then glibc's own account of its arenas (malloc_stats, on stderr).
_ARENAS = """
import ctypes, threading
from docproc.pipeline.in_flight import BatchesInFlight

all_started = threading.Barrier(4)

def compute(batch):
    held = [bytearray(200_000) for _ in range(20)]
    all_started.wait(timeout=10)
    return len(held)

with BatchesInFlight(4, compute, lambda result: None) as batches:
    for batch in range(4):
        batches.submit(batch)
ctypes.CDLL("libc.so.6").malloc_stats()
"""


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's arenas")
def test_batches_in_flight_allocate_from_one_arena():
    # Given four batches computed at once, each allocating on its own thread
    done = subprocess.run(
        [sys.executable, "-c", _ARENAS], capture_output=True, text=True, check=True, timeout=60
    )
    # Then glibc made one arena for them all, not one a thread (each keeps its own free pages)
    assert done.stderr.count("Arena ") == 1, done.stderr
