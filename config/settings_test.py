"""Settings of the test suite (pytest.ini): the development configuration, since tests talk
plain HTTP to pages that use uncollected static files. pytest-django still runs every test
with DEBUG off, so error pages are the production ones."""
import os

os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: E402,F401,F403

# Tests read the finished job right after the request that started it.
TASKS_IN_THREAD = False

# Tests change data and read live summaries straight after; their cache is tested on its own.
LIVE_SUMMARY_SECONDS = 0
