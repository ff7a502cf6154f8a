"""Password hashing: production argon2id parameters, long and non-ASCII passwords, exactness."""

import pytest
from passlib.context import CryptContext

from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.services.members import passwords


def test_hash_is_argon2id_with_owasp_minimum_parameters():
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_long_passphrase_round_trips():
    phrase = "a long passphrase that keeps going well past sixty-four characters, really!"
    assert len(phrase) > 64
    stored = passwords.hash_password(phrase)
    assert passwords.verify_password(phrase, stored)


def test_maximum_length_of_four_byte_characters_round_trips():
    phrase = "🔑" * passwords.MAX_PASSWORD_LENGTH  # 4096 UTF-8 bytes
    stored = passwords.hash_password(phrase)
    assert passwords.verify_password(phrase, stored)
    assert not passwords.verify_password(phrase[:-1] + "🔒", stored)


def test_non_ascii_password_round_trips():
    phrase = "Contraseña ßüñ 密码 пароль"
    stored = passwords.hash_password(phrase)
    assert passwords.verify_password(phrase, stored)


@pytest.mark.parametrize(
    "attempt",
    [
        "Correct horse battery",  # case differs
        "correct horse batterx",  # last character differs
        " correct horse battery",  # leading space is part of the password
        "correct horse battery ",  # trailing space too
        "correct horse batter",  # truncated
    ],
)
def test_one_character_difference_fails(attempt):
    stored = passwords.hash_password("correct horse battery")
    assert not passwords.verify_password(attempt, stored)


def test_password_with_spaces_is_verified_exactly_as_typed():
    phrase = "  spaces around  "
    stored = passwords.hash_password(phrase)
    assert passwords.verify_password(phrase, stored)
    assert not passwords.verify_password(phrase.strip(), stored)


def test_unicode_forms_are_not_normalised():
    composed, decomposed = "caf\u00e9-password", "cafe\u0301-password"
    stored = passwords.hash_password(composed)
    assert passwords.verify_password(composed, stored)
    assert not passwords.verify_password(decomposed, stored)


def test_length_limits():
    with pytest.raises(LoyaltyError) as short:
        passwords.hash_password("seven77")
    assert short.value.code == "password_too_short"
    assert short.value.params == {"minimum": 8}
    passwords.validate_new_password("x" * 8)
    passwords.validate_new_password("x" * passwords.MAX_PASSWORD_LENGTH)
    with pytest.raises(LoyaltyError) as long:
        passwords.hash_password("x" * (passwords.MAX_PASSWORD_LENGTH + 1))
    assert long.value.code == "password_too_long"


def test_oversized_or_malformed_input_never_matches():
    stored = passwords.hash_password("correct horse battery")
    assert not passwords.verify_password("x" * (passwords.MAX_PASSWORD_LENGTH + 1), stored)
    assert not passwords.verify_password("correct horse battery", "not-a-hash")
    assert not passwords.verify_password("correct horse battery", "")


def test_needs_rehash_for_weaker_parameters():
    weak = CryptContext(schemes=["argon2"], argon2__type="ID", argon2__memory_cost=8192, argon2__time_cost=1)
    old_hash = weak.hash("correct horse battery")
    assert passwords.needs_rehash(old_hash)
    assert not passwords.needs_rehash(passwords.hash_password("correct horse battery"))
    assert passwords.needs_rehash("garbage")
    # The old hash still verifies, so sign-in can upgrade it.
    assert passwords.verify_password("correct horse battery", old_hash)
