"""Which family an env id belongs to, decided without constructing anything.

Only the ALE check imports a third-party module (`ale_py.roms`, to read its ROM list); gymnasium,
minatar and ale-py environments are registered lazily, once, by `ensure_registered`.
"""

from __future__ import annotations

import functools
import importlib.util
import re

# CartPole-v0 (200-step cap) is the version Revisiting Rainbow ran; v1 caps episodes at 500.
CLASSIC_IDS: tuple[str, ...] = ("CartPole-v0", "CartPole-v1", "Acrobot-v1", "MountainCar-v0")
LUNAR_LANDER_ID = "LunarLander-v3"  # needs Box2D (`pip install box2d`, a binary wheel)

MINATAR_GAMES: tuple[str, ...] = ("Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders")
# minatar 1.0.15 registers v0 (all 6 actions) and v1 (each game's minimal action set).
MINATAR_IDS: tuple[str, ...] = tuple(
    f"MinAtar/{game}-{version}" for game in MINATAR_GAMES for version in ("v0", "v1")
)

_ALE_ID = re.compile(r"^ALE/([A-Za-z0-9]+)-v5$")
# ale-py ships these ROMs but registers no v5 env for them (no single-player mode).
_ALE_UNREGISTERED = frozenset({"combat", "joust", "maze_craze", "warlords"})

ATARI_INSTALL_HINT = "Atari envs need the optional extra: pip install 'dqnlab[atari]'"


def box2d_available() -> bool:
    """Whether LunarLander can be built (Box2D is importable)."""
    return importlib.util.find_spec("Box2D") is not None


def classic_ids() -> tuple[str, ...]:
    """The classic-control ids accepted here (LunarLander-v3 only when Box2D is installed)."""
    return CLASSIC_IDS + ((LUNAR_LANDER_ID,) if box2d_available() else ())


@functools.lru_cache(maxsize=1)
def ale_games() -> dict[str, str]:
    """Map from v5 game name (`MsPacman`) to ale-py ROM id (`ms_pacman`).

    Raises ImportError with the install hint when ale-py is missing.
    """
    try:
        from ale_py import roms
        from ale_py.registration import rom_id_to_name
    except ImportError as exc:
        raise ImportError(ATARI_INSTALL_HINT) from exc
    return {
        rom_id_to_name(rom): rom for rom in roms.get_all_rom_ids() if rom not in _ALE_UNREGISTERED
    }


def env_family(env_id: str) -> str:
    """`"classic"`, `"minatar"` or `"atari"` for an accepted env id; ValueError otherwise."""
    if env_id in CLASSIC_IDS:
        return "classic"
    if env_id == LUNAR_LANDER_ID:
        if not box2d_available():
            raise ValueError(f"{env_id} needs Box2D: pip install box2d")
        return "classic"
    if env_id in MINATAR_IDS:
        return "minatar"
    match = _ALE_ID.match(env_id)
    if match is not None:
        if match.group(1) not in ale_games():
            raise ValueError(
                f"unknown Atari game in {env_id!r}: ale-py has no v5 ROM named {match.group(1)!r}"
            )
        return "atari"
    raise ValueError(
        f"unknown env id {env_id!r}; accepted: {', '.join(classic_ids())}, "
        f"MinAtar/<{'|'.join(MINATAR_GAMES)}>-v1 (or -v0, full action set), "
        "ALE/<Game>-v5 (any ale-py v5 game, e.g. ALE/Pong-v5)"
    )


@functools.cache
def ensure_registered(family: str) -> None:
    """Register the family's gymnasium ids once (classic control registers on import)."""
    import gymnasium

    if family == "minatar":
        import minatar.gym

        # minatar 1.0.15 does not register with gymnasium 1.x on import; registering twice
        # (someone else may have) only warns, so check first.
        if MINATAR_IDS[-1] not in gymnasium.registry:
            minatar.gym.register_envs()
    elif family == "atari":
        try:
            import ale_py
        except ImportError as exc:
            raise ImportError(ATARI_INSTALL_HINT) from exc
        gymnasium.register_envs(ale_py)
