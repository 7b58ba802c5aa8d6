"""Every kind of value a flow can collect, and everything the rest of the program needs to know
about it, in one table.

A slot type used to be described in seven places (the schema's list of names, the parser, the
engine's keypad rules, the recogniser's grammar, the read-back grouping, masking, the checks);
a new type needed coordinated edits and one was missed: ``type: date`` was written to disk
unmasked because masking only knew ``date_of_birth``. Now a type is one ``SlotType`` row, and
``tests/unit/test_slot_types.py`` walks every row through a transcript and a report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Literal

from ivr.personal import identifiers as ids
from ivr.personal import masking
from ivr.slots import parsers
from ivr.slots.names import mask_free_text
from ivr.slots.parsers import Limits, Parsed
from ivr.understanding.numbers import dictation_words

Listening = Literal["digits", "free"]
DIGITS_HINT = "Назовите цифры голосом или наберите их на клавиатуре."
YESNO_WORDS = ("да", "нет", "верно", "неверно", "не знаю")


@dataclass(frozen=True)
class SlotType:
    """One kind of collected value.

    ``keypad`` — digits pressed on the keypad are the value (so a digit key there is never a menu
    command); ``listening`` — how the recogniser listens: ``digits`` (a closed grammar of number
    words) or ``free`` (open vocabulary, unless ``grammar`` narrows it); ``grammar`` — the words
    the recogniser may hear, ``None`` for open vocabulary; ``personal`` — masked on disk unless
    the caller asked to keep personal data; ``mask`` turns a value (valid or not) into what may be
    written; ``speak_back`` — how digits are read back («сто двенадцать, двести тридцать три»).
    """

    name: str
    parse: Callable[[str, bool, Limits], Parsed]
    keypad: bool = False
    listening: Listening = "free"
    grammar: Callable[[], list[str]] | None = None
    personal: bool = False
    mask: Callable[[str], str] = masking.mask_text
    speak_back: Callable[[str], str] | None = None
    hint: str = ""

    def speak(self, value: str) -> str:
        """The digits of ``value`` as a caller would say them back, in this type's groups."""
        if self.speak_back is None:
            raise ValueError(f"a {self.name} value is not read back digit by digit")
        return self.speak_back(value)


def _digit_type(
    name: str,
    parse: Callable[[str, bool, Limits], Parsed],
    *,
    personal: bool = False,
    mask: Callable[[str], str] = masking.mask_text,
    groups: tuple[int, ...] = (),
    speak: Callable[[str], str] | None = None,
) -> SlotType:
    return SlotType(
        name,
        parse,
        keypad=True,
        listening="digits",
        grammar=dictation_words,
        personal=personal,
        mask=_with_names(mask),
        speak_back=speak or partial(ids.speak_digits, groups=groups),
        hint=DIGITS_HINT,
    )


def _with_names(mask: Callable[[str], str]) -> Callable[[str], str]:
    """An invalid answer at a digits slot is whatever the caller said instead, masked as heard:
    a name said there («Петрова Анна Сергеевна» for a phone number) was written in clear, since
    the digit maskers only know numbers."""

    def masked(value: str) -> str:
        return mask_free_text(mask(value))

    return masked


def _yesno_words() -> list[str]:
    return list(YESNO_WORDS)


_TYPES = (
    SlotType("text", parsers.parse_text, mask=mask_free_text),
    _digit_type("digits", parsers.parse_digits),
    _digit_type("number", parsers.parse_digits),
    SlotType("yesno", parsers.parse_yesno, grammar=_yesno_words),
    SlotType("fio", parsers.parse_fio, personal=True, mask=masking.mask_fio),
    _digit_type("snils", parsers.parse_snils, personal=True, mask=masking.mask_snils, groups=(3, 3, 3, 2)),
    _digit_type("inn", parsers.parse_inn, personal=True, mask=masking.mask_inn, groups=(3, 3, 3, 3)),
    _digit_type("phone", parsers.parse_phone, personal=True, mask=masking.mask_phone, speak=ids.speak_phone),
    _digit_type(
        "passport", parsers.parse_passport, personal=True, mask=masking.mask_passport, groups=(2, 2, 3, 3)
    ),
    # Where the caller lives (a home visit): said in free words, personal as a whole.
    SlotType("address", parsers.parse_text, personal=True, mask=masking.mask_address),
    _digit_type("oms", parsers.parse_oms, personal=True, mask=masking.mask_oms, groups=(4, 4, 4, 4)),
    # A date a caller gives (of birth, of a payment, of a complaint) says who they are and what
    # they did: personal, like the identifiers.
    # Dates are heard with open vocabulary: callers say ordinals in any case («двадцать пятого»),
    # which a closed list of number words would turn into nonsense.
    SlotType("date", parsers.parse_date, keypad=True, personal=True, mask=masking.mask_date),
    _digit_type("reference", parsers.parse_reference),
)

SLOT_TYPES: dict[str, SlotType] = {t.name: t for t in _TYPES}

if TYPE_CHECKING:
    SlotTypeName = str
else:  # the schema's list of allowed ``type:`` values is this table's keys, nothing else
    SlotTypeName = Literal[tuple(SLOT_TYPES)]


def slot_type(name: str) -> SlotType:
    """The row for a type name the loader has already checked."""
    return SLOT_TYPES[name]
