"""The `dqnlab` command line: train, components, sweep, status, analyze."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from dqnlab.components import COMPONENT_NAMES, RAINBOW
from dqnlab.contract import run_rel_dir
from dqnlab.errors import ConfigError

EXIT_USAGE = 2


def _die(message: str) -> int:
    print(f"dqnlab: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def default_run_dir(env_id: str, variant: str, seed: int) -> Path:
    return Path("runs") / run_rel_dir(env_id, variant, seed)


class StopFlag:
    """SIGINT/SIGTERM set a flag; the loop checkpoints at the next step boundary and exits."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:  # second signal: give up at once
            raise KeyboardInterrupt
        self.signum = signum

    def __call__(self) -> bool:
        return self.signum is not None


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
                   help="override any config field (type-checked); repeatable; keys below")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | auto")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest for small nets)")
    p.add_argument("--quiet", action="store_true", help="no live progress line")


def resolve_from_args(args: argparse.Namespace):
    from dqnlab.config import parse_set_args
    from dqnlab.presets import resolve_config

    return resolve_config(
        args.env, args.components, seed=args.seed, total_steps=args.steps, preset=args.preset,
        protocol=args.protocol, overrides=parse_set_args(args.overrides),
    )


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from dqnlab import rundir
    from dqnlab.train import train

    try:
        cfg = resolve_from_args(args)
        run_dir = args.run_dir or default_run_dir(cfg.env.id, cfg.variant, cfg.seed)
        if args.device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError("--device cuda requested but CUDA is not available")
        resumed = rundir.prepare(cfg, run_dir)
    except ConfigError as e:
        return _die(str(e))
    torch.set_num_threads(max(1, args.threads))
    print(f"dqnlab: {'resuming' if resumed else 'starting'} {cfg.variant} on {cfg.env.id} "
          f"(seed {cfg.seed}, {cfg.total_steps:,} steps = {cfg.total_frames:,} frames) in {run_dir}",
          file=sys.stderr)
    stop = StopFlag()
    stop.install()
    result = train(run_dir, device=args.device, should_stop=stop, progress=None if not args.quiet else False)
    if result == "stopped":
        print(f"dqnlab: stopped at a checkpoint; run the same command to resume ({run_dir})", file=sys.stderr)
        return 128 + (stop.signum or signal.SIGTERM)
    print(f"dqnlab: done: {run_dir}", file=sys.stderr)
    return 0


# -- components ------------------------------------------------------------------------------------


def cmd_components(args: argparse.Namespace) -> int:
    from dqnlab.components import COMPONENTS
    from dqnlab.protocols import PROTOCOLS

    print(f"rainbow = {', '.join(RAINBOW)}; other components are added as +name\n")
    for c in COMPONENTS:
        print("\n".join(c.describe()))
        for p in PROTOCOLS.values():
            if c.name in p.components:
                values = ", ".join(f"{k}={v}" for k, v in p.components[c.name].items())
                print(f"    under protocol {p.name}, it sets: {values}")
    return 0


# -- analyze ---------------------------------------------------------------------------------------


def _analysis_module():
    from dqnlab.analysis import cli as analysis_cli

    return analysis_cli


def build_parser() -> argparse.ArgumentParser:
    from dqnlab.config import help_text

    parser = argparse.ArgumentParser(prog="dqnlab", description=__doc__)
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
    except ImportError:
        sweep_cli = None
    if sweep_cli is not None:
        sweep_cli.add_subcommands(sub)

    p = sub.add_parser("analyze", help="figures and tables from sweep or run directories")
    try:
        analysis_cli = _analysis_module()
        analysis_cli.add_arguments(p)
        p.set_defaults(func=analysis_cli.run)
    except ImportError as e:
        p.set_defaults(func=lambda args, e=e: _die(f"analysis is unavailable: {e}"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return int(func(args) or 0)
    except ConfigError as e:
        return _die(str(e))


if __name__ == "__main__":
    sys.exit(main())
