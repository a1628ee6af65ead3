"""Optional wandb logging as a thin tail over a run's CSV logs (no hook in the training loop).

A background thread reads progress.csv and eval.csv every few seconds and logs the rows it has not
logged yet, keyed by the agent step (`agent_step` is the x-axis of every metric, so wandb's own
monotonic step never matters). The wandb run id is derived from the run directory and stored in
`wandb.json` with the last logged steps: a requeued or relaunched run continues the same wandb run
(`resume="allow"`) and never logs a row twice; rows a resumed run rewrites after its checkpoint are
identical on CPU, so skipping them loses nothing. The local files are always written; wandb is a
copy. Offline mode (`WANDB_MODE=offline`) works as is.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from dqnlab import rundir

STATE_FILE = "wandb.json"


def run_id(run_dir: Path) -> str:
    """A stable wandb id for a run directory: the stored one, else a hash of its absolute path."""
    stored = _read_state(run_dir).get("id")
    if stored:
        return stored
    return hashlib.sha1(str(Path(run_dir).resolve()).encode()).hexdigest()[:16]


def _read_state(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((Path(run_dir) / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _rows(path: Path, after_step: int) -> list[dict[str, float]]:
    """Complete rows of a CSV log with step > after_step, numeric cells only."""
    try:
        text = path.read_text()
    except OSError:
        return []
    text = text[: text.rfind("\n") + 1]  # a row still being written is read next time
    out = []
    for row in csv.DictReader(text.splitlines()):
        values = {k: float(v) for k, v in row.items() if k and v not in ("", None)}
        if values.get("step", -1) > after_step:
            out.append(values)
    return out


class WandbTail:
    def __init__(self, run_dir: Path, project: str, *, group: str = "", period_s: float = 10.0) -> None:
        self.run_dir = Path(run_dir)
        self.project, self.group, self.period_s = project, group, period_s
        state = _read_state(self.run_dir)
        self.logged = {"progress": int(state.get("progress_step", -1)), "eval": int(state.get("eval_step", -1))}
        self.id = run_id(self.run_dir)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.run: Any = None

    def start(self) -> None:
        import wandb

        config = json.loads((self.run_dir / rundir.CONFIG).read_text())
        name = f"{config['env']['id']}/{config['variant']}/seed_{config['seed']}"
        self.run = wandb.init(
            project=self.project, id=self.id, resume="allow", name=name, group=self.group or None,
            config=config, dir=os.environ.get("WANDB_DIR") or str(self.run_dir), reinit="create_new",
        )
        self.run.define_metric("agent_step")
        self.run.define_metric("train/*", step_metric="agent_step")
        self.run.define_metric("eval/*", step_metric="agent_step")
        self._save_state()
        self._thread = threading.Thread(target=self._loop, name=f"wandb-tail-{self.id}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.period_s):
            self.flush()

    def flush(self) -> None:
        """Log every complete row not logged yet, in step order (train before eval at a step)."""
        with self._lock:
            new = [("train", r) for r in _rows(self.run_dir / rundir.PROGRESS, self.logged["progress"])]
            new += [("eval", r) for r in _rows(self.run_dir / rundir.EVAL, self.logged["eval"])]
            if not new:
                return
            new.sort(key=lambda item: (item[1]["step"], item[0] == "eval"))
            for prefix, row in new:
                step = int(row["step"])
                self.run.log({"agent_step": step, **{f"{prefix}/{k}": v for k, v in row.items() if k != "step"}})
                self.logged["progress" if prefix == "train" else "eval"] = step
            self._save_state()

    def _save_state(self) -> None:
        rundir.atomic_write_json(
            self.run_dir / STATE_FILE,
            {"id": self.id, "project": self.project,
             "progress_step": self.logged["progress"], "eval_step": self.logged["eval"]},
        )

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()
        state = rundir.read_status(self.run_dir).get("state")
        self.run.finish(exit_code=1 if state == "failed" else 0)
