"""The one error type that user-facing code turns into a one-line message and exit code 2."""


class ConfigError(ValueError):
    """Bad user input: an unknown component, env, override key, an invalid value, ..."""
