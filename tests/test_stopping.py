"""StopFlag's three answers to a signal, exactly; and `launch` asks before its first write."""

from __future__ import annotations

import os
import signal

import pytest

from dqnlab.stopping import Interrupted, StopFlag, StoppedBeforeWriting
from dqnlab.sweep import Sweep
from dqnlab.sweep.launch import launch


@pytest.fixture
def flag():
    stop = StopFlag()
    assert stop.install()
    yield stop
    stop.restore()


def test_a_first_signal_only_sets_the_flag(flag):
    assert not flag()
    os.kill(os.getpid(), signal.SIGTERM)
    assert flag() and flag.signum == signal.SIGTERM


def test_a_signal_before_the_first_write_stops_there(flag):
    os.kill(os.getpid(), signal.SIGTERM)
    with pytest.raises(StoppedBeforeWriting) as e:
        flag.raising()
    assert e.value.signum == signal.SIGTERM


def test_after_the_first_write_a_signal_raises_where_the_code_is(flag):
    flag.raising()
    with pytest.raises(Interrupted) as e:
        os.kill(os.getpid(), signal.SIGINT)
    assert e.value.signum == signal.SIGINT


def test_a_second_signal_always_raises(flag):
    os.kill(os.getpid(), signal.SIGTERM)
    with pytest.raises(Interrupted):
        os.kill(os.getpid(), signal.SIGINT)
    assert flag.signum == signal.SIGTERM  # the first one is the one reported


def test_launch_asks_before_it_writes_anything(tmp_path):
    sweep = Sweep(name="one", envs=("CartPole-v1",), variants=("dqn",), seeds=1, steps=300)
    asked = []

    def before_writing() -> None:
        asked.append(sorted(p.name for p in tmp_path.iterdir()))
        raise StoppedBeforeWriting(signal.SIGTERM)

    with pytest.raises(StoppedBeforeWriting):
        launch(sweep, sweep_dir=tmp_path / "sweep", executor="debug", before_writing=before_writing,
               out=open(os.devnull, "w"))
    assert asked == [[]] and not (tmp_path / "sweep").exists()
    launch(sweep, sweep_dir=tmp_path / "dry", executor="debug", dry_run=True, before_writing=before_writing,
           out=open(os.devnull, "w"))
    assert asked == [[]]  # a dry run writes nothing and does not ask


def test_a_signal_before_a_bad_grid_is_reported_as_the_stop(tmp_path, monkeypatch, capsys):
    """A signal that came first wins over an error it may have caused (Ctrl-C kills the executor's
    sinfo, whose failure reads as 'no SLURM cluster answers'): here the definition signals, then
    names a variant that does not exist."""
    from dqnlab.cli import main

    (tmp_path / "bad.py").write_text(
        "import os, signal\n"
        "from dqnlab.sweep import Sweep\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "SWEEP = Sweep(name='bad', envs=('CartPole-v1',), variants=('no_such_variant',), seeds=1, steps=300)\n")
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "bad.py", "--sweep-dir", "sweep"]) == 128 + signal.SIGTERM
    assert capsys.readouterr().err.strip().splitlines() == [
        "dqnlab: stopped by SIGTERM before the sweep started; nothing was launched"]
    assert not (tmp_path / "sweep").exists()
    (tmp_path / "bad.py").write_text("\n".join(line for line in (tmp_path / "bad.py").read_text().splitlines()
                                               if "os.kill" not in line))
    assert main(["sweep", "bad.py", "--sweep-dir", "sweep"]) == 2  # no signal: the error itself
    assert "no_such_variant" in capsys.readouterr().err
