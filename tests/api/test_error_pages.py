"""Answers Django gives before any API view runs are JSON too."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_a_host_header_not_allowed_gets_a_json_400_under_the_api() -> None:
    response = Client().get("/api/v1/prospects", headers={"host": ";R\\"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Bad request."}


@pytest.mark.django_db
def test_an_unknown_api_path_gets_a_json_404() -> None:
    response = Client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_pages_outside_the_api_keep_their_html_error_pages() -> None:
    response = Client().get("/no-such-page/", headers={"host": ";R\\"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
