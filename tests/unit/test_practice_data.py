from __future__ import annotations

import random
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from ivr.personal.identifiers import (
    check_date,
    check_inn,
    check_passport,
    check_phone,
    check_snils,
    format_passport,
    format_phone,
    format_snils,
)
from ivr.personal.practice_data import PracticeIdentity, generate_identity

SEEDS = st.integers(min_value=0, max_value=2**32)
TODAY = date(2026, 11, 25)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@given(SEEDS)
def test_generated_identity_passes_every_check_unchanged(seed: int) -> None:
    person = generate_identity(random.Random(seed), today=TODAY)
    for check, value in (
        (check_snils, person.snils),
        (check_inn, person.inn),
        (check_phone, person.phone),
        (check_passport, person.passport),
        (check_date, person.birth_date),
    ):
        checked = check(value)
        assert checked.ok, checked.error
        assert checked.value == value
    assert person.phone.startswith("+79")


@given(SEEDS)
def test_generated_identity_survives_being_read_out_formatted(seed: int) -> None:
    person = generate_identity(random.Random(seed))
    assert check_snils(format_snils(person.snils)).value == person.snils
    assert check_phone(format_phone(person.phone)).value == person.phone
    assert check_passport(format_passport(person.passport)).value == person.passport


@given(SEEDS, st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_generated_person_is_an_adult_under_81(seed: int, today: date) -> None:
    person = generate_identity(random.Random(seed), today=today)
    assert 18 <= _age(date.fromisoformat(person.birth_date), today) <= 80



class _Extreme(random.Random):
    """Always draws the lowest or the highest allowed value, to reach the age limits exactly."""

    def __init__(self, highest: bool) -> None:
        super().__init__(0)
        self.highest = highest

    def randint(self, a: int, b: int) -> int:
        return b if self.highest else a


def test_age_limits_are_exactly_18_and_80() -> None:
    youngest = generate_identity(_Extreme(highest=True), today=TODAY)
    oldest = generate_identity(_Extreme(highest=False), today=TODAY)
    assert youngest.birth_date == "2008-11-25"
    assert oldest.birth_date == "1945-11-26"
    assert check_snils(oldest.snils).ok and check_passport(youngest.passport).ok
@given(SEEDS)
def test_name_surname_and_patronymic_agree_in_gender(seed: int) -> None:
    surname, name, patronymic = generate_identity(random.Random(seed)).fio.split()
    female = patronymic.endswith("вна")
    assert female or patronymic.endswith("вич")
    assert name.endswith(("а", "я")) == female
    assert surname.endswith(("а", "ая")) == female


def test_both_women_and_men_are_generated() -> None:
    patronymics = {generate_identity(random.Random(seed)).fio[-3:] for seed in range(40)}
    assert patronymics == {"вна", "вич"}


def test_same_seed_gives_the_same_person_to_rehearse_again() -> None:
    assert generate_identity(random.Random(7), today=TODAY) == generate_identity(
        random.Random(7), today=TODAY
    )
    assert generate_identity(random.Random(7), today=TODAY) != generate_identity(
        random.Random(8), today=TODAY
    )


def test_as_lines_shows_documents_formatting_and_warns_it_is_fake() -> None:
    person = PracticeIdentity(
        fio="Петрова Анна Сергеевна",
        snils="11223344595",
        inn="500100732259",
        phone="+79123456789",
        passport="4510123456",
        birth_date="1980-11-25",
    )
    lines = person.as_lines()
    assert lines[:6] == [
        "ФИО: Петрова Анна Сергеевна",
        "СНИЛС: 112-233-445 95",
        "ИНН: 500100732259",
        "Телефон: +7 912 345-67-89",
        "Паспорт: 45 10 123456",
        "Дата рождения: 25.11.1980",
    ]
    assert "вымышленный человек" in lines[-1]
