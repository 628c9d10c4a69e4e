import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The shared user fixtures hash passwords; a cheap hasher keeps the suite quick on 2 cores."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
