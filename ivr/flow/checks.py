"""Cross-reference checks a structural schema cannot do: targets, menus, templates, schedules.

Each check returns problems phrased for the flow author ("what is wrong — what to write instead");
``ivr.flow.loader`` attaches the file positions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from ivr.flow import schema
from ivr.flow.conditions import CHOICE, ConditionError, Known, known_of, literal_of, parse
from ivr.flow.failure import ON_FAIL_NEXT, escalation_target, fail_route
from ivr.flow.hints import closest
from ivr.flow.model import Flow
from ivr.flow.templates import BUILTINS, PLACEHOLDER, lookup_data, named_schedule, placeholders, prompt_texts
from ivr.flow.yaml_source import Problem, Unreadable, preview
from ivr.keypad import KEYS
from ivr.understanding.confusable import Confusable, confusable_pairs
from ivr.understanding.matcher import has_words
from ivr.understanding.normalize import normalize
from ivr.understanding.plural import counted

HOURS_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)")
SLOT_RE = re.compile(r"[a-z_][a-z0-9_]*")


def check_flow(spec: schema.FlowFile, declared: set[str] | None = None) -> list[Problem]:
    """``declared``: every state name in the file, including states that failed the structure check
    (they are reported already; a reference to one must not be reported a second time)."""
    states = _States({**{n: None for n in declared or ()}, **spec.states})
    known = known_of(spec, set(states))
    slots = set(known.kinds or ())
    problems: list[Problem] = []
    problems += _check_meta(spec, states)
    for name, glob in spec.globals.items():
        problems += _check_global(name, glob, states)
    for name, state in spec.states.items():
        problems += _check_state(name, state, spec, slots, states)
        problems += _check_values(name, state, spec, known)
    problems += _check_templates(spec, slots)
    problems += _check_auto_cycles(spec.states)
    return problems


class _States(dict):
    """The flow's state names, with a budget of «did you mean» lookups: each scans every name, so
    8,000 missing targets in an 8,000-state file took 8.5 s; past the first hundred, a hint helps
    nobody."""

    hints_left = 100


def _target(path: tuple, target: str | None, states: _States) -> Iterator[Problem]:
    if target is None or target in states or isinstance(target, Unreadable):
        return
    guess = None
    if states.hints_left > 0:
        states.hints_left -= 1
        guess = closest(target, states)
    hint = f"возможно, «{guess}»" if guess else "добавьте его в states: или исправьте имя"
    yield Problem(path, f"{_dotted(path)}: нет состояния «{target}» — {hint}")


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def _check_meta(spec: schema.FlowFile, states: _States) -> Iterator[Problem]:
    meta = spec.flow
    yield from _target(("flow", "start"), meta.start, states)
    yield from _target(("flow", "escalate"), meta.escalate, states)
    if not _zone_exists(meta.timezone):
        zone = preview(meta.timezone, 60)
        yield Problem(("flow", "timezone"), f"flow.timezone: неизвестный часовой пояс «{zone}» — напишите, "
                                            "например, Europe/Moscow")
    if meta.hours is not None:
        yield from _check_schedule(spec, meta.hours, ("flow", "hours"), "flow.hours")


def _zone_exists(name: str) -> bool:
    """Whether ``name`` is an IANA time zone; any name a file can hold is an answer, never an error
    (ZoneInfo raises OSError for a folder such as "Europe" or a name too long for a file name)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        return False
    return True


_WEEK_HINT = ('в графике допустимы source, timezone, holidays и дни mon tue wed thu fri sat sun со '
              'значением "ЧЧ:ММ-ЧЧ:ММ" (несколько промежутков — через запятую)')


def _check_schedule(spec: schema.FlowFile, name: str, origin: tuple, field: str) -> Iterator[Problem]:
    """The data block ``name`` as a weekly schedule; ``origin`` is where it is named (flow.hours or
    a condition ``open <name>``), ``field`` how that place is called in the message."""
    block = spec.data.get(name)
    if block is None:
        yield Problem(origin, f"{field}: в data: нет блока «{preview(name, 60)}» — добавьте "
                              f"data.{name} с часами работы (mon: \"08:00-20:00\" …)")
        return
    if not isinstance(block, dict):
        yield Problem(("data", name), f"data.{name}: график должен быть набором полей, например "
                                      f"{{mon: \"08:00-20:00\", sat: \"09:00-18:00\"}} — {_WEEK_HINT}")
        return
    try:
        sched = schema.Schedule.model_validate(block)
    except ValidationError as err:
        for e in err.errors():
            if isinstance(e.get("input"), Unreadable):
                continue
            loc = ("data", name, *e["loc"])
            key = e["loc"][0] if e["loc"] else ""
            if e["type"] == "extra_forbidden":
                message = f"неизвестное поле «{preview(str(key), 60)}» — {_WEEK_HINT}"
            elif key in ("source", "timezone"):
                message = "здесь нужен текст в кавычках"
            elif key == "holidays":
                message = "праздничные дни — список дат: holidays: [2026-12-31, 2027-01-01]"
            else:
                message = 'напишите часы текстом в кавычках: "08:00-20:00" или "08:00-12:00, 13:00-20:00"'
            yield Problem(loc, f"{_dotted(loc)}: {message}")
        return
    if sched.timezone is not None and not _zone_exists(sched.timezone):
        yield Problem(("data", name, "timezone"), f"data.{name}.timezone: неизвестный часовой пояс "
                                                  f"«{preview(sched.timezone, 60)}» — напишите, например, "
                                                  "Europe/Moscow, или уберите поле (будет flow.timezone)")
    for day in schema.DAYS:
        spans = getattr(sched, day) or []
        bad = [v for v in spans if not HOURS_RE.fullmatch(v) or v[:5] >= v[6:]]
        if bad:
            yield Problem(("data", name, day), f"data.{name}.{day}: «{preview(bad[0], 60)}» — напишите часы как "
                                               "\"08:00-20:00\" (начало раньше конца, конец не позже 24:00), "
                                               "несколько промежутков — через запятую")
            continue
        ordered = sorted(spans)
        for first, second in zip(ordered, ordered[1:]):
            if second[:5] < first[6:]:
                yield Problem(("data", name, day), f"data.{name}.{day}: промежутки {first} и {second} "
                                                   "пересекаются — объедините их или исправьте время")


def _check_global(name: str, glob: schema.Global, states: _States) -> Iterator[Problem]:
    path = ("globals", name)
    if (glob.goto is None) == (glob.action is None):
        yield Problem(path, f"globals.{name}: укажите ровно одно — goto: <состояние> или "
                            "action: repeat | back")
    if not glob.keys and not glob.phrases:
        yield Problem(path, f"globals.{name}: команду нельзя вызвать — добавьте keys: или phrases:")
    yield from _check_keys(path, glob.keys)
    yield from _check_phrases(path, glob.phrases)
    yield from _check_phrases(path, glob.examples, "examples")
    yield from _target((*path, "goto"), glob.goto, states)


def _check_phrases(path: tuple, phrases: list[str], field: str = "phrases") -> Iterator[Problem]:
    for i, phrase in enumerate(phrases):
        if not has_words(phrase):
            yield Problem((*path, field, i), f"{_dotted(path)}.{field}: во фразе «{phrase}» нет слов, "
                                             "по которым можно узнать ответ — напишите слово или фразу")


def _check_keys(path: tuple, keys: list[str]) -> Iterator[Problem]:
    for i, key in enumerate(keys):
        if len(key) != 1 or key not in KEYS:
            yield Problem((*path, "keys", i), f"{_dotted(path)}.keys: «{key}» не клавиша телефона — "
                                              "одна из 0–9, * или #")


def _enabled_globals(state: schema.State, spec: schema.FlowFile) -> dict[str, schema.Global]:
    if state.globals is True:
        return dict(spec.globals)
    if state.globals is False:
        return {}
    return {g: spec.globals[g] for g in state.globals if g in spec.globals}


def _check_state(name: str, state: schema.State, spec: schema.FlowFile, slots: set,
                 states: _States) -> Iterator[Problem]:
    path = ("states", name)
    waits = bool(state.options or state.collect)
    if state.options and state.collect:
        yield Problem(path, f"states.{name}: и options, и collect в одном состоянии — разделите на два "
                            "состояния")
    if state.options and state.next:
        # the engine waits for an answer in a menu and never follows its next: say so, not drop it
        yield Problem((*path, "next"), f"states.{name}: и options, и next в одном состоянии — next "
                                       "никогда не сработает, звонок ждёт выбора пункта; уберите next "
                                       "или вынесите меню в отдельное состояние, куда ведёт этот next")
    if state.end and (waits or state.next):
        yield Problem(path, f"states.{name}: конечное состояние (end: true) не может иметь options, "
                            "collect или next — уберите их или end")
    if not (waits or state.next or state.end):
        yield Problem(path, f"states.{name}: из состояния нет выхода — добавьте options:, collect:, "
                            "next: или end: true")
    if not state.say and (state.end or (waits and state.step is None)):
        yield Problem(path, f"states.{name}: нет текста для звонящего — добавьте say: \"…\"")
    if state.step is not None:
        if not waits:
            yield Problem((*path, "step"), f"states.{name}.step: шаг звонящего — это состояние, которое "
                                           "ждёт его: добавьте options: или collect:")
        if not state.noinput:
            yield Problem((*path, "step"), f"states.{name}.step: нет подсказки на случай молчания — "
                                           "добавьте noinput: [\"…\"] (что сказать, если звонящий не "
                                           "сделал шаг сам)")
    for i, option in enumerate(state.options):
        if option.skips_step and state.step is None:
            yield Problem((*path, "options", i, "skips_step"), f"states.{name}: skips_step — только в "
                                                                "состоянии со step: — уберите его или "
                                                                "добавьте step:")
        if option.early and (state.step is None or option.skips_step):
            yield Problem((*path, "options", i, "early"), f"states.{name}: early — только у пункта, "
                                                           "который делает шаг (в состоянии со step:, "
                                                           "без skips_step) — уберите early")
    if isinstance(state.globals, tuple):
        for g in state.globals:
            if g not in spec.globals:
                guess = closest(g, spec.globals)
                hint = f"возможно, «{guess}»" if guess else "объявите её в globals:"
                yield Problem((*path, "globals"), f"states.{name}.globals: нет глобальной команды "
                                                  f"«{g}» — {hint}")
    yield from _check_phrases(path, state.examples, "examples")
    yield from _check_menu(path, state, spec, states)
    for i, branch in enumerate(state.next):
        bpath = (*path, "next", i)
        yield from _target((*bpath, "goto"), branch.goto, states)
        if branch.if_ is None and i != len(state.next) - 1:
            yield Problem(bpath, f"states.{name}.next: ветка без if должна быть последней — "
                                 "ветки после неё никогда не сработают")
    if state.next and state.next[-1].if_ is not None:
        yield Problem((*path, "next"), f"states.{name}.next: добавьте последнюю ветку без if "
                                       "(«- goto: …»), иначе звонок может застрять")
    yield from _target((*path, "escalate"), state.escalate, states)
    if state.collect is not None:
        cpath = (*path, "collect")
        if state.collect.on_fail != ON_FAIL_NEXT:
            yield from _target((*cpath, "on_fail"), state.collect.on_fail, states)
        elif not state.next:
            yield Problem((*cpath, "on_fail"), f"states.{name}.collect.on_fail: «next» — идти дальше по next, "
                                               "а next у состояния нет; добавьте next: или укажите состояние")
        if fail_route(state, spec) is None:
            yield Problem(cpath, f"states.{name}.collect: некуда идти, если значение так и не получено после "
                                 f"{counted(state.retries or spec.flow.retries, 'попытка', 'gent')} — добавьте "
                                 "on_fail: <состояние> (например, оператор), on_fail: next (идти дальше без "
                                 "значения, в репликах — «не указано») или flow.escalate")
        if not state.next:
            yield Problem(cpath, f"states.{name}: после collect нужен next: — куда идти, когда "
                                 "значение получено")
        low, high = state.collect.min_digits, state.collect.max_digits
        limits = low is not None or high is not None
        if limits and state.collect.type not in ("digits", "number", "reference"):
            yield Problem(cpath, f"states.{name}.collect: min_digits/max_digits только для type: digits "
                                 f"или number, а здесь {state.collect.type}")
        elif low is not None and high is not None and low > high:
            yield Problem((*cpath, "min_digits"), f"states.{name}.collect: min_digits ({low}) больше "
                                                  f"max_digits ({high}) — никакое значение не подойдёт; "
                                                  "поменяйте их местами")
        yield from _check_slot_name((*cpath, "slot"), state.collect.slot)
        if state.collect.when is not None and state.collect.type != "date":
            yield Problem((*cpath, "when"), f"states.{name}.collect.when: только для type: date, а здесь "
                                            f"{state.collect.type} — уберите when")
    for i, item in enumerate(state.checklist):
        for slot in item.slot:
            if slot not in slots:
                yield Problem((*path, "checklist", i), f"states.{name}.checklist: нет слота «{slot}» — "
                                                       "его должен собирать какой-то collect (или задавать "
                                                       "set:, store:)")


def _check_condition(path: tuple, cond: str, spec: schema.FlowFile, known: Known) -> Iterator[Problem]:
    try:
        parsed = parse(cond, known)
    except ConditionError as err:
        yield Problem((*path, "if"), f"{_dotted(path)}.if: условие «{preview(cond, 80)}»: {err}")
        return
    for name in sorted(parsed.schedules()):
        if name != spec.flow.hours:
            yield from _check_schedule(spec, name, (*path, "if"), f"{_dotted(path)}.if")


def _check_values(name: str, state: schema.State, spec: schema.FlowFile, known: Known) -> Iterator[Problem]:
    """Conditions of ``next`` branches, ``set:`` and ``store:``: each names a slot the flow has and
    a value that slot can hold."""
    path = ("states", name)
    for i, branch in enumerate(state.next):
        if branch.if_ is not None and not isinstance(branch.if_, Unreadable):
            yield from _check_condition((*path, "next", i), branch.if_, spec, known)
    kinds = known.kinds or {}
    if state.store is not None:
        spath = (*path, "store")
        yield from _check_slot_name(spath, state.store)
        if not state.options:
            yield Problem(spath, f"states.{name}.store: запоминать нечего — store: записывает id выбранного "
                                 "пункта меню, а у состояния нет options")
        elif state.store in _collected(spec):
            yield Problem(spath, f"states.{name}.store: слот «{state.store}» уже собирает collect — "
                                 f"назовите слот выбора иначе, например «{state.store}_choice»")
    sets: list[tuple[tuple, str, str]] = [((*path, "set", slot), slot, value) for slot, value in state.set.items()]
    for j, option in enumerate(state.options):
        sets += [((*path, "options", j, "set", slot), slot, value) for slot, value in option.set.items()]
    for spath, slot, value in sets:
        if not isinstance(slot, str) or not SLOT_RE.fullmatch(slot) or slot in BUILTINS:
            yield from _check_slot_name(spath, slot)
            continue
        kind = kinds.get(slot, "text")
        if kind in ("text", CHOICE):
            continue
        try:
            literal_of(kind, value, slot)
        except ConditionError as err:
            yield Problem(spath, f"{_dotted(spath)}: {err}")


def _collected(spec: schema.FlowFile) -> set[str]:
    return {s.collect.slot for s in spec.states.values() if s.collect}


def _check_slot_name(path: tuple, slot: str) -> Iterator[Problem]:
    if isinstance(slot, Unreadable):
        return
    if not SLOT_RE.fullmatch(slot):
        yield Problem(path, f"{_dotted(path)}: имя слота «{preview(slot, 60)}» — используйте латинские "
                            "строчные буквы, цифры и «_», начиная с буквы: оно пишется в {…} и в условиях")
    elif slot in BUILTINS:
        yield Problem(path, f"{_dotted(path)}: «{slot}» — это встроенная подстановка {{{slot}}}; назовите "
                            f"слот иначе, например «{slot}_value»")


def _check_menu(path: tuple, state: schema.State, spec: schema.FlowFile, states: _States) -> Iterator[Problem]:
    name = path[-1]
    ids: dict[str, int] = {}
    keys: dict[str, str] = {}
    phrases: dict[str, str] = {}
    if state.options:
        for gname, glob in _enabled_globals(state, spec).items():
            for key in glob.keys:
                keys[key] = f"глобальной команды «{gname}»"
    for i, option in enumerate(state.options):
        opath = (*path, "options", i)
        if option.id in ids:
            yield Problem((*opath, "id"), f"states.{name}: пункт меню «{option.id}» уже есть — дайте "
                                          "пунктам разные id")
        ids[option.id] = i
        yield from _check_option_id((*opath, "id"), name, option.id)
        if not option.keys and not option.phrases:
            yield Problem(opath, f"states.{name}.options.{option.id}: пункт нельзя выбрать — добавьте "
                                 "keys: или phrases:")
        yield from _check_keys(opath, option.keys)
        yield from _check_phrases(opath, option.phrases)
        yield from _check_phrases(opath, option.examples, "examples")
        for key in option.keys:
            if key in keys:
                yield Problem((*opath, "keys"), f"states.{name}: клавиша «{key}» уже занята для "
                                                f"{keys[key]} — выберите другую")
            keys.setdefault(key, f"пункта «{option.id}»")
        for phrase in option.phrases:
            norm = normalize(phrase)
            if norm in phrases and phrases[norm] != option.id:
                yield Problem((*opath, "phrases"), f"states.{name}: фраза «{phrase}» есть и у пункта "
                                                   f"«{phrases[norm]}» — звонящего нельзя будет понять "
                                                   "однозначно; оставьте её у одного пункта")
            phrases.setdefault(norm, option.id)
        yield from _target((*opath, "goto"), option.goto, states)


def _check_option_id(path: tuple, state: str, oid: str) -> Iterator[Problem]:
    if isinstance(oid, Unreadable):
        return
    if not oid.strip():
        yield Problem(path, f"states.{state}: пустой id пункта — назовите пункт, например «renew»")


_BRACES = re.compile(r"\{[^{}]*\}|[{}]")


def _check_templates(spec: schema.FlowFile, slots: set) -> Iterator[Problem]:
    known = sorted(BUILTINS | slots)
    for path, text in prompt_texts(spec):
        for stray in _BRACES.findall(PLACEHOLDER.sub("", text)):
            what = (f"непонятная подстановка «{preview(stray, 60)}»" if len(stray) > 1
                    else f"лишняя фигурная скобка «{stray}»")
            yield Problem(path, f"{_dotted(path)}: {what} — в фигурных скобках пишется имя слота "
                                "латиницей, {data.блок.поле} или встроенная подстановка вроде {menu_hint}; "
                                "сами скобки звонящему не произносятся")
        for ref in placeholders(text):
            if ref.startswith("data."):
                parts = ref[5:].split(".")
                if not all(parts):
                    yield Problem(path, f"{_dotted(path)}: подстановка {{{ref}}} неполная — напишите "
                                        "{data.блок.поле}")
                    continue
                try:
                    value = lookup_data(spec.data, ref[5:])
                except KeyError:
                    yield Problem(path, f"{_dotted(path)}: в data нет «{ref[5:]}» — проверьте путь "
                                        "{data.блок.поле}")
                    continue
                if not _speakable(value):
                    yield Problem(path, f"{_dotted(path)}: {{{ref}}} — это не текст и не число, "
                                        "звонящему его не прочитать; укажите поле внутри: {data.блок.поле}")
                continue
            if ref in BUILTINS or ref in slots:
                continue
            if named := named_schedule(ref):
                yield from _check_schedule(spec, named[1], path, f"{_dotted(path)}: {{{ref}}}")
                continue
            guess = closest(ref, known)
            hint = f"возможно, {{{guess}}}" if guess else (
                "это должен быть слот из collect, {data.…} или одно из: " + ", ".join(sorted(BUILTINS)))
            yield Problem(path, f"{_dotted(path)}: неизвестная подстановка {{{ref}}} — {hint}")


def _speakable(value: object) -> bool:
    """What a prompt can say: text, a number or a date, or a list of those (read with commas)."""
    if isinstance(value, list):
        return all(_speakable(v) and not isinstance(v, list) for v in value)
    return value is not None and not isinstance(value, (bool, dict, bytes))


def _check_auto_cycles(states: dict[str, schema.State]) -> Iterator[Problem]:
    """States that only pass the call on (``next`` without waiting) must not loop forever.

    An iterative depth-first search over those states; a back edge is a loop. Linear in the flow's
    size, so a generated 1,000-state flow still loads fast.
    """
    passing = {n: [b.goto for b in s.next] for n, s in states.items()
               if s.next and not (s.options or s.collect)}
    done: set[str] = set()
    for root in passing:
        if root in done:
            continue
        trail = [root]
        on_trail = {root}  # membership in O(1): a 40,000-state chain took 14.5 s with `in trail`
        stack = [iter(passing[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                left = trail.pop()
                on_trail.discard(left)
                done.add(left)
                stack.pop()
            elif nxt in on_trail:
                loop = " → ".join((*trail[trail.index(nxt):], nxt))
                yield Problem(("states", nxt, "next"), f"states.{nxt}.next: звонок зациклится без ответа "
                                                       f"звонящего ({loop}) — добавьте в цикл состояние "
                                                       "с options или collect")
            elif nxt in passing and nxt not in done:
                trail.append(nxt)
                on_trail.add(nxt)
                stack.append(iter(passing[nxt]))


def confusable_warnings(flow: Flow, meaning: bool = True) -> list[Problem]:
    """Warnings, not errors: two choices of one menu (options, or an option and an enabled global
    command) whose phrases the router cannot tell apart. The flow still loads and runs; the caller
    would only be asked again or sent to the wrong one of the two.

    Two global commands are compared once, among themselves (they are heard in every state that
    enables them, collects included), not again in each menu. Each warning stands at the phrase
    to rephrase: the option's in a menu, the later command's among globals."""
    warnings = []
    commands = {f"команда «{g}»": _said(flow, glob) for g, glob in flow.globals.items() if glob.phrases}
    where = {f"команда «{g}»": ("globals", g) for g in flow.globals}
    for pair in confusable_pairs(commands, meaning=meaning, shipped=flow.vector_store):
        warnings.append(_confusable("globals", pair, _phrase_path(flow, where[pair.choice_b], pair.phrase_b)))
    for name, state in flow.states.items():
        if not state.options:
            continue
        enabled = flow.enabled_globals(name)
        choices = {f"пункт «{o.id}»": _said(flow, o) for o in state.options if o.phrases}
        places = {f"пункт «{o.id}»": ("states", name, "options", i) for i, o in enumerate(state.options)}
        choices |= {f"команда «{g}»": _said(flow, glob) for g, glob in enabled.items() if glob.phrases}
        for pair in confusable_pairs(choices, meaning=meaning, shipped=flow.vector_store):
            if pair.choice_a not in places and pair.choice_b not in places:
                continue  # two commands: reported once, above
            choice, phrase = ((pair.choice_b, pair.phrase_b) if pair.choice_b in places
                              else (pair.choice_a, pair.phrase_a))
            warnings.append(_confusable(f"states.{name}", pair, _phrase_path(flow, places[choice], phrase)))
    return warnings


def _said(flow: Flow, choice: schema.Option | schema.Global) -> tuple[str, ...]:
    """What a caller may say for a choice: its phrases and examples, and the examples of the state
    it leads to (the router weighs all of them)."""
    return (*choice.phrases, *choice.examples, *flow.state_examples(choice.goto))


def _phrase_path(flow: Flow, owner: tuple, phrase: str) -> tuple:
    """The file path of ``phrase`` among the phrases or examples of an option or a global command
    (or of the state it leads to)."""
    choice = flow.globals[owner[1]] if owner[0] == "globals" else flow.states[owner[1]].options[owner[3]]
    for field in ("phrases", "examples"):
        texts = getattr(choice, field)
        if phrase in texts:
            return (*owner, field, texts.index(phrase))
    target = flow.states.get(choice.goto) if choice.goto else None
    if target is not None and phrase in target.examples:
        return ("states", choice.goto, "examples", target.examples.index(phrase))
    return owner


def _confusable(where: str, pair: Confusable, path: tuple) -> Problem:
    how = ("совпадают по словам" if pair.similarity is None
           else f"почти одинаковы по смыслу ({pair.similarity:.2f})")
    return Problem(path, f"{where}: фразы «{pair.phrase_a}» ({pair.choice_a}) и «{pair.phrase_b}» "
                         f"({pair.choice_b}) {how} — звонящего переспросят или поймут неверно; "
                         "переформулируйте одну из них")


# ------------------------------------------------------------------ graph warnings
# Found by walking the flow as a call can: the flow still loads and runs, so these are warnings
# that ``ivr check`` prints with their positions; each one is a call that goes wrong (a state no
# caller reaches, a menu a caller cannot leave forward, a prompt that reads a slot never asked).


def _on_fail(state: schema.State) -> str | None:
    """The state a collect's ``on_fail`` names (``on_fail: next`` names none)."""
    target = state.collect.on_fail if state.collect else None
    return None if target == ON_FAIL_NEXT else target


def _forward(state: schema.State) -> list[str]:
    """Where the caller's own answers (or the flow itself) take the call from a state: options,
    ``next`` branches, a collect's failure route — not global commands, not escalation."""
    targets = [o.goto for o in state.options] + [b.goto for b in state.next]
    if target := _on_fail(state):
        targets.append(target)
    return targets


def _successors(name: str, spec: schema.FlowFile, skip_if: str | None = None) -> Iterator[str]:
    """Every state a call can go to from ``name``: forward moves, escalation and the targets of the
    global commands enabled there. ``skip_if``: leave out ``next`` branches with this condition."""
    state = spec.states[name]
    yield from (o.goto for o in state.options)
    yield from (b.goto for b in state.next if skip_if is None or b.if_ != skip_if)
    if fail := _on_fail(state):
        yield fail
    target = escalation_target(state, spec)
    if target:
        yield target
    for glob in _enabled_globals(state, spec).values():
        if glob.goto:
            yield glob.goto


def _walk(spec: schema.FlowFile, blocked: frozenset[str] = frozenset(),
          skip_if: str | None = None) -> dict[str, str | None]:
    """Breadth-first from ``flow.start`` without passing through ``blocked`` states: each state
    entered, with the state it was first entered from (None for the start). A blocked state is
    entered but not left."""
    start = spec.flow.start
    if start not in spec.states:
        return {}
    parent: dict[str, str | None] = {start: None}
    queue = [start]
    for name in queue:
        if name in blocked:
            continue
        for target in _successors(name, spec, skip_if):
            if target in spec.states and target not in parent:
                parent[target] = name
                queue.append(target)
    return parent


def _dominators(spec: schema.FlowFile) -> dict[str, str]:
    """Each reachable state's immediate dominator (the start's is itself): the last state every
    way from the start to it passes. Cooper, Harvey & Kennedy's iterative algorithm over reverse
    postorder — near-linear, so the slot check walks the graph again only for a slot whose collect
    does not dominate its uses (one walk per slot made a 5,000-slot flow take 45 s)."""
    start = spec.flow.start
    if start not in spec.states:
        return {}
    succ = {n: [t for t in dict.fromkeys(_successors(n, spec)) if t in spec.states] for n in spec.states}
    order: list[str] = []
    seen = {start}
    stack = [(start, iter(succ[start]))]
    while stack:
        name, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            order.append(name)
            stack.pop()
        elif nxt not in seen:
            seen.add(nxt)
            stack.append((nxt, iter(succ[nxt])))
    order.reverse()
    rank = {n: i for i, n in enumerate(order)}
    preds: dict[str, list[str]] = {n: [] for n in order}
    for name in order:
        for target in succ[name]:
            preds[target].append(name)
    idom = {start: start}
    changed = True
    while changed:
        changed = False
        for name in order[1:]:
            # deepest first: a state reached from everywhere (the operator, by a global command)
            # has a predecessor at every depth, and taken in this order the two fingers below
            # only ever climb a step — in file order they climbed the whole chain each time
            done = sorted((p for p in preds[name] if p in idom and p != name), key=rank.__getitem__,
                          reverse=True)
            new = done[0]
            for other in done[1:]:
                if new == start:
                    break  # nothing lies above the start: the other predecessors cannot change it
                a, b = new, other
                while a != b:
                    while rank[a] > rank[b]:
                        a = idom[a]
                    while rank[b] > rank[a]:
                        b = idom[b]
                new = a
            if idom.get(name) != new:
                idom[name] = new
                changed = True
    return idom


class _Dominance:
    """«Does every way from the start to B pass A?» in constant time: the dominator tree numbered
    on entry and exit, so A dominates B when B's numbers lie within A's (walking up the tree for
    each question was quadratic again on a long chain)."""

    def __init__(self, idom: dict[str, str]):
        children: dict[str, list[str]] = {}
        root = None
        for name, up in idom.items():
            if up == name:
                root = name
            else:
                children.setdefault(up, []).append(name)
        self.span: dict[str, tuple[int, int]] = {}
        if root is None:
            return
        clock = 0
        first = {root: 0}
        stack = [(root, iter(children.get(root, ())))]
        while stack:
            name, it = stack[-1]
            child = next(it, None)
            if child is None:
                self.span[name] = (first[name], clock)
                stack.pop()
            else:
                clock += 1
                first[child] = clock
                stack.append((child, iter(children.get(child, ()))))

    def dominates(self, above: str, name: str) -> bool:
        """Unreachable ``name``: True — it is reported as unreachable, not as an early slot."""
        inner, outer = self.span.get(name), self.span.get(above)
        if inner is None:
            return True
        return outer is not None and outer[0] <= inner[0] and inner[1] <= outer[1]


def _route(parent: dict[str, str | None], name: str, longest: int = 8) -> str:
    """The way a call comes from the start to ``name``, «main → auth → … → confirm»."""
    way = [name]
    while (up := parent[way[-1]]) is not None:
        way.append(up)
    way.reverse()
    if len(way) > longest:
        way = [*way[:2], "…", *way[-(longest - 3):]]
    return " → ".join(way)


def graph_warnings(spec: schema.FlowFile) -> list[Problem]:
    """Warnings about how calls move through a flow that loaded without errors."""
    reached = _walk(spec)
    problems = list(_unreachable(spec, reached))
    problems += _trapped_menus(spec, reached)
    problems += _slots_before_collect(spec)
    return problems


def _state_texts(spec: schema.FlowFile) -> Iterator[tuple[str, tuple, str]]:
    """Every prompt a state can say, with the state it is said in."""
    for path, text in prompt_texts(spec):
        if path[0] == "states":
            yield str(path[1]), path, text


def _slots_before_collect(spec: schema.FlowFile) -> Iterator[Problem]:
    """A prompt that says ``{slot}`` in a state the call can enter before any state collecting
    that slot: the walk from the start with the collecting states closed off (a ``next`` branch
    ``if: has <slot>`` is not a way in — it is taken only with the value). The engine says
    «не указано» there; the author most likely meant to ask first. Global commands' texts are
    checked in every state where the command is enabled."""
    collectors: dict[str, set[str]] = {}
    for name, state in spec.states.items():
        given = [state.collect.slot] if state.collect else []
        given += [state.store] if state.store else []
        given += [*state.set, *(slot for o in state.options for slot in o.set)]
        for slot in given:
            collectors.setdefault(slot, set()).add(name)
    # a state's own set: is given on entering, before its prompts: those may say it
    on_entry = {(slot, name) for name, state in spec.states.items() for slot in state.set}
    uses: dict[str, list[tuple[str, tuple]]] = {}
    for name, path, text in _state_texts(spec):
        for ref in dict.fromkeys(placeholders(text)):
            if ref in collectors:
                uses.setdefault(ref, []).append((name, path))
    for gname, glob in spec.globals.items():
        for i, text in enumerate(glob.say):
            for ref in dict.fromkeys(placeholders(text)):
                if ref in collectors:
                    uses.setdefault(ref, []).extend(
                        (name, ("globals", gname, "say", i)) for name, state in spec.states.items()
                        if gname in _enabled_globals(state, spec))
    dominance = _Dominance(_dominators(spec))
    for slot, places in uses.items():
        where = collectors[slot]
        if len(where) == 1 and all(dominance.dominates(next(iter(where)), name) and name not in where
                                   for name, _ in places):
            continue  # every way to every use passes the collect: no walk needed
        entered = _walk(spec, frozenset(where), skip_if=f"has {slot}")
        said: set[tuple] = set()
        for name, path in places:
            if name not in entered or path in said or (slot, name) in on_entry:
                continue
            said.add(path)
            asked = ", ".join(sorted(where))
            yield Problem(path, f"{_dotted(path)}: {{{slot}}} может прозвучать до того, как слот собран — "
                                f"звонок попадает в {name} путём {_route(entered, name)}, минуя {asked} "
                                f"(collect.slot: {slot}); звонящий услышит «не указано». Соберите слот "
                                f"раньше на этом пути, поставьте ветку next с if: has {slot} "
                                f"или уберите {{{slot}}} из этой реплики")


def _trapped_menus(spec: schema.FlowFile, reached: dict[str, str | None]) -> Iterator[Problem]:
    """Menus from which the caller's answers never lead to an end of the call: every option comes
    back round (to this menu or another such loop), so only a global command gets the call out.
    One backward sweep from the ending states over forward moves: linear in the flow's size."""
    into: dict[str, list[str]] = {}
    for name, state in spec.states.items():
        for target in _forward(state):
            into.setdefault(target, []).append(name)
    ending = [n for n, s in spec.states.items() if s.end]
    can_end = set(ending)
    for name in ending:
        for source in into.get(name, ()):
            if source not in can_end:
                can_end.add(source)
                ending.append(source)
    for name, state in spec.states.items():
        if state.options and name in reached and name not in can_end:
            targets = ", ".join(dict.fromkeys(o.goto for o in state.options))
            yield Problem(("states", name, "options"),
                          f"states.{name}: из меню не выйти вперёд — пункты ведут только по кругу "
                          f"(в {targets}) и ни один путь не доходит до конца звонка (end: true), "
                          "выйти можно лишь глобальной командой; направьте хотя бы один пункт дальше")


def _unreachable(spec: schema.FlowFile, reached: dict[str, str | None]) -> Iterator[Problem]:
    for name in spec.states:
        if name not in reached:
            yield Problem(("states", name), f"states.{name}: в это состояние не попасть — к нему не ведёт "
                                            f"ни один путь от flow.start ({spec.flow.start}): ни пункт меню, "
                                            "ни next, ни on_fail, ни escalate, ни глобальная команда; "
                                            "направьте сюда переход или удалите состояние")


def flow_warnings(flow: Flow, meaning: bool = True) -> list[Problem]:
    """Everything ``ivr check`` warns about in a loaded flow, with file positions, in file order."""
    found = graph_warnings(flow.spec) + confusable_warnings(flow, meaning=meaning)
    placed = [Problem(p.path, p.message, flow.position(p.path)) for p in found]
    return sorted(placed, key=lambda p: p.pos.order() if p.pos else (False, "", 0, 0))


def failure_notes(flow: Flow) -> list[Problem]:
    """Not warnings: where each collect without a failure route of its own goes when its tries run
    out (the flow's escalation), so the author sees the default instead of guessing it."""
    notes = []
    for name, state in flow.states.items():
        route = fail_route(state, flow.spec)
        if route is None or not route.implicit:
            continue
        tries = counted(state.retries or flow.meta.retries, "попытка", "gent")
        said = " ".join(flow.meta.collect_failed)
        path = ("states", name, "collect")
        notes.append(Problem(path, f"states.{name}.collect: если значение не получено после {tries}, звонок "
                                   f"уйдёт в {route.target} (flow.escalate) со словами «{said}»; иначе — "
                                   "on_fail: <состояние> или on_fail: next", flow.position(path)))
    return notes
