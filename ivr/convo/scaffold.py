"""``ivr new NAME``: the first two files of a new flow — a small flow that passes ``ivr check`` and a
convo test that passes ``ivr test`` — so an author starts from something that runs and grows it,
instead of from an empty file and the format description.

Nothing existing is ever overwritten: both paths are checked before either is written, and the
files are created exclusively (a file appearing in between is refused too).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ivr.convo.json_schema import shipped_path
from ivr.errors import UserError
from ivr.oserrors import describe

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")  # the flow id rule (FlowMeta.id), also a safe file name
MORNING = "2026-11-25T10:00:00+03:00"  # a weekday morning: the convo does not depend on today

FLOW = """\
{schema}# Новый сценарий: меню (кнопки и фразы), сбор значения и конец звонка.
# Формат — docs/flow-format.md; проверка — ivr check {flow_path}; звонок текстом — ivr chat {flow_path}.
flow:
  id: {name}
  title: "{name}"
  start: main
  escalate: operator              # куда ведёт меню после трёх непонятых ответов подряд

globals:
  operator: {{keys: "0", phrases: ["оператор", "соедините с оператором"], goto: operator}}
  repeat:   {{keys: "*", phrases: ["повторить", "еще раз"], action: repeat}}

states:
  main:
    say: "Здравствуйте! Записаться — нажмите 1 или скажите «записаться». Часы работы — 2. Оператор — 0."
    options:
      - {{id: signup, keys: "1", phrases: ["записаться", "хочу записаться"], label: "запись", goto: ask_phone}}
      - {{id: hours, keys: "2", phrases: ["часы работы", "когда вы работаете"], label: "часы работы", goto: hours}}
    nomatch: ["Не понял. Скажите «записаться» или «часы работы».", "Нажмите 1 или 2."]

  ask_phone:
    say: "Назовите ваш номер телефона."
    topic: "Запись"
    checklist: [{{item: "Номер телефона", slot: phone}}]
    collect: {{slot: phone, type: phone, on_fail: operator}}
    next: done

  done:
    say: "Спасибо! Мы позвоним на номер {{phone}}. До свидания!"
    end: true

  hours:
    say: "Мы работаем по будням с девяти до восемнадцати. До свидания!"
    end: true

  operator:
    say: "Соединяю с оператором."
    end: true
"""

CONVO = """\
{schema}# Проверочный разговор сценария {name}: запуск — ivr test {convo_dir}
flow: {flow_rel}
now: "{now}"
turns:
  - expect: {{state: main, says: ["записаться"]}}
  - caller: "хочу записаться"
    expect: {{state: ask_phone, match: signup}}
  - caller: "плюс семь девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять"
    expect: {{state: done, slots: {{phone: "+79123456789"}}, says: ["+7 912 345-67-89"], ended: true}}
"""


@dataclass(frozen=True)
class Scaffold:
    flow: Path
    convo: Path


def scaffold(name: str, flows_dir: Path, convo_dir: Path | None = None) -> Scaffold:
    """Write ``flows_dir/NAME.yaml`` and ``convo_dir/basic.yaml`` (``tests/convos/NAME`` by default)."""
    if not NAME_RE.match(name):
        raise UserError(
            f"«{name}» не годится как имя сценария — нужны строчные латинские буквы, цифры, «_» или «-», "
            "первая — буква: ivr new polyclinic"
        )
    convo_dir = convo_dir if convo_dir is not None else Path("tests") / "convos" / name
    made = Scaffold(flows_dir / f"{name}.yaml", convo_dir / "basic.yaml")
    for path in (made.flow, made.convo):
        if path.exists() or path.is_symlink():
            raise UserError(
                f"{path}: файл уже есть — ivr new ничего не перезаписывает; выберите другое имя или папку"
            )
    flow_text = FLOW.format(name=name, flow_path=made.flow, schema=_schema_line("flow", made.flow))
    convo_text = CONVO.format(
        name=name,
        convo_dir=convo_dir,
        flow_rel=os.path.relpath(made.flow.absolute(), made.convo.parent.absolute()),
        now=MORNING,
        schema=_schema_line("convo", made.convo),
    )
    _create(made.flow, flow_text)
    try:
        _create(made.convo, convo_text)
    except UserError:
        made.flow.unlink()  # both or neither: a half scaffold would block the next attempt
        raise
    return made


def _schema_line(kind: str, path: Path) -> str:
    """The editor comment pointing at the shipped schema, when this ivr has it (a source checkout)."""
    schema = shipped_path(kind)
    if not schema.is_file():
        return ""
    target = os.path.relpath(schema, path.parent.absolute())
    return f"# yaml-language-server: $schema={target}\n"


def _create(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise UserError(f"{path}: файл уже есть — ivr new ничего не перезаписывает") from None
    except OSError as err:
        raise UserError(f"{path}: не удаётся создать файл ({describe(err)}) — укажите другую папку") from None
