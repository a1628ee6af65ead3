"""The `dqnlab` command line: train, components, sweep, status, analyze."""

from __future__ import annotations

import argparse
import contextlib
import functools
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from dqnlab.components import COMPONENT_NAMES, RAINBOW
from dqnlab.contract import run_rel_dir
from dqnlab.errors import ConfigError
from dqnlab.stopping import StopFlag, signal_name

EXIT_USAGE = 2


def _die(message: str) -> int:
    print(f"dqnlab: error: {message}", file=sys.stderr)
    return EXIT_USAGE


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def default_run_dir(env_id: str, variant: str, seed: int) -> Path:
    return Path("runs") / run_rel_dir(env_id, variant, seed)


# -- train -----------------------------------------------------------------------------------------


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", required=True, help="CartPole-v1, Acrobot-v1, MountainCar-v0, MinAtar/Breakout-v1, ALE/Pong-v5, ...")
    p.add_argument("--components", default="dqn", metavar="SPEC",
                   help="dqn | rainbow | rainbow-no-X | dqn+X+Y | X,Y with X in "
                   f"{', '.join(COMPONENT_NAMES)} (rainbow: {', '.join(RAINBOW)}; see `dqnlab components`)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="budget in agent steps (default: the preset's); frames = steps * frame_skip")
    p.add_argument("--run-dir", type=Path, default=None, help="default: runs/<env>/<variant>/seed_<seed>")
    p.add_argument("--preset", default=None, help="atari | classic | minatar (default: the env's family)")
    p.add_argument("--protocol", default=None,
                   help="named settings (dqnlab/protocols/): Atari machado2018 (default) | nature2015; classic "
                   "control and MinAtar revisiting_rainbow (default) | revisiting_rainbow_dqn")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (type-checked); repeatable; keys below. A "
                        "component's switch (marked below) is refused: components are chosen "
                        "by --components, so a run is never labelled with the wrong variant")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | auto")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads, >= 1 (1 is fastest for small nets)")
    p.add_argument("--quiet", action="store_true", help="no live progress line")
    p.add_argument("--resume-from-intact", action="store_true",
                   help="when the run directory's logs do not hold what its newest checkpoint recorded "
                        "(a cut, deleted or changed progress.csv / eval.csv), resume from the newest "
                        "checkpoint whose logs are intact (or from step 0) and train the rest again, "
                        "instead of refusing; the checkpoints after it are deleted")


def resolve_from_args(args: argparse.Namespace):
    from dqnlab.config import parse_set_args
    from dqnlab.presets import resolve_config

    return resolve_config(
        args.env, args.components, seed=args.seed, total_steps=args.steps, preset=args.preset,
        protocol=args.protocol, overrides=parse_set_args(args.overrides),
    )


def cmd_train(args: argparse.Namespace) -> int:
    from dqnlab import devices, rundir, runlock

    stop: StopFlag = getattr(args, "stop", None) or StopFlag()  # main's, installed before anything
    # Every check comes before the first write; the lock is taken before the run directory is
    # written and held until training ends (a second `train` of the same directory exits 2).
    held = contextlib.ExitStack()
    try:
        cfg = resolve_from_args(args)
        devices.check(args.device)
        if args.threads < 1:
            raise ConfigError(f"--threads must be >= 1, got {args.threads}")
        run_dir = args.run_dir or default_run_dir(cfg.env.id, cfg.variant, cfg.seed)
        rundir.check(cfg, run_dir)
        if stop():
            return _stopped_early(stop, f"nothing was written; run the same command to start {run_dir}")
        held.enter_context(runlock.hold(run_dir))
        rundir.prepare(cfg, run_dir)
    except ConfigError as e:
        held.close()
        return _die(str(e))
    with held:
        return _train(args, cfg, run_dir, stop)


def _stopped_early(stop: StopFlag, what: str) -> int:
    print(f"dqnlab: stopped by {signal_name(stop.signum)} before training started; {what}", file=sys.stderr)
    return 128 + (stop.signum or signal.SIGINT)


def _train(args: argparse.Namespace, cfg, run_dir: Path, stop: StopFlag) -> int:
    import torch

    from dqnlab import rundir
    from dqnlab.train import train

    torch.set_num_threads(args.threads)
    if stop():
        return _stopped_early(stop, f"run the same command to start it ({run_dir})")
    if (problem := rundir.status_problem(run_dir)) is not None:
        print(f"dqnlab: {run_dir}: {problem}; the run goes on from its checkpoints and rewrites it", file=sys.stderr)
    started = []

    def announce(step: int) -> None:
        started.append(step)
        doing, at = ("resuming", f" at step {step:,}") if step else ("starting", "")
        print(f"dqnlab: {doing} {cfg.variant} on {cfg.env.id}{at} (seed {cfg.seed}, {cfg.total_steps:,} steps "
              f"= {cfg.total_frames:,} frames) in {run_dir}", file=sys.stderr)

    try:
        result = train(run_dir, device=args.device, should_stop=stop, progress=None if not args.quiet else False,
                       recover=args.resume_from_intact, on_start=announce)
    except ConfigError as e:  # a run directory that cannot be resumed as it is: nothing changed
        return _die(str(e))
    except Exception:  # noqa: BLE001 - train() recorded it in status.json and printed one line
        return 1
    if result == "stopped":
        print(f"dqnlab: stopped at a checkpoint; run the same command to resume ({run_dir})", file=sys.stderr)
        return 128 + (stop.signum or signal.SIGTERM)
    if not started:
        print(f"dqnlab: {run_dir} is already done ({cfg.total_steps:,} steps); nothing to train", file=sys.stderr)
        return 0
    print(f"dqnlab: done: {run_dir}", file=sys.stderr)
    return 0


# -- components ------------------------------------------------------------------------------------


def cmd_components(args: argparse.Namespace) -> int:
    from dqnlab.components import COMPONENTS
    from dqnlab.heads import HEADS
    from dqnlab.protocols import PROTOCOLS

    print(f"rainbow = {', '.join(RAINBOW)}; other components are added as +name\n")
    for c in COMPONENTS:
        print("\n".join(c.describe()))
        for p in PROTOCOLS.values():
            if c.name in p.components:
                values = ", ".join(f"{k}={v}" for k, v in p.components[c.name].items())
                print(f"    under protocol {p.name}, it sets: {values}")
    print("\nheads (network.head; c51, qr and iqn switch theirs on):")
    for h in HEADS.values():
        print("\n".join(h.lines()))
    return 0


# -- analyze ---------------------------------------------------------------------------------------


def _analysis_module():
    from dqnlab.analysis import cli as analysis_cli

    return analysis_cli


def build_parser() -> argparse.ArgumentParser:
    from dqnlab.config import help_text

    parser = Parser(prog="dqnlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "train", help="train one run (resumes if the run directory holds a checkpoint)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="config keys for --set (defaults before the preset is applied):\n" + help_text(),
    )
    add_train_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("components", help="list the components: what each sets, owns, plugs into and excludes")
    p.set_defaults(func=cmd_components)

    try:
        from dqnlab.sweep import cli as sweep_cli
    except ImportError as e:  # say why, rather than dropping the commands from the CLI
        for name in ("sweep", "status"):
            p = sub.add_parser(name, help=f"unavailable: {e}")
            p.set_defaults(func=lambda args, e=e: _die(f"sweeps are unavailable: {e}"))
    else:
        sweep_cli.add_subcommands(sub)

    p = sub.add_parser("analyze", help="figures and tables from sweep or run directories")
    try:
        analysis_cli = _analysis_module()
        analysis_cli.add_arguments(p)
        p.set_defaults(func=functools.partial(_analyze, analysis_cli.run))
    except ImportError as e:
        p.set_defaults(func=lambda args, e=e: _die(f"analysis is unavailable: {e}"))
    return parser


def _analyze(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    # The analysis stack (pandas, scipy, seaborn) loads only when analyze runs: a missing one
    # is reported here, in one line, as it was when the parser loaded it.
    try:
        return run(args)
    except ModuleNotFoundError as e:
        return _die(f"analysis is unavailable: {e}")


def main(argv: list[str] | None = None) -> int:
    # The stop signals are caught first: a SIGTERM while the parser (and torch) loads is answered.
    stop = StopFlag()
    stop.install()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args.stop = stop
        func: Callable[[argparse.Namespace], int] = args.func
        return int(func(args) or 0)
    except ConfigError as e:
        return _die(str(e))
    except KeyboardInterrupt as e:  # a second signal, or one where nothing could checkpoint
        signum = getattr(e, "signum", signal.SIGINT)
        print(f"dqnlab: interrupted by {signal_name(signum)}; runs stopped where they were: the same "
              "command resumes them from their last checkpoints", file=sys.stderr)
        return 128 + signum
    finally:
        stop.restore()


if __name__ == "__main__":
    sys.exit(main())
