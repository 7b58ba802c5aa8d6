"""Thanks and asking to wait are answered, not taken for a request or a value — and only when
they are all that was said."""

from __future__ import annotations

import pytest

from ivr.understanding.chatter import holding_on
from ivr.understanding.courtesy import only_thanks


@pytest.mark.parametrize(
    "said", ["спасибо", "спасибо большое", "благодарю вас", "огромное спасибо за помощь", "ок спасибо всё понятно"]
)
def test_thanks_alone_is_thanks(said):
    assert only_thanks(said)


@pytest.mark.parametrize(
    "said",
    ["спасибо а где посмотреть статус заявления", "хочу поблагодарить оператора", "понятно", "не приходит смс", ""],
)
def test_thanks_with_a_request_or_no_thanks_at_all_is_not(said):
    assert not only_thanks(said)


@pytest.mark.parametrize(
    "said", ["подождите", "секундочку сейчас паспорт найду", "алло вы меня слышите", "одну минуточку", "дайте минутку"]
)
def test_asking_to_wait_or_checking_the_line_is_holding_on(said):
    assert holding_on(said)


@pytest.mark.parametrize("said", ["иванов иван иванович", "паспорт", "сейчас", "подождите у меня не приходит смс", ""])
def test_a_value_or_a_request_is_not_holding_on(said):
    assert not holding_on(said)
