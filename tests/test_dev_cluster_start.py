"""dev_cluster.start's one retry, without a cluster: the scripts are replaced by a recorder."""

import pytest

from dqnlab.slurm import dev_cluster


def _scripts(monkeypatch, tmp_path, start_failures: int) -> list[str]:
    calls: list[str] = []
    (tmp_path / "env.sh").write_text("export SLURM_CONF=/x/slurm.conf\n")

    def run_script(name, state_dir, timeout_s):
        calls.append(name)
        if name == "start_cluster.sh" and calls.count(name) <= start_failures:
            raise dev_cluster.DevClusterError(f"start failed ({calls.count(name)})")
        return ""

    monkeypatch.setattr(dev_cluster, "_run_script", run_script)
    return calls


def test_a_failed_start_is_stopped_and_tried_once_more(monkeypatch, tmp_path):
    calls = _scripts(monkeypatch, tmp_path, start_failures=1)
    assert dev_cluster.start(tmp_path) == {"SLURM_CONF": "/x/slurm.conf"}
    assert calls == ["start_cluster.sh", "stop_cluster.sh", "start_cluster.sh"]


def test_two_failed_starts_raise_with_both_messages(monkeypatch, tmp_path):
    calls = _scripts(monkeypatch, tmp_path, start_failures=2)
    with pytest.raises(dev_cluster.DevClusterError, match=r"start failed \(2\)\n\(first attempt: start failed \(1\)\)"):
        dev_cluster.start(tmp_path)
    assert calls == ["start_cluster.sh", "stop_cluster.sh", "start_cluster.sh"]
