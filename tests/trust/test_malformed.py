"""Whatever arrives in the signature headers, the verifier answers AuthError and nothing else."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.kiosk_keys import test_registry, test_signer
from trust.sfv import SfvError, parse_byte_sequences, parse_inner_lists
from trust.signing import AuthError, SignatureVerifier

SIGNER = test_signer()
VERIFIER = SignatureVerifier(test_registry(SIGNER))
URL = "http://central/api/v1/ratings"

# Text that looks like structured fields half the time, so the parsers get deep, not just refuse.
_PIECES = st.sampled_from(
    [
        "kiosk=",
        '("@method" "@path")',
        ";created=",
        ';nonce="',
        ';keyid="KIOSK-TEST-001"',
        ";alg=",
        '"ed25519"',
        ":",
        "AAAA",
        "=",
        ",",
        " ",
        "(",
        ")",
        '"',
        "\\",
        "-1",
        "9" * 20,
        "\x00",
        "é",
    ]
)
FIELD = st.one_of(st.text(max_size=200), st.lists(_PIECES, max_size=20).map("".join))


@given(FIELD)
@settings(max_examples=300, deadline=None)
def test_the_structured_field_parsers_only_raise_sfv_errors(text: str) -> None:
    for parse in (parse_inner_lists, parse_byte_sequences):
        with contextlib.suppress(SfvError):
            parse(text)


@given(signature_input=FIELD, signature=FIELD, digest=FIELD, body=st.binary(max_size=64))
@settings(max_examples=300, deadline=None)
def test_any_header_values_give_auth_error(
    signature_input: str, signature: str, digest: str, body: bytes
) -> None:
    headers = {"Signature-Input": signature_input, "Signature": signature, "Content-Digest": digest}
    with pytest.raises(AuthError) as caught:
        VERIFIER.verify("POST", URL, headers, body)
    assert caught.value.status == 401


@given(st.sampled_from(["Signature-Input", "Signature", "Content-Digest"]), FIELD)
@settings(max_examples=200, deadline=None)
def test_one_damaged_header_of_a_good_request_gives_auth_error(name: str, value: str) -> None:
    headers = SIGNER.headers_for("POST", URL, b"{}")
    headers[name] = value
    with pytest.raises(AuthError):
        VERIFIER.verify("POST", URL, headers, b"{}")


def test_a_huge_header_is_refused_without_parsing_it() -> None:
    headers = SIGNER.headers_for("POST", URL, b"{}")
    headers["Signature-Input"] = "kiosk=(" + '"a" ' * 100_000 + ")"
    with pytest.raises(AuthError) as caught:
        VERIFIER.verify("POST", URL, headers, b"{}")
    assert caught.value.code == "bad_signature"
