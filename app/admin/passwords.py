"""The one rule for a new password, NIST SP 800-63B style: long enough, not too long to hash,
not one of the commonly used passwords, not the account's own e-mail address. No composition
rules (a digit, a capital, ...): they make passwords harder to remember, not to guess."""
from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from app.core.errors import InvalidInput
from app.core.messages import N_, Msg

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # a pass phrase fits; a megabyte to hash does not
COMMON_PASSWORDS = Path(__file__).resolve().parent / "common_passwords" / \
    "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    """The vendored list (see common_passwords/SOURCE.md), lower-cased."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def check_new_password(password: str | None, *, email: str | None = None,
                       field: str = "password") -> str:
    """`password` if it may be someone's new password, else InvalidInput naming `field`."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(Msg(N_("The password must be at least {min_length} characters."),
                               min_length=MIN_PASSWORD_LENGTH), field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(Msg(N_("The password may be at most {max_length} characters."),
                               max_length=MAX_PASSWORD_LENGTH), field=field)
    folded = password.strip().lower()
    if folded in common_passwords():
        raise InvalidInput(Msg(N_("This password is one of the most commonly used, and easy to "
                                  "guess. Choose another, e.g. a few words in a row.")),
                           field=field)
    if email and folded in {email.lower(), email.lower().partition("@")[0]}:
        raise InvalidInput(Msg(N_("The password must not be your e-mail address.")),
                           field=field)
    return password
