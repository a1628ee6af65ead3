"""What launching a grid into an existing sweep directory does to the runs it holds.

A launch never deletes results without being told, and never needs to be told for what deletes
nothing:

* a grid that only grows (more seeds, envs or variants; every run the directory holds is in it with
  the same config) is accepted as it is: the new runs are added and the manifest records the grid;
* a part of the directory's grid (e.g. `--seeds 1` on a 3-seed sweep) is accepted too: those runs
  train, the manifest and the other runs stay as they are (unless `--force` asks for the directory
  to hold exactly this grid);
* anything else replaces the sweep: runs whose config changed (an edited definition or preset) start
  over and runs the grid no longer has are deleted. That needs `--force`, and deleting a *finished*
  run needs `--delete-finished` as well. `--dry-run` lists every run that would be deleted, and a
  run held by a live process (`runlock`) is never deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dqnlab import rundir, runlock
from dqnlab.errors import ConfigError


@dataclass(frozen=True)
class Changes:
    """How a new grid relates to the one a sweep directory holds (run dirs relative to it)."""

    kept: tuple[str, ...]
    """In both grids with the same config."""
    added: tuple[str, ...]
    """Only in the new grid."""
    restarted: tuple[str, ...]
    """In both, with a different config: replacing the sweep deletes them and starts them over."""
    dropped: tuple[str, ...]
    """Only in the directory's grid."""
    states: dict[str, str]
    """status.json state of every run of the directory's grid."""
    differs: tuple[str, ...] = ()
    """The definition's fields that differ, for messages."""
    force: bool = False
    """--force: the directory is to hold exactly the new grid (a part of it included)."""

    @property
    def replaces(self) -> bool:
        """Whether the launch replaces the sweep (else it adds runs or trains a part of it)."""
        return bool(self.restarted) or (bool(self.dropped) and (bool(self.added) or self.force))

    @property
    def deleted(self) -> tuple[str, ...]:
        """What replacing the sweep deletes."""
        return (self.restarted + self.dropped) if self.replaces else ()

    @property
    def finished(self) -> tuple[str, ...]:
        return tuple(r for r in self.deleted if self.states.get(r) == "done")

    @property
    def new_manifest(self) -> bool:
        """Whether the new grid's manifest replaces the stored one (not for a part of it)."""
        return not self.dropped or self.replaces

    def lines(self) -> list[str]:
        """What the launch does to the directory, for --dry-run: every deletion is listed."""
        done = sum(self.states.get(r) == "done" for r in self.kept)
        out = [f"{len(self.kept)} run(s) kept ({done} finished), {len(self.added)} added"]
        if self.dropped and not self.replaces:
            out[0] += f"; {len(self.dropped)} other run(s) of the directory left as they are"
        if self.replaces:
            out.append(f"replacing the sweep (differs in {', '.join(self.differs) or 'run configs'}) "
                       f"deletes {len(self.deleted)} run(s), {len(self.finished)} of them finished "
                       "(needs --force, and --delete-finished for finished runs):")
            out += [f"  delete: {r} ({self.states.get(r, 'pending')}"
                    + (", config changed: starts over)" if r in self.restarted else ", not in the grid)")
                    for r in self.deleted]
        return out


def _entries(data: dict[str, Any], where: Path) -> dict[str, Any]:
    try:
        return {e["run_dir"]: json.loads(json.dumps(e["config"])) for e in data["runs"]}
    except (KeyError, TypeError) as e:
        raise ConfigError(f"{where} is not a sweep manifest ({type(e).__name__}: {e}); "
                          "use another --sweep-dir") from None


def plan(sweep_dir: Path, old: dict[str, Any], new: dict[str, Any], *, force: bool = False) -> Changes:
    """Compare the stored manifest `old` with the new grid's manifest `new` (`force`: see Changes)."""
    sweep_dir = Path(sweep_dir)
    before, after = _entries(old, sweep_dir), _entries(new, sweep_dir)
    definition = (old.get("definition") or {}, new.get("definition") or {})
    return Changes(
        kept=tuple(r for r in after if r in before and before[r] == after[r]),
        added=tuple(r for r in after if r not in before),
        restarted=tuple(r for r in after if r in before and before[r] != after[r]),
        dropped=tuple(r for r in before if r not in after),
        states={r: rundir.read_status(sweep_dir / r).get("state", "pending") for r in before},
        differs=tuple(k for k in sorted(set(definition[0]) | set(definition[1]))
                      if definition[0].get(k) != definition[1].get(k)),
        force=force,
    )


def _some(names: tuple[str, ...], n: int = 3) -> str:
    more = f" and {len(names) - n} more" if len(names) > n else ""
    return ", ".join(names[:n]) + more


_OTHERWISE = "use another --sweep-dir, or --force to replace it (and --delete-finished for finished runs)"


def check(changes: Changes, sweep_dir: Path, *, delete_finished: bool) -> None:
    """Refuse, with one line, a launch that would delete runs without --force, finished runs
    without --delete-finished, or a run another process is training."""
    if not changes.replaces:
        return
    deleted, finished = changes.deleted, changes.finished
    if not changes.force and not changes.restarted:
        # Only added and dropped runs: the user most likely meant to add runs (other envs or
        # variants) and gave only the new ones; say how to add without deleting.
        raise ConfigError(
            f"{sweep_dir} holds runs this grid leaves out ({len(deleted)}, {len(finished)} finished: "
            f"{_some(deleted)}) while it adds {len(changes.added)} ({_some(changes.added)}): to add "
            "runs, give a grid that holds the directory's runs too (their envs, variants and seeds as "
            f"well); {_OTHERWISE}"
        )
    if not changes.force:
        raise ConfigError(
            f"{sweep_dir} holds a different sweep (differs in {', '.join(changes.differs) or 'run configs'}); "
            f"replacing it would delete {len(deleted)} run(s), {len(finished)} of them finished "
            f"({_some(deleted)}): list them with --dry-run; {_OTHERWISE}"
        )
    if finished and not delete_finished:
        raise ConfigError(
            f"--force would delete {len(finished)} finished run(s) of {sweep_dir} ({_some(finished)}): "
            "add --delete-finished to confirm, or use another --sweep-dir"
        )
    for rel in deleted:
        holder = runlock.probe(Path(sweep_dir) / rel)
        if isinstance(holder, runlock.Holder):
            raise ConfigError(f"cannot delete {rel}: it is in use by {holder}")
