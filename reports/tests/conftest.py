import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Export files of a test go to its own directory, not the project's media/; users get a
    cheap password hash so the shared `users` fixture does not dominate the run."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings.MEDIA_ROOT
