"""The one-node SLURM dev cluster as a fixture shared by every slurm-marked module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dqnlab.slurm import dev_cluster

STATE_DIR = Path(os.environ.get("DQNLAB_SLURM_STATE_DIR", str(dev_cluster.DEFAULT_STATE_DIR)))


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="module")
def slurm_cluster():
    """Start the cluster for a module (skip when its packages are missing, fail instead in CI) and
    stop it afterwards unless it was already running."""
    missing = dev_cluster.missing_programs()
    if missing:
        reason = (
            f"SLURM dev cluster not installed (missing: {', '.join(missing)}); "
            "run `sudo slurm/install_dev_cluster.sh`"
        )
        if _in_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    pytest.importorskip("submitit")
    was_running = dev_cluster.is_running(STATE_DIR)
    env = dev_cluster.start(STATE_DIR)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        try:
            yield env
        finally:
            if not was_running:  # leave a cluster someone else started as we found it
                dev_cluster.stop(STATE_DIR)
