"""The one exception the analysis package raises for bad input (never for its own bugs)."""


class AnalysisError(Exception):
    """Input the analysis cannot use: missing directory, no runs, runs that must not be mixed.

    The message is one line meant for a user (the CLI prints it as `error: <message>`).
    """
