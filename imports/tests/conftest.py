import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing_and_private_media(settings, tmp_path):
    # The shared `users` fixture hashes eight passwords; the slow default hasher would make
    # this app's many short tests spend most of their time there.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Uploaded files go to a per-test directory, not the project's media/.
    settings.MEDIA_ROOT = tmp_path / "media"
