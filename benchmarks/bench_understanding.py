"""Speed of the understanding layer on a realistic menu.

The voice channel matches every final recognition and calls ``decisive`` on partial ones while
the caller is still speaking, so a turn's budget is well under a millisecond; slot filling parses
dictated numbers. Run from the repository root:

    python -m benchmarks.bench_understanding [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from ivr.understanding.matcher import Choice, Matcher
from ivr.understanding.numbers import extract_digits, words_to_digits

# Ten choices of about five phrases: the size of the hotline's main menu.
MENU = (
    Choice("access", ("забыл пароль", "не могу войти", "восстановить доступ", "не приходит код", "заблокировали учетную запись")),
    Choice("technical", ("ошибка", "сайт не работает", "не грузится", "сервис недоступен", "ошибка пятьсот")),
    Choice("status", ("статус заявления", "где мое заявление", "узнать статус", "статус заявки")),
    Choice("documents", ("справка", "выписка", "доверенность", "справка о несудимости", "выписка из егрн")),
    Choice("payment", ("оплата", "оплатить", "госпошлина", "штраф", "платеж")),
    Choice("complaint", ("жалоба", "пожаловаться", "претензия", "предложение", "оставить отзыв")),
    Choice("repeat_call", ("уже звонил", "повторное обращение", "звоню второй раз", "номер обращения", "уже обращался")),
    Choice("operator", ("оператор", "соедините с оператором", "живой человек", "специалист", "поговорить с человеком")),
    Choice("repeat_prompt", ("повторить", "повторите", "еще раз", "не расслышал", "повторите пожалуйста")),
    Choice("main_menu", ("главное меню", "в начало", "основное меню", "назад", "вернуться")),
)  # fmt: skip

UTTERANCES = (
    "здравствуйте я забыл пароль",
    "ну э не могу войти в личный кабинет",
    "мне не приходит код подтверждения на телефон",
    "у меня заблокировали учетную запись что делать",
    "пороль не подходит",
    "у вас сайт не работает",
    "выдает ошибку пятьсот два",
    "пятисотая ошибка",
    "какой статус у моего заявления",
    "где мое заявление я его месяц назад подавал",
    "мне нужна справка о несудимости",
    "как получить выписку из егрн",
    "как оплатить госпошлину",
    "хочу подать жалобу на работу сотрудника",
    "я уже звонил вчера по этому поводу",
    "соедините с оператором пожалуйста",
    "девушка дайте живого человека",
    "повторите пожалуйста я не расслышал",
    "в главное меню",
    "статус оплаты",
    "ошибка при оплате",
    "да",
    "э э э",
    "какая сегодня погода",
    "алло вы меня слышите",
    "один",
)

PARTIALS = ("забыл", "забыл паро", "забыл пароль", "соедините с", "соедините с оператором")

DICTATIONS = (
    "сто двенадцать двести тридцать три четыреста сорок пять девяносто пять",
    "восемь девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять",
    "плюс семь девятьсот двенадцать три четыре пять шесть семь восемь девять",
    "мой номер заявления двенадцать тридцать четыре пятьдесят шесть",
    "ошибка пятьсот два",
    "две тысячи двадцать шестой год",
    "тысяча девятьсот восемьдесят пятого года рождения",
    "не приходит смс что делать",
)


def _latencies_us(call: Callable[[str], object], inputs: Sequence[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for text in inputs:
            start = time.perf_counter_ns()
            call(text)
            samples.append((time.perf_counter_ns() - start) / 1000.0)
    return samples


def _throughput(call: Callable[[str], object], inputs: Sequence[str], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for text in inputs:
            call(text)
    return rounds * len(inputs) / (time.perf_counter() - start)


def _report(name: str, call: Callable[[str], object], inputs: Sequence[str], rounds: int) -> None:
    for text in inputs:  # warm the lemma caches, as a running service has
        call(text)
    samples = sorted(_latencies_us(call, inputs, rounds))
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    rate = _throughput(call, inputs, rounds)
    print(
        f"{name:<16} {rate:>10,.0f}/s   mean {statistics.fmean(samples):7.1f} µs   "
        f"p50 {p50:7.1f} µs   p99 {p99:7.1f} µs"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400, help="passes over each input set")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    first = Matcher(MENU)
    cold_build = time.perf_counter() - start
    start = time.perf_counter()
    first.match(UTTERANCES[0])
    cold_match = time.perf_counter() - start
    start = time.perf_counter()
    matcher = Matcher(MENU)
    warm_build = time.perf_counter() - start

    phrases = sum(len(choice.phrases) for choice in MENU)
    print(f"menu: {len(MENU)} choices, {phrases} phrases; {len(UTTERANCES)} utterances × {args.rounds} rounds")
    print(f"first Matcher (loads pymorphy3 dictionaries): {cold_build * 1000:.1f} ms")
    print(f"first match (cold lemma cache):              {cold_match * 1000:.1f} ms")
    print(f"Matcher build, analyzer loaded:               {warm_build * 1000:.2f} ms")
    kinds: dict[str, int] = {}
    for text in UTTERANCES:
        kind = matcher.match(text).kind
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"outcomes: {kinds}")
    _report("match", matcher.match, UTTERANCES, args.rounds)
    _report("decisive", matcher.decisive, PARTIALS, args.rounds)
    _report("words_to_digits", words_to_digits, DICTATIONS, args.rounds)
    _report("extract_digits", extract_digits, DICTATIONS, args.rounds)


if __name__ == "__main__":
    main()
