"""Measure the uniform-random-policy score of the small-scale envs (how `data/` was made).

The `random` column of `data/small_scale_reference.csv` for classic control and MinAtar was
produced by this script: a policy that draws every action uniformly from the env's action
space (MinAtar `-v1` ids use the minimal action set, `-v0` all 6, as training does), run for
`--episodes` full episodes per env under the episode cap of the env's default protocol
(`dqnlab.protocols`: MountainCar-v0 600 steps under Revisiting Rainbow, not gymnasium's 200),
each episode seeded `seed + episode` (minatar 1.0.15's
reset ignores the seed: its numbers come from minatar's own RNG and vary within their standard
error from one measurement to the next). Prints the mean undiscounted return and its standard
error as CSV.

    python -m dqnlab.analysis.measure_random --episodes 1000 --seed 0

LunarLander needs Box2D (`pip install box2d`), which is not a dqnlab dependency; the analysis
package itself never imports gymnasium: this script is the only place that runs an env.
"""

from __future__ import annotations

import argparse

import numpy as np

ENV_IDS = (
    "CartPole-v0",
    "CartPole-v1",
    "Acrobot-v1",
    "MountainCar-v0",
    "LunarLander-v3",
    "MinAtar/Asterix-v1",
    "MinAtar/Breakout-v1",
    "MinAtar/Freeway-v1",
    "MinAtar/Seaquest-v1",
    "MinAtar/SpaceInvaders-v1",
    "MinAtar/Asterix-v0",
    "MinAtar/Breakout-v0",
    "MinAtar/Freeway-v0",
    "MinAtar/Seaquest-v0",
    "MinAtar/SpaceInvaders-v0",
)


def random_policy_returns(env_id: str, episodes: int, seed: int) -> np.ndarray:
    """Undiscounted returns of `episodes` uniform-random episodes. Shape [episodes]."""
    import gymnasium as gym

    from dqnlab.presets import resolve_config  # torch-free: the default protocol's settings

    if env_id.startswith("MinAtar/") and env_id not in gym.registry:
        import minatar.gym

        minatar.gym.register_envs()
    env = gym.make(env_id, max_episode_steps=resolve_config(env_id).env.max_episode_steps)
    env.action_space.seed(seed)
    returns = np.zeros(episodes)
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        done = False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            returns[episode] += float(reward)
            done = terminated or truncated
    env.close()
    return returns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("env_ids", nargs="*", default=list(ENV_IDS))
    args = parser.parse_args(argv)
    print("env,random_mean,random_sem,episodes")
    for env_id in args.env_ids:
        returns = random_policy_returns(env_id, args.episodes, args.seed)
        sem = returns.std(ddof=1) / np.sqrt(len(returns))
        print(f"{env_id},{returns.mean():.4f},{sem:.4f},{len(returns)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
