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
