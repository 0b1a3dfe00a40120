"""roofline_lab.measure: this machine's roofline, measured.

One quick run (about 3-6 s on 2 cores) is shared by the tests that read figures; the
rest use tiny explicit sizes or fail before allocating anything. Timing is never
asserted: `python3 -m roofline_lab.measure --quick` prints the wall time.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import pytest

from roofline_lab import measure, reference
from roofline_lab.measure import (
    MIB,
    Bandwidth,
    DecodeSweep,
    GemmPeak,
    MachineRoofline,
    measure_bandwidth,
    measure_decode,
    measure_gemm,
    measure_machine,
    predicted_critical_batch,
)


@pytest.fixture(scope="module")
def quick() -> MachineRoofline:
    return measure_machine(quick=True, progress=False)


def _positive_finite(x: float) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_every_quick_figure_is_a_positive_finite_number_in_si_units(quick: MachineRoofline) -> None:
    for bw in (quick.read, quick.triad):
        assert isinstance(bw, Bandwidth)
        assert _positive_finite(bw.seconds) and _positive_finite(bw.mem_bandwidth)
        assert bw.mem_bandwidth_gb_per_s == pytest.approx(bw.mem_bandwidth / 1e9)  # decimal GB
    assert [g.dtype for g in quick.gemm] == ["float32", "float64"]
    for g in quick.gemm:
        assert isinstance(g, GemmPeak)
        assert _positive_finite(g.seconds) and _positive_finite(g.peak_flops)
        assert g.peak_gflop_per_s == pytest.approx(g.peak_flops / 1e9)
        assert g.peak_tflop_per_s == pytest.approx(g.peak_flops / 1e12)
    d = quick.decode
    assert isinstance(d, DecodeSweep) and d.dtype == "float32" and d.dtype_bytes == 4
    assert all(_positive_finite(s) for s in d.seconds) and len(d.seconds) == len(d.batches)
    assert all(_positive_finite(x) for x in (*d.intensities, *d.achieved_flops, *d.achieved_bandwidth))
    for x in (quick.ridge, quick.predicted_critical_batch, quick.measured_critical_batch, quick.wall_s):
        assert _positive_finite(x)


def test_summary_prints_datasheet_units_and_every_batch(quick: MachineRoofline) -> None:
    text = quick.summary()
    assert text.count("GB/s") >= 2 and text.count("GFLOP/s") >= 2 and "FLOP/byte" in text
    assert f"{quick.read.mem_bandwidth_gb_per_s:8.1f} GB/s" in text
    for b, ms in zip(quick.decode.batches, quick.decode.step_ms, strict=True):
        assert f"  {b:5d}  {ms:9.2f}" in text
    assert "quick mode" in text and quick.backend.library in text


def test_quick_arrays_and_weights_are_4x_the_last_level_cache_within_64_to_256_mib(quick: MachineRoofline) -> None:
    llc = measure.last_level_cache_bytes()
    expected = min(max(4 * llc, 64 * MIB), 256 * MIB) if llc else measure.FALLBACK_ARRAY_BYTES
    assert quick.cache_bytes == llc
    assert quick.read.array_bytes == quick.triad.array_bytes == expected // 8 * 8
    assert abs(quick.decode.weight_bytes - expected) <= measure.DECODE_COLS * 4 * 2  # whole rows per thread


@pytest.mark.parametrize(("cache_mib", "noted"), [(None, False), (32, False), (128, False), (129, True), (480, True)])
def test_the_summary_notes_arrays_under_twice_the_cache(quick: MachineRoofline, cache_mib: int | None,
                                                        noted: bool) -> None:
    """A VM may report its host's whole L3 (480 MiB was seen here): 256 MiB arrays are then
    under 2x it, and the summary says the figures may come partly from cache."""
    run = dataclasses.replace(quick, read=dataclasses.replace(quick.read, array_bytes=256 * MIB),
                              decode=dataclasses.replace(quick.decode, rows=256 * MIB // (4 * quick.decode.cols)),
                              cache_bytes=None if cache_mib is None else cache_mib * MIB)
    assert run.arrays_exceed_cache is (None if cache_mib is None else not noted)
    assert ("cache note" in run.summary()) is noted
    if noted:
        assert f"{cache_mib} MiB last-level cache" in run.summary()


def test_ridge_and_predicted_critical_batch_come_from_the_reference_formulas(quick: MachineRoofline) -> None:
    peak, bw = quick.gemm_peak("float32").peak_flops, quick.read.mem_bandwidth
    assert quick.peak_flops == peak and quick.mem_bandwidth == bw
    assert quick.ridge == reference.ridge_point(peak, bw)
    assert quick.predicted_critical_batch == reference.critical_batch_size(peak, bw, 4)
    predicted = quick.predicted_decode()
    assert predicted.ridge == pytest.approx(quick.ridge)
    assert list(predicted.tokens) == list(quick.decode.batches)


def test_free_lunch_extra_vectors_ride_on_one_weight_read(quick: MachineRoofline) -> None:
    step = quick.decode.step_s
    # On one kernel (OpenBLAS's skinny GEMM, B >= 2), 8x the vectors cost well under 8x the
    # time: they share the one pass over W (2 shared cores, even busy, showed 0.8-2.2x).
    assert step(16) < 8 * step(2), quick.summary()
    # One batch-8 step beats eight batch-1 steps (GEMVs, a leaner kernel), even when other
    # processes eat the compute and shrink the critical batch towards 4.
    assert step(8) < 8 * step(1), quick.summary()


def test_decode_turns_compute_bound_at_large_batch(quick: MachineRoofline) -> None:
    d = quick.decode
    assert d.resolved and d.step_s(128) > 2 * d.floor_s, quick.summary()
    assert 1 < d.measured_critical_batch < 128


def test_measured_critical_batch_is_near_the_prediction_from_the_measured_ridge(quick: MachineRoofline) -> None:
    # Same order of magnitude: while other processes load the 2 cores (the test suite's other
    # worker does) the GEMM peak and the decode knee move apart; 4.5x was seen once under load.
    ratio = quick.measured_critical_batch / quick.predicted_critical_batch
    assert 1 / 8 < ratio < 8, quick.summary()


def test_triad_counts_three_arrays_and_read_counts_one() -> None:
    read = measure_bandwidth("read", 8 * MIB, repeats=1, threads=1)
    triad = measure_bandwidth("triad", 8 * MIB, repeats=1, threads=2)
    assert read.bytes_moved == read.array_bytes == 8 * MIB and read.threads == 1
    assert triad.bytes_moved == 3 * triad.array_bytes and triad.threads == 2
    assert _positive_finite(read.mem_bandwidth) and _positive_finite(triad.mem_bandwidth)


def test_gemm_counts_two_n_cubed_flops() -> None:
    g = measure_gemm("float64", 128, repeats=1, threads=2)
    assert g.flops == 2 * 2 * 128**3 and g.products == 2 and g.n == 128 and g.dtype == "float64"
    assert g.peak_flops == pytest.approx(g.flops / g.seconds)


def test_untiled_decode_and_its_step_lookup() -> None:
    d = measure_decode((4, 1, 2, 2), 4 * MIB, repeats=1, threads=1, tiled=False)
    assert d.batches == (1, 2, 4) and not d.tiled and d.cols == measure.DECODE_COLS
    assert d.weight_bytes == 4 * MIB and d.bytes_moved(2) == 4 * MIB + 2 * (d.rows + d.cols) * 4
    assert d.flops(2) == 2 * d.rows * d.cols * 2
    with pytest.raises(ValueError, match=r"batch must be one of the measured batches \(1, 2, 4\), got 8"):
        d.step_s(8)


def test_blas_threads_are_fixed_during_a_run_and_restored_after(monkeypatch: pytest.MonkeyPatch) -> None:
    before = measure.blas_info().threads
    seen: list[int] = []
    original = measure.kernels._best_s

    def spy(fn, repeats):  # type: ignore[no-untyped-def]
        seen.append(measure.blas_info().threads)
        return original(fn, repeats)

    monkeypatch.setattr(measure.kernels, "_best_s", spy)
    assert measure_gemm("float32", 64, repeats=2, threads=2).threads == 2
    assert seen == [1, 1, 1]  # warm-up and both timed rounds: each worker's BLAS on 1 thread
    assert measure.blas_info().threads == before


def test_blas_info_names_library_kernel_and_threads() -> None:
    info = measure.blas_info(threads=3)
    assert info.library and info.version and info.architecture and info.threads == 3
    assert "3 threads" in str(info) and info.library in str(info)


def test_predicted_ridge_and_critical_batch_for_a_fixed_example() -> None:
    assert measure.predicted_ridge(150e9, 20e9) == pytest.approx(7.5)
    assert predicted_critical_batch(150e9, 20e9) == pytest.approx(15.0)  # float32: ridge 7.5 x 4 / 2
    assert predicted_critical_batch(312e12, 2.0e12, 2) == pytest.approx(156.0)  # the seed's A100


BAD_ARGUMENTS = [
    (lambda: measure_bandwidth("read", 0), ValueError, "array_bytes must be a whole number > 0, got 0"),
    (lambda: measure_bandwidth("read", 4), ValueError, "array_bytes must be a whole number >= 8, got 4"),
    (lambda: measure_bandwidth("read", -MIB), ValueError, "array_bytes must be a whole number > 0, got -1048576"),
    (lambda: measure_bandwidth("read", MIB + 0.5), ValueError, "array_bytes must be a whole number > 0, got 1048576.5"),
    (lambda: measure_bandwidth("read", "1 GB"), TypeError,
     "array_bytes must be a whole number > 0, got the string '1 GB'"),
    (lambda: measure_bandwidth("read", MIB, repeats=-1), ValueError, "repeats must be a whole number > 0, got -1"),
    (lambda: measure_bandwidth("read", MIB, repeats=0), ValueError, "repeats must be a whole number > 0, got 0"),
    (lambda: measure_bandwidth("read", MIB, repeats=math.nan), ValueError,
     "repeats must be a whole number > 0, got nan"),
    (lambda: measure_bandwidth("copy"), ValueError, "kernel must be one of ('read', 'triad'), got 'copy'"),
    (lambda: measure_bandwidth("read", MIB, threads=0), ValueError, "threads must be a whole number > 0, got 0"),
    (lambda: measure_gemm("float32", 0), ValueError, "n must be a whole number > 0, got 0"),
    (lambda: measure_gemm("float32", 2.5), ValueError, "n must be a whole number > 0, got 2.5"),
    (lambda: measure_gemm("float32", True), TypeError, "n must be a whole number > 0, got True (a bool)"),
    (lambda: measure_gemm("float16", 64), ValueError, "dtype must be one of ('float32', 'float64'), got 'float16'"),
    (lambda: measure_decode([1]), ValueError, "batches must hold at least two different batch sizes, got [1]"),
    (lambda: measure_decode([0, 2]), ValueError, "batches must be a whole number > 0 everywhere, got 0.0 at index 0"),
    (lambda: measure_decode([1, 2.5]), ValueError, "batches must be a whole number > 0 everywhere, got 2.5 at index 1"),
    (lambda: measure_decode([1, 2], 0), ValueError, "weight_bytes must be a whole number > 0, got 0"),
    (lambda: measure_decode([1, 2], 100, threads=1), ValueError, "weight_bytes must hold at least 1 rows of 4096"),
    (lambda: measure_decode([1, 2], MIB, repeats=-3), ValueError, "repeats must be a whole number > 0, got -3"),
    (lambda: predicted_critical_batch(math.nan, 20e9), ValueError, "peak_flops must be a finite number > 0, got nan"),
    (lambda: predicted_critical_batch(150e9, 0), ValueError, "mem_bandwidth must be a finite number > 0, got 0"),
    (lambda: measure.predicted_ridge(-1, 20e9), ValueError, "peak_flops must be a finite number > 0, got -1"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_ARGUMENTS)
def test_bad_arguments_name_the_argument_the_value_and_the_rule(call, error, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_gpu_path_without_cuda_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure.gpu, "_torch_cuda", lambda: None)
    assert not measure.gpu_available()
    with pytest.raises(RuntimeError, match="measure_gpu needs torch with a CUDA device"):
        measure.measure_gpu(quick=True)


def test_command_line_prints_every_figure(
    quick: MachineRoofline, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[bool, object]] = []

    def fake(quick_mode: bool, *, threads: object = None, progress: object = None) -> MachineRoofline:
        calls.append((quick_mode, threads))
        return quick

    monkeypatch.setattr(measure.cpu, "measure_machine", fake)
    assert measure.main(["--quick", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert calls == [(True, 1)]
    assert quick.summary() in out and "total command time:" in out


class _FakeTensor:
    def t(self) -> _FakeTensor:
        return self


class _FakeEvent:
    def __init__(self, enable_timing: bool) -> None:
        assert enable_timing

    def record(self) -> None:
        pass

    def synchronize(self) -> None:
        pass

    def elapsed_time(self, end: _FakeEvent) -> float:
        return 2.0  # milliseconds, as CUDA events report


def _fake_torch() -> SimpleNamespace:
    """Just enough of torch's surface for measure_gpu's plumbing; every kernel is a no-op."""

    def make(*args: object, **kwargs: object) -> _FakeTensor:
        return _FakeTensor()

    return SimpleNamespace(
        __version__="0.0-fake", version=SimpleNamespace(cuda="0.0"),
        float16="float16", bfloat16="bfloat16", float32="float32",
        device=lambda name: name, zeros=make, full=make, ones_like=make, full_like=make, empty_like=make,
        sum=make, add=make, matmul=make,
        cuda=SimpleNamespace(
            Event=_FakeEvent, synchronize=lambda: None,
            get_device_properties=lambda dev: SimpleNamespace(
                name="Fake GPU", major=9, minor=0, multi_processor_count=132),
        ),
    )


def test_gpu_path_plumbing_with_a_fake_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GPU here: a no-op torch stand-in checks the bookkeeping, not CUDA itself."""
    monkeypatch.setattr(measure.gpu, "_torch_cuda", _fake_torch)
    result = measure.measure_gpu(quick=True, dtype="bf16")
    assert result.device == "GPU: Fake GPU" and result.backend.threads == 132
    assert result.read.mem_bandwidth == pytest.approx(256 * MIB / 2e-3)
    assert result.triad.bytes_moved == 3 * 256 * MIB
    assert [g.dtype for g in result.gemm] == ["bf16"] and result.gemm[0].n == 4096
    assert result.decode.dtype == "bf16" and result.decode.dtype_bytes == 2
    assert result.decode.weight_bytes == 512 * MIB and result.decode.batches[-1] == 1024
    assert result.predicted_critical_batch == reference.critical_batch_size(
        result.peak_flops, result.mem_bandwidth, 2)
    assert "Fake GPU" in result.summary()
    with pytest.raises(ValueError, match="dtype must be one of \\('fp16', 'bf16'\\), got 'fp8'"):
        measure.measure_gpu(quick=True, dtype="fp8")


def test_measure_runs_without_its_optional_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    """threadpoolctl and tqdm come with the `measure` extra; without them: a warning, no pinning."""
    import sys

    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # `import threadpoolctl` now raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert measure.blas_info(threads=2).library == "unknown BLAS"
    with pytest.warns(UserWarning, match=r"threadpoolctl is not installed.*roofline-lab\[measure\]"):
        d = measure_decode((1, 2), 4 * MIB, repeats=1, threads=1, progress=True)
    assert d.batches == (1, 2) and all(s > 0 for s in d.seconds)


def test_the_package_splits_into_small_modules_with_the_gpu_path_apart() -> None:
    from pathlib import Path

    package = Path(measure.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in package.glob("*.py")}
    assert {"results.py", "machine.py", "kernels.py", "cpu.py", "gpu.py", "cli.py"} <= set(sizes)
    assert max(sizes.values()) < 450, sizes
    assert "torch" not in (package / "cpu.py").read_text(encoding="utf-8")
    assert measure.measure_gpu.__module__ == "roofline_lab.measure.gpu"
