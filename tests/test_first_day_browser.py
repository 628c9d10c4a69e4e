"""Each role's worklist in Chromium at tablet (768 px) and laptop (1366 px) width: the home page and
the main worklist fit the screen without sideways scrolling; screenshots kept in test-artifacts/."""
import pytest
from django.urls import reverse

from conftest import browser_login, save_screenshot
from tests.test_first_day import county_at_work  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORKLISTS = {
    "caseworker_a": "audits:task_list",
    "reviewer": "audits:review_queue",
    "supervisor": "audits:task_list",
    "inspector": "complaints:clue_list",
}


@pytest.mark.parametrize("width", [768, 1366])
def test_each_roles_worklist_fits(county_at_work, users, browser_page, live_server, width):  # noqa: F811
    page = browser_page
    page.set_viewport_size({"width": width, "height": 1024})
    for who, worklist in WORKLISTS.items():
        page.context.clear_cookies()
        browser_login(page, live_server.url, users[who].username)
        page.goto(live_server.url + reverse("home"))
        assert page.locator("#worklist .card").count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{who}: home scrolls sideways"
        save_screenshot(page, f"first_day_{who}_home_{width}")
        page.goto(live_server.url + reverse(worklist))
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{who}: {worklist} scrolls sideways"
        save_screenshot(page, f"first_day_{who}_worklist_{width}")
