"""The fault matrix (issue 23): a run killed at a random point x damage to one file of its run
directory x the same `dqnlab train` command again. Every cell ends in one of two ways:

* a resume whose progress.csv and eval.csv equal an uninterrupted run's, row for row (wall-clock
  columns aside), status `done`; or
* a refusal: a non-zero exit with one line on stderr. The recovery that line offers
  (`--resume-from-intact`, or putting config.json back) then ends in the uninterrupted run's
  rows too.

Never an exit 0 with other rows. The kill is in-process and exact: `should_stop`, which the loop
polls at every step, every evaluation step and after every checkpoint, raises at its n-th call
(n drawn from a seeded generator; past the last poll the run finishes first), which leaves the
directory as SIGKILL would (rows after the last checkpoint, status `running`); a torn row or
checkpoint is one of the damages. The default suite draws one kill point per damage; the test
marked slow crosses every damage with eight kill points.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from run_helpers import TINY_ARGS, assert_same_logs, prepare_tiny_run, stop_at_step

from dqnlab import rundir
from dqnlab.cli import main
from dqnlab.train import train

STEPS = 600  # logs every 50 steps, evaluations every 150, checkpoints every 100 (two kept)
POLLS = 720  # a whole run polls 644 times: about one kill point in ten finds it finished


class Killed(BaseException):
    """Not an Exception: nothing in the loop records it, as nothing records a SIGKILL."""


def kill_at(n: int) -> Callable[[], bool]:
    calls = iter(range(1, n + 1))

    def should_stop() -> bool:
        if next(calls, n) >= n:
            raise Killed
        return False

    return should_stop


def argv(run_dir: Path, *extra: str) -> list[str]:
    return ["train", "--env", "CartPole-v1", "--steps", str(STEPS), "--run-dir", str(run_dir), "--quiet",
            *TINY_ARGS, *extra]


# -- damages: each takes the run directory and changes one file (a no-op if it is absent) ---------


def _data(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def cut_mid_row(path: Path) -> None:
    if (data := _data(path)) and data.count(b"\n") > 1:
        start = data.rstrip(b"\n").rfind(b"\n") + 1
        path.write_bytes(data[: start + (len(data) - start) // 2])


def cut_on_row_boundary(path: Path) -> None:
    if (data := _data(path)) and data.count(b"\n") > 1:
        path.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 1])


def delete(path: Path) -> None:
    path.unlink(missing_ok=True)


def truncate_half(path: Path) -> None:
    if data := _data(path):
        path.write_bytes(data[: len(data) // 2])


def change_a_digit(path: Path) -> None:
    """One digit in the middle of the file changed: same length, still parses."""
    if data := _data(path):
        data = bytearray(data)
        i = next((i for i in range(len(data) // 2, len(data)) if chr(data[i]).isdigit()), None)
        if i is not None:
            data[i] = ord("7") if data[i] != ord("7") else ord("2")
            path.write_bytes(bytes(data))


def flip_a_byte(path: Path) -> None:
    if data := _data(path):
        data = bytearray(data)
        data[len(data) // 2] ^= 0x5A
        path.write_bytes(bytes(data))


def garble_fields(path: Path) -> None:
    """Valid JSON whose fields have the wrong types (a byte flip can make that too)."""
    if path.is_file():
        path.write_text('{"state": "done", "steps_done": "many", "total_steps": 600, '
                        '"logs": {"progress.csv": {"bytes": "x"}}, "config_sha256": 7}')


def newest_checkpoint(run_dir: Path) -> Path:
    found = sorted((run_dir / "checkpoint").glob("step_*.pt"))
    return found[-1] if found else run_dir / "checkpoint" / "none.pt"


def every_checkpoint(run_dir: Path) -> None:
    for path in (run_dir / "checkpoint").glob("step_*.pt"):
        path.unlink()


def stray_temporary_files(run_dir: Path) -> None:
    """What a kill during an atomic write leaves: a temporary file beside the one it replaces."""
    (run_dir / ".status.json.x1y2z3.tmp").write_bytes(b'{"state": "do')
    if (run_dir / "checkpoint").is_dir():
        (run_dir / "checkpoint" / ".step_000000000900.pt.a1b2c3.tmp").write_bytes(b"PK\x03\x04 torn")


def on(name: str, damage: Callable[[Path], None]) -> Callable[[Path], None]:
    return lambda run_dir: damage(run_dir / name)


DAMAGES: dict[str, Callable[[Path], None]] = {
    "none": lambda run_dir: None,
    **{f"{log}:{how}": on(log, damage) for log in ("progress.csv", "eval.csv") for how, damage in (
        ("cut-mid-row", cut_mid_row), ("cut-on-row-boundary", cut_on_row_boundary), ("deleted", delete),
        ("digit-changed", change_a_digit))},
    "status.json:deleted": on("status.json", delete),
    "status.json:truncated": on("status.json", truncate_half),
    "status.json:byte-flipped": on("status.json", flip_a_byte),
    "status.json:fields-garbled": on("status.json", garble_fields),
    "config.json:deleted": on("config.json", delete),
    "config.json:truncated": on("config.json", truncate_half),
    "config.json:digit-changed": on("config.json", change_a_digit),
    "checkpoint:newest-deleted": lambda run_dir: delete(newest_checkpoint(run_dir)),
    "checkpoint:newest-truncated": lambda run_dir: truncate_half(newest_checkpoint(run_dir)),
    "checkpoint:newest-byte-flipped": lambda run_dir: flip_a_byte(newest_checkpoint(run_dir)),
    "checkpoint:every-one-deleted": every_checkpoint,
    ".lock:deleted": on(".lock", delete),
    "stray-temporary-files": stray_temporary_files,
}


# -- the matrix -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    ref = prepare_tiny_run(tmp_path_factory.mktemp("reference") / "run", steps=STEPS)
    assert train(ref, progress=False) == "done"
    return ref


@pytest.fixture(scope="module")
def killed(tmp_path_factory) -> Callable[[int], Path]:
    """The run directory of a run killed at poll n (made once per n, then copied per cell)."""
    made: dict[int, Path] = {}

    def at(n: int) -> Path:
        if n not in made:
            run_dir = prepare_tiny_run(tmp_path_factory.mktemp(f"killed_{n}") / "run", steps=STEPS)
            try:
                train(run_dir, should_stop=kill_at(n), progress=False)
            except Killed:
                pass
            made[n] = run_dir
        return made[n]

    return at


def resume(run_dir: Path, capsys, *extra: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(argv(run_dir, *extra))
    return code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def check_cell(killed_dir: Path, damage: str, reference: Path, work: Path, capsys) -> str:
    """Damage a copy of `killed_dir`, resume it, check the outcome; returns what happened."""
    run_dir = work / "run"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copytree(killed_dir, run_dir)
    DAMAGES[damage](run_dir)
    code, err = resume(run_dir, capsys)
    if code == 0:
        assert rundir.read_status(run_dir)["state"] == "done", err
        assert_same_logs(run_dir, reference)  # exit 0 is never other rows
        return "resumed"
    assert len(err) == 1 and err[0].startswith("dqnlab: error: "), (damage, err)
    if "--resume-from-intact" in err[0]:
        code, again = resume(run_dir, capsys, "--resume-from-intact")
    else:  # the config was damaged: the line says to put it back
        assert "config.json" in err[0], err
        shutil.copy(killed_dir / "config.json", run_dir / "config.json")
        code, again = resume(run_dir, capsys)
    assert code == 0, (damage, again)
    assert_same_logs(run_dir, reference)
    return "refused, then recovered"


def kill_point(*key: object) -> int:
    return random.Random(repr(key)).randint(1, POLLS)


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_fault_matrix(damage, killed, reference, tmp_path, capsys):
    """One seeded kill point per damage."""
    check_cell(killed(kill_point("default", damage)), damage, reference, tmp_path, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_fault_matrix_every_damage_at_eight_kill_points(damage, seed, killed, reference, tmp_path, capsys):
    check_cell(killed(kill_point("slow", seed)), damage, reference, tmp_path, capsys)


def test_the_matrix_refuses_what_it_must(reference, tmp_path, capsys):
    """The damages a resume cannot see past are refused, not resumed: killed at step 450 (after
    the checkpoint at 400), a deleted log or an edited config."""
    killed_dir = prepare_tiny_run(tmp_path / "killed" / "run", steps=STEPS)
    with stop_at_step(450) as stop:
        def kill() -> bool:
            if stop():
                raise Killed
            return False

        with pytest.raises(Killed):
            train(killed_dir, should_stop=kill, progress=False)
    damages = ("eval.csv:deleted", "progress.csv:deleted", "config.json:digit-changed", "none")
    outcomes = {d: check_cell(killed_dir, d, reference, tmp_path / d.replace(":", "_"), capsys) for d in damages}
    assert outcomes == {"eval.csv:deleted": "refused, then recovered",
                        "progress.csv:deleted": "refused, then recovered",
                        "config.json:digit-changed": "refused, then recovered", "none": "resumed"}
