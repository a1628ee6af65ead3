"""The live ETA of `dqnlab sweep` follows the planner (issue 23, item 9).

Before: the ETA was steps left over steps per second. The main job trains its rainbow runs first,
at a fifth of dqn's speed, so at its start it showed "ETA 4:40:25" where `--dry-run` said 1.2 h
and it took about 1 h. Now every run weighs the planner's cost of its config.
"""

from __future__ import annotations

import io

import pytest

from dqnlab.sweep import Sweep, grid, throughput
from dqnlab.sweep.monitor import SweepMonitor, planned_costs
from dqnlab.sweep.status import RunState

STEPS = 30_000
RAINBOW_S, DQN_S = 5_000.0, 1_000.0  # planned seconds of one run: rainbow costs five dqn runs


def states(rainbow_steps: int) -> list[RunState]:
    """Two rainbow runs training (the first packs), eight dqn runs waiting."""
    runs = [RunState(f"rainbow/{i}", "CartPole-v0", "rainbow", i, "running", rainbow_steps, STEPS, None)
            for i in range(2)]
    return runs + [RunState(f"dqn/{i}", "CartPole-v0", "dqn", i, "pending", 0, STEPS, None) for i in range(8)]


@pytest.fixture
def monitor() -> SweepMonitor:
    costs = {**{f"rainbow/{i}": RAINBOW_S for i in range(2)}, **{f"dqn/{i}": DQN_S for i in range(8)}}
    return SweepMonitor("unused", [[rel] for rel in costs], workers=2, costs=costs, stream=io.StringIO())


def test_the_eta_at_the_start_is_the_planners(monitor):
    planned = (2 * RAINBOW_S + 8 * DQN_S) / 2  # 9,000 s: what --dry-run says for 2 workers
    assert monitor.eta_seconds(states(0), now=0.0) == pytest.approx(planned)


def test_slow_runs_first_do_not_inflate_the_eta(monitor):
    """A minute in, each rainbow run at its planned speed (6 steps/s): 12 steps/s in all. Steps
    left over steps/s says 6.9 h; the planned work left over the planned work done per second
    says 2.5 h, as the planner does."""
    speed = STEPS / RAINBOW_S
    for t in range(0, 61, 5):
        eta = monitor.eta_seconds(states(int(speed * t)), now=float(t))
    steps_left = 2 * (STEPS - speed * 60) + 8 * STEPS
    assert steps_left / (2 * speed) > 24_000  # what the line showed before
    assert eta == pytest.approx(9_000 - 60, rel=0.02)
    assert "12 steps/s | ETA 2:2" in monitor.line(states(int(speed * 65)), now=65.0)  # 2:28:..


def test_planned_costs_weigh_each_config_as_dry_run_does(tmp_path):
    """From sweep.json's configs: a rainbow run of the main job costs several dqn runs."""
    sweep = Sweep(name="x", envs=("CartPole-v0",), variants=("rainbow", "dqn"), seeds=2, steps=30_000)
    runs = grid.expand(sweep)
    grid.prepare(sweep, runs, tmp_path / "s")
    costs = planned_costs(tmp_path / "s", [[r.rel_dir] for r in runs])
    rainbow, dqn = costs["CartPole-v0/rainbow/seed_0"], costs["CartPole-v0/dqn/seed_0"]
    row, _ = throughput.lookup(runs[0].config)
    assert rainbow / dqn == pytest.approx(row.dqn_sps / row.rainbow_sps) and rainbow > dqn
    assert costs["CartPole-v0/dqn/seed_1"] == dqn
