"""The command line: the seed's numbers as a table, figures as valid SVG/PNG files."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib.image
import pytest

from roofline_lab.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_table_prints_the_seed_numbers_for_the_course_a100(capsys):
    code, out = _run(capsys, "table", "--gpu", "a100-lab")
    assert code == 0
    for expected in (
        "ridge point         156.0 FLOP/byte",
        "critical batch      156.0 tokens/step",
        "decode speed limit  125.0 tok/s per sequence (step >= 8.00 ms)",
        "batch 64            8,000 tok/s, 41% of peak compute",
    ):
        assert expected in out
    decode_1 = next(line for line in out.splitlines() if "decode batch 1 " in line)
    assert "1.0  memory-bound" in decode_1 and "0.6%" in decode_1
    prefill = next(line for line in out.splitlines() if "prefill 2,048" in line)
    assert "2,048.0  compute-bound" in prefill


def test_table_for_h100_shows_the_higher_ridge_and_209_tokens_per_s(capsys):
    _, out = _run(capsys, "table", "--gpu", "H100")
    assert "ridge point         295.4 FLOP/byte" in out
    assert "decode speed limit  209.4 tok/s" in out


def test_table_follows_the_dtype(capsys):
    _, out = _run(capsys, "table", "--gpu", "a100-lab", "--dtype", "int8")
    assert "ridge point         312.0 FLOP/byte" in out
    assert "decode speed limit  250.0 tok/s" in out


@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_plot_writes_a_valid_figure(tmp_path, capsys, suffix):
    out = tmp_path / f"roofline.{suffix}"
    code, printed = _run(capsys, "plot", "--gpu", "h100", "--dtype", "fp16", "--batch", "1,8,64,156,512",
                         "--prefill", "128,2048", "--out", str(out))
    assert code == 0 and printed.strip() == f"wrote {out}"
    if suffix == "svg":
        root = ET.parse(out).getroot()
        assert root.tag.endswith("svg")
        text = out.read_text()  # matplotlib keeps each text's string as a comment beside its glyphs
        assert "<!-- b=156 -->" in text and "<!-- L=2048 -->" in text
        legend = text[text.index('<g id="legend'):]
        # the legend lists the three series, and no point or region label
        for entry in ("NVIDIA H100 SXM, fp16", "decode (batch b)", "prefill (prompt L)"):
            assert f"<!-- {entry} -->" in legend
        assert "<!-- b=156 -->" not in legend and "<!-- memory-bound -->" not in legend
    else:
        pixels = matplotlib.image.imread(out)
        assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] >= 1920  # wide enough for slides
        assert pixels.std() > 0.05  # not a blank image


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["table", "--gpu", "h10"], "argument --gpu: unknown GPU 'h10' (did you mean 'h100'"),
        (["table", "--model", "llama-9b"], "argument --model: unknown model 'llama-9b'"),
        (["table", "--dtype", "fp61"], "argument --dtype: unknown dtype 'fp61' (did you mean 'fp16'"),
        (["table", "--gpu", "tpu-v5e", "--dtype", "fp16"], "TPU v5e lists no fp16 peak; choose one of: bf16, int8"),
        (["table", "--batch", "1,-8"], "argument --batch: expected comma-separated whole numbers >= 1"),
        (["plot", "--out", "x.jpeg"], "argument --out: unknown figure format '.jpeg'; use one of: .svg, .png, .pdf"),
        (["plot", "--out", "/no/such/folder/r.svg"], "argument --out: folder '/no/such/folder' does not exist"),
        (["draw"], "invalid choice: 'draw'"),
    ],
)
def test_bad_flags_get_usage_errors_with_the_allowed_values(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "roofline_lab", "table"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "156.0 FLOP/byte" in result.stdout
