"""Normalized scores: (score - random) / (reference - random), one table per env family.

- Atari: the human-normalized score of Mnih et al. 2015 / Hessel et al. 2018, reference = human,
  from `data/atari_human_random.csv` (DQN Zoo's `atari_data.py`, 57 games).
- Classic control and MinAtar: reference and random scores from `data/small_scale_reference.csv`,
  each row with its provenance. Random scores were measured by us (`analysis/measure_random.py`);
  references are the max return (CartPole), gymnasium's `reward_threshold` (Acrobot, MountainCar,
  LunarLander), and for MinAtar DQN's final return in the MinAtar authors' published learning
  curves (full action set, so the -v1 rows are marked `provisional`; see the CSV header).

So 0 is a uniform random policy and 1 is the reference, for every env: scores from different
envs can then share one aggregate (IQM, median, ...) as in Agarwal et al. 2021.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from dqnlab.analysis.errors import AnalysisError

ATARI_VIDEO_PINBALL_NOTE = (
    "Video Pinball random = 16256.9 (DQN Zoo, Mnih et al. 2015 Extended Data Table 2, as used by "
    "Hessel et al. 2018) rather than 0.0 (rliable's and Dopamine's copies)."
)
"""Why: our Atari target is the Rainbow paper's ablation, and its numbers were normalized with
the 16256.9 of the table we ship; changing one game's random score would mix two tables. Expect a
normalized Video Pinball score about 12.5x larger than under the 0.0 convention (the denominator is
1411.0 instead of 17667.9), which moves means noticeably and medians/IQMs barely; compare with
rliable/Dopamine numbers on that game with care."""


ATARI_TABLE = "analysis/data/atari_human_random.csv"
SMALL_SCALE_TABLE = "analysis/data/small_scale_reference.csv"
"""The tables' paths in the repository, as captions name them."""


@dataclass(frozen=True)
class Reference:
    """The two anchors of one env's normalization, in raw (undiscounted, unclipped) return units."""

    env_key: str
    family: str
    random: float
    reference: float
    source: str
    provisional: bool = False
    table: str = SMALL_SCALE_TABLE
    """The file the anchors come from."""


@dataclass(frozen=True)
class ScoreName:
    """How figures name a normalized score: `noun` for the axis, `anchor` for what 1 means."""

    noun: str
    anchor: str


def score_name(family: str) -> ScoreName:
    """Atari scores are human-normalized (1 = human); the small-scale ones are normalized
    against the reference of their table row (1 = reference)."""
    if family == "atari":
        return ScoreName("human-normalized score", "human")
    return ScoreName("normalized score", "reference")


@cache
def atari_table() -> pd.DataFrame:
    """The 57-game table: columns game (snake_case), random, human. Source in the CSV header."""
    with (resources.files("dqnlab.analysis") / "data" / Path(ATARI_TABLE).name).open() as f:
        return pd.read_csv(f, comment="#").set_index("game")


@cache
def small_scale_table() -> pd.DataFrame:
    """Classic control and MinAtar: env_id, family, random, reference, provisional, source."""
    with (resources.files("dqnlab.analysis") / "data" / Path(SMALL_SCALE_TABLE).name).open() as f:
        return pd.read_csv(f, comment="#").set_index("env_id")


_ATARI_ID = re.compile(r"^(?:ALE/)?(?P<game>[A-Za-z]+?)(?:NoFrameskip|Deterministic)?-v\d+$")


def atari_game_key(env_id: str) -> str:
    """`ALE/VideoPinball-v5` (or `VideoPinballNoFrameskip-v4`) -> `video_pinball`.

    CamelCase is split before every capital: `UpNDown` -> `up_n_down`, `MontezumaRevenge` ->
    `montezuma_revenge`. Raises AnalysisError if the id is not an Atari id of a known game.
    """
    match = _ATARI_ID.match(env_id)
    key = re.sub(r"(?<!^)(?=[A-Z])", "_", match["game"]).lower() if match else None
    if key is None or key not in atari_table().index:
        raise AnalysisError(f"unknown Atari game in env id {env_id!r} (not in the 57-game table)")
    return key


def reference_for(env_id: str) -> Reference:
    """The normalization anchors of `env_id`. Raises AnalysisError for an env with no table row."""
    small = small_scale_table()
    if env_id in small.index:
        row = small.loc[env_id]
        return Reference(
            env_key=env_id,
            family=str(row["family"]),
            random=float(row["random"]),
            reference=float(row["reference"]),
            source=str(row["reference_source"]),
            provisional=bool(row["provisional"]),
        )
    if env_id.startswith("ALE/") or re.search(r"(NoFrameskip|Deterministic)-v\d+$", env_id):
        key = atari_game_key(env_id)
        row = atari_table().loc[key]
        return Reference(
            env_key=key,
            family="atari",
            random=float(row["random"]),
            reference=float(row["human"]),
            source="human score, DQN Zoo atari_data.py",
            table=ATARI_TABLE,
        )
    known = ", ".join(small.index)
    raise AnalysisError(
        f"no normalization reference for env {env_id!r}: known are Atari ids (ALE/<Game>-v5) "
        f"and {known}"
    )


def normalize(env_id: str, scores: float | np.ndarray) -> float | np.ndarray:
    """(scores - random) / (reference - random) for `env_id`. Any shape; 0 = random, 1 = reference."""
    ref = reference_for(env_id)
    return (np.asarray(scores, dtype=float) - ref.random) / (ref.reference - ref.random)


def add_normalized(
    table: pd.DataFrame, column: str = "return_mean", out: str = "normalized"
) -> pd.DataFrame:
    """A copy of `table` (with an `env` column) plus `out` = the normalized `column`.

    Raises AnalysisError naming the first env without a reference.
    """
    table = table.copy()
    table[out] = np.nan
    for env_id, index in table.groupby("env").groups.items():
        table.loc[index, out] = normalize(str(env_id), table.loc[index, column].to_numpy())
    return table


def provisional_envs(env_ids: list[str] | pd.Series) -> list[str]:
    """The envs among `env_ids` whose reference score is marked provisional (to warn about)."""
    return sorted({e for e in env_ids if reference_for(str(e)).provisional})
