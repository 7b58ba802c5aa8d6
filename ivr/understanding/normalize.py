"""Canonical form of caller and flow-author text.

Vosk already emits lower-case words without punctuation, but flow authors, the text channel and
tests do not; every comparison in the understanding layer goes through ``normalize`` so that both
sides of a comparison are written the same way.
"""

from __future__ import annotations

import re
import unicodedata

# Stress marks are written by authors who also prepare text for speech synthesis; they are not
# letters and would otherwise split a word in two.
_FOLD = str.maketrans({"ё": "е", "\u0301": None, "\u0300": None})
# Anything that is neither a letter nor a digit (punctuation, dashes, quotes, «», underscores,
# whitespace of any kind) separates words.
_SEPARATORS = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Fold case, «ё» and punctuation away so that spelling differences never decide a match.

    NFC composition comes first so that a decomposed «ё» or «й» is folded like a composed one.
    """
    return _SEPARATORS.sub(" ", _folded(text)).strip()


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower().translate(_FOLD)


# A word, and for names two words joined by one hyphen («анна-мария», «петрова-водкина»).
_HYPHENATED_WORD = re.compile(r"[^\W_]+(?:-[^\W\d_]+)*")


def tokens(text: str, hyphenated: bool = False) -> list[str]:
    """Split on the word boundaries that ``normalize`` leaves, which are single spaces;
    ``hyphenated`` keeps words joined by a hyphen as one («петрова-водкина»), for names."""
    if not hyphenated:
        return normalize(text).split()
    return _HYPHENATED_WORD.findall(_folded(text))
