import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test`: -n 2 --dist loadgroup) the tests marked slurm share one
    worker: they start and stop the one dev cluster. Slow tests run first. tryfirst: xdist reads the groups in its own
    collection hook, which otherwise runs first (tests/test_xdist_groups.py)."""
    for item in items:
        if item.get_closest_marker("slurm"):
            item.add_marker(pytest.mark.xdist_group("slurm"))
    # The slow tests first (a stable sort keeps their order in the file), so that the learning
    # tests, minutes each, start while the workers are fresh instead of trailing the suite; xdist
    # then sends the many short tests to whichever worker frees up.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def tiny() -> list[str]:
    """Overrides that make a classic-control run take a second or two."""
    return [
        "--set", "network.hidden_sizes=32,32", "--set", "agent.min_replay_steps=100",
        "--set", "eval.period_steps=200", "--set", "eval.episodes=2", "--set", "run.log_period_steps=100",
        "--set", "run.checkpoint_period_steps=200", "--set", "agent.batch_size=32",
    ]
