"""Arms: which runs are seeds of one configuration. A run's variant label names its components,
not its hyperparameters: two sweeps of `dqn` with batch 16 and 32 share the label and are two
arms. An arm is defined by the run's full config less what does not change what is learned or
measured (`NOT_ARM`: the seed, the `meta` block, the harness's logging and checkpoint periods).

Runs that share a label but differ in more become separate arms, each named by the label and its
values of the keys that differ (`dqn [agent.batch_size=16]`), with one warning per label. Where
they differ in what `load.check_comparable` judges (protocol, preset, budget), the label is left
alone: that check refuses to mix them, saying why.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

NOT_ARM: tuple[str, ...] = ("seed", "meta", "run")
"""Top-level config keys that never make two runs different arms."""
JUDGED_ELSEWHERE: tuple[str, ...] = ("protocol", "preset", "total_steps")
"""Keys whose mixing `check_comparable` refuses (or allows between arms) with its own message."""


def flat(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{dotted.key: value} of a config dict, leaving out NOT_ARM at the top."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if not prefix and key in NOT_ARM:
            continue
        if isinstance(value, Mapping):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(_shown, value))
    return value if isinstance(value, str) else json.dumps(value)


def label_arms(runs: Mapping[str, tuple[str, str, Mapping[str, Any]]]) -> tuple[dict[str, str], list[str]]:
    """`runs`: run_dir -> (variant label, env, config dict). Returns run_dir -> arm name and the
    warnings to print (one per label that was split)."""
    by_label: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for run_dir, (label, _, config) in runs.items():
        by_label[label][run_dir] = flat(config)
    names = {run_dir: label for run_dir, (label, _, _) in runs.items()}
    warnings = []
    for label, configs in by_label.items():
        differ: set[str] = set()
        by_env: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for run_dir, config in configs.items():
            by_env[runs[run_dir][1]].append(config)
        for env_configs in by_env.values():  # keys that differ between runs of one env
            keys = set().union(*env_configs)
            differ |= {k for k in keys if len({json.dumps(c.get(k)) for c in env_configs}) > 1}
        if not differ or differ & set(JUDGED_ELSEWHERE):
            continue
        keys = sorted(differ)
        for run_dir, config in configs.items():
            names[run_dir] = f"{label} [{', '.join(f'{k}={_shown(config.get(k))}' for k in keys)}]"
        arms = defaultdict(int)
        for run_dir in configs:
            arms[names[run_dir]] += 1
        listed = ", ".join(f"{arm} ({n} runs)" for arm, n in sorted(arms.items()))
        warnings.append(f"runs labelled {label} differ in {', '.join(keys)}, not only in their seed: "
                        f"analyzed as {len(arms)} arms, {listed}")
    return names, warnings
