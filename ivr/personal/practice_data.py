"""Made-up but valid personal data, so nobody has to rehearse a call with their real СНИЛС.

The values pass the same checks as real ones, so the rehearsal goes exactly like the real call.
A random valid number may still coincide with a real person's: it is for practice only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from ivr.personal.identifiers import (
    format_passport,
    format_phone,
    format_snils,
    inn_control_digits,
    snils_control_number,
)

# Surnames in the male form; the female form adds "-а" or turns "-ский" into "-ская".
_SURNAMES = (
    "Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов",
    "Новиков", "Морозов", "Волков", "Алексеев", "Павлов", "Семёнов", "Голубев", "Виноградов",
    "Богданов", "Фёдоров", "Никитин", "Ильин", "Зайцев", "Васильев", "Орлов", "Вишневский",
)  # fmt: skip
# Names whose patronymic follows the regular rule (Сергей → Сергеевич, Игорь → Игоревич).
_MALE_NAMES = (
    "Александр", "Андрей", "Алексей", "Сергей", "Иван", "Дмитрий", "Николай", "Владимир",
    "Виктор", "Олег", "Игорь", "Антон", "Роман", "Денис", "Максим", "Вадим", "Борис", "Артём",
)  # fmt: skip
_FEMALE_NAMES = (
    "Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана",
    "Екатерина", "Юлия", "Марина", "Ксения", "Дарья", "Полина",
)  # fmt: skip
# First digits of INNs and passport series are region codes; these are common real ones.
_INN_REGIONS = ("77", "78", "50", "66", "16", "23", "52", "54", "61", "63")
_PASSPORT_REGIONS = ("45", "40", "46", "65", "92", "03", "22", "50", "60", "36")


def _female_surname(surname: str) -> str:
    return surname[:-2] + "ая" if surname.endswith("ий") else surname + "а"


def _patronymic(father: str, female: bool) -> str:
    stem, suffix = (father[:-1], "ев") if father[-1] in "йь" else (father, "ов")
    return stem + suffix + ("на" if female else "ич")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class PracticeIdentity:
    """A whole made-up person, so every question of the rehearsal has a consistent answer."""

    fio: str
    snils: str
    inn: str
    phone: str
    passport: str
    birth_date: str

    def as_lines(self) -> list[str]:
        """Formatted as on the documents, so the caller reads them out as they would for real."""
        return [
            f"ФИО: {self.fio}",
            f"СНИЛС: {format_snils(self.snils)}",
            f"ИНН: {self.inn}",
            f"Телефон: {format_phone(self.phone)}",
            f"Паспорт: {format_passport(self.passport)}",
            f"Дата рождения: {date.fromisoformat(self.birth_date):%d.%m.%Y}",
            "Это вымышленный человек: данные сгенерированы для тренировки, "
            "не используйте их в настоящих обращениях.",
        ]


def generate_identity(
    rng: random.Random | None = None, *, today: date | None = None
) -> PracticeIdentity:
    """A seeded ``rng`` gives the same person again, so a rehearsal can be repeated exactly.

    The person is 18 to 80 years old on ``today`` (default: the actual date).
    """
    rng = rng or random.Random()
    today = today or date.today()
    female = rng.random() < 0.5
    surname = rng.choice(_SURNAMES)
    father = rng.choice(_MALE_NAMES)
    if female:
        fio = f"{_female_surname(surname)} {rng.choice(_FEMALE_NAMES)} {_patronymic(father, True)}"
    else:
        fio = f"{surname} {rng.choice(_MALE_NAMES)} {_patronymic(father, False)}"

    # Generated above 001-001-998, where the control number is actually checked.
    snils_body = f"{rng.randint(1_001_999, 999_999_999):09d}"
    inn_body = f"{rng.choice(_INN_REGIONS)}{rng.randint(1, 99):02d}{rng.randrange(10**6):06d}"
    youngest = _years_before(today, 18)
    oldest = _years_before(today, 81) + timedelta(days=1)
    birth = date.fromordinal(rng.randint(oldest.toordinal(), youngest.toordinal()))
    # The series' last two digits are the year of issue: at 14, 20 or 45, not before 1997.
    issued = max(y for y in (birth.year + 14, birth.year + 20, birth.year + 45) if y <= today.year)
    series = f"{rng.choice(_PASSPORT_REGIONS)}{max(issued, 1997) % 100:02d}"
    return PracticeIdentity(
        fio=fio,
        snils=snils_body + snils_control_number(snils_body),
        inn=inn_body + inn_control_digits(inn_body),
        phone=f"+79{rng.randrange(10**9):09d}",
        passport=f"{series}{rng.randint(1, 999_999):06d}",
        birth_date=birth.isoformat(),
    )
