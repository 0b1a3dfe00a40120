"""Several GPUs on one model: the communication roofline of tensor, pipeline and expert parallelism.

Pure functions of sizes and rates (SI units: bytes, bytes/s, seconds, FLOP/s). The step model
calls them when `tp`, `pp` or `ep` > 1; the notebooks call them directly.

Conventions (the nccl-tests / JAX scaling book ones):
- `link_bandwidth` is bytes/s per GPU per direction (H100 NVLink 4: 450e9).
- `latency_s` is the fixed cost of one collective (an 8-H100 all-reduce of a few KB: ~29e-6, measured).
- A ring all-reduce of S bytes over N GPUs moves 2 (N - 1) / N * S bytes in and out of every GPU
  (a reduce-scatter, then an all-gather), so it takes 2 (N - 1) / N * S / W + latency.

Functions that accept numpy arrays say so; they broadcast and return arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from roofline_lab import _checks
from roofline_lab.hardware import Accelerator, get_gpu
from roofline_lab.interconnects import Network, get_interconnect, get_network, network_names
from roofline_lab.models import Model, get_model

Array = float | np.ndarray

#: Megatron tensor parallelism: one all-reduce after attention's output projection, one after the MLP.
ALLREDUCES_PER_LAYER = 2
#: An MoE layer under expert parallelism: one all-to-all to dispatch tokens to experts, one to combine.
ALLTOALLS_PER_MOE_LAYER = 2


def _degree(name: str, value: object) -> float:
    """A parallel degree: a whole number >= 1, with the argument named when it is not."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a whole number >= 1 (a GPU count), got {value!r}")
    if not math.isfinite(float(value)) or float(value) < 1 or not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number >= 1 (a GPU count), got {value!r}")
    return float(value)


def ring_allreduce_time_s(size_bytes: Array, n_gpus: int, link_bandwidth: float, latency_s: float = 0.0) -> Array:
    """Seconds for a ring all-reduce of size_bytes over n_gpus: 2 (N-1)/N * S / W + latency.

    One GPU needs no all-reduce (0 s). 16 KiB over 8 H100s at 450 GB/s: 63.7 ns of transfer,
    so the 29 us latency is everything. Arrays OK for size_bytes.
    """
    size = _checks.numbers_array("size_bytes", size_bytes, allow_zero=True)
    n = _degree("n_gpus", n_gpus)
    w = _checks.number("link_bandwidth", link_bandwidth)
    alpha = _checks.number("latency_s", latency_s, allow_zero=True)
    if n == 1:
        return size * 0.0
    return 2 * (n - 1) / n * size / w + alpha


def allgather_time_s(size_bytes: Array, n_gpus: int, link_bandwidth: float, latency_s: float = 0.0) -> Array:
    """Seconds for a ring all-gather that leaves size_bytes (the whole array) on every GPU.

    Each GPU receives the (N-1)/N of the array it lacks: (N-1)/N * S / W + latency. A
    reduce-scatter costs the same; an all-reduce is one of each. Arrays OK for size_bytes.
    """
    size = _checks.numbers_array("size_bytes", size_bytes, allow_zero=True)
    n = _degree("n_gpus", n_gpus)
    w = _checks.number("link_bandwidth", link_bandwidth)
    alpha = _checks.number("latency_s", latency_s, allow_zero=True)
    if n == 1:
        return size * 0.0
    return (n - 1) / n * size / w + alpha


reduce_scatter_time_s = allgather_time_s


def alltoall_time_s(bytes_per_gpu: Array, n_gpus: int, link_bandwidth: float, latency_s: float = 0.0) -> Array:
    """Seconds for an all-to-all where each GPU starts with bytes_per_gpu and keeps 1/N of it.

    The (N-1)/N that belongs elsewhere leaves over the GPU's link: (N-1)/N * bytes / W + latency
    (on a switch, every GPU sends and receives at once). Arrays OK for bytes_per_gpu.
    """
    size = _checks.numbers_array("bytes_per_gpu", bytes_per_gpu, allow_zero=True)
    n = _degree("n_gpus", n_gpus)
    w = _checks.number("link_bandwidth", link_bandwidth)
    alpha = _checks.number("latency_s", latency_s, allow_zero=True)
    if n == 1:
        return size * 0.0
    return (n - 1) / n * size / w + alpha


def p2p_time_s(size_bytes: Array, link_bandwidth: float, latency_s: float = 0.0) -> Array:
    """Seconds to send size_bytes from one GPU to the next (a pipeline hop): S / W + latency. Arrays OK."""
    size = _checks.numbers_array("size_bytes", size_bytes, allow_zero=True)
    w = _checks.number("link_bandwidth", link_bandwidth)
    return size / w + _checks.number("latency_s", latency_s, allow_zero=True)


def tp_comm_time_s(
    tokens: Array,
    hidden_size: int,
    n_layers: int,
    tp: int,
    link_bandwidth: float,
    latency_s: float = 0.0,
    *,
    activation_bytes: float = 2.0,
    allreduces_per_layer: int = ALLREDUCES_PER_LAYER,
) -> Array:
    """Seconds of tensor-parallel communication in one forward step over `tokens` tokens.

    Megatron-style TP (column-parallel QKV and up-projections, row-parallel output and down
    projections) all-reduces the [tokens, hidden] activations twice per layer:
    n_layers * 2 * (2 (tp-1)/tp * tokens * hidden * activation_bytes / W + latency).
    Llama-3-70B, batch 1, fp16, 8 H100s: 160 all-reduces of 16 KiB = 160 * (63.7 ns + 29 us)
    = 4.65 ms. tp=1 gives 0. Arrays OK for tokens.
    """
    tokens = _checks.numbers_array("tokens", tokens, allow_zero=True)
    hidden = _checks.number("hidden_size", hidden_size, integer=True)
    layers = _checks.number("n_layers", n_layers, integer=True)
    per_layer = _checks.number("allreduces_per_layer", allreduces_per_layer, integer=True, allow_zero=True)
    size = tokens * hidden * _checks.number("activation_bytes", activation_bytes)
    return layers * per_layer * ring_allreduce_time_s(size, tp, link_bandwidth, latency_s)


def kv_replication(n_kv_heads: int, tp: int) -> float:
    """How many copies of each KV head exist across tp GPUs: max(1, tp / n_kv_heads).

    TP splits attention by heads, so up to n_kv_heads GPUs each hold a different slice of the
    KV cache; past that, GPUs must share (replicate) heads. Llama-3-70B (8 KV heads): tp 8 -> 1,
    tp 16 -> 2 (every cached byte is stored and read twice). MLA's one latent counts as 1 head.
    """
    heads = _checks.number("n_kv_heads", n_kv_heads, integer=True)
    return max(1.0, _degree("tp", tp) / heads)


def check_tp_heads(n_heads: int, tp: int) -> None:
    """Raise unless tp divides the attention heads (Megatron gives each GPU n_heads / tp of them)."""
    heads = _checks.number("n_heads", n_heads, integer=True)
    n = _degree("tp", tp)
    if heads % n:
        divisors = [d for d in range(1, int(heads) + 1) if heads % d == 0]
        raise ValueError(
            f"tp={int(n)} does not divide the model's {int(heads)} attention heads; "
            f"tensor parallelism gives each GPU n_heads / tp heads, so tp must be one of {divisors}"
        )


def gpus_to_fit(total_bytes: Array, memory_bytes_per_gpu: float, memory_fraction: float = 1.0) -> Array:
    """Fewest GPUs whose memory holds total_bytes: ceil(bytes / (fraction * memory per GPU)).

    Llama-3-70B in fp16 (141.1 GB) on 80 GB H100s: 2. Llama-3.1-405B in fp8 (405.9 GB): 5 or
    6 depending on whether "80 GB" means 80e9 or 80 GiB, so in practice an 8-GPU board.
    Arrays OK for total_bytes.
    """
    total = _checks.numbers_array("total_bytes", total_bytes, allow_zero=True)
    usable = _checks.fraction("memory_fraction", memory_fraction) * _checks.number(
        "memory_bytes_per_gpu", memory_bytes_per_gpu
    )
    count = np.maximum(np.ceil(total / usable), 1)
    return count.astype(np.int64) if isinstance(count, np.ndarray) else int(count)


def max_compute_bound_tp(intermediate_size: int, peak_flops: float, link_bandwidth: float) -> float:
    """TP degree up to which a big-batch (prefill) MLP stays compute-bound: F * W / C.

    Per layer and GPU the MLP does 4 B D F / tp FLOPs (two matmuls) while TP moves about
    4 B D bytes (fp16 activations, an all-gather and a reduce-scatter); the batch B cancels, so
    the math hides the communication while tp < F W / C (the JAX scaling book's rule).
    Llama-3-70B (F 28,672) on H100 (450 GB/s, 989.5 TFLOP/s): 13.0.
    """
    f = _checks.number("intermediate_size", intermediate_size, integer=True)
    return f * _checks.number("link_bandwidth", link_bandwidth) / _checks.number("peak_flops", peak_flops)


def pipeline_latency_s(stage_time_s: Array, pp: int, hop_time_s: float = 0.0) -> Array:
    """Seconds one token spends crossing pp pipeline stages: pp * stage + (pp - 1) * hop.

    A decode token passes through every stage in turn, so pipeline parallelism splits the
    weights (memory) but not the per-token latency: pp stages of 1/pp of the layers take as
    long as one GPU running them all, plus the hops. Arrays OK for stage_time_s.
    """
    stage = _checks.numbers_array("stage_time_s", stage_time_s, allow_zero=True)
    n = _degree("pp", pp)
    return n * stage + (n - 1) * _checks.number("hop_time_s", hop_time_s, allow_zero=True)


def pipeline_bubble_fraction(pp: int, micro_batches: Array) -> Array:
    """Share of stage-time slots left idle when m micro-batches fill a pp-stage pipeline: (pp-1)/(m+pp-1).

    4 stages, 1 micro-batch: 75 % idle; 4 stages, 12 micro-batches: 20 %. With pp or more
    micro-batches always in flight (steady-state decode), the bubble closes. Arrays OK for m.
    """
    n = _degree("pp", pp)
    m = _checks.numbers_array("micro_batches", micro_batches, integer=True)
    return (n - 1) / (m + n - 1)


def pipeline_tokens_per_s(
    tokens_per_micro_batch: Array, stage_time_s: Array, pp: int, micro_batches: Array, hop_time_s: float = 0.0
) -> Array:
    """Tokens/s of a pp-stage pipeline pushing m micro-batches through once (the bubble included).

    m * tokens / ((m + pp - 1) * (stage + hop)). As m grows this tends to tokens / (stage + hop):
    pp times one stage-group's rate, which is how pipelining buys throughput, never latency.
    Arrays OK.
    """
    tokens = _checks.numbers_array("tokens_per_micro_batch", tokens_per_micro_batch)
    stage = _checks.numbers_array("stage_time_s", stage_time_s)
    n = _degree("pp", pp)
    m = _checks.numbers_array("micro_batches", micro_batches, integer=True)
    hop = _checks.number("hop_time_s", hop_time_s, allow_zero=True)
    return m * tokens / ((m + n - 1) * (stage + hop))


def expected_experts_touched(n_experts: int, top_k: int, tokens: Array) -> Array:
    """Expected distinct experts (of one MoE layer) that `tokens` tokens route to, each picking top_k.

    With routing spread evenly, an expert is missed by one token with probability 1 - k/E, so
    E * (1 - (1 - k/E) ** tokens) are touched. DeepSeek-V3 (256 routed experts, top 8): 1 token
    -> 8, 32 tokens -> 163.3, 256 tokens -> 255.9. Arrays OK for tokens.
    """
    e = _checks.number("n_experts", n_experts, integer=True)
    k = _checks.number("top_k", top_k, integer=True)
    if k > e:
        raise ValueError(f"top_k must be at most n_experts ({int(e)}), got {top_k!r}")
    tokens = _checks.numbers_array("tokens", tokens, allow_zero=True)
    return e * (1 - (1 - k / e) ** tokens)


def expert_weight_bytes_per_gpu(
    dense_bytes: float, routed_expert_bytes: float, n_experts: int, experts_touched: Array, ep: int
) -> Array:
    """Weight bytes one GPU reads in a step under ep-way expert parallelism.

    Every GPU reads the dense part (attention, shared experts, embeddings) it holds, here all of
    dense_bytes (replicated; divide it yourself if it is also tensor-split), plus its 1/ep share
    of the routed experts the step touches: dense + routed * touched / E / ep. Arrays OK for
    experts_touched.
    """
    dense = _checks.number("dense_bytes", dense_bytes, allow_zero=True)
    routed = _checks.number("routed_expert_bytes", routed_expert_bytes, allow_zero=True)
    e = _checks.number("n_experts", n_experts, integer=True)
    touched = _checks.numbers_array("experts_touched", experts_touched, allow_zero=True)
    return dense + routed * np.minimum(touched, e) / e / _degree("ep", ep)


def moe_alltoall_time_s(
    tokens: Array,
    hidden_size: int,
    top_k: int,
    n_moe_layers: int,
    ep: int,
    link_bandwidth: float,
    latency_s: float = 0.0,
    *,
    activation_bytes: float = 2.0,
) -> Array:
    """Seconds of expert-parallel dispatch + combine in one step over `tokens` tokens.

    Tokens are spread over the ep GPUs (tokens / ep each); every token goes to top_k experts,
    so each GPU sends tokens / ep * top_k * hidden * activation_bytes in an all-to-all, twice
    per MoE layer (dispatch, combine). ep=1 gives 0. Arrays OK for tokens.
    """
    tokens = _checks.numbers_array("tokens", tokens, allow_zero=True)
    hidden = _checks.number("hidden_size", hidden_size, integer=True)
    k = _checks.number("top_k", top_k, integer=True)
    layers = _checks.number("n_moe_layers", n_moe_layers, integer=True, allow_zero=True)
    n = _degree("ep", ep)
    per_gpu = tokens / n * k * hidden * _checks.number("activation_bytes", activation_bytes)
    return layers * ALLTOALLS_PER_MOE_LAYER * alltoall_time_s(per_gpu, int(n), link_bandwidth, latency_s)


# --- a parallel layout, as the step model uses it ---------------------------------------------------

#: Bytes per activation value sent between GPUs: 16-bit, as serving engines keep them (fp8 GEMMs too).
ACTIVATION_BYTES = 2.0


@dataclass(frozen=True)
class Layout:
    """How one model replica is spread over GPUs, and what its collectives run over.

    tp GPUs split every layer (Megatron), pp stages split the layers, ep = tp spreads the
    routed experts over the TP group instead of splitting each expert. n_gpus = tp * pp.
    link_bandwidth / latency_s: the TP group's fabric (NVLink in the domain, the network past it);
    hop_bandwidth / hop_latency_s: a pipeline hop's.
    """

    tp: int = 1
    pp: int = 1
    ep: int = 1
    fabric: str = ""
    link_bandwidth: float = math.inf
    latency_s: float = 0.0
    hop_bandwidth: float = math.inf
    hop_latency_s: float = 0.0
    kv_replication: float = 1.0

    @property
    def n_gpus(self) -> int:
        return self.tp * self.pp

    def comm_time_s(self, model: Model, tokens: Array, activation_bytes: float = ACTIVATION_BYTES) -> Array:
        """Seconds of communication in one step over `tokens` tokens, nothing overlapped.

        TP: two all-reduces per layer of tokens x hidden x activation_bytes (for MoE layers under
        ep = tp, the MLP's all-reduce becomes a dispatch and a combine all-to-all). PP: pp - 1
        hops of the same activations. 0 on one GPU.
        """
        tokens = _checks.numbers_array("tokens", tokens, allow_zero=True)
        if self.n_gpus == 1:
            return 0.0
        hidden = model.hidden_size or model.n_heads * model.head_dim
        size = tokens * hidden * activation_bytes
        per_allreduce = ring_allreduce_time_s(size, self.tp, self.link_bandwidth, self.latency_s)
        moe_layers = moe_layer_count(model) if self.ep > 1 else 0
        total = (ALLREDUCES_PER_LAYER * model.n_layers - moe_layers) * per_allreduce
        if moe_layers:
            top_k = getattr(model, "experts_per_token", 0) or 1
            total = total + moe_alltoall_time_s(
                tokens,
                hidden,
                top_k,
                moe_layers,
                self.ep,
                self.link_bandwidth,
                self.latency_s,
                activation_bytes=activation_bytes,
            )
        if self.pp > 1:
            total = total + (self.pp - 1) * p2p_time_s(size, self.hop_bandwidth, self.hop_latency_s)
        return total


#: The layout of a model on one GPU: nothing split, nothing sent.
ONE_GPU = Layout()


def moe_layer_count(model: Model) -> int:
    """Layers whose MLP is a routed mixture of experts (0 for a dense model).

    DeepSeek-V3: 61 layers, the first 3 dense -> 58; Llama 4 Maverick: every 2nd of 48 -> 24.
    """
    if not getattr(model, "n_routed_experts", 0):
        return 0
    dense = getattr(model, "n_dense_layers", 0)
    step = getattr(model, "moe_layer_step", 1) or 1
    return (model.n_layers - dense) // step


def layout(
    model: Model | str,
    gpu: Accelerator | str,
    *,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
    network: str | Network | None = None,
    memory_only: bool = False,
) -> Layout:
    """Check a tp x pp (x ep) layout for a model on a chip and find the fabric its traffic uses.

    Raises a named error when tp or pp is not a whole number >= 1, tp does not divide the
    attention heads, ep is neither 1 nor tp (or the model has no experts), the chip has no
    multi-GPU fabric, or tp * pp GPUs spill past the fast domain (8 H100s on an HGX board)
    while `network` (the scale-out fabric, e.g. 'infiniband-ndr') is not named.
    memory_only=True checks the degrees and heads but looks up no fabric (for capacity sums).
    """
    m, g = get_model(model), get_gpu(gpu)
    tp_, pp_, ep_ = (int(_degree(name, value)) for name, value in (("tp", tp), ("pp", pp), ("ep", ep)))
    if tp_ > 1:
        check_tp_heads(m.n_heads, tp_)
    if ep_ > 1:
        if not getattr(m, "n_routed_experts", 0):
            raise ValueError(f"ep={ep_} needs a mixture-of-experts model; {m.name} is dense (use ep=1)")
        if ep_ != tp_:
            raise ValueError(
                f"ep must be 1 or equal to tp (experts spread over the TP group), got ep={ep_} with tp={tp_}"
            )
    net = None if network is None else get_network(network)
    n = tp_ * pp_
    if n == 1:
        return ONE_GPU
    kv_copies = kv_replication(1 if m.kv_latent_dim else m.n_kv_heads, tp_)
    if _checks.flag("memory_only", memory_only):
        return Layout(tp=tp_, pp=pp_, ep=ep_, kv_replication=kv_copies)
    fabric = get_interconnect(g)
    if n > fabric.domain_size and net is None:
        raise ValueError(
            f"tp={tp_} x pp={pp_} = {n} GPUs is past the fast domain of {g.name} "
            f"({fabric.domain_size} GPUs on {fabric.name}); name the scale-out network for the rest, "
            f"e.g. network={fabric.network or network_names()[0]!r} (known: {', '.join(network_names())})"
        )
    if tp_ <= fabric.domain_size:
        link, alpha, over = fabric.bandwidth(tp_), fabric.latency_s(tp_), fabric.name
    else:  # the TP group's collectives cross the network: its NIC is the narrow link
        link, alpha, over = net.bandwidth(tp_), net.latency_s(tp_), net.name  # type: ignore[union-attr]
    if n > fabric.domain_size:  # stages sit in different domains
        hop_w, hop_alpha = net.link_bandwidth, net.allreduce_latency_s  # type: ignore[union-attr]
    else:
        hop_w, hop_alpha = fabric.bandwidth(2), fabric.latency_s(2)
    return Layout(
        tp=tp_,
        pp=pp_,
        ep=ep_,
        fabric=over,
        link_bandwidth=link,
        latency_s=alpha,
        hop_bandwidth=hop_w,
        hop_latency_s=hop_alpha,
        kv_replication=kv_copies,
    )


#: The GPU counts a "GPUs" control offers before the chip's own domain size.
TP_STEPS = (1, 2, 4, 8)


def tp_choices(model: Model | str, gpu: Accelerator | str) -> list[int]:
    """TP degrees worth offering for a model on a chip: 1, 2, 4, 8 and the fast domain's size,
    kept where they fit the domain and divide the attention heads.

    Llama-3-70B on H100: [1, 2, 4, 8]; on GB200 (NVL72): [1, 2, 4, 8] (72 does not divide 64
    heads); on TPU v5e: [1, 2, 4, 8] (256 does not divide 64 either); a chip without a fabric: [1].
    """
    m, g = get_model(model), get_gpu(gpu)
    try:
        domain = get_interconnect(g).domain_size
    except ValueError:
        return [1]
    steps = sorted({*TP_STEPS, domain})
    return [n for n in steps if n <= domain and m.n_heads % n == 0]
