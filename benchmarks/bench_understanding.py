"""Speed of the understanding layer on a realistic menu.

The voice channel matches every final recognition and calls ``decisive`` on partial ones while
the caller is still speaking, so a turn's budget is well under a millisecond; slot filling parses
dictated numbers. The meaning router is measured on the Госуслуги flow with the held-out
"report" split of tests/understanding/eval_gosuslugi.yaml: routing quality, per-turn latency of
the fast (lemma) path and of the meaning path, model load time, added RSS, and the time to get
every menu's evidence vectors with an empty and with a filled cache. Run from the repository
root (pin a core on a shared machine):

    taskset -c 0 python -m benchmarks.bench_understanding [--rounds N] [--semantic-rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ivr.understanding.matcher import Choice, Matcher
from ivr.understanding.numbers import extract_digits, words_to_digits

ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "flows" / "gosuslugi.yaml"
EVAL = ROOT / "tests" / "understanding" / "eval_gosuslugi.yaml"

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


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _percentiles_ms(samples: list[float]) -> str:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return f"p50 {statistics.median(samples) * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms   (n={len(samples)})"


def _menu_vectors_s(flow_path: Path) -> float:
    """Load the flow afresh and fetch every spoken menu's evidence vectors (from the cache folder
    in IVR_CACHE_DIR, or computing them)."""
    from ivr.flow.loader import load_flow

    flow = load_flow(flow_path)
    routers = [flow.menu(name).matcher for name, state in flow.states.items() if state.options]
    start = time.perf_counter()
    for router in routers:
        if router is not None:
            router._semantic_index().vectors
    return time.perf_counter() - start


def semantic_report(rounds: int) -> None:
    from ivr.flow.loader import load_flow
    from ivr.settings import ENV_CACHE_DIR
    from ivr.understanding.encoder import default_encoder
    from ivr.understanding.evaluation import flow_answer, load_items, tally
    from ivr.understanding.normalize import normalize

    print("\n— meaning router, Госуслуги flow, report split —")
    rss_before = _rss_mb()
    encoder = default_encoder()
    start = time.perf_counter()
    if not encoder.available():
        print("model unavailable: nothing to measure")
        return
    load_s = time.perf_counter() - start
    rss_model = _rss_mb()
    previous = os.environ.get(ENV_CACHE_DIR)
    with tempfile.TemporaryDirectory() as folder:
        os.environ[ENV_CACHE_DIR] = folder
        try:
            cold = _menu_vectors_s(FLOW)
            warm = _menu_vectors_s(FLOW)
            flow = load_flow(FLOW)
            items = load_items(EVAL, "report")
            answer = flow_answer(flow)
            routed = tally(items, answer)  # also builds every index the split needs
            lemma = tally(items, lambda it: flow.menu(it.state).matcher.matcher.match(normalize(it.say)))
            rss_all = _rss_mb()
            fast, meaning = [], []
            for _ in range(rounds):
                for item in items:
                    router = flow.menu(item.state).matcher
                    text = normalize(item.say)
                    start = time.perf_counter()
                    decided = router.matcher.match(text).kind == "match"
                    if decided:
                        fast.append(time.perf_counter() - start)
                        continue
                    start = time.perf_counter()
                    router.match(text)
                    meaning.append(time.perf_counter() - start)
        finally:
            if previous is None:
                os.environ.pop(ENV_CACHE_DIR, None)
            else:
                os.environ[ENV_CACHE_DIR] = previous
    print(f"lemma only: {lemma}")
    print(f"router:     {routed}")
    print(f"turns decided by the lemma matcher (fast path): {_percentiles_ms(fast)}")
    print(f"turns the router decides by meaning (whole match): {_percentiles_ms(meaning)}")
    print(f"model load: {load_s * 1000:.0f} ms;  RSS +{rss_model - rss_before:.0f} MB after load, "
          f"+{rss_all - rss_before:.0f} MB with every menu indexed")
    print(f"evidence vectors of all {sum(1 for s in flow.states.values() if s.options)} menus: "
          f"empty cache {cold:.2f} s, filled cache {warm * 1000:.1f} ms")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400, help="passes over each input set")
    parser.add_argument("--semantic-rounds", type=int, default=3, help="passes over the report split")
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
    semantic_report(args.semantic_rounds)


if __name__ == "__main__":
    main()
