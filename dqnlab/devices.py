"""Which device a run trains on: the names accepted, checked before anything is written.

`check(name)` refuses a name dqnlab does not train on (`--device quantum9`) with one line; with
`here=True` it also refuses a device this machine does not have (`--device cuda` without a GPU).
A SLURM launch checks the name only: its jobs run on other machines. torch is imported only to ask
for CUDA, so planning a sweep stays light.
"""

from __future__ import annotations

import re

from dqnlab.errors import ConfigError

NAMES = "cpu | cuda | cuda:N | auto (cuda when available, else cpu)"
_NAME = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")


def check(name: str, *, here: bool = True) -> str:
    """`name` if runs can train on it (on this machine, with `here`); ConfigError otherwise."""
    if not _NAME.match(name):
        raise ConfigError(f"unknown --device {name!r}; choose from {NAMES}")
    if here and name.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name} requested but CUDA is not available on this machine")
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise ConfigError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return name


def resolve(name: str):
    """The torch.device a run uses for `name` (checked as by `check`)."""
    import torch

    check(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
