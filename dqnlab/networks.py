"""Q-networks: an optional input normalization, a torso (MLP, MinAtar conv, Nature CNN), action
streams (plain or dueling, linear or noisy) and a head (`dqnlab/heads/`: scalar, categorical,
quantile, implicit quantile). One `QNetwork` class composes them from the config (the parts are
data in `architecture.py` and the head modules); the variants differ only in which parts are
plugged in.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from dqnlab import heads, jax_random
from dqnlab.architecture import TORSOS, input_affine
from dqnlab.config import Config, NetworkConfig
from dqnlab.heads import QOutput
from dqnlab.noisy_weights import BuildsNoisyWeight, weights_built_once
from dqnlab.packed_layers import PackedConv2d, PackedLinear, PackedNoisyLinear


class NoisyLinear(BuildsNoisyWeight, nn.Module):
    """Factorized Gaussian noisy linear layer (Fortunato et al. 2018, sec. 3.2).

    W = W_mu + W_sigma * (eps_out eps_in^T), b = b_mu + b_sigma * eps_out, with eps = f(N(0, 1)),
    f(x) = sign(x) sqrt|x|. For a single input row (acting) the factorized form
    x W_mu^T + ((x * eps_in) W_sigma^T) * eps_out avoids building the [out, in] noisy matrix; for a
    training batch of B rows building it costs 2 out*in flops against 2 B out*in for the second
    matmul (and again in the backward pass), so there we build it. Both are the same function
    (tests/test_networks.py). In eval mode the layer uses the mean weights: evaluation is deterministic.
    """

    FACTORIZED_MAX_ROWS = 4

    def __init__(self, in_features: int, out_features: int, sigma0: float = 0.1,
                 *, noisy_in_eval: bool = False) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        # Constant noise (network.noise_draw per_run / fixed) is part of the function the run
        # learned and acts with, so evaluation keeps it too.
        self.noisy_in_eval = noisy_in_eval
        bound = 1.0 / math.sqrt(in_features)
        self.weight_mu = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.bias_mu = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
        sigma = sigma0 / math.sqrt(in_features)
        self.weight_sigma = nn.Parameter(torch.full((out_features, in_features), sigma))
        self.bias_sigma = nn.Parameter(torch.full((out_features,), sigma))
        self.register_buffer("eps_in", torch.zeros(in_features))
        self.register_buffer("eps_out", torch.zeros(out_features))

    def reset_noise(self, generator: torch.Generator) -> None:
        reset_noise([self], generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training or self.noisy_in_eval):
            return F.linear(x, self.weight_mu, self.bias_mu)
        bias = torch.addcmul(self.bias_mu, self.bias_sigma, self.eps_out)
        if x.reshape(-1, self.in_features).shape[0] <= self.FACTORIZED_MAX_ROWS:
            noise = F.linear(x * self.eps_in, self.weight_sigma) * self.eps_out
            return F.linear(x, self.weight_mu, bias) + noise
        weight = self.noisy_weight(
            lambda: torch.addcmul(self.weight_mu, self.weight_sigma, torch.outer(self.eps_out, self.eps_in)))
        return F.linear(x, weight, bias)


NOISY_LAYERS = (NoisyLinear, PackedNoisyLinear)


def noise_sizes(layers: list[NoisyLinear]) -> list[int]:
    """The lengths of the noise vectors of `layers` in draw order: eps_in then eps_out, per layer."""
    return [n for layer in layers for n in (layer.in_features, layer.out_features)]


def signed_sqrt(x: torch.Tensor) -> torch.Tensor:
    """f(x) = sign(x) sqrt|x|, which shapes factorized noise (Fortunato et al. eq. 11)."""
    return x.sign() * x.abs().sqrt()


@torch.no_grad()
def reset_noise(layers: list[NoisyLinear], generator: torch.Generator) -> None:
    """New factorized noise for `layers`: one N(0, 1) draw for all of them, f applied once, then
    sliced into each layer's eps_in and eps_out (in layer order). A network's worth of noise per
    update costs a handful of ops instead of ~14 per layer. A pack of runs (`packed.py`) draws
    each run's noise from that run's generator in the same order."""
    if not layers:
        return
    sizes = noise_sizes(layers)
    x = signed_sqrt(torch.randn(sum(sizes), generator=generator, device=layers[0].eps_in.device))
    parts = iter(x.split(sizes))
    for layer in layers:
        layer.eps_in.copy_(next(parts))
        layer.eps_out.copy_(next(parts))


@torch.no_grad()
def set_constant_noise(layers: list[NoisyLinear], seed: int) -> None:
    """The one noise draw of network.noise_draw per_run / fixed, as Revisiting Rainbow's noisy
    layers drew it (networks_new.py L30-31 @ 2d49d68): eps_in = f(normal(PRNGKey(seed), [in, 1])),
    eps_out = f(normal(PRNGKey(seed), [1, out])), JAX's values (`jax_random`). A vector of length n
    is the same wherever it is used: in every layer (a square layer's eps_in equals its eps_out),
    both networks and every run of a pack. Computed on the CPU, so every device gets it."""
    drawn: dict[int, torch.Tensor] = {}
    for layer in layers:
        for eps in (layer.eps_in, layer.eps_out):
            n = eps.shape[-1]
            if n not in drawn:
                drawn[n] = signed_sqrt(torch.from_numpy(jax_random.normal(seed, n)))
            eps.copy_(drawn[n].to(eps.device))  # broadcast over a pack's leading axis


def _linear(cfg: NetworkConfig, pack: int | None):
    noisy, constant = cfg.noisy, cfg.noise_draw != "per_step"
    if pack is not None:
        if noisy:
            return lambda i, o: PackedNoisyLinear(pack, i, o, noisy_in_eval=constant)
        return lambda i, o: PackedLinear(pack, i, o)
    if noisy:
        return lambda i, o: NoisyLinear(i, o, cfg.noisy_sigma0, noisy_in_eval=constant)
    return nn.Linear


def build_torso(cfg: NetworkConfig, obs_shape: tuple[int, ...], pack: int | None = None) -> tuple[nn.Module, int]:
    """The feature extractor named by cfg.torso (`architecture.TORSOS`) and its output size; with
    `pack`, K of them as packed layers (inputs [K, B, *obs_shape])."""
    layers: list[nn.Module] = []
    channels = obs_shape[0]
    for conv in TORSOS[cfg.torso].convs:
        if pack is None:
            layer = nn.Conv2d(channels, conv.out_channels, conv.kernel, stride=conv.stride, padding=conv.padding)
        else:
            # im2col for the first conv at stride 1 only: where it was measured faster (PackedConv2d).
            layer = PackedConv2d(pack, channels, conv.out_channels, conv.kernel, stride=conv.stride,
                                 padding=conv.padding, im2col=not layers and conv.stride == 1)
        layers += [layer, nn.ReLU()]
        channels = conv.out_channels
    # Flatten the observation's own dims only, whatever leads them ([B] or a pack's [K, B]).
    torso = nn.Sequential(*layers, nn.Flatten(start_dim=-len(obs_shape)))
    with torch.no_grad():
        lead = (1,) if pack is None else (pack, 1)
        size = torso(torch.zeros(*lead, *obs_shape)).shape[-1]
    return torso, size


def _mlp(sizes: list[int], linear) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        layers += [linear(i, o), nn.ReLU()]
    return nn.Sequential(*layers)


@torch.no_grad()
def init_plain_layers(module: nn.Module, scheme: str) -> None:
    """Re-initialize the plain Linear and Conv2d layers of `module` (`architecture.INITS`);
    NoisyLinear layers keep their own initialization. `uniform_fan_in` is PyTorch's default
    (kaiming_uniform with a = sqrt(5) gives U(+-1/sqrt(fan_in))), so it leaves them as built."""
    if scheme == "uniform_fan_in":
        return
    if scheme not in ("glorot_uniform", "variance_scaling_fan_in"):
        raise ValueError(f"unknown network.init {scheme!r}")
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            # fan_in/out include the receptive field, as flax's
            if scheme == "glorot_uniform":
                nn.init.xavier_uniform_(m.weight)
            else:  # variance_scaling(scale, fan_in, uniform): U(+-sqrt(3 scale / fan_in)), scale 1/sqrt(3)
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                bound = math.sqrt(3.0 / math.sqrt(3.0) / fan_in)
                nn.init.uniform_(m.weight, -bound, bound)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class QNetwork(nn.Module):
    """Input normalization (when network.input_low/high are set), torso, hidden layers, head.

    The head (`dqnlab/heads/`, `network.head`) sets how many values the last layer has per action
    (one, categorical.num_atoms logits, quantile.num_quantiles quantiles, or one per quantile
    fraction), how they become Q-values, and, for an implicit quantile head, an embedding of the
    fractions `taus` [.., B, n] multiplied into the features before the action streams.

    Dueling (`architecture.DUELING_LAYOUTS`): `streams` duplicates the last hidden layer into a
    value and an advantage stream (Wang et al.; for the Nature CNN their two 512-unit streams);
    `heads` shares every hidden layer and adds a linear value head beside the advantage head
    (Revisiting Rainbow), so a dueling arm and its no-dueling twin share the whole torso. Without
    dueling both layouts are the same network. Advantages are centred over actions, per atom,
    quantile or fraction.

    With `pack=K` it is K such networks in one (`packed_layers.py`), for inputs [K, B, *obs_shape];
    only the layers differ, the composition below is the same code."""

    def __init__(self, cfg: Config, obs_shape: tuple[int, ...], num_actions: int,
                 pack: int | None = None) -> None:
        super().__init__()
        net = cfg.network
        self.cfg, self.obs_shape, self.pack = cfg, tuple(obs_shape), pack
        head = heads.of(cfg)
        self.num_actions, self.width, self.dueling = num_actions, head.width(cfg), net.dueling
        self.scale_obs = TORSOS[net.torso].obs_scale
        self.normalize = bool(net.input_low)
        if self.normalize:
            scale, shift = input_affine(net.input_low, net.input_high)
            if len(scale) != obs_shape[-1]:
                raise ValueError(f"network.input_low/high give {len(scale)} bounds for observations "
                                 f"of shape {obs_shape}")
            # Not in the state dict: they are config, and checkpoints stay loadable across them.
            self.register_buffer("input_scale", torch.tensor(scale), persistent=False)
            self.register_buffer("input_shift", torch.tensor(shift), persistent=False)
        self.torso, features = build_torso(net, obs_shape, pack)
        linear = _linear(net, pack)
        hidden = list(net.hidden_sizes)
        split = net.dueling_layout == "streams" and hidden
        shared, stream = ([features, *hidden[:-1]], hidden[-1:]) if split else ([features, *hidden], [])
        self.shared = _mlp(shared, linear)
        self.embedding = head.embedding(cfg, shared[-1], pack) if head.embedding is not None else None
        widths = [shared[-1], *stream]
        self.advantage = nn.Sequential(_mlp(widths, linear), linear(widths[-1], num_actions * self.width))
        if net.dueling:
            self.value = nn.Sequential(_mlp(widths, linear), linear(widths[-1], self.width))
        if pack is None:  # a pack is loaded from its runs' networks (packed.py)
            init_plain_layers(self, net.init)
        self._output = head.output
        for name, tensor in head.buffers(cfg).items():  # a pack shares them (packed.stack_networks)
            self.register_buffer(name, tensor)
        self.noisy_layers = [m for m in self.modules() if isinstance(m, NOISY_LAYERS)]
        self.noise_each_step = net.noise_draw == "per_step"

    def reset_noise(self, generator: torch.Generator) -> None:
        """New noise for the noisy layers; a no-op (no draw) for a network without them, and for
        one whose noise is drawn once (`fix_noise`)."""
        if self.noise_each_step:
            reset_noise(self.noisy_layers, generator)

    def fix_noise(self, seed: int) -> None:
        """network.noise_draw per_run / fixed: the noise drawn once (`set_constant_noise`); a
        no-op for per_step noise, which `reset_noise` draws."""
        if not self.noise_each_step:
            set_constant_noise(self.noisy_layers, seed)

    def noisy_weights_built_once(self) -> contextlib.AbstractContextManager[None]:
        """Within the block each noisy layer builds its training weight once
        (`noisy_weights.weights_built_once`): an update's loss, where the online network sees the
        observations and the next observations with the same parameters and noise."""
        return weights_built_once(self.noisy_layers)

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """[B, *obs_shape] -> [B, F]: the input scaled and normalized, through the torso and the
        shared hidden layers (what the value and advantage heads both read)."""
        x = obs.float()
        if self.scale_obs != 1.0:
            x = x * self.scale_obs
        if self.normalize:
            x = torch.addcmul(self.input_shift, x, self.input_scale)
        return self.shared(self.torso(x))

    def forward(self, obs: torch.Tensor, taus: torch.Tensor | None = None) -> QOutput:
        """Q-values (and the distribution) for observations [.., B, *obs_shape]; an implicit
        quantile head needs the fractions `taus` [.., B, n] (one set per observation)."""
        h = self.features(obs)
        if self.embedding is not None:
            h = self.embedding(h, taus)  # [.., B, n, F]: one row per fraction
        lead = h.shape[:-1]  # [B], a pack's [K, B], or with fractions [.., B, n]
        adv = self.advantage(h).view(*lead, self.num_actions, self.width)
        if self.dueling:
            value = self.value(h).view(*lead, 1, self.width)
            out = value + adv - adv.mean(dim=-2, keepdim=True)
        else:
            out = adv
        return self._output(out, taus, self)
