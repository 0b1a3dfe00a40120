"""Multi-GPU arithmetic: interconnect catalog, collectives, TP/PP/EP, and published multi-chip anchors.

Hand-derived numbers are worked out in the comments next to each assertion.
"""

from __future__ import annotations

import tomllib
from importlib import resources

import numpy as np
import pytest

from roofline_lab import gpu_names, parallel
from roofline_lab.interconnects import get_interconnect, get_network, interconnect_names, network_names

H100_LINK = 450e9  # NVLink 4, bytes/s per direction
H100_ALPHA = 29e-6  # vidur h100_dgx, 8 GPUs, 18 KB all-reduce median


# --- the catalog --------------------------------------------------------------------------------


def _raw() -> dict:
    text = resources.files("roofline_lab").joinpath("data", "interconnects.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def test_every_accelerator_but_apple_has_an_interconnect_row():
    missing = {k for k in gpu_names() if k not in interconnect_names() and not k.startswith("m")}
    assert missing == set(), f"accelerators without an interconnect row: {missing}"
    assert set(interconnect_names()) <= set(gpu_names()), "interconnect rows must use data/gpus.toml keys"


@pytest.mark.parametrize("section", ["interconnect", "network"])
def test_every_row_is_sourced_with_a_latency_source(section):
    for key, row in _raw()[section].items():
        assert row["sources"], f"{section}.{key} has no source"
        assert row["latency_source"].strip(), f"{section}.{key} has no latency source"
        assert row["link_gb_per_s"] > 0, f"{section}.{key} link bandwidth must be positive"
        for field_name in row.get("unverified", []):
            assert field_name in row, f"{section}.{key} marks {field_name!r} unverified but has no such field"


def test_nvlink_generations_per_direction():
    # NVIDIA quotes both directions: 600 / 900 / 1,800 GB/s -> 300 / 450 / 900 per direction
    assert get_interconnect("a100-80gb-sxm").link_bandwidth == 300e9
    assert get_interconnect("H100").link_bandwidth == 450e9
    assert get_interconnect("h200").link_bandwidth == 450e9
    assert get_interconnect("b200").link_bandwidth == 900e9
    assert get_interconnect("h100").domain_size == 8
    assert get_interconnect("gb200").domain_size == 72


def test_measured_h100_allreduce_latency_is_tens_of_microseconds():
    h100 = get_interconnect("h100-sxm")
    assert h100.latency_s(8) == pytest.approx(29e-6)
    assert h100.latency_s(1) == 0.0
    assert "vidur" in h100.latency_source and "allreduce_latency_us" not in h100.unverified


def test_mesh_fabric_uses_one_link_per_peer():
    mi300x = get_interconnect("mi300x")
    assert mi300x.bandwidth(2) == 64e9  # one Infinity Fabric link
    assert mi300x.bandwidth(4) == 3 * 64e9
    assert mi300x.bandwidth(8) == 448e9  # all seven
    assert get_interconnect("gaudi-3").bandwidth(8) == 525e9  # 21 x 200 GbE


def test_torus_latency_grows_with_the_ring():
    v5e = get_interconnect("tpu-v5e")
    assert v5e.latency_s(16) == pytest.approx(16e-6)  # ~1 us per hop, ~n hops per small all-reduce
    assert v5e.link_bandwidth == 1e11  # 5e10 one-way per link, both ways along one axis


def test_scale_out_network():
    ndr = get_network("InfiniBand")
    assert ndr.key == "infiniband-ndr"
    assert ndr.link_bandwidth == 50e9  # 400 Gb/s
    assert get_interconnect("h100").network == "infiniband-ndr"
    assert set(network_names()) >= {"infiniband-hdr", "infiniband-ndr"}


def test_lookup_errors_name_the_choices():
    with pytest.raises(ValueError, match="did you mean 'h100'"):
        get_interconnect("h10")
    with pytest.raises(ValueError, match="no interconnect.*tp=1"):
        get_interconnect("m2-ultra")
    with pytest.raises(ValueError, match="did you mean 'infiniband-ndr'"):
        get_network("infiniband-nd")
    with pytest.raises(ValueError, match="accelerator, not a scale-out network"):
        get_network("h100-sxm")


# --- collectives ---------------------------------------------------------------------------------


def test_ring_allreduce_formula():
    # 1 GB over 8 GPUs at 450 GB/s: 2 * 7/8 * 1e9 / 450e9 = 3.889 ms, + 29 us
    assert parallel.ring_allreduce_time_s(1e9, 8, H100_LINK, H100_ALPHA) == pytest.approx(3.8889e-3 + 29e-6, rel=1e-4)
    # two GPUs: 2 * 1/2 = one full copy each way
    assert parallel.ring_allreduce_time_s(1e9, 2, 1e9) == pytest.approx(1.0)
    assert parallel.ring_allreduce_time_s(1e9, 1, H100_LINK, H100_ALPHA) == 0.0
    sweep = parallel.ring_allreduce_time_s(np.array([0.0, 16384.0]), 8, H100_LINK, H100_ALPHA)
    assert sweep[1] - sweep[0] == pytest.approx(2 * 7 / 8 * 16384 / 450e9)


def test_allgather_alltoall_p2p():
    # all-gather is half an all-reduce
    assert parallel.allgather_time_s(1e9, 8, H100_LINK) == pytest.approx(parallel.ring_allreduce_time_s(1e9, 8, H100_LINK) / 2)
    # all-to-all, 8 GPUs, 1 GB each: 7/8 GB leaves every GPU -> 1.944 ms
    assert parallel.alltoall_time_s(1e9, 8, H100_LINK) == pytest.approx(7 / 8 * 1e9 / 450e9)
    # pipeline hop of batch 1 x 8192 x 2 bytes over NVLink: 36.4 ns + 10 us
    assert parallel.p2p_time_s(16384, H100_LINK, 10e-6) == pytest.approx(10e-6 + 16384 / 450e9)


def test_tp_comm_70b_batch1_on_8_h100s_is_latency_bound():
    # 80 layers x 2 all-reduces x (2 * 7/8 * 16,384 B / 450 GB/s + 29 us) = 160 x 29.064 us = 4.650 ms
    t = parallel.tp_comm_time_s(1, 8192, 80, 8, H100_LINK, H100_ALPHA)
    assert t == pytest.approx(160 * (2 * 7 / 8 * 16384 / 450e9 + 29e-6))
    assert t == pytest.approx(4.650e-3, rel=1e-3)
    bandwidth_part = parallel.tp_comm_time_s(1, 8192, 80, 8, H100_LINK, 0.0)
    assert bandwidth_part / t < 0.01, "at batch 1 the latency, not the bandwidth, is the cost"
    assert parallel.tp_comm_time_s(1, 8192, 80, 1, H100_LINK, H100_ALPHA) == 0.0


def test_tp_speedup_for_single_stream_70b_is_well_below_8x():
    weights = 70_553_706_496 * 2  # Llama-3-70B fp16: 141.1 GB
    one_gpu = weights / 3.35e12  # 42.1 ms (if a 141 GB H100 existed)
    memory_8 = weights / (8 * 3.35e12)  # 5.265 ms: the 5.27 ms before communication
    assert memory_8 == pytest.approx(5.27e-3, abs=0.005e-3)
    total_8 = memory_8 + parallel.tp_comm_time_s(1, 8192, 80, 8, H100_LINK, H100_ALPHA)
    speedup = one_gpu / total_8
    assert speedup == pytest.approx(4.25, abs=0.05)  # 42.12 / 9.915
    assert 4 < speedup < 6


def test_kv_replication_past_the_kv_heads():
    assert parallel.kv_replication(8, 1) == 1
    assert parallel.kv_replication(8, 8) == 1
    assert parallel.kv_replication(8, 16) == 2
    assert parallel.kv_replication(1, 64) == 64  # multi-query / MLA: every GPU holds the one head


def test_tp_must_divide_the_heads():
    parallel.check_tp_heads(64, 8)
    with pytest.raises(ValueError, match=r"tp=3 does not divide the model's 64 attention heads.*\[1, 2, 4, 8"):
        parallel.check_tp_heads(64, 3)
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match="tp must be a whole number >= 1"):
            parallel.check_tp_heads(64, bad)
    with pytest.raises(TypeError, match="tp must be a whole number"):
        parallel.check_tp_heads(64, True)


def test_gpus_to_fit():
    assert parallel.gpus_to_fit(141.1e9, 80e9) == 2
    assert parallel.gpus_to_fit(141.1e9, 160e9) == 1
    assert parallel.gpus_to_fit(405.85e9, 80e9) == 6
    assert parallel.gpus_to_fit(0.0, 80e9) == 1
    assert list(parallel.gpus_to_fit(np.array([70e9, 140e9, 280e9]), 16e9)) == [5, 9, 18]


def test_prefill_tp_stays_compute_bound_inside_the_node():
    # scaling book gpus.md: compute-bound while Y < F W / C; H100: C / W = 989.5e12 / 450e9 = 2199
    y = parallel.max_compute_bound_tp(28672, 989.5e12, 450e9)
    assert y == pytest.approx(28672 / 2198.9, rel=1e-3)
    assert 8 < y < 16  # 8-way TP in a node keeps Llama-3-70B's MLP compute-bound


def test_pipeline_latency_bubble_and_throughput():
    # 4 stages of 2 ms with 0.1 ms hops: one token takes 8.3 ms, no faster than one GPU
    assert parallel.pipeline_latency_s(2e-3, 4, 0.1e-3) == pytest.approx(8.3e-3)
    assert parallel.pipeline_bubble_fraction(4, 1) == pytest.approx(0.75)
    assert parallel.pipeline_bubble_fraction(4, 12) == pytest.approx(0.2)
    # 12 micro-batches of 32 tokens: 384 tokens in 15 slots of 2.1 ms = 12,190 tok/s
    assert parallel.pipeline_tokens_per_s(32, 2e-3, 4, 12, 0.1e-3) == pytest.approx(384 / (15 * 2.1e-3))
    # many micro-batches -> one stage's rate
    assert parallel.pipeline_tokens_per_s(32, 2e-3, 4, 10**6) == pytest.approx(32 / 2e-3, rel=1e-4)


def test_experts_touched_and_weight_read_per_gpu():
    touched = parallel.expected_experts_touched(256, 8, np.array([1, 32, 256, 4096]))
    assert touched[0] == pytest.approx(8)
    assert touched[1] == pytest.approx(256 * (1 - (248 / 256) ** 32))  # 163.3
    assert touched[-1] == pytest.approx(256, rel=1e-6)
    # 10 GB dense + 600 GB of routed experts, all touched, over 8 GPUs: 10 + 75 GB per GPU
    assert parallel.expert_weight_bytes_per_gpu(10e9, 600e9, 256, 256, 8) == pytest.approx(85e9)
    # one token touches 8 of 256 experts: 10 + 600 * 8/256 / 8 = 12.34 GB
    assert parallel.expert_weight_bytes_per_gpu(10e9, 600e9, 256, 8, 8) == pytest.approx(10e9 + 600e9 * 8 / 256 / 8)
    with pytest.raises(ValueError, match="top_k must be at most n_experts"):
        parallel.expected_experts_touched(8, 9, 1)


def test_moe_alltoall():
    # 256 tokens over 8 GPUs, top-8, hidden 7168, fp16: 32 x 8 x 7168 x 2 = 3.67 MB per GPU,
    # 7/8 of it leaves: 7.14 us at 450 GB/s, + 29 us; 2 per layer x 58 MoE layers
    per = 7 / 8 * (256 / 8 * 8 * 7168 * 2) / 450e9 + 29e-6
    assert parallel.moe_alltoall_time_s(256, 7168, 8, 58, 8, H100_LINK, H100_ALPHA) == pytest.approx(58 * 2 * per)
    assert parallel.moe_alltoall_time_s(256, 7168, 8, 58, 1, H100_LINK, H100_ALPHA) == 0.0


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="size_bytes"):
        parallel.ring_allreduce_time_s(-1, 8, H100_LINK)
    with pytest.raises(ValueError, match="n_gpus must be a whole number >= 1"):
        parallel.ring_allreduce_time_s(1e6, 0, H100_LINK)
    with pytest.raises(ValueError, match="link_bandwidth"):
        parallel.ring_allreduce_time_s(1e6, 8, 0)
    with pytest.raises(ValueError, match="pp must be a whole number >= 1"):
        parallel.pipeline_latency_s(1e-3, -1)
    with pytest.raises(ValueError, match="ep must be a whole number >= 1"):
        parallel.moe_alltoall_time_s(1, 7168, 8, 58, 0, H100_LINK)
