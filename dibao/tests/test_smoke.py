import pytest


@pytest.mark.django_db
def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_home_renders_region(users, client_for):
    response = client_for(users["caseworker_a"]).get("/")
    assert response.status_code == 200
    assert "南岭街道" in response.content.decode()


def test_every_apps_tests_are_collected_by_the_suite():
    """`make test` runs pytest's testpaths: an app left out of them has tests that never run."""
    import configparser
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    ini = configparser.ConfigParser()
    ini.read(root / "pytest.ini")
    testpaths = set(ini["pytest"]["testpaths"].split())
    with_tests = {p.parent.parent.name for p in root.glob("*/tests/__init__.py")} | {"tests"}
    assert with_tests <= testpaths, sorted(with_tests - testpaths)
