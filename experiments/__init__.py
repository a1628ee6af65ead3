"""Sweep definitions as data, one `SWEEP = Sweep(...)` per file (docs/sweeps.md).

Installed as `dqnlab.experiments`; `dqnlab sweep` loads a definition from its file path.
"""
