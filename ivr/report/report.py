"""The call report: what the caller should have ready, what went wrong, and what to do next.

The point of a rehearsal is to leave it knowing exactly what to prepare, so the report lists every
checklist item as ready / invalid / missing, how the caller spoke (``coaching``: the problem
statement's length, filler words, how identifiers were dictated, a tip for each weakness), every
reprompt and its cause, the processing term and what to do if the problem is not solved. Personal
data are masked unless the user asked to keep them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ivr.engine.call import Call
from ivr.engine.records import SlotFilled, SlotValue
from ivr.errors import UserError
from ivr.oserrors import describe
from ivr.private_files import make_folder, write_private
from ivr.report import coaching
from ivr.report.coaching import MAX_PHRASES, count_phrases
from ivr.slots import slot_type
from ivr.slots.redact import Redactor

STATUS_WORDS = {"ready": "готово", "invalid": "неверно", "missing": "нет"}
CAUSE_WORDS = {"nomatch": "не понял ответ", "noinput": "молчание", "ambiguous": "ответ подходит к двум пунктам",
               "confirm": "переспросил, верно ли понял",
               "invalid": "неверное значение"}
_TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                     ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
                      "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"]))


@dataclass(frozen=True)
class ChecklistLine:
    item: str
    status: str  # ready | invalid | missing
    value: str | None
    note: str | None


def _slot_value(slot: SlotValue, keep: bool) -> str:
    if keep:
        return slot.display
    kind = slot_type(slot.kind)
    return kind.mask(slot.value or slot.display) if kind.personal else kind.mask(slot.display)


def redactor(call: Call) -> Redactor:
    """Knows every personal value the call collected, in the forms said and shown."""
    redact = Redactor()
    for turn in call.turns:
        if isinstance(turn.match, SlotFilled):
            redact.remember(turn.match.type, turn.match.value, turn.match.display, turn.input)
    return redact


def checklist(call: Call, keep: bool = False) -> list[ChecklistLine]:
    lines = []
    for entry in call.checklist:
        status, slot = call.item_status(entry)
        if slot is None:
            note = None if entry.slots else "подготовьте до звонка"
            lines.append(ChecklistLine(entry.item, status, None, note))
        else:
            note = slot.error if status == "invalid" else None
            lines.append(ChecklistLine(entry.item, status, _slot_value(slot, keep), note))
    return lines


def problem_statement(call: Call) -> dict | None:
    """How the caller stated the problem: the first measured slot (``collect.measure: true``)."""
    for turn in call.turns:
        if not isinstance(turn.match, SlotFilled):
            continue
        collect = call.flow.collects.get(turn.match.slot)
        if collect is None or not collect.measure:
            continue
        slot = call.slots[collect.slot]
        previous = call.turns[turn.n - 2].at if turn.n > 1 else call.started_at.isoformat()
        waited = (datetime.fromisoformat(turn.at) - datetime.fromisoformat(previous)).total_seconds()
        seconds = slot.seconds if slot.seconds is not None else waited
        phrases = slot.phrases if slot.phrases is not None else count_phrases(turn.input)
        return {"seconds": round(seconds, 1), "phrases": phrases, "words": len(turn.input.split()),
                "fits": phrases <= MAX_PHRASES}
    return None


def build(call: Call, keep_personal_data: bool = False) -> dict:
    keep = keep_personal_data
    redact = redactor(call)
    ended_at = datetime.fromisoformat(call.turns[-1].at) if call.turns else call.started_at
    return {
        "flow": call.flow.id,
        "title": call.flow.meta.title,
        "notice": call.flow.meta.notice or "Это тренажёр, а не настоящая линия: контакты и часы работы "
                                           "проверяйте на официальном сайте.",
        "started": call.started_at.isoformat(),
        "duration_s": round((ended_at - call.started_at).total_seconds(), 1),
        "topic": call.topic,
        "final_state": call.state,
        "ended": call.ended,
        "checklist": [line.__dict__ for line in checklist(call, keep)],
        "problem_statement": problem_statement(call),
        "coaching": coaching.coach(call).to_json(),
        "reprompts": [{"state": r.state, "cause": r.cause, "heard": r.input if keep else redact(r.input)}
                      for r in call.reprompts],
        "term": call.term,
        "reference": call.reference if call.reference_given else None,
        "if_unsolved": [call.render(t) if keep else redact.known(call.render(t)) for t in call.flow.meta.unsolved],
        "masked": not keep,
    }


def to_markdown(report: dict) -> str:
    lines = [f"# Отчёт о тренировочном звонке: {report['topic'] or 'тема не выбрана'}", "",
             f"Сценарий: {report['title']}. Начало: {report['started']}, длительность {_duration(report['duration_s'])}.",
             report["notice"], "",
             "## Что подготовить", ""]
    if not report["checklist"]:
        lines.append("Список не сформирован: звонок закончился до выбора темы.")
    for item in report["checklist"]:
        value = f" — {item['value']}" if item["value"] else ""
        note = f" ({item['note']})" if item["note"] else ""
        lines.append(f"- [{'x' if item['status'] == 'ready' else ' '}] {item['item']}: "
                     f"**{STATUS_WORDS[item['status']]}**{value}{note}")
    lines += ["", *coaching.to_markdown(report["coaching"])]
    lines += ["", "## Переспросы", ""]
    if not report["reprompts"]:
        lines.append("Ни одного — автоответчик понимал вас с первого раза.")
    for r in report["reprompts"]:
        heard = f" («{r['heard']}»)" if r["heard"] else ""
        lines.append(f"- {r['state']}: {CAUSE_WORDS.get(r['cause'], r['cause'])}{heard}")
    lines += ["", "## Сроки и дальнейшие шаги", ""]
    lines.append(f"Срок рассмотрения: {report['term'] or 'не определён для этой темы'}.")
    if report["reference"]:
        lines.append(f"Номер обращения в этом звонке: {report['reference']} (тренировочный).")
    for text in report["if_unsolved"]:
        lines.append(f"- {text}")
    if report["masked"]:
        lines += ["", "_Персональные данные замаскированы (--keep-personal-data, чтобы сохранить)._"]
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    """«3 мин 5 с», «42.0 с»; a call over in under a second (typed at once) is not «0.0 с»."""
    if seconds < 1:
        return "меньше секунды"
    if seconds < 60:
        return f"{seconds:.1f} с"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} мин {rest} с"


def slug(text: str | None) -> str:
    ascii_text = "".join(_TRANSLIT.get(ch, ch) for ch in (text or "no-topic").lower())
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:40] or "call"


def with_progress(report: dict, reports_dir: Path) -> dict:
    """The report with its coaching compared to the previous rehearsal of the same flow and topic
    in ``reports_dir`` (``coaching.progress``), when there is one."""
    previous = coaching.previous_report(reports_dir, report["flow"], report["topic"],
                                        datetime.fromisoformat(report["started"]))
    found = coaching.progress(previous, report) if previous is not None else None
    if found is not None:
        report["coaching"]["progress"] = found.to_json()
    return report


def write(call: Call, reports_dir: Path, keep_personal_data: bool = False) -> tuple[Path, Path]:
    report = with_progress(build(call, keep_personal_data), reports_dir)
    stem = reports_dir / f"{call.local_time(call.started_at):%Y%m%d-%H%M%S}-{slug(call.topic)}-{call.id}"
    md, js = stem.with_suffix(".md"), stem.with_suffix(".json")
    try:
        make_folder(reports_dir)
        write_private(md, to_markdown(report))
        write_private(js, json.dumps(report, ensure_ascii=False, indent=2))
    except OSError as err:
        raise UserError(f"{reports_dir}: не удаётся записать отчёт ({describe(err)}) — укажите другую "
                        "папку через --reports") from None
    return md, js


def progress_note(report_json: Path) -> str | None:
    """The «в прошлый раз …» line of a written report, for the screen at the end of the call."""
    try:
        found = json.loads(report_json.read_text(encoding="utf-8"))["coaching"].get("progress")
    except (OSError, ValueError, KeyError, AttributeError):
        return None
    return coaching.progress_line(found) if found else None
