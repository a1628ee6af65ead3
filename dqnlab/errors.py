"""The error types that user-facing code turns into a one-line message and exit code 2."""

from __future__ import annotations

from pathlib import Path


class ConfigError(ValueError):
    """Bad user input: an unknown component, env, override key, an invalid value, ..."""


class ResumeRefused(ConfigError):
    """A run directory that cannot be resumed as it is: its logs do not hold what its checkpoint
    recorded, or its config.json is not the config the checkpoint was trained with. The message
    says how to recover. Nothing was changed on disk."""

    def __init__(self, message: str, run_dir: Path | None = None) -> None:
        super().__init__(message)
        self.run_dir = run_dir
