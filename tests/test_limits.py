"""Axis limits follow the current state: they grow past data that crosses them and come back
when the data leaves them far behind (hysteresis, not a one-way ratchet)."""

import matplotlib

matplotlib.use("Agg")

import pytest

from roofline_lab.panels import LIMIT_SLACK, follow_limits


def test_a_side_the_data_crosses_lands_on_the_data():
    assert follow_limits((1.0, 100.0), (0.5, 200.0)) == (0.5, 200.0)
    assert follow_limits((1.0, 100.0), (2.0, 1e3)) == (1.0, 1e3)  # the other side holds


def test_limits_hold_while_the_data_stays_inside_and_within_the_slack():
    assert follow_limits((1.0, 1e4), (2.0, 500.0)) == (1.0, 1e4)


def test_a_side_left_more_than_the_slack_behind_comes_back():
    lo, hi = follow_limits((1e-3, 1e6), (1e-3 * LIMIT_SLACK * 2, 1e6 / LIMIT_SLACK / 2))
    assert lo == pytest.approx(1e-3 * LIMIT_SLACK * 2)
    assert hi == pytest.approx(1e6 / LIMIT_SLACK / 2)


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
        assert (lo, hi) == pytest.approx(before), (before, (lo, hi))
    ex.close()


def test_after_a_jump_no_panel_keeps_a_decade_of_nothing_above_its_data():
    """Moving from the A100 lab preset to 70B on 8 x H100 grows panels (a) and (b); their tops land
    within the plot's padding (x3, rounded up to a decade) of the highest thing drawn."""
    from roofline_lab.widgets import RooflineExplorer

    ex = RooflineExplorer(kv=True, context_len=4096, batch=512)
    ex.set(gpu="h100-sxm", model="llama-3-70b", tp=8, batch=64, context_len=8192)
    view = ex.view
    tops = {0: max(view.peak_flops, *view.decode_y, *view.prefill_y, view.point[1]),
            1: max(*view.tokens_per_s, view.batch_tokens_per_s),
            2: max(*view.step_ms, view.batch_step_ms)}
    for i, top in tops.items():
        assert ex.figure.axes[i].get_ylim()[1] <= 30 * top, (i, ex.figure.axes[i].get_ylim(), top)
    ex.close()
