import pytest

from shared.errors import AuthenticationError
from shared.identity.credentials import MAX_TOKEN_CHARS, bearer_token

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"


def test_takes_the_token_out_of_a_bearer_header():
    assert bearer_token(f"Bearer {JWT}") == JWT


def test_accepts_the_scheme_in_any_case_and_surrounding_whitespace():
    assert bearer_token(f"  bearer   {JWT} ") == JWT


def test_accepts_a_raw_token_without_a_scheme():
    assert bearer_token(JWT) == JWT


@pytest.mark.parametrize("header", [None, "", "   "])
def test_rejects_absent_credentials_and_says_how_to_send_them(header):
    with pytest.raises(AuthenticationError, match="Authorization: Bearer"):
        bearer_token(header)


def test_rejects_another_scheme_by_name():
    with pytest.raises(AuthenticationError, match="'Basic'"):
        bearer_token("Basic YWxpY2U6cGFzc3dvcmQ=")


@pytest.mark.parametrize("header", ["Bearer", "Bearer not-a-jwt", "a.b", "a.b.c.d", "Bearer a.b c"])
def test_rejects_values_that_are_not_jwts(header):
    with pytest.raises(AuthenticationError):
        bearer_token(header)


def test_rejects_an_oversized_header_before_parsing_it():
    with pytest.raises(AuthenticationError, match="longer than"):
        bearer_token("Bearer " + "a" * MAX_TOKEN_CHARS)
