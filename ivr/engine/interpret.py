"""What one caller input means in the current state, before anything moves.

Speech is a menu choice (by a spoken key, then by the matcher), a clarifying question between
candidates, a value for the slot being collected, or a miss; keys are choices or slot digits.
Nothing here changes the call: ``Call`` acts on the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.flow.model import ChoiceRef, Flow
from ivr.slots import Limits, slot_type
from ivr.understanding.chatter import holding_on
from ivr.understanding.courtesy import only_thanks
from ivr.understanding.lemmas import lemma
from ivr.understanding.matcher import Match
from ivr.understanding.normalize import normalize, tokens
from ivr.understanding.numbers import number_value
from ivr.understanding.unsure import only_unsure

# Words around a key said aloud: «цифра два», «третий пункт», «давайте один».
KEY_WORDS = frozenset(
    {
        "цифра",
        "цифру",
        "кнопка",
        "кнопку",
        "клавиша",
        "клавишу",
        "пункт",
        "номер",
        "нажимаю",
        "нажму",
        "выбираю",
        "давайте",
        "ну",
        "наверное",
        "пожалуйста",
    }
)
# Free speech may mention a command word in passing («оператор не ответил»); in a text slot a
# command counts only as a short utterance of its own.
FREE_TEXT_COMMAND_WORDS = 4


@dataclass(frozen=True)
class Choose:
    ref: ChoiceRef
    score: float


@dataclass(frozen=True)
class Clarify:
    candidates: tuple[ChoiceRef, ...]


@dataclass(frozen=True)
class Confirm:
    """Mid confidence: ask «Правильно понимаю: …?» before moving."""

    ref: ChoiceRef
    score: float


@dataclass(frozen=True)
class Declined:
    """The caller said «нет» to «Правильно понимаю …?»: ask again in the open."""


@dataclass(frozen=True)
class Fill:
    """The input is the value of the slot being collected."""

    text: str
    keyed: bool


@dataclass(frozen=True)
class Elsewhere:
    """A topic of the home menu said in another menu: go home by ``via`` (unheard), then choose
    ``ref`` there (see ``elsewhere``)."""

    via: ChoiceRef
    ref: ChoiceRef
    score: float


@dataclass(frozen=True)
class LineTalk:
    """«алло», «вы меня слышите»: surely talk about the line itself — answered, and no miss."""


@dataclass(frozen=True)
class Thanks:
    """«Спасибо», and nothing understood besides (``courtesy``): answered, and no miss."""


@dataclass(frozen=True)
class Miss:
    cause: str  # nomatch | noinput
    heard: str


@dataclass(frozen=True)
class Question:
    """What the call just asked about the caller's last answer: which of ``candidates`` they meant
    (two: «А или Б?»; one: «Правильно понимаю: А?»), and the words it asked with (``said``)."""

    state: str
    candidates: tuple[ChoiceRef, ...]
    said: tuple[str, ...] = ()

    @property
    def confirming(self) -> bool:
        return len(self.candidates) == 1


@dataclass(frozen=True)
class Reask:
    """«Повторите» right after a question: the question again, not the menu (the caller did not
    catch the two choices), still awaiting its answer; no try spent."""

    question: Question
    ref: ChoiceRef | None  # the repeat command heard, if it was one (not «что?»)
    score: float


Verdict = Choose | Clarify | Confirm | Declined | Elsewhere | Fill | LineTalk | Miss | Reask | Thanks


# «Что?», «а?» right after a question: the caller did not catch it (a miss there used to count
# toward the operator, and «что?» after two misses went straight to it).
_WHAT = frozenset(
    {
        "что", "а", "чего", "как", "что что", "а что", "что вы сказали", "как как", "в смысле",
        "не понял", "не поняла", "непонятно", "не понятно", "что именно", "а чего",
    }
)  # fmt: skip


def reasked(flow: Flow, question: Question | None, verdict: Verdict, said: str = "") -> Verdict:
    """``verdict`` — unless a question was just asked and the caller asks for it again: the repeat
    command, or «что?» that understood nothing (``Reask``)."""
    if question is None or not question.said:
        return verdict
    if (
        isinstance(verdict, Choose)
        and verdict.ref.kind == "global"
        and flow.globals[verdict.ref.id].action == "repeat"
    ):
        return Reask(question, verdict.ref, verdict.score)
    if isinstance(verdict, Miss) and normalize(said) in _WHAT:
        return Reask(question, None, 0.0)
    return verdict


# «первое», «второй», «последний пункт»: which of the offered choices
# (pymorphy3 reads «второе» as the noun «второе блюдо», so surface forms are listed too)
_ORDINALS = {
    "первый": 0,
    "первое": 0,
    "один": 0,
    "1": 0,
    "второй": 1,
    "второе": 1,
    "два": 1,
    "2": 1,
    "последний": -1,
    "последнее": -1,
}


def spoken_key(text: str) -> str | None:
    """A keypad key said aloud instead of pressed: the whole answer is one digit word, maybe with
    «цифра»/«кнопка»/«пункт» («один», «цифра два», «третий пункт»). Numbers inside a sentence
    («ошибка пятьсот два», «второй раз») never count."""
    words = [w for w in tokens(text) if w not in KEY_WORDS]
    if len(words) != 1:
        return None
    value = number_value(words[0])
    return str(value) if value is not None and 0 <= value <= 9 else None


def speech(flow: Flow, state_name: str, said: str) -> Verdict:
    text = normalize(said)
    if not text:  # the caller spoke, but no word was made out: not silence (see reprompts.UNCLEAR)
        return Miss("nomatch", "")
    state = flow.states[state_name]
    menu = flow.menu(state_name)
    if state.collect:
        free = state.collect.type == "text" and len(tokens(text)) > FREE_TEXT_COMMAND_WORDS
        command = menu.matcher.decisive(text) if menu.matcher is not None and not free else None
        if command is not None:
            return Choose(menu.choice(command), 100.0)
        if holding_on(text):  # «подождите», «алло»: no value, and no try spent
            return LineTalk()
        return Fill(said, keyed=False)
    key = spoken_key(text)
    if key is not None and key in menu.keys:  # «один», «цифра два», «третий пункт»
        return Choose(menu.keys[key], 100.0)
    if menu.matcher is None:
        return Miss("nomatch", text)
    result = menu.matcher.match(text)
    if (result.kind == "none" or result.by == "meaning") and only_thanks(text):
        # thanks alone is no topic, though meaning finds one («благодарю вас» near the feedback
        # section's «благодарность»); a flow phrase said in words still decides
        return Thanks()
    topic = elsewhere(flow, state_name, text, result)
    if topic is not None:
        return topic
    if result.kind == "match" and result.choice is not None:
        return Choose(menu.choice(result.choice), result.score)
    if result.kind == "ambiguous":
        return Clarify(tuple(menu.choice(c) for c in result.candidates[:2]))
    if result.kind == "confirm" and result.choice is not None:
        return Confirm(menu.choice(result.choice), result.score)
    if result.by == "line" or (result.kind == "none" and holding_on(text)):
        return LineTalk()
    return Miss("nomatch", text)


def elsewhere(flow: Flow, state_name: str, text: str, here: Match) -> Elsewhere | None:
    """A topic of the home menu — the menu a global command of this state leads to (Госуслуги's
    «главное меню») — said in another menu that callers answer in their own words (a section or a
    page, not a yes/no question): «смс не приходит» in the login section, «во сколько вы работаете»
    on a page. Taken when this menu understood nothing, or only a command by meaning — then only
    when the home menu's words are sure (its router's ``lemma_sure``: «забыл пароль» in a section is
    the forgotten-password page, not the «don't say your password» warning its meaning sat
    nearest) — and the home menu routes the words to one of its own options; what the home menu
    would only ask about stays «не понял» here."""
    router = flow.menu(state_name).matcher
    if router is None or not router.by_meaning:  # yes/no, «СНИЛС или ИНН»: the caller answers a question
        return None
    command = here.kind == "match" and here.by == "meaning" and (here.choice or "").startswith("g:")
    if here.kind != "none" and not command:
        return None
    home = next(
        (
            (name, glob.goto)
            for name, glob in flow.enabled_globals(state_name).items()
            if glob.goto is not None and glob.goto != state_name and flow.states[glob.goto].options
        ),
        None,
    )
    if home is None:
        return None
    via, target = home
    menu = flow.menu(target)
    if menu.matcher is None:
        return None
    there = menu.matcher.match(text)
    if there.kind != "match" or not (there.choice or "").startswith("o:"):
        return None
    if command and (there.by != "lemma" or there.score < menu.matcher.thresholds.lemma_sure):
        return None
    return Elsewhere(ChoiceRef("global", via), menu.choice(there.choice or ""), there.score)


def answer(flow: Flow, question: Question, said: str) -> Verdict | None:
    """The caller's reply to a clarifying question, or ``None`` when the reply is not about it
    (then it is heard as a fresh answer in the state: «нет, я про оплату» still routes).

    A confirmation takes «да»/«нет»; a choice between two takes «первое»/«второе», «да» when the
    caller just repeats one of them, or words of one candidate's label and phrases. «Нет» to a
    choice between two («ни то ни другое»), and «не знаю» to either question, ask in the open
    (``Declined``): the caller could not pick, which is no miss. «Нет» with a correction that names
    a choice («нет, у меня смс не приходит») is that choice."""
    text = normalize(said)
    said_words = [w for w in tokens(text) if w not in KEY_WORDS]
    words = [lemma(w) for w in said_words]
    if question.confirming:
        reply = slot_type("yesno").parse(text, False, Limits())
        if reply.valid and reply.value == "да":
            return Choose(question.candidates[0], 100.0)
        if reply.valid:
            # «нет, у меня смс не приходит»: the correction is the answer, when it names a choice
            fresh = speech(flow, question.state, said) if not _neither(words) else None
            return fresh if isinstance(fresh, (Choose, Clarify, Confirm, Elsewhere)) else Declined()
        return Declined() if only_unsure(text) else None
    if _neither(words) or only_unsure(text):
        return Declined()
    ordinals = {_ORDINALS[w] for pair in zip(said_words, words) for w in pair if w in _ORDINALS}
    if len(ordinals) == 1 and len(words) <= 3:
        return Choose(question.candidates[ordinals.pop()], 100.0)
    menu = flow.menu(question.state)
    if menu.matcher is not None:
        narrowed = menu.matcher.matcher.among(text, [c.key for c in question.candidates])
        if narrowed is not None:
            return Choose(menu.choice(narrowed), 100.0)
    return None


# «нет», «ни то ни другое», «никакое», «не то и не другое» after «А или Б?»: neither, so the caller is
# asked in the open (``flow.declined``) — «нет» used to be heard as a fresh answer and sat nearest the
# back command. A reply with any other word («нет, я про оплату») stays a fresh answer.
_NEITHER_WORDS = frozenset({"нет", "не", "ни", "никакой", "то", "тот", "другой", "и", "это"})
_NEITHER_SAYS = frozenset({"нет", "не", "ни", "никакой"})


def _neither(words: list[str]) -> bool:
    return bool(words) and set(words) <= _NEITHER_WORDS and bool(set(words) & _NEITHER_SAYS)


def carries(flow: Flow, target: str, said: str, reference: str) -> bool:
    """Whether the words that chose the option leading to ``target`` already hold a valid value
    for the slot it collects («СНИЛС сто двенадцать двести тридцать три…»). Only checked number
    types carry: free text would take «да, номер есть» for an answer."""
    collect = flow.states[target].collect if target in flow.states else None
    if collect is None or not slot_type(collect.type).keypad:
        return False
    limits = Limits(collect.min_digits, collect.max_digits, reference)
    return slot_type(collect.type).parse(said, False, limits).valid


def keys_in_collect(flow: Flow, state_name: str, keys: str) -> Verdict:
    """Keys pressed while a slot is collected: its digits, or a single command key (``0`` for the
    operator) — except that a digit is always a digit where the slot takes keypad digits."""
    collect = flow.states[state_name].collect
    assert collect is not None
    menu = flow.menu(state_name)
    if len(keys) == 1 and keys in menu.keys and not (slot_type(collect.type).keypad and keys.isdigit()):
        return Choose(menu.keys[keys], 100.0)
    return Fill(keys, keyed=True)


def key(flow: Flow, state_name: str, pressed: str, question: Question | None = None) -> Verdict:
    """One key pressed in a menu. Right after «А или Б?» in this state, 1 and 2 are the first and
    the second choice, as «один» and «два» said aloud are: a caller told «можно нажать кнопку»
    presses 1 for what was named first, not the menu's key 1."""
    if question is not None and question.state == state_name and not question.confirming:
        if pressed.isdigit() and 1 <= int(pressed) <= len(question.candidates):
            return Choose(question.candidates[int(pressed) - 1], 100.0)
    ref = flow.menu(state_name).keys.get(pressed)
    return Choose(ref, 100.0) if ref is not None else Miss("nomatch", pressed)
