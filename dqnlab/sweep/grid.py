"""Grid expansion and the sweep manifest (`sweep.json`, docs/run_directory.md).

A run is (env, variant, seed) with its fully resolved `Config`; its directory inside the sweep is
`<env-id with / replaced by ->/<variant>/seed_<n>`. Expansion resolves every config before anything
is written, so bad input (an unknown env, variant or key) fails with one line and creates nothing.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dqnlab import protocols, rundir
from dqnlab.config import Config, to_dict
from dqnlab.contract import MANIFEST, run_rel_dir
from dqnlab.errors import ConfigError
from dqnlab.presets import family_of, resolve_config
from dqnlab.sweep.definition import Sweep


@dataclass(frozen=True)
class Run:
    env: str
    variant: str
    seed: int
    config: Config
    rel_dir: str
    """Run directory relative to the sweep directory."""

    def dir(self, sweep_dir: Path) -> Path:
        return Path(sweep_dir) / self.rel_dir


def expand(sweep: Sweep) -> list[Run]:
    """Every run of the grid, env-major then variant then seed; duplicates (two specs naming the
    same variant) collapse because variants are canonical names."""
    runs: dict[str, Run] = {}
    for env_id in sweep.envs:
        for variant in sweep.variant_list():
            protocol = protocol_for(sweep, env_id, variant)
            for seed in sweep.seed_list():
                cfg = resolve_config(
                    env_id, variant, seed=seed, total_steps=sweep.steps, preset=sweep.preset,
                    protocol=protocol, overrides=sweep.overrides,
                )
                rel = run_rel_dir(env_id, cfg.variant, seed)
                runs.setdefault(rel, Run(env_id, cfg.variant, seed, cfg, rel))
    return list(runs.values())


def protocol_for(sweep: Sweep, env_id: str, variant: str) -> str | None:
    """The protocol of one arm on one env: the arm's own (`arm_protocols`), else the sweep's,
    the first that applies to the env's family; None (the family's default) if neither does, so
    a definition mixing families can name protocols of each."""
    family = family_of(env_id)
    for name in (sweep.arm_protocols.get(variant), sweep.protocol):
        if name is not None and family in protocols.get(name).families:
            return name
    return None


def manifest(sweep: Sweep, runs: list[Run]) -> dict[str, Any]:
    return {
        "name": sweep.name,
        "definition": sweep.to_dict(),
        "runs": [
            {"run_dir": r.rel_dir, "variant": r.variant, "env": r.env, "seed": r.seed,
             "config": to_dict(r.config)}
            for r in runs
        ],
    }


def read_manifest(sweep_dir: Path) -> dict[str, Any] | None:
    path = Path(sweep_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise ConfigError(f"{path} is not valid JSON ({e}); remove it or use another --sweep-dir") from None


def _normalized(data: dict[str, Any]) -> Any:
    # JSON round trip: tuples become lists, so a fresh manifest compares equal to a stored one.
    return json.loads(json.dumps({k: data.get(k) for k in ("definition", "runs")}))


def manifest_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable reasons why two manifests describe different sweeps (empty if the same)."""
    a, b = _normalized(old), _normalized(new)
    if a == b:
        return []
    reasons = []
    for key in sorted(set(a["definition"] or {}) | set(b["definition"] or {})):
        if (a["definition"] or {}).get(key) != (b["definition"] or {}).get(key):
            reasons.append(key)
    if not reasons:
        reasons.append("run configs (the presets or the code changed)")
    return reasons


def prepare(sweep: Sweep, runs: list[Run], sweep_dir: Path, *, force: bool = False) -> None:
    """Write the manifest and every run's config.json (rundir.prepare), or check that an existing
    sweep directory holds this same sweep. With `force`, a changed definition is accepted: runs
    whose stored config differs are started over and runs the new grid drops are removed."""
    sweep_dir = Path(sweep_dir)
    new = manifest(sweep, runs)
    old = read_manifest(sweep_dir)
    if old is not None and not force:
        diff = manifest_differences(old, new)
        if diff:
            raise ConfigError(
                f"{sweep_dir} holds a different sweep (differs in {', '.join(diff)}); "
                "use another --sweep-dir, or --force to replace it"
            )
    if old is None and sweep_dir.exists() and any(sweep_dir.iterdir()):
        raise ConfigError(f"{sweep_dir} exists, is not empty and holds no {MANIFEST}")
    if old is not None and force:
        # Runs of the old grid that the new one drops would otherwise be picked up by analysis.
        keep = {r.rel_dir for r in runs}
        for entry in old.get("runs", []):
            stale = sweep_dir / entry["run_dir"]
            if entry["run_dir"] not in keep and stale.is_dir():
                shutil.rmtree(stale)
    for run in runs:
        run_dir = run.dir(sweep_dir)
        try:
            rundir.prepare(run.config, run_dir)
        except ConfigError:
            if not force:
                raise
            shutil.rmtree(run_dir)
            rundir.prepare(run.config, run_dir)
    rundir.atomic_write_json(sweep_dir / MANIFEST, new)
