"""Redaction: known secrets, URL credentials and token shapes vanish from any text."""

from __future__ import annotations

from core.redaction import REDACTED, Redactor, without_userinfo

TELEGRAM_TOKEN = "7312345678:AAHk2Jx9-Zq_secretPart0123456789abcdEF"


def test_url_credentials_are_replaced_wherever_the_url_sits() -> None:
    line = 'HTTP Request: POST http://guard:pa55word@guard.internal:8080/generate "200 OK"'
    assert without_userinfo(line) == (
        f'HTTP Request: POST http://{REDACTED}@guard.internal:8080/generate "200 OK"'
    )
    # Unparsable URLs are still cleaned: the pattern does not need a valid URL.
    assert "pa55" not in without_userinfo("bad url http://u:pa55@[::1")


def test_a_remembered_secret_is_replaced_however_it_was_interpolated() -> None:
    redactor = Redactor(["webhook-secret-value"])
    redactor.remember("another-secret")
    text = redactor.redact("header=webhook-secret-value; repr('another-secret')")
    assert text == f"header={REDACTED}; repr('{REDACTED}')"


def test_token_shapes_are_recognised_without_being_configured() -> None:
    redactor = Redactor()
    lines = [
        f"The token `{TELEGRAM_TOKEN}` was rejected by the server.",
        f"GET https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe",
        "slack token xoxb-1234567890-abcdefghijkl",
        "Authorization: Bearer abc.def-ghi_jkl",
    ]
    for line in lines:
        cleaned = redactor.redact(line)
        assert REDACTED in cleaned
        assert "secretPart" not in cleaned and "abcdefghijkl" not in cleaned
        assert "abc.def" not in cleaned


def test_a_longer_secret_containing_a_shorter_one_is_replaced_whole() -> None:
    redactor = Redactor(["pass", "password-long"])
    assert redactor.redact("x password-long y") == f"x {REDACTED} y"


def test_very_short_values_are_not_treated_as_secrets() -> None:
    # A three-letter "secret" would blank out every word containing it.
    assert Redactor(["abc"]).redact("abcdef") == "abcdef"
