"""Grid expansion and the sweep manifest (`sweep.json`, docs/run_directory.md).

A run is (env, variant, seed) with its fully resolved `Config`; its directory inside the sweep is
`<env-id with / replaced by ->/<variant>/seed_<n>`. Expansion resolves every config before anything
is written, so bad input (an unknown env, variant or key) fails with one line and creates nothing.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from dqnlab import protocols, rundir
from dqnlab.config import Config, to_dict
from dqnlab.contract import MANIFEST, run_rel_dir
from dqnlab.errors import ConfigError
from dqnlab.presets import family_of, resolve_config
from dqnlab.sweep import changes
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
    same variant) collapse because variants are canonical names. One config is resolved per env
    and variant; its seeds' configs are copies with their seed (nothing else in a config depends
    on it, and the seeds are checked by the definition), so the cost grows with envs x variants,
    not with the number of seeds."""
    runs: dict[str, Run] = {}
    seeds = sweep.seed_list()
    for env_id in sweep.envs:
        for variant in sweep.variant_list():
            base = resolve_config(
                env_id, variant, seed=seeds[0], total_steps=sweep.steps, preset=sweep.preset,
                protocol=protocol_for(sweep, env_id, variant), overrides=sweep.overrides,
            )
            for seed in seeds:
                cfg = base if seed == base.seed else dataclasses.replace(base, seed=seed)
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
    # One conversion per config without its seed (a grid's seeds share it), then the seed.
    seedless: dict[Config, dict[str, Any]] = {}

    def config(cfg: Config) -> dict[str, Any]:
        key = dataclasses.replace(cfg, seed=0)
        if key not in seedless:
            seedless[key] = to_dict(key)
        return {**seedless[key], "seed": cfg.seed}

    return {
        "name": sweep.name,
        "definition": sweep.to_dict(),
        "runs": [
            {"run_dir": r.rel_dir, "variant": r.variant, "env": r.env, "seed": r.seed, "config": config(r.config)}
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


def changes_for(sweep_dir: Path, new: dict[str, Any], *, force: bool = False) -> changes.Changes | None:
    """What launching the manifest `new` into `sweep_dir` changes; None for a new sweep directory.
    Refuses a directory that holds something else than a sweep."""
    sweep_dir = Path(sweep_dir)
    rundir.check_creatable(sweep_dir, "sweep directory")
    old = read_manifest(sweep_dir)
    if old is None:
        if sweep_dir.exists() and any(sweep_dir.iterdir()):
            raise ConfigError(f"{sweep_dir} exists, is not empty and holds no {MANIFEST}")
        return None
    if not isinstance(old, dict):
        raise ConfigError(f"{sweep_dir / MANIFEST} is not a sweep manifest; use another --sweep-dir")
    return changes.plan(sweep_dir, old, new, force=force)


def prepare(sweep: Sweep, runs: list[Run], sweep_dir: Path, *, force: bool = False,
            delete_finished: bool = False, out: TextIO | None = None) -> changes.Changes | None:
    """Write the manifest and every run's config.json (rundir.prepare), after checking that
    nothing would be lost (`changes`: a grid that grows or a part of the directory's grid goes
    ahead; replacing the sweep needs `force`, deleting finished runs `delete_finished`). Every
    check comes before the first write. Returns what changed (None for a new directory)."""
    sweep_dir = Path(sweep_dir)
    new = manifest(sweep, runs)
    plan = changes_for(sweep_dir, new, force=force)
    deleted = plan.deleted if plan is not None else ()
    if plan is not None:
        changes.check(plan, sweep_dir, delete_finished=delete_finished)
    for run in runs:
        if run.rel_dir not in deleted:
            rundir.check(run.config, run.dir(sweep_dir), remedy=(
                f"its config.json must be the one {MANIFEST} lists: put it back, or delete that run "
                "directory to start the run over"))
    # Checked: from here on, writes.
    for rel in deleted:
        print(f"dqnlab: deleting {rel} ({plan.states.get(rel, 'pending')})", file=out or sys.stdout)
        shutil.rmtree(sweep_dir / rel)
        parent = (sweep_dir / rel).parent
        while parent != sweep_dir and not any(parent.iterdir()):  # no empty <env>/<variant>/ left
            parent.rmdir()
            parent = parent.parent
    for run in runs:
        rundir.prepare(run.config, run.dir(sweep_dir))
    if plan is None or plan.new_manifest:
        rundir.atomic_write_json(sweep_dir / MANIFEST, new)
    return plan
