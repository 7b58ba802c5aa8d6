"""Values in the flow: where a collect that ran out of tries goes, conditions on slot values,
``set:`` and ``store:``, and schedules with breaks, holidays and names. Each small flow is built to
trigger one behaviour, run on the real engine; each load error is checked at its file:line:col."""

from __future__ import annotations

from datetime import datetime

import pytest

from ivr.engine import Engine, ManualClock
from ivr.flow.checks import failure_notes
from ivr.flow.loader import FlowError, parse_flow
from tests.command import ivr_here

WEDNESDAY_MORNING = datetime.fromisoformat("2026-11-25T10:00:00+03:00")


def call_on(text: str, moment: datetime = WEDNESDAY_MORNING):
    return Engine(parse_flow(text)).start_call(clock=ManualClock(moment), seed=1)


def load_error(text: str) -> str:
    with pytest.raises(FlowError) as info:
        parse_flow(text)
    return str(info.value)


# ------------------------------------------------------------------ a collect that runs out of tries

ASK_PHONE = """\
flow: {id: f, title: F, start: ask, retries: 2%s}
states:
  ask:
    say: "Назовите телефон."
    collect: {slot: phone, type: phone%s}
    next: done
  done: {say: "Перезвоним на {phone}.", end: true}
  operator: {say: "Соединяю с оператором.", end: true}
  sorry: {say: "Не вышло. До свидания.", end: true}
"""


def test_a_failed_collect_goes_to_the_operator_by_default_and_says_so():
    call = call_on(ASK_PHONE % (", escalate: operator", ""))
    call.speech("дальше дата где")
    turn = call.speech("дальше дата где")
    assert call.state == "operator" and turn.event == "escalated"
    assert turn.said == ["Не получилось записать ответ.", "Соединяю с оператором."]
    assert not any("дата где" in s or "Перезвоним" in s for s in turn.said)


def test_a_failed_collect_on_fail_next_goes_on_and_never_speaks_the_rejected_words():
    call = call_on(ASK_PHONE % ("", ", on_fail: next"))
    call.speech("дальше дата где")
    turn = call.speech("дальше дата где")
    assert call.state == "done"
    assert turn.said == ["Не получилось записать ответ.", "Перезвоним на не указано."]


def test_on_fail_wins_over_the_flow_escalation():
    call = call_on(ASK_PHONE % (", escalate: operator", ", on_fail: sorry"))
    call.silence(7)
    turn = call.silence(7)
    assert call.state == "sorry" and turn.said == ["Не вышло. До свидания."]


def test_a_collect_with_nowhere_to_go_is_a_load_error_at_the_collect():
    message = load_error(ASK_PHONE % ("", ""))
    assert message.startswith("<flow>:5:5: states.ask.collect: некуда идти, если значение так и не получено "
                              "после 2 попыток — добавьте on_fail:"), message


def test_on_fail_next_needs_a_next():
    text = ASK_PHONE % ("", ", on_fail: next") + "  bare: {say: x, collect: {slot: y, on_fail: next}}\n"
    assert "<flow>:10:37: states.bare.collect.on_fail: «next» — идти дальше по next, а next у состояния нет" \
        in load_error(text)


def test_ivr_check_says_where_a_failed_collect_goes_by_default(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(ASK_PHONE % (", escalate: operator", ""), encoding="utf-8")
    proc = ivr_here("check", path)
    assert proc.returncode == 0, proc.stderr
    assert (f"{path}:5:5: примечание: states.ask.collect: если значение не получено после 2 попыток, звонок "
            "уйдёт в operator (flow.escalate) со словами «Не получилось записать ответ.»") in proc.stdout
    # written at the collect: nothing to note
    explicit = parse_flow(ASK_PHONE % (", escalate: operator", ", on_fail: next"))
    assert failure_notes(explicit) == []


# ------------------------------------------------------------------ conditions on values

VALUES = """\
flow: {id: v, title: V, start: ask_ok, escalate: operator}
states:
  ask_ok:
    say: "Вы записаны? Да или нет."
    collect: {slot: ok, type: yesno}
    next:
      - {if: ok == да, goto: ask_age}
      - goto: signup
  ask_age:
    say: "Сколько вам лет?"
    collect: {slot: age, type: number}
    next:
      - {if: age >= 65 or age < 18, goto: special}
      - goto: ask_date
  ask_date:
    say: "Когда удобно прийти?"
    collect: {slot: visit, type: date}
    next:
      - {if: "visit < today", goto: past}
      - {if: "not (visit <= today+14)", goto: later}
      - goto: booked
  booked: {say: "Ждём вас {visit}.", end: true}
  past: {say: "Эта дата уже прошла.", end: true}
  later: {say: "Запись открыта на две недели вперёд.", end: true}
  special: {say: "Для вас отдельная очередь.", end: true}
  signup: {say: "Сначала запишитесь.", end: true}
  operator: {say: "Оператор.", end: true}
"""


@pytest.mark.parametrize(
    ("answers", "state"),
    [
        (["нет"], "signup"),
        (["да", "семьдесят"], "special"),
        (["да", "двенадцать"], "special"),
        (["да", "сорок", "двадцатое ноября две тысячи двадцать шестого года"], "past"),
        (["да", "сорок", "первое декабря две тысячи двадцать шестого года"], "booked"),
        (["да", "сорок", "десятое января две тысячи двадцать седьмого года"], "later"),
    ],
)
def test_branches_on_yes_no_numbers_and_dates(answers, state):
    call = call_on(VALUES)
    for answer in answers:
        call.speech(answer)
    assert call.state == state


@pytest.mark.parametrize(
    ("condition", "where", "fragment"),
    [
        ("ok == может", "7:10", "слот ok — да/нет, а «может» ни то ни другое; сравнивайте с да или нет"),
        ("okk == да", "7:10", "нет слота «okk» — его должен собирать какой-то collect, задавать set: или store: "
                              "(возможно, «ok»)"),
        ("ok > да", "7:10", "«>» сравнивает только числа и даты, а слот ok — yesno; используйте == или !="),
        ("age >= восемнадцать", "13:10", "слот age — число, а «восемнадцать» не число"),
        ("visit < 31.02.2026", "19:10", "слот visit — дата, а «31.02.2026» не дата"),
        ("(ok == да", "7:10", "не закрыта скобка «(»"),
        ("ok ==", "7:10", "после «ok ==» нужно значение"),
        ("open lunch", "7:10", "в data: нет графика «lunch»"),
        ("visited nowhere", "7:10", "нет состояния «nowhere»"),
        ("ok да", "7:10", "непонятно «ok»"),
    ],
)
def test_a_condition_that_cannot_hold_is_a_load_error_at_its_if(condition, where, fragment):
    # the position is the if: key of the branch
    line = {"7": "      - {if: ok == да, goto: ask_age}", "13": "      - {if: age >= 65 or age < 18, goto: special}",
            "19": '      - {if: "visit < today", goto: past}'}[where.split(":")[0]]
    text = VALUES.replace(line, line.split("if: ")[0] + f'if: "{condition}", goto: signup}}')
    message = load_error(text)
    assert f"<flow>:{where}: " in message and fragment in message, message


# ------------------------------------------------------------------ set: and store:

CHOICE = """\
flow: {id: c, title: C, start: kind, escalate: operator}
states:
  kind:
    say: "Вызвать врача на дом — 1, записаться в поликлинику — 2."
    store: visit
    options:
      - {id: home, keys: "1", phrases: ["на дом", "вызвать врача"], label: "вызов на дом", goto: route}
      - {id: clinic, keys: "2", phrases: ["записаться"], goto: route, set: {urgent: "нет"}}
  route:
    set: {checked: "да"}
    next:
      - {if: visit == home and checked == да, goto: home}
      - goto: clinic
  home: {say: "Вы выбрали: {visit}. Срочно: {urgent}.", end: true}
  clinic: {say: "Вы выбрали: {visit}. Срочно: {urgent}.", end: true}
  operator: {say: "Оператор.", end: true}
"""


def test_a_menu_choice_stored_as_a_slot_drives_a_branch_and_is_said_by_its_label():
    home = call_on(CHOICE)
    turn = home.dtmf("1")
    assert home.state == "home" and turn.said == ["Вы выбрали: вызов на дом. Срочно: не указано."]
    clinic = call_on(CHOICE)
    turn = clinic.speech("хочу записаться")
    assert clinic.state == "clinic" and turn.said == ["Вы выбрали: записаться. Срочно: нет."]
    assert clinic.slots["visit"].value == "clinic" and clinic.slots["checked"].value == "да"


@pytest.mark.parametrize(
    ("old", "new", "where", "fragment"),
    [
        ("visit == home and", "visit == house and", "12:10",
         "в visit записывается выбранный пункт меню, а пункта «house» там нет — возможно, «home»"),
        ("    store: visit\n", "    store: Visit\n", "5:5", "имя слота «Visit»"),
        ("  route:\n    set: {checked: \"да\"}\n", "  route:\n    store: x\n", "10:5",
         "store: запоминать нечего"),
    ],
)
def test_store_and_its_values_are_checked_at_load(old, new, where, fragment):
    assert old in CHOICE
    message = load_error(CHOICE.replace(old, new))
    assert f"<flow>:{where}: " in message and fragment in message, message


def test_a_set_value_must_suit_the_slot_it_sets():
    text = VALUES.replace("  signup: {say:", "  signup: {set: {age: много}, say:")
    assert "<flow>:26:18: states.signup.set.age: слот age — число, а «много» не число" in load_error(text)


# ------------------------------------------------------------------ schedules

SCHEDULES = """\
flow: {id: s, title: S, start: hello, hours: clinic}
data:
  clinic:
    mon: "08:00-12:00, 13:00-20:00"
    wed: ["08:00-12:00", "13:00-20:00"]
    holidays: [2026-12-31, 2027-01-01]
  home_visits: {mon: "08:00-12:00", wed: "08:00-12:00"}
states:
  hello:
    next:
      - {if: closed, goto: closed}
      - {if: open home_visits, goto: visits}
      - goto: no_visits
  closed: {say: "Закрыто. Откроемся {next_open}. {hours}.", end: true}
  visits: {say: "Вызов на дом принимаем.", end: true}
  no_visits: {say: "Вызов на дом: {hours.home_visits}. Примем {next_open.home_visits}.", end: true}
"""


@pytest.mark.parametrize(
    ("moment", "state"),
    [
        ("2026-11-25T10:00:00+03:00", "visits"),
        ("2026-11-25T12:30:00+03:00", "closed"),  # lunch break
        ("2026-11-25T14:00:00+03:00", "no_visits"),  # open, but home visits end at 12:00
        ("2026-12-31T10:00:00+03:00", "closed"),  # a Thursday holiday (and no Thursday hours anyway)
    ],
)
def test_breaks_holidays_and_named_schedules(moment, state):
    call = call_on(SCHEDULES, datetime.fromisoformat(moment))
    assert call.state == state


def test_next_opening_skips_the_break_and_the_holidays_and_the_week_reads_both_intervals():
    lunch = call_on(SCHEDULES, datetime.fromisoformat("2026-11-25T12:30:00+03:00"))
    assert lunch.greeting[0].startswith("Закрыто. Откроемся сегодня в 13:00.")
    assert "в среду с 08:00 до 12:00 и с 13:00 до 20:00" in lunch.greeting[0]
    assert "праздничные" not in lunch.greeting[0]  # a caller hears the holidays of the next two weeks only
    # Wednesday 30 December evening: Thursday and Friday are holidays / closed → Monday 4 January
    new_year = call_on(SCHEDULES, datetime.fromisoformat("2026-12-30T21:00:00+03:00"))
    assert new_year.greeting[0].startswith("Закрыто. Откроемся в понедельник в 08:00.")
    assert new_year.greeting[0].endswith("; в праздничные дни (31.12.2026, 01.01.2027) — выходной.")


@pytest.mark.parametrize(
    ("old", "new", "where", "fragment"),
    [
        ('mon: "08:00-12:00, 13:00-20:00"', 'mon: "08:00-13:00, 12:00-20:00"', "4:5",
         "промежутки 08:00-13:00 и 12:00-20:00 пересекаются"),
        ("holidays: [2026-12-31, 2027-01-01]", "holidays: [31.12]", "6:16", "праздничные дни — список дат"),
        ('home_visits: {mon: "08:00-12:00"', 'home_visits: {mon: "12:00-08:00"', "7:17",
         "data.home_visits.mon: «12:00-08:00» — напишите часы как"),
    ],
)
def test_schedule_mistakes_are_positioned(old, new, where, fragment):
    assert old in SCHEDULES
    message = load_error(SCHEDULES.replace(old, new))
    assert f"<flow>:{where}: " in message and fragment in message, message


def test_when_is_only_for_dates():
    text = ASK_PHONE % ("", ", on_fail: next, when: past")
    assert "<flow>:5:56: states.ask.collect.when: только для type: date, а здесь phone — уберите when" \
        in load_error(text)


def test_a_named_schedule_reads_in_prompts_like_the_flow_hours():
    call = call_on(SCHEDULES, datetime.fromisoformat("2026-11-25T14:00:00+03:00"))
    assert call.greeting == ["Вызов на дом: в понедельник с 08:00 до 12:00, во вторник выходной, в среду с 08:00 "
                             "до 12:00, с четверга по воскресенье выходной (время московское). Примем в "
                             "понедельник в 08:00."]
    typo = SCHEDULES.replace("{next_open.home_visits}", "{next_open.home_visit}")
    assert "<flow>:16:15: states.no_visits.say.0: {next_open.home_visit}: в data: нет блока «home_visit»" \
        in load_error(typo)


def test_a_slot_set_on_entering_may_be_said_there_but_a_stored_choice_only_after_the_menu():
    from ivr.flow.checks import flow_warnings

    text = CHOICE.replace('  route:\n    set: {checked: "да"}\n', '  route:\n    set: {checked: "да"}\n    say: "Проверено: {checked}."\n')
    assert flow_warnings(parse_flow(text), meaning=False) == []
    early = CHOICE.replace('say: "Вызвать врача', 'say: "Вы выбрали {visit}. Вызвать врача')
    (warning,) = flow_warnings(parse_flow(early), meaning=False)
    assert warning.message.startswith("states.kind.say.0: {visit} может прозвучать до того, как слот собран"), warning
