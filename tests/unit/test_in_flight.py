"""Batches worked on at once while the next are read: the limit, the waits, and the errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from docproc.pipeline.in_flight import BatchesInFlight


class Gate:
    """work() for batches that wait until the test lets each one through."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.done: list[int] = []
        self.released: dict[int, threading.Event] = {}
        self.lock = threading.Lock()
        self.running = self.most_running = 0
        self.threads: set[str] = set()

    def work(self, batch: int) -> None:
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
            with self.lock:
                self.done.append(batch)
        finally:
            with self.lock:
                self.running -= 1

    def let_through(self, *batches: int) -> None:
        for batch in batches:
            with self.lock:
                self.released.setdefault(batch, threading.Event()).set()


def test_one_in_flight_works_on_each_batch_in_the_callers_thread_as_it_is_submitted():
    # Given a limit of 1 (the offline embedders)
    gate = Gate()
    gate.let_through(1, 2, 3)

    # When three batches are submitted
    with BatchesInFlight(1, gate.work) as flight:
        for batch in (1, 2, 3):
            flight.submit(batch)
            # Then each is done before submit returns, on this thread: no thread is started
            assert gate.done[-1] == batch
    assert gate.threads == {thread_name()}


def test_up_to_the_limit_at_once_and_a_batch_waits_for_any_one_to_finish():
    # Given a limit of 3 and batches that wait until released
    gate = Gate()
    flight = BatchesInFlight(3, gate.work)
    with flight:
        for batch in (1, 2, 3):
            flight.submit(batch)  # returns at once: fewer than 3 under way
        wait_until(lambda: len(gate.started) == 3)
        # When a fourth is submitted, it waits while 3 are under way
        fourth = threading.Thread(target=flight.submit, args=(4,))
        fourth.start()
        fourth.join(timeout=0.2)
        assert fourth.is_alive() and gate.started == [1, 2, 3]
        # and starts once any of them (the last one) has finished, not the oldest
        gate.let_through(3)
        fourth.join(timeout=10)
        assert not fourth.is_alive()
        wait_until(lambda: 4 in gate.started)
        gate.let_through(1, 2, 4)

    # Then no more than 3 ran at once, all on other threads, and leaving waited for every one
    assert gate.most_running == 3
    assert thread_name() not in gate.threads
    assert sorted(gate.done) == [1, 2, 3, 4]


def test_a_failed_batch_raises_once_the_batches_under_way_have_ended():
    # Given batch -2 fails while 1 and 3 are still under way
    gate = Gate()

    # When they are submitted and the block is left
    with (
        pytest.raises(ValueError, match="batch -2 failed"),
        BatchesInFlight(3, gate.work) as flight,
    ):
        for batch in (1, -2, 3):
            flight.submit(batch)
        gate.let_through(-2)
        wait_until(lambda: gate.running == 2)
        threading.Timer(0.1, gate.let_through, args=(1, 3)).start()

    # Then the error went on only once the others had finished: what they did stays done
    assert gate.running == 0
    assert sorted(gate.done) == [1, 3]


def test_a_failed_batch_raises_at_the_next_submit_and_nothing_more_is_started():
    # Given batch -1 has failed
    gate = Gate()
    gate.let_through(-1, 2)
    with (
        pytest.raises(ValueError, match="batch -1 failed"),
        BatchesInFlight(2, gate.work) as flight,
    ):
        flight.submit(-1)
        wait_until(lambda: gate.running == 0)

        # When the next batch is submitted
        flight.submit(2)

    # Then its error is raised there, and the batch is not started
    assert gate.started == [-1]


def test_an_error_in_the_caller_waits_for_the_batches_under_way():
    # Given two batches under way
    gate = Gate()

    # When the caller fails (an unreadable page) while they work
    with (
        pytest.raises(RuntimeError, match="extraction failed"),
        BatchesInFlight(2, gate.work) as flight,
    ):
        flight.submit(1)
        flight.submit(2)
        wait_until(lambda: len(gate.started) == 2)
        threading.Timer(0.1, gate.let_through, args=(1, 2)).start()
        raise RuntimeError("extraction failed")

    # Then the error goes on only once neither is still working
    assert gate.running == 0
    assert sorted(gate.done) == [1, 2]


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        BatchesInFlight(0, print)


def thread_name() -> str:
    return threading.current_thread().name


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.005)
