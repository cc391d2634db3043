"""The bundle verifier's stdlib RFC 8785 and Ed25519 agree with the maintained libraries."""

from __future__ import annotations

import math

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from costcorrect.ledger.keys import load_or_create_signer, verify_signature
from costcorrect.ledger.verify_bundle import CanonicalError, canonical_json, ed25519_verify

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_stdlib_canonical_equals_rfc8785(value):
    assert canonical_json(value).encode("utf-8") == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_formatting_round_trips(x):
    s = canonical_json(x)
    assert float(s) == x or (x == 0 and s == "0")


@pytest.mark.parametrize("x,text", [  # RFC 8785 §3.2.2.3 / ECMAScript Number::toString examples
    (0.0, "0"), (-0.0, "0"), (1.0, "1"), (1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-7, "1e-7"),
    (1e-6, "0.000001"), (333333333.3333333, "333333333.3333333"), (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"), (-1.5e-10, "-1.5e-10"), (123.456, "123.456"),
])
def test_es_number_examples(x, text):
    assert canonical_json(x) == text


def test_rfc8785_key_order_is_utf16():
    # RFC 8785 §3.2.3 example: keys sorted by UTF-16 code units
    obj = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
           "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O "
           "With Diaeresis"}
    order = [k for k in __import__("json").loads(canonical_json(obj))]
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize("bad", [math.nan, math.inf, 2**53, {1: "int key"}, object()])
def test_non_json_values_are_refused(bad):
    with pytest.raises(CanonicalError):
        canonical_json(bad)


def test_ed25519_rfc8032_vector_1():
    pk = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    sig = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
                        "701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    assert ed25519_verify(pk, b"", sig) and verify_signature(pk, b"", sig)
    assert not ed25519_verify(pk, b"\x00", sig)


@settings(max_examples=15, deadline=None)
@given(msg=st.binary(max_size=64), flip=st.integers(0, 64 * 8 - 1))
def test_pure_python_ed25519_agrees_with_cryptography(tmp_path_factory, msg, flip):
    signer = load_or_create_signer(tmp_path_factory.mktemp("k") / "k.pem")
    sig = signer.sign(msg)
    pk = signer.public_key_raw
    assert ed25519_verify(pk, msg, sig) is True
    bad = bytearray(sig)
    bad[flip // 8] ^= 1 << (flip % 8)
    assert ed25519_verify(pk, msg, bytes(bad)) == verify_signature(pk, msg, bytes(bad)) is False
