import pytest

from shared.errors import InvalidInputError
from shared.messaging import matches, parse_filter

AAPL_BAR = {"symbol": "AAPL", "type": "bar", "source": "iex"}
MSFT_TRADE = {"symbol": "MSFT", "type": "trade"}
APPLE_OR_MICROSOFT_BARS = (
    '(attributes.symbol = "AAPL" OR attributes.symbol = "MSFT") AND attributes.type = "bar"'
)


@pytest.mark.parametrize(
    ("text", "attributes", "expected"),
    [
        ('attributes.symbol = "AAPL"', AAPL_BAR, True),
        ('attributes.symbol = "AAPL"', MSFT_TRADE, False),
        ('attributes.symbol = "AAPL"', {}, False),
        ('attributes.symbol != "AAPL"', MSFT_TRADE, True),
        ('attributes.symbol != "AAPL"', AAPL_BAR, False),
        ('attributes.symbol != "AAPL"', {}, True),
        ("attributes:source", AAPL_BAR, True),
        ("attributes:source", MSFT_TRADE, False),
        ('hasPrefix(attributes.symbol, "AA")', AAPL_BAR, True),
        ('hasPrefix(attributes.symbol, "AA")', MSFT_TRADE, False),
        ('hasPrefix(attributes.missing, "")', AAPL_BAR, False),
        ("NOT attributes:source", MSFT_TRADE, True),
        ("-attributes:source", AAPL_BAR, False),
        ('attributes.symbol = "AAPL" AND attributes.type = "bar"', AAPL_BAR, True),
        ('attributes.symbol = "AAPL" AND attributes.type = "trade"', AAPL_BAR, False),
        ('attributes.symbol = "X" OR attributes.symbol = "MSFT"', MSFT_TRADE, True),
        ('attributes.symbol = "X" OR attributes.symbol = "Y" OR attributes:type', AAPL_BAR, True),
        (
            APPLE_OR_MICROSOFT_BARS,
            MSFT_TRADE,
            False,
        ),
        ('NOT (attributes.symbol = "AAPL" OR attributes:missing)', MSFT_TRADE, True),
        ('attributes."odd key" = "v"', {"odd key": "v"}, True),
        ('attributes.q = "say \\"hi\\""', {"q": 'say "hi"'}, True),
        ("", AAPL_BAR, True),
        (None, {}, True),
    ],
)
def test_filter_evaluates_each_form_of_the_language(text, attributes, expected):
    assert matches(text, attributes) is expected


def test_parsed_filter_is_reusable_and_cached():
    first = parse_filter('attributes.symbol = "AAPL"')
    assert first is parse_filter('attributes.symbol = "AAPL"')
    assert first(AAPL_BAR) and not first(MSFT_TRADE)


def test_mixing_and_with_or_without_parentheses_is_rejected():
    with pytest.raises(InvalidInputError, match="mixed without parentheses at position 30"):
        parse_filter("attributes:a AND attributes:b OR attributes:c")


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("attributes.a = x", 15),
        ('attributes.a = "x', 15),
        ("symbol = 'x'", 9),
        ('symbol = "x"', 0),
        ('attributes.a == "x"', 14),
        ("(attributes:a", 13),
        ("attributes:a attributes:b", 13),
        ('hasPrefix(attributes.a "x")', 23),
        ("NOT", 3),
        ("attributes.a # 1", 13),
    ],
)
def test_invalid_filter_names_the_position_of_the_problem(text, position):
    with pytest.raises(InvalidInputError, match=f"position {position}") as caught:
        parse_filter(text)
    assert caught.value.details["position"] == position


def test_overlong_filter_is_rejected():
    with pytest.raises(InvalidInputError, match="longer than 256"):
        parse_filter(" OR ".join(f'attributes.k = "{i}"' for i in range(40)))
