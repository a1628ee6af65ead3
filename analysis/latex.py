"""Plain text -> LaTeX source that typesets it verbatim (captions and table cells).

Captions are written once, as plain Unicode text (they also go to `.caption.txt`); the few
non-ASCII symbols they use become math here, so the `.tex` files compile with any engine.
"""

from __future__ import annotations

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "τ": r"$\tau$",
    "γ": r"$\gamma$",
    "ε": r"$\varepsilon$",
    "±": r"$\pm$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "×": r"$\times$",
    "−": r"$-$",
    "–": "--",
    "—": "---",
}


def latex_escape(text: object) -> str:
    """`text` as LaTeX source that typesets it verbatim (`rainbow_no_per` -> `rainbow\\_no\\_per`,
    `τ` -> `$\\tau$`)."""
    return "".join(_SPECIALS.get(char, char) for char in str(text))
