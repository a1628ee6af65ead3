"""`python -m dqnlab.analysis SWEEP_DIR ...`: the `dqnlab analyze` command without the main CLI."""

import argparse
import sys

from dqnlab.analysis.cli import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dqnlab.analysis",
        description="Figures and tables (with bootstrap CIs) from dqnlab sweep or run directories.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
