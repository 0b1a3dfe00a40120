"""The suite's one retry: a kernel start (nbval's, and the starter-mode runs'), again once,
when the kernel died at start-up (tests/conftest.py, retry_kernel_start, says why). Nothing
else is retried."""

from __future__ import annotations

import asyncio

import nbval.kernel
import pytest
from conftest import KERNEL_DIED, retry_kernel_start


def _start(*outcomes: object):
    calls = []

    def start(*args: object, **kwargs: object) -> object:
        calls.append((args, kwargs))
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return start, calls


def test_a_kernel_that_died_at_start_up_is_started_once_more_with_a_warning():
    start, calls = _start(RuntimeError(KERNEL_DIED), ("km", "kc"))
    with pytest.warns(UserWarning, match="died at start-up"):
        assert retry_kernel_start(start)(startup_timeout=60, kernel_name="python3") == ("km", "kc")
    assert calls == [((), {"startup_timeout": 60, "kernel_name": "python3"})] * 2


def test_a_second_death_and_any_other_error_are_raised():
    start, calls = _start(RuntimeError(KERNEL_DIED), RuntimeError(KERNEL_DIED))
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match=KERNEL_DIED):
        retry_kernel_start(start)()
    assert len(calls) == 2
    start, calls = _start(RuntimeError("Kernel didn't respond in 60 seconds"))
    with pytest.raises(RuntimeError, match="didn't respond"):
        retry_kernel_start(start)()
    assert len(calls) == 1


def test_nbval_starts_its_kernels_through_the_retry():
    assert nbval.kernel.start_new_kernel.__wrapped__ is not None
    assert nbval.kernel.start_new_kernel.__name__ == "start_new_kernel"


def test_a_coroutine_that_starts_a_kernel_is_retried_the_same_way():
    start, calls = _start(RuntimeError(KERNEL_DIED), "ran")

    async def execute() -> object:
        return start()

    with pytest.warns(UserWarning, match="died at start-up"):
        assert asyncio.run(retry_kernel_start(execute)()) == "ran"
    assert len(calls) == 2
    start, calls = _start(RuntimeError("Kernel didn't respond in 60 seconds"))
    with pytest.raises(RuntimeError, match="didn't respond"):
        asyncio.run(retry_kernel_start(execute)())
    assert len(calls) == 1
