"""Axis limits follow the current state: they grow past data that crosses them and come back
when the data leaves them far behind (hysteresis, not a one-way ratchet)."""

import matplotlib

matplotlib.use("Agg")

import pytest

from roofline_lab.panels import LIMIT_GROWTH, LIMIT_SLACK, follow_limits


def test_a_side_the_data_crosses_lands_one_growth_step_past_it():
    assert follow_limits((1.0, 100.0), (0.5, 200.0)) == (0.5 / LIMIT_GROWTH, 200.0 * LIMIT_GROWTH)


def test_limits_hold_while_the_data_stays_inside_and_within_the_slack():
    assert follow_limits((1.0, 1e4), (2.0, 500.0)) == (1.0, 1e4)


def test_a_side_left_more_than_the_slack_behind_comes_back():
    lo, hi = follow_limits((1e-3, 1e6), (1e-3 * LIMIT_SLACK * 2, 1e6 / LIMIT_SLACK / 2))
    assert lo == pytest.approx(1e-3 * LIMIT_SLACK * 2 / LIMIT_GROWTH)
    assert hi == pytest.approx(1e6 / LIMIT_SLACK / 2 * LIMIT_GROWTH)


def test_the_explorer_comes_back_near_its_limits_after_an_extreme_state():
    """A ratchet would keep panel (c) at the 405B, 1M-context, batch-4096 step times (seconds to
    hours) after the state returns to the seed's 8 ms step."""
    from roofline_lab.widgets import RooflineExplorer

    ex = RooflineExplorer(batch=64)
    start = [ax.get_ylim() for ax in ex.figure.axes[:3]]
    extreme = dict(model="llama-3.1-405b", gpu="l4", batch=4096, context_len=2**20, kv=True)
    ex.set(**extreme)
    grown = [ax.get_ylim() for ax in ex.figure.axes[:3]]
    assert grown[2][1] / start[2][1] > 1e3, "the extreme state should widen panel (c)"
    ex.set(model="8b-lab", gpu="a100-lab", batch=64, context_len=0, kv=False)
    for before, (lo, hi) in zip(start, (ax.get_ylim() for ax in ex.figure.axes[:3]), strict=True):
        assert before[0] / lo <= LIMIT_GROWTH and hi / before[1] <= LIMIT_GROWTH, (before, (lo, hi))
    ex.close()
