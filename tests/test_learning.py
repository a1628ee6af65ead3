"""Learning tests (slow; CI runs them) under the shipped protocols.

* CartPole-v1 (50k steps): rainbow under the default protocol (revisiting_rainbow) and dqn under
  the protocol the main job gives its dqn arm (revisiting_rainbow_dqn: RR's tuned DQN, lr 1e-3,
  update period 4) reach an evaluation mean return >= 475. Under the Rainbow table (lr 1e-4,
  update period 2) dqn levels off near 200 on CartPole-v1 (seed 0: best evaluation 276.9 in 50k
  steps; docs/fidelity.md), which is why the ablation runs it under its own config.
* Acrobot-v1 (revisiting_rainbow, 30k steps): rainbow and every rainbow-no-X reach an evaluation
  mean >= -200 (random: -499).

* CartPole-v1 again with the three seeds of each arm trained as one pack (issue 13), at the widest
  MLP a sweep packs (2x256).
* CartPole-v0 (RR's env and 30k budget for them): QR-DQN and IQN under Revisiting Rainbow's own
  configs (revisiting_rainbow_qrdqn, revisiting_rainbow_iqn) learn: an evaluation >= 100.

Each arm must pass in at least 2 of 3 seeds. A run stops at its first evaluation at or above the
threshold, so passing arms cost less than the budget, and seed 2 trains only when seeds 0 and 1
split (when they agree, it cannot change the verdict; tests/seed_verdict.py).
"""

import multiprocessing as mp

import pytest
from seed_verdict import majority_verdict

from dqnlab import rundir
from dqnlab.components import RAINBOW
from dqnlab.presets import resolve_config
from dqnlab.sweep.packing import MAX_PACKED_WIDTH


def _best_eval(args: tuple[str, str, str | None, int, float, str]) -> float:
    """Train until an evaluation reaches the threshold or the budget ends; the best eval return."""
    import pandas as pd
    import torch

    from dqnlab.train import Trainer

    env, spec, protocol, seed, threshold, run_dir = args
    torch.set_num_threads(1)
    rundir.prepare(resolve_config(env, spec, seed=seed, protocol=protocol), run_dir)
    trainer = Trainer(run_dir, progress=False)
    trainer.run(should_stop=lambda: (trainer.line.eval_return or -float("inf")) >= threshold)
    return float(pd.read_csv(f"{run_dir}/eval.csv")["return_mean"].max())


def _passing_seeds(tmp_path, env: str, spec: str, threshold: float, protocol: str | None = None) -> list[float]:
    """The best eval return of seeds 0-2, nan for a seed whose run the verdict did not need."""
    jobs = [(env, spec, protocol, seed, threshold, str(tmp_path / f"seed_{seed}")) for seed in range(3)]
    return majority_verdict(_best_eval, jobs, lambda best: best >= threshold)


@pytest.mark.slow
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("spec, protocol", [("rainbow", None), ("dqn", "revisiting_rainbow_dqn")])
def test_cartpole_v1_is_solved(tmp_path, spec, protocol):
    assert resolve_config("CartPole-v1", spec, protocol=protocol).total_steps == 50_000
    best = _passing_seeds(tmp_path, "CartPole-v1", spec, 475.0, protocol)
    assert sum(b >= 475.0 for b in best) >= 2, f"{spec}: best eval returns per seed {best}"


# RR's figure at its iteration 29 (CartPole-v0, RR's metric, mean over seeds; read off the blog's
# figure: analysis/data/revisiting_rainbow_figures.csv): QR-DQN 126.3, IQN 177.5. A random policy
# scores about 22. RR's configs do not solve CartPole: the pass mark is "learns", well above random
# and below what RR published for either agent.
BEYOND_PASS_MARK = 100.0


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("spec, protocol", [("dqn+qr", "revisiting_rainbow_qrdqn"), ("dqn+iqn", "revisiting_rainbow_iqn")])
def test_beyond_rainbow_learns_cartpole_v0_under_rr_configs(tmp_path, spec, protocol):
    """QR-DQN and IQN under RR's quantile_cartpole.gin and implicit_cartpole.gin, on the env and
    budget RR ran them on (CartPole-v0, 30k steps), reach an evaluation of 100 in 2 of 3 seeds.

    Not "solve CartPole-v1": measured under these configs (CI, 2026-12-04, 50k steps on v1), the
    best evaluations per seed were QR [481.5, 190.4, 137.4] and IQN [485.2, 140.0, 146.8]; on v0
    in 30k steps (2026-12-05) QR [197.1, 145.0, 132.9] and IQN [200.0, 138.1, 144.7]: one seed in
    three solves, the others level off near 140 (RR: QR-DQN 126, IQN 177.5). Those IQN runs drew
    their fractions per transition; the protocol draws one set per batch since 2026-12-06 (passed).
    """
    assert resolve_config("CartPole-v0", spec, protocol=protocol).total_steps == 30_000
    best = _passing_seeds(tmp_path, "CartPole-v0", spec, BEYOND_PASS_MARK, protocol)
    assert sum(b >= BEYOND_PASS_MARK for b in best) >= 2, f"{spec}: best eval returns per seed {best}"


def _pack_best_evals(args: tuple[str, str, str | None, dict, float, str]) -> list[float]:
    """Train seeds 0-2 as one pack (issue 13) until two of them have had an evaluation at or
    above the threshold (the test's pass mark: a pack stops as a whole), or the budget ends; each
    run's best eval return."""
    import pandas as pd
    import torch

    from dqnlab.train import Trainer

    env, spec, protocol, overrides, threshold, root = args
    torch.set_num_threads(1)
    dirs = [f"{root}/seed_{seed}" for seed in range(3)]
    for seed, run_dir in enumerate(dirs):
        rundir.prepare(resolve_config(env, spec, seed=seed, protocol=protocol, overrides=overrides), run_dir)
    trainer = Trainer(dirs, progress=False)
    reached: set[int] = set()

    def decided() -> bool:
        reached.update(k for k, r in enumerate(trainer.runs) if (r.line.eval_return or -float("inf")) >= threshold)
        return len(reached) >= 2

    trainer.run(should_stop=decided)
    return [float(pd.read_csv(f"{d}/eval.csv")["return_mean"].max()) for d in dirs]


@pytest.mark.slow
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("spec, protocol", [("rainbow", None), ("dqn", "revisiting_rainbow_dqn")])
def test_cartpole_v1_is_solved_by_packed_runs(tmp_path, spec, protocol):
    """The same test with the three seeds trained as one pack: a run in a pack is the same
    algorithm (tests/test_packed.py checks the first updates; this, that it still learns). At the
    widest MLP a sweep packs (`MAX_PACKED_WIDTH`; wider runs train alone, where packing was
    measured not to pay), not the protocol's 2x512."""
    overrides = {"network.hidden_sizes": (MAX_PACKED_WIDTH, MAX_PACKED_WIDTH)}
    with mp.get_context("spawn").Pool(1) as pool:
        best = pool.apply(_pack_best_evals, (("CartPole-v1", spec, protocol, overrides, 475.0, str(tmp_path)),))
    assert sum(b >= 475.0 for b in best) >= 2, f"{spec} packed: best eval returns per seed {best}"


@pytest.mark.slow
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("spec", ["rainbow", *(f"rainbow-no-{x}" for x in RAINBOW)])
def test_rainbow_and_every_leave_one_out_arm_learn_acrobot(tmp_path, spec):
    cfg = resolve_config("Acrobot-v1", spec)
    assert cfg.protocol == "revisiting_rainbow" and cfg.total_steps == 30_000
    assert cfg.network.hidden_sizes == (512, 512)
    best = _passing_seeds(tmp_path, "Acrobot-v1", spec, -200.0)
    assert sum(b >= -200.0 for b in best) >= 2, f"{spec}: best eval returns per seed {best}"
