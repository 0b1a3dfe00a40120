"""The notebooks' exercise helpers: check/show never stop a notebook, reveal compares a guess,
answer grades a worked exercise and hints when it is close."""

from __future__ import annotations

import math

import pytest

from roofline_lab import exercises, lab


def test_reveal_says_no_guess_yet_for_none():
    assert exercises.reveal_text(None, 156.0, "FLOP/byte").startswith("no guess yet")


def test_reveal_names_the_guess_the_answer_and_how_far_off():
    text = exercises.reveal_text(100, 156.0, unit="FLOP/byte")
    assert text == "you guessed 100 FLOP/byte; the answer is 156 FLOP/byte (1.6x off, too low): the right ballpark"
    assert exercises.reveal_text(156, 156.0).endswith("(exact): spot on")
    assert "too high" in exercises.reveal_text(2000, 125.0, "tokens/s")
    assert "more than 10x off" in exercises.reveal_text(2000, 125.0, "tokens/s")


def test_reveal_refuses_a_guess_that_is_not_a_number():
    with pytest.raises(TypeError, match="guess must be a finite number"):
        exercises.reveal_text("156", 156.0)


def test_reveal_prints_one_line(capsys):
    exercises.reveal(None, 1.0)
    assert capsys.readouterr().out.count("\n") == 1


@pytest.mark.parametrize("key", sorted(exercises.QUESTIONS))
def test_every_question_has_a_finite_positive_answer_and_a_hint(key):
    q = exercises.QUESTIONS[key]
    answer = q.solve()
    assert isinstance(answer, float) and math.isfinite(answer) and answer > 0
    assert q.hint and q.prompt
    assert exercises.answer_text(key, answer).startswith("✓")


def test_answer_grades_right_close_a_known_slip_and_wrong():
    assert exercises.answer_text("int8-ridge", None).startswith("no answer yet")
    assert exercises.answer_text("int8-ridge", 312) == "✓ 312 OP/byte: right"
    close = exercises.answer_text("int8-ridge", 300)
    assert close.startswith("close, not yet") and "hint:" in close
    assert "common slip" in exercises.answer_text("int8-ridge", 78)
    wrong = exercises.answer_text("int8-ridge", 5000)
    assert wrong.startswith("✗") and "hint:" in wrong


def test_answer_counts_exactly_where_the_answer_is_a_whole_count():
    right = exercises.QUESTIONS["free-chunk-at-batch-100"].solve()
    assert exercises.answer_text("free-chunk-at-batch-100", right).startswith("✓")
    assert not exercises.answer_text("free-chunk-at-batch-100", right + 1).startswith("✓")


def test_answer_refuses_an_unknown_question():
    with pytest.raises(ValueError, match="unknown question 'nope'; allowed: double-bandwidth-ridge"):
        exercises.answer("nope", 1.0)


def _patched(monkeypatch, name, function):
    monkeypatch.setattr(lab, name, lab._checked(function, bool if name == "is_compute_bound" else float))


def test_check_catches_the_boundary_mistake_with_a_hint(monkeypatch, capsys):
    def strict(intensity, ridge):
        return intensity > ridge

    _patched(monkeypatch, "is_compute_bound", strict)
    assert exercises.check("is_compute_bound") is False
    out = capsys.readouterr().out
    assert out.startswith("✗ is_compute_bound: is_compute_bound(156, 156) returned False") and ">=" in out


def test_check_and_show_print_one_line_when_the_function_raises(monkeypatch, capsys):
    def typo(peak_flops, mem_bandwidth):
        return peak_flops / mem_bandwith  # noqa: F821 (the learner's typo)

    _patched(monkeypatch, "ridge_point", typo)
    assert exercises.check("ridge_point") is False
    assert exercises.show("ridge_point", 1.0, 2.0) is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("raised NameError: name 'mem_bandwith' is not defined" in x for x in lines)


def test_check_and_show_report_a_starter_file_that_does_not_load(monkeypatch, capsys):
    def broken(peak_flops, mem_bandwidth):
        raise lab.StarterImportError("/x/roofline_lab/starter.py, line 3: SyntaxError: invalid syntax")

    _patched(monkeypatch, "ridge_point", broken)
    assert exercises.check("ridge_point") is False
    out = capsys.readouterr().out
    assert out == "starter.py does not load: /x/roofline_lab/starter.py, line 3: SyntaxError: invalid syntax\n"


def test_the_starter_file_loader_reports_file_line_and_error(tmp_path):
    path = tmp_path / "starter.py"
    path.write_text("def ridge_point(:\n    pass\n", encoding="utf-8")
    import types

    source = lab._StarterFile(types.ModuleType("roofline_lab.starter"), path)
    with pytest.raises(lab.StarterImportError, match=rf"^{path}, line 1: SyntaxError: "):
        source.refresh()
    path.write_text("\n".join(f"def {n}(*a):\n    return 1.0\n" for n in lab.FUNCTIONS), encoding="utf-8")
    source.refresh()  # the changed file loads
    assert source.module.ridge_point() == 1.0
    path.write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(lab.StarterImportError, match="defines no function ridge_point"):
        source.refresh()
    assert source.module.ridge_point() == 1.0  # the last good version stays
