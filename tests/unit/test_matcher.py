"""Routing of realistic hotline utterances, written the way Vosk hands them over.

The menu below is what a flow author would write for the main menu of the Госуслуги hotline;
the utterances are what callers say to it: lower case, no punctuation, numbers as words, wrong
endings, recognition slips, fillers, several topics at once.
"""

from __future__ import annotations

import pytest

from ivr.understanding.matcher import Choice, Match, Matcher

MAIN_MENU = (
    Choice(
        "consultation",
        (
            "консультация",
            "проконсультироваться",
            "общий вопрос",
            "как подать заявление",
            "как получить услугу",
            "вопрос по услуге",
        ),
    ),
    Choice("status", ("статус заявления", "статус заявки", "где мое заявление", "узнать статус")),
    Choice(
        "access",
        (
            "забыл пароль",
            "восстановить пароль",
            "восстановить доступ",
            "пароль",
            "не могу войти",
            "не могу зайти",
            "вход в личный кабинет",
            "заблокировали учетную запись",
            "учетная запись заблокирована",
            "не приходит код",
            "не приходит смс",
            "авторизация",
        ),
    ),
    Choice(
        "technical",
        (
            "ошибка",
            "техническая ошибка",
            "ошибка пятьсот",
            "сервис недоступен",
            "сайт не работает",
            "не работает",
            "не грузится",
            "не загружается",
            "зависает",
            "сбой",
        ),
    ),
    Choice(
        "documents",
        (
            "справка",
            "выписка",
            "доверенность",
            "электронная доверенность",
            "справка о несудимости",
            "выписка из егрн",
        ),
    ),
    Choice("payment", ("оплата", "оплатить", "платеж", "госпошлина", "штраф", "налог")),
    Choice(
        "complaint",
        ("жалоба", "пожаловаться", "подать жалобу", "претензия", "предложение", "оставить отзыв"),
    ),
    Choice(
        "repeat_call",
        ("повторное обращение", "уже звонил", "уже обращался", "звоню второй раз", "номер обращения"),
    ),
    Choice(
        "escalation",
        ("руководитель", "старший специалист", "позовите старшего", "соедините с руководителем"),
    ),
    Choice(
        "channels",
        ("чат", "чат поддержки", "форма обратной связи", "обратная связь", "электронная почта"),
    ),
    Choice(
        "deadlines",
        ("сроки рассмотрения", "срок оказания услуги", "сколько рассматривается", "как долго ждать"),
    ),
    Choice("rights", ("мои права", "права гражданина", "закон", "персональные данные")),
    Choice(
        "operator",
        ("оператор", "соедините с оператором", "живой человек", "поговорить с человеком", "специалист"),
    ),
    Choice("repeat_prompt", ("повторить", "повторите", "еще раз", "не расслышал")),
    Choice("back", ("назад", "вернуться назад", "вернуться", "предыдущее меню")),
    Choice("main_menu", ("главное меню", "основное меню", "в начало")),
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(MAIN_MENU)


ROUTED = [
    # consultation
    ("здравствуйте у меня общий вопрос", "consultation"),
    ("подскажите как подать заявление на загранпаспорт", "consultation"),
    ("мне нужна консультация", "consultation"),
    ("э я хотела бы проконсультироваться", "consultation"),
    # status
    ("какой статус у моего заявления", "status"),
    ("хочу узнать статус заявки", "status"),
    ("а где мое заявление я его месяц назад подавал", "status"),
    # access
    ("я забыл пароль", "access"),
    ("забыла пароль от госуслуг", "access"),
    ("не могу войти в личный кабинет", "access"),
    ("не могу зайти на госуслуги пишет неверный пароль", "access"),
    ("мне не приходит смс с кодом", "access"),
    ("у меня не приходит код подтверждения", "access"),
    ("ну у меня заблокировали учетную запись", "access"),
    ("как восстановить доступ к госуслугам", "access"),
    ("пороль", "access"),
    ("проблема с авторизацыей", "access"),
    ("не могу войти в гос услуги", "access"),
    ("паролем не получается", "access"),
    # technical
    ("у вас сайт не работает", "technical"),
    ("выдает ошибку пятьсот", "technical"),
    ("пятисотая ошибка", "technical"),
    ("страница не грузится", "technical"),
    ("приложение зависает", "technical"),
    ("сервис временно недоступен", "technical"),
    ("у меня какая то ошибка вылезает", "technical"),
    # documents
    ("мне нужна справка о несудимости", "documents"),
    ("как получить выписку из егрн", "documents"),
    ("хочу сделать электронную доверенность", "documents"),
    # payment
    ("как оплатить госпошлину", "payment"),
    ("не проходит оплата", "payment"),
    ("пришел штраф хочу оплатить", "payment"),
    # complaint
    ("хочу подать жалобу", "complaint"),
    ("я хочу пожаловаться на работу сотрудника", "complaint"),
    ("у меня претензия", "complaint"),
    # repeat call
    ("я уже звонил вчера", "repeat_call"),
    ("это повторное обращение", "repeat_call"),
    ("звоню уже второй раз", "repeat_call"),
    # escalation
    ("позовите старшего специалиста", "escalation"),
    ("соедините меня с руководителем", "escalation"),
    # other channels
    ("а можно написать в чат", "channels"),
    ("где форма обратной связи", "channels"),
    # deadlines
    ("какие сроки рассмотрения", "deadlines"),
    ("сколько рассматривается", "deadlines"),
    # rights
    ("какие у меня права", "rights"),
    ("куда ушли мои персональные данные", "rights"),
    # global commands
    ("оператор", "operator"),
    ("оператора", "operator"),
    ("соедините с оператором пожалуйста", "operator"),
    ("девушка соедините с оператором", "operator"),
    ("дайте живого человека", "operator"),
    ("хочу поговорить с человеком", "operator"),
    ("повторите пожалуйста", "repeat_prompt"),
    ("еще раз", "repeat_prompt"),
    ("я не расслышал", "repeat_prompt"),
    ("назад", "back"),
    ("вернуться назад", "back"),
    ("главное меню", "main_menu"),
    ("в главное меню", "main_menu"),
]


@pytest.mark.parametrize(("text", "expected"), ROUTED)
def test_routes_caller_phrase(matcher: Matcher, text: str, expected: str) -> None:
    result = matcher.match(text)

    assert (result.kind, result.choice) == ("match", expected), result
    assert result.candidates == (expected,)
    assert matcher.threshold <= result.score <= 100.0


UNRELATED = [
    "да",
    "нет",
    "э э э",
    "ну",
    "алло алло вы меня слышите",
    "какая сегодня погода",
    "спасибо до свидания",
    "я хочу заказать пиццу",
    "один",
    "два",
    "сорок",
    "кот",
    "меню",
    "заявление",
    "приходит смс",  # «приходит» without «не» is nothing the menu asks about
    "",
]


@pytest.mark.parametrize("text", UNRELATED)
def test_unrelated_talk_is_none(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)

    assert result == Match("none", None, (), result.score)
    assert result.score < matcher.threshold


AMBIGUOUS = [
    ("статус оплаты", {"payment", "status"}),
    ("ошибка при оплате", {"technical", "payment"}),
    ("хочу пожаловаться на оператора", {"complaint", "operator"}),
    ("я уже звонил по поводу ошибки", {"repeat_call", "technical"}),
    ("не могу оплатить штраф пишет ошибку", {"payment", "technical"}),
]


@pytest.mark.parametrize(("text", "expected"), AMBIGUOUS)
def test_two_topics_are_ambiguous(matcher: Matcher, text: str, expected: set[str]) -> None:
    result = matcher.match(text)

    assert result.kind == "ambiguous", result
    assert result.choice is None
    assert set(result.candidates) == expected


def test_spec_example_is_ambiguous_in_a_two_choice_menu() -> None:
    matcher = Matcher([Choice("оплата", ("оплата", "платеж")), Choice("статус", ("статус заявления",))])

    result = matcher.match("статус оплаты")

    assert result.kind == "ambiguous"
    assert set(result.candidates) == {"оплата", "статус"}


def test_exact_phrase_scores_highest(matcher: Matcher) -> None:
    exact = matcher.match("забыл пароль")
    longer = matcher.match("здравствуйте я вчера забыл пароль")

    assert exact.score == 100.0
    assert exact.choice == longer.choice == "access"
    assert longer.score < exact.score


def test_fillers_do_not_change_the_score(matcher: Matcher) -> None:
    plain = matcher.match("восстановить пароль")
    padded = matcher.match("ну э мне нужно это вот восстановить пароль пожалуйста скажите")

    assert padded == plain


def test_negation_is_part_of_the_phrase() -> None:
    matcher = Matcher([Choice("arrives", ("приходит смс",)), Choice("missing", ("не приходит смс",))])

    assert matcher.match("не приходит смс").choice == "missing"
    assert matcher.match("смс приходит").choice == "arrives"
    assert matcher.match("мне смс не приходит").choice == "missing"


def test_number_word_matches_only_a_phrase_that_says_it() -> None:
    matcher = Matcher([Choice("first", ("один", "первый")), Choice("second", ("два",))])

    assert matcher.match("один").choice == "first"
    assert matcher.match("первый").choice == "first"
    assert matcher.match("два").choice == "second"
    assert matcher.match("три").kind == "none"


def test_filler_words_a_menu_needs_are_kept() -> None:
    matcher = Matcher([Choice("yes", ("да", "верно")), Choice("no", ("нет", "неверно"))])

    assert matcher.match("да").choice == "yes"
    assert matcher.match("ну да").choice == "yes"
    assert matcher.match("нет").choice == "no"
    assert matcher.match("э э").kind == "none"


def test_numbers_in_phrases_match_by_value() -> None:
    matcher = Matcher([Choice("e500", ("ошибка 500",)), Choice("e404", ("ошибка четыреста четыре",))])

    assert matcher.match("ошибка пятьсот").choice == "e500"
    assert matcher.match("пятисотая ошибка").choice == "e500"
    assert matcher.match("ошибка 404").choice == "e404"
    # Error 502 is not error 500: a dictated number is read as a whole.
    assert matcher.match("ошибка пятьсот два").kind == "none"


def test_split_compound_is_rejoined_on_both_sides() -> None:
    joined = Matcher([Choice("portal", ("госуслуги",)), Choice("other", ("справка",))])
    split = Matcher([Choice("portal", ("гос услуги",)), Choice("other", ("справка",))])

    assert joined.match("гос услуги").choice == "portal"
    assert split.match("госуслуги").choice == "portal"


def test_only_unknown_words_are_taken_for_misspellings() -> None:
    matcher = Matcher([Choice("suggestion", ("предложение",)), Choice("code", ("код",))])

    assert matcher.match("предлажение").choice == "suggestion"
    # Real words one or two letters apart are different words.
    assert matcher.match("приложение").kind == "none"
    assert matcher.match("кот").kind == "none"


def test_threshold_and_margin_are_respected() -> None:
    strict = Matcher(MAIN_MENU, threshold=99.0)
    wide = Matcher(MAIN_MENU, margin=30.0)

    assert strict.match("пороль").kind == "none"
    assert strict.match("пароль").choice == "access"
    assert wide.match("я забыл пароль а потом вылезла ошибка").kind == "ambiguous"


@pytest.mark.parametrize(
    "choices",
    [
        [],
        [Choice("a", ())],
        [Choice("a", ("пароль",)), Choice("a", ("ошибка",))],
        [Choice("a", ("!!!",))],
    ],
)
def test_invalid_menus_are_rejected(choices: list[Choice]) -> None:
    with pytest.raises(ValueError):
        Matcher(choices)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("забыл пароль", "access"),
        ("я забыл пароль и", "access"),
        ("соедините с оператором", "operator"),
        ("ну соедините пожалуйста с оператором", "operator"),
        ("главное меню", "main_menu"),
        ("не приходит смс", "access"),
    ],
)
def test_decisive_on_whole_phrase(matcher: Matcher, text: str, expected: str) -> None:
    assert matcher.decisive(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "забыл паро",  # the last word is still being recognised
        "соедините с опера",
        "соедините с",
        "пороль",  # a slip is good enough for match(), never for acting early
        "гос услуги",
        "статус оплаты",  # two choices fully present
        "я уже звонил по поводу ошибки",
        "оплаты статус",  # the status phrase needs «заявления» in order: only payment is present, but
        # match() sees both topics and decisive() never contradicts it
        "приходит смс",
        "не могу",
    ],
)
def test_decisive_never_guesses(matcher: Matcher, text: str) -> None:
    assert matcher.decisive(text) is None


def test_decisive_requires_phrase_order() -> None:
    matcher = Matcher([Choice("pay", ("оплатить штраф",)), Choice("other", ("справка",))])

    assert matcher.decisive("оплатить штраф") == "pay"
    assert matcher.decisive("штраф оплатить") is None
    assert matcher.match("штраф оплатить").choice == "pay"


def test_decisive_respects_negation() -> None:
    matcher = Matcher([Choice("arrives", ("приходит смс",)), Choice("other", ("справка",))])

    assert matcher.decisive("приходит смс") == "arrives"
    assert matcher.decisive("не приходит смс") is None


def test_a_character_without_a_unicode_name_is_not_a_crash_in_a_name_slot():
    """Found by the robustness property test: U+17000 said where a ФИО is expected."""
    from ivr.slots import Limits, slot_type

    parsed = slot_type("fio").parse("\U00017000 \U00017001", False, Limits())
    assert not parsed.valid and "фамилию" in (parsed.error or "")


def test_ago_after_a_span_of_time_is_not_the_back_command() -> None:
    """«месяц назад» tells when something happened; only «назад» on its own or with a verb of
    going back asks to go back."""
    menu = Matcher([Choice("back", ("назад", "на шаг назад")), Choice("status", ("статус заявления",))])
    assert menu.match("статус заявления которое я подал месяц назад").choice == "status"
    assert menu.match("две недели назад подала").kind == "none"
    assert menu.match("год назад").kind == "none"
    assert menu.match("назад").choice == "back"
    assert menu.match("давайте на шаг назад").choice == "back"
