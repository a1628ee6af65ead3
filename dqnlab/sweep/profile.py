"""Cluster profiles: a small TOML file per cluster with what `sbatch` needs (slurm/profiles/*.toml).

    partition = "gpu"            # required
    time = "4:00:00"             # required: minutes, "H:MM:SS" or "D-HH:MM:SS" per job
    account = "myproject"
    qos = "normal"
    gpus = 1                     # per job
    cpus = 4                     # per job (cpus_per_task)
    mem = "16G"                  # per job, G or M suffix
    setup = ["module load cuda/12.1", "source ~/venvs/dqnlab/bin/activate"]
    runs_per_process = "auto"    # runs one process trains in lockstep (seeds of one config): a
                                 # number, or auto (8 where measured to pay: small nets on CPU);
                                 # `--runs-per-process` overrides it
    runs_per_job = 4             # runs trained in one job, whole packs one after another
    array_parallelism = 64       # jobs of the array running at once
    signal_delay_s = 120         # USR2 this long before the time limit: checkpoint and requeue
    max_requeues = 10            # submitit's max_num_timeout
    device = "cuda"              # default: cuda when gpus > 0, else cpu
    snapshot = true              # jobs run a copy of the code taken at submission
    constraint = "a100"
    extra = { "exclude" = "node12" }  # any other sbatch option

Unknown keys and missing required ones are one-line errors (exit 2) before anything is submitted.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dqnlab.errors import ConfigError
from dqnlab.sweep.packing import AUTO, PackSize, parse_pack_size

REQUIRED = ("partition", "time")


@dataclass(frozen=True)
class Profile:
    partition: str
    time_min: int
    account: str | None = None
    qos: str | None = None
    gpus: int = 0
    cpus: int = 1
    mem_gb: float | None = None
    setup: tuple[str, ...] = ()
    runs_per_process: PackSize = AUTO
    runs_per_job: int = 1
    array_parallelism: int = 256
    signal_delay_s: int = 120
    max_requeues: int = 10
    device: str | None = None
    snapshot: bool = False
    constraint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def run_device(self) -> str:
        return self.device or ("cuda" if self.gpus > 0 else "cpu")

    def executor_parameters(self) -> dict[str, Any]:
        """submitit AutoExecutor parameters."""
        params: dict[str, Any] = {
            "slurm_partition": self.partition,
            "timeout_min": self.time_min,
            "cpus_per_task": self.cpus,
            "slurm_array_parallelism": self.array_parallelism,
            "slurm_signal_delay_s": self.signal_delay_s,
            "slurm_setup": list(self.setup),
        }
        if self.gpus:
            params["gpus_per_node"] = self.gpus
        optional = {"slurm_account": self.account, "slurm_qos": self.qos, "mem_gb": self.mem_gb,
                    "slurm_constraint": self.constraint}
        params.update({k: v for k, v in optional.items() if v is not None})
        if self.extra:
            params["slurm_additional_parameters"] = dict(self.extra)
        return params


def parse_minutes(value: Any) -> int:
    """60, "60", "1:00:00", "0-01:00:00" -> 60 (minutes, rounded up)."""
    if isinstance(value, int) and not isinstance(value, bool):
        minutes = value
    else:
        m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", str(value).strip())
        if not m:
            raise ValueError(value)
        days, a, b, c = (int(x) if x else None for x in m.groups())
        if b is None:  # "M" or "D-H"
            minutes = (days or 0) * 1440 + (a * 60 if days is not None else a)
        elif c is None:  # "H:MM" after a day, else "MM:SS"
            minutes = (days or 0) * 1440 + (a * 60 + b if days is not None else a + (b > 0))
        else:  # "H:MM:SS"
            minutes = (days or 0) * 1440 + a * 60 + b + (c > 0)
    if minutes < 1:
        raise ValueError(value)
    return minutes


def parse_mem_gb(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([GgMm])?[Bb]?", str(value).strip())
    if not m:
        raise ValueError(value)
    number = float(m.group(1))
    return number / 1024 if (m.group(2) or "G").upper() == "M" else number


def _strict(value: Any, kind: type) -> Any:
    if not isinstance(value, kind):
        raise TypeError(value)
    return value


_CONVERT: dict[str, tuple[str, Any]] = {
    "partition": ("partition", str),
    "time": ("time_min", parse_minutes),
    "account": ("account", str),
    "qos": ("qos", str),
    "gpus": ("gpus", int),
    "cpus": ("cpus", int),
    "mem": ("mem_gb", parse_mem_gb),
    "setup": ("setup", lambda v: tuple(str(x) for x in ([v] if isinstance(v, str) else v))),
    "runs_per_process": ("runs_per_process", parse_pack_size),
    "runs_per_job": ("runs_per_job", int),
    "array_parallelism": ("array_parallelism", int),
    "signal_delay_s": ("signal_delay_s", int),
    "max_requeues": ("max_requeues", int),
    "device": ("device", str),
    "snapshot": ("snapshot", lambda v: _strict(v, bool)),
    "constraint": ("constraint", str),
    "extra": ("extra", lambda v: dict(_strict(v, dict))),
}
assert {f for f, _ in _CONVERT.values()} == {f.name for f in fields(Profile)}


def load_profile(path: str | Path) -> Profile:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError:
        raise ConfigError(f"no profile file {path} (examples in slurm/profiles/)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"profile {path} is not valid TOML: {e}") from None
    unknown = sorted(set(data) - set(_CONVERT))
    if unknown:
        raise ConfigError(f"profile {path}: unknown key(s) {', '.join(unknown)}; "
                          f"known: {', '.join(_CONVERT)}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ConfigError(f"profile {path}: missing required key(s) {', '.join(missing)}")
    kwargs: dict[str, Any] = {}
    for key, raw in data.items():
        name, convert = _CONVERT[key]
        try:
            kwargs[name] = convert(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"profile {path}: bad value for {key}: {raw!r}") from None
    profile = Profile(**kwargs)
    for name in ("runs_per_job", "array_parallelism", "cpus"):
        if getattr(profile, name) < 1:
            raise ConfigError(f"profile {path}: {name} must be >= 1")
    return profile
