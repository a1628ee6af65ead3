"""Packed runs (issue 13): K runs that differ only by seed, trained in lockstep in one process.

* The packed layers and networks compute what K separate networks compute, forward and gradients
  (tolerance: a batched matrix product may sum in another order), by every kernel a packed
  convolution chooses; a pack's state unstacks exactly.
* Per-run gradient clipping: hand-computed values, and the same as clipping each run alone.
* A run inside a pack is the run trained alone: the same episodes and evaluation returns, losses
  and Q estimates equal to float32 rounding (observed: bitwise for DQN and Munchausen at width
  16-32, <= 3e-7 absolute on the logged means for the noisy, categorical and conv networks), for
  every head (QR-DQN, M-IQN with its fractions drawn per run).
* A pack resumes exactly (stop, resume == uninterrupted, bitwise); a run checkpointed in a pack
  resumes alone; a pack whose runs' newest checkpoints differ (a crash between their writes)
  resumes from the newest step all have; a diverged run fails alone and the others finish.
* Only runs that differ by seed alone are packed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from run_helpers import TINY, assert_same_logs, read_logs, stop_at_step

from dqnlab import checkpoint, rundir
from dqnlab.grad_clip import clip_grad_norm_, clip_grad_norm_per_run_
from dqnlab.networks import QNetwork, build_torso
from dqnlab.packed import PackedLearner, stack_networks, unstack_into
from dqnlab.packed_layers import PackedConv2d
from dqnlab.presets import resolve_config
from dqnlab.train import Trainer, train, train_pack


def _network(env: str, spec: str, seed: int, **overrides) -> QNetwork:
    cfg = resolve_config(env, spec, overrides=overrides)
    torch.manual_seed(seed)
    shape = (4, 10, 10) if env.startswith("MinAtar") else (4,)
    return QNetwork(cfg, shape, 6 if env.startswith("MinAtar") else 2)


NETWORKS = [
    ("CartPole-v1", "dqn", {"network.hidden_sizes": (32, 32)}),
    ("CartPole-v1", "rainbow", {"network.hidden_sizes": (32, 32)}),
    ("CartPole-v1", "dqn+dueling", {"network.dueling_layout": "streams", "network.hidden_sizes": (32, 32)}),
    ("MinAtar/Breakout-v1", "rainbow", {}),
    ("MinAtar/Breakout-v1", "dqn", {"network.torso": "minatar"}),  # no padding
]


@pytest.mark.parametrize("env, spec, overrides", NETWORKS)
@pytest.mark.parametrize("rows", [1, 16])  # acting (factorized noise) and a batch (built matrix)
@pytest.mark.parametrize("training", [True, False])
def test_a_packed_network_is_its_runs_networks(env, spec, overrides, rows, training):
    nets = [_network(env, spec, seed, **overrides) for seed in range(3)]
    gen = torch.Generator().manual_seed(0)
    for net in nets:  # distinct noise per run
        net.reset_noise(gen)
    packed = stack_networks(nets)
    obs = torch.rand(3, rows, *nets[0].obs_shape, generator=gen)
    for net in [*nets, packed]:
        net.train(training)
    got = packed(obs)
    for k, net in enumerate(nets):
        want = net(obs[k])
        torch.testing.assert_close(got.q_values[k], want.q_values, rtol=1e-5, atol=1e-6)
        if want.dist is not None:
            torch.testing.assert_close(got.dist[k], want.dist, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("spec", ["dqn+qr+dueling", "dqn+iqn+dueling+noisy"])
@pytest.mark.parametrize("rows", [1, 16])
def test_a_packed_quantile_network_is_its_runs_networks(spec, rows):
    """The quantile heads in a pack: quantiles per run; an implicit head's fractions per run."""
    extra = {"network.hidden_sizes": (16,), "quantile.num_quantiles": 7, "implicit_quantile.embedding_dim": 8}
    nets = [_network("CartPole-v1", spec, seed, **extra) for seed in range(3)]
    gen = torch.Generator().manual_seed(0)
    for net in nets:
        net.reset_noise(gen)
    packed = stack_networks(nets)
    obs = torch.rand(3, rows, 4, generator=gen)
    taus = torch.rand(3, rows, 5, generator=gen) if "iqn" in spec else None
    got = packed(obs, taus)
    for k, net in enumerate(nets):
        want = net(obs[k], None if taus is None else taus[k])
        torch.testing.assert_close(got.q_values[k], want.q_values, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(got.dist[k], want.dist, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("rows, stride, kernel, padding, im2col, input_grad, kernel_used", [
    (2, 1, 3, "same", True, False, "grouped"),  # acting: one grouped convolution
    (9, 1, 3, "same", True, False, "im2col"),  # a batch through the first layer
    (9, 1, 3, "valid", True, False, "im2col"),
    (9, 1, 4, "same", True, False, "im2col"),  # an even kernel: the odd padding pixel right and below
    (9, 1, 3, 1, True, False, "im2col"),
    (9, 1, 3, "valid", True, True, "im2col"),  # correct with input gradients too (autograd's)
    (9, 2, 4, "valid", False, False, "per run"),  # stride 2: K calls
    (9, 1, 3, "same", False, True, "per run"),  # a later layer
])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_a_packed_convolution_is_its_runs_convolutions(monkeypatch, rows, stride, kernel, padding, im2col,
                                                        input_grad, kernel_used):
    gen = torch.Generator().manual_seed(0)
    conv = PackedConv2d(3, 4, 5, kernel, stride=stride, padding=padding, im2col=im2col)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen))
        conv.bias.copy_(torch.randn(conv.bias.shape, generator=gen))
    x = torch.randn(3, rows, 4, 11, 9, generator=gen).requires_grad_(input_grad)  # not square: H and W apart
    calls = []
    with monkeypatch.context() as m:  # which kernel ran
        im2col_kernel = PackedConv2d._im2col
        m.setattr(PackedConv2d, "_im2col", lambda self, x: calls.append("im2col") or im2col_kernel(self, x))
        conv2d = torch.nn.functional.conv2d
        m.setattr(torch.nn.functional, "conv2d",
                  lambda *a, **kw: calls.append("grouped" if kw.get("groups", 1) > 1 else "per run") or conv2d(*a, **kw))
        y = conv(x)
    assert set(calls) == {kernel_used} and len(calls) == (3 if kernel_used == "per run" else 1), calls
    upstream = torch.randn(y.shape, generator=gen)
    (y * upstream).sum().backward()
    for k in range(3):
        w = conv.weight[k].detach().requires_grad_()
        b = conv.bias[k].detach().requires_grad_()
        xk = x[k].detach().requires_grad_(input_grad)
        want = torch.nn.functional.conv2d(xk, w, b, stride=stride, padding=padding)
        (want * upstream[k]).sum().backward()
        torch.testing.assert_close(y[k], want, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(conv.weight.grad[k], w.grad, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(conv.bias.grad[k], b.grad, rtol=1e-5, atol=1e-4)
        if input_grad:
            torch.testing.assert_close(x.grad[k], xk.grad, rtol=1e-5, atol=1e-5)


def test_only_the_first_stride_1_conv_of_a_packed_torso_is_im2col():
    for env, shape, want in [("MinAtar/Breakout-v1", (4, 10, 10), [True]), ("ALE/Pong-v5", (4, 84, 84), [False] * 3)]:
        torso_net, _ = build_torso(resolve_config(env, "dqn").network, shape, pack=2)
        assert [m.im2col for m in torso_net if isinstance(m, PackedConv2d)] == want


def test_unstacking_a_pack_gives_back_each_network_exactly():
    nets = [_network("CartPole-v1", "rainbow", seed) for seed in range(3)]
    packed = stack_networks(nets)
    for k, net in enumerate(nets):
        copy = _network("CartPole-v1", "rainbow", 99)
        unstack_into(packed, copy, k)
        for (name, a), b in zip(net.state_dict().items(), copy.state_dict().values()):
            assert torch.equal(a, b), name


def test_per_run_clipping_hand_computed():
    # Run 0: gradient (3, 4) and (12,): norm 13 -> scaled by 1 / (13 + 1e-6). Run 1: (0.3, 0.4)
    # and (0,): norm 0.5 < 1, unchanged.
    a = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
    b = torch.tensor([[12.0], [0.0]])
    norms = clip_grad_norm_per_run_([a, b], 1.0)
    torch.testing.assert_close(norms, torch.tensor([13.0, 0.5]))
    c = 1.0 / (13.0 + 1e-6)
    torch.testing.assert_close(a, torch.tensor([[3 * c, 4 * c], [0.3, 0.4]]))
    torch.testing.assert_close(b, torch.tensor([[12 * c], [0.0]]))


def test_per_run_clipping_is_each_run_clipped_alone():
    gen = torch.Generator().manual_seed(1)
    grads = [torch.randn(4, 8, 5, generator=gen) * 3, torch.randn(4, 8, generator=gen)]
    alone = []
    for k in range(4):
        params = [torch.nn.Parameter(torch.zeros_like(g[k])) for g in grads]
        for p, g in zip(params, grads):
            p.grad = g[k].clone()
        clip_grad_norm_(params, 2.0)
        alone.append([p.grad for p in params])
    clip_grad_norm_per_run_(grads, 2.0)
    for k in range(4):
        for g, want in zip(grads, alone[k]):
            torch.testing.assert_close(g[k], want, rtol=1e-6, atol=1e-7)


def _prepare(tmp_path, name, spec="dqn", seeds=(0, 1, 2), steps=400, env="CartPole-v1", **extra):
    dirs = []
    for seed in seeds:
        cfg = resolve_config(env, spec, seed=seed, total_steps=steps, overrides={**TINY, **extra})
        rundir.prepare(cfg, tmp_path / name / f"seed_{seed}")
        dirs.append(tmp_path / name / f"seed_{seed}")
    return dirs


def _assert_same_run(a, b) -> None:
    """The same run to float32 rounding: identical episodes, steps, updates and evaluation
    returns; losses and Q estimates within 1e-5 relative."""
    la, lb = read_logs(a), read_logs(b)
    for name in la:
        x, y = la[name], lb[name]
        assert list(x.columns) == list(y.columns) and len(x) == len(y) > 0, name
        for col in x.columns:
            if col in ("loss", "q_mean", "q_estimate_mean"):
                np.testing.assert_allclose(x[col], y[col], rtol=1e-5, atol=1e-6, err_msg=f"{name}:{col}")
            else:
                pd.testing.assert_series_equal(x[col], y[col], check_exact=True, obj=f"{name}:{col}")


@pytest.mark.parametrize("spec, extra", [
    ("dqn", {}),
    ("rainbow", {}),  # noise per run, PER per run, C51, n-step, dueling
    ("dqn+dueling", {"agent.max_grad_norm": 1.0, "env.num_envs": 2, "run.log_period_steps": 50}),
    ("dqn+qr+per", {"quantile.num_quantiles": 11}),
    # M-IQN: fractions per run from its own generator, in the order it draws them alone.
    ("dqn+iqn+munchausen", {"implicit_quantile.num_tau_samples": 8, "implicit_quantile.num_tau_prime_samples": 8,
                            "implicit_quantile.num_quantile_samples": 8}),
    # One set of fractions per batch, broadcast over the batch (RR's draw).
    ("dqn+iqn+munchausen", {"implicit_quantile.num_tau_samples": 4, "implicit_quantile.num_tau_prime_samples": 4,
                            "implicit_quantile.num_quantile_samples": 4, "implicit_quantile.fractions": "per_batch"}),
])
def test_a_run_in_a_pack_is_the_run_alone(tmp_path, spec, extra):
    alone = _prepare(tmp_path, "alone", spec, **extra)
    packed = _prepare(tmp_path, "pack", spec, **extra)
    for d in alone:
        assert train(d, progress=False) == "done"
    assert train_pack(packed, progress=False) == ["done"] * 3
    for a, b in zip(alone, packed):
        _assert_same_run(a, b)


def test_a_minatar_run_in_a_pack_is_the_run_alone(tmp_path):
    extra = {"network.hidden_sizes": (), "agent.batch_size": 8}
    alone = _prepare(tmp_path, "alone", "rainbow", seeds=(0, 1), steps=250, env="MinAtar/Breakout-v1", **extra)
    packed = _prepare(tmp_path, "pack", "rainbow", seeds=(0, 1), steps=250, env="MinAtar/Breakout-v1", **extra)
    for d in alone:
        train(d, progress=False)
    assert train_pack(packed, progress=False) == ["done", "done"]
    for a, b in zip(alone, packed):
        _assert_same_run(a, b)


def test_a_packs_progress_line_covers_every_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    dirs = _prepare(tmp_path, "pack", "dqn", seeds=(0, 3), steps=200)
    assert train_pack(dirs, progress=True) == ["done", "done"]
    last = capsys.readouterr().out.split("\r")[-1]
    evals = [pd.read_csv(d / "eval.csv")["return_mean"].iloc[-1] for d in dirs]
    assert evals[0] != evals[1]  # else the mean could be either run's
    assert "200/200 100.0% | 2 runs | " in last, last
    assert f"eval {np.mean(evals):8.1f}" in last, (last, evals)


def test_a_pack_stopped_and_resumed_equals_uninterrupted(tmp_path):
    full = _prepare(tmp_path, "full", "rainbow", seeds=(3, 4))
    cut = _prepare(tmp_path, "cut", "rainbow", seeds=(3, 4))
    assert train_pack(full, progress=False) == ["done", "done"]
    with stop_at_step(233) as stop:
        assert train_pack(cut, should_stop=stop, progress=False) == ["stopped", "stopped"]
    assert [rundir.read_status(d)["steps_done"] for d in cut] == [233, 233]
    assert train_pack(cut, progress=False) == ["done", "done"]
    for a, b in zip(full, cut):
        assert_same_logs(a, b)


def test_a_run_checkpointed_in_a_pack_resumes_alone(tmp_path):
    alone = _prepare(tmp_path, "alone", "rainbow", seeds=(5,))[0]
    cut = _prepare(tmp_path, "cut", "rainbow", seeds=(5, 6))
    train(alone, progress=False)
    with stop_at_step(233) as stop:
        train_pack(cut, should_stop=stop, progress=False)
    assert train(cut[0], progress=False) == "done"
    _assert_same_run(alone, cut[0])


def test_a_pack_resumes_from_the_newest_step_all_its_runs_have(tmp_path):
    full = _prepare(tmp_path, "full", "dqn", seeds=(0, 1))
    cut = _prepare(tmp_path, "cut", "dqn", seeds=(0, 1))
    train_pack(full, progress=False)
    with stop_at_step(300) as stop:  # checkpoints at 100, 200, 300: the newest two are kept
        train_pack(cut, should_stop=stop, progress=False)
    # A crash between the two runs' writes at step 300: the second never wrote its checkpoint.
    (cut[1] / "checkpoint" / "step_000000000300.pt").unlink()
    trainer = Trainer(cut, progress=False)
    assert trainer.restore() and trainer.counters.step == 200
    assert checkpoint.steps(cut[0] / "checkpoint") == [200]  # the newer one is recomputed
    assert trainer.run() == "done"
    for a, b in zip(full, cut):
        assert_same_logs(a, b)


def test_a_diverged_run_fails_alone_and_the_others_finish(tmp_path, monkeypatch):
    alone = _prepare(tmp_path, "alone", "dqn", seeds=(0, 2))
    packed = _prepare(tmp_path, "pack", "dqn", seeds=(0, 1, 2))
    for d in alone:
        train(d, progress=False)
    update = PackedLearner.update
    calls = {"n": 0}

    def diverge_run_1(self, batches):
        infos = update(self, batches)
        calls["n"] += 1
        if len(infos) == 3 and calls["n"] == 50:
            infos[1] = infos[1]._replace(loss=float("nan"))
        return infos

    monkeypatch.setattr(PackedLearner, "update", diverge_run_1)
    assert train_pack(packed, progress=False) == ["done", "failed", "done"]
    status = rundir.read_status(packed[1])
    assert status["state"] == "failed" and status["error"].startswith("Diverged: loss became nan")
    for a, b in zip(alone, [packed[0], packed[2]]):
        _assert_same_run(a, b)


def test_only_runs_that_differ_by_seed_alone_are_packed(tmp_path):
    dqn = _prepare(tmp_path, "dqn", "dqn", seeds=(0,))
    rainbow = _prepare(tmp_path, "rainbow", "rainbow", seeds=(1,))
    with pytest.raises(ValueError, match="differ only by seed; these also differ in .*network"):
        Trainer([*dqn, *rainbow], progress=False)
    twin = _prepare(tmp_path, "twin", "dqn", seeds=(0,))
    with pytest.raises(ValueError, match="different seeds"):
        Trainer([*dqn, *twin], progress=False)
