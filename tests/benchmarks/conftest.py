"""Benchmarks share the test database set-up; data is generated per module."""

import pytest
from django.template.base import Template
from django.test.utils import _TestState

from tests.bulk_data import prospects_generate


@pytest.fixture
def hundred_thousand_prospects(transactional_db):
    prospects_generate(100_000)


@pytest.fixture
def production_template_rendering():
    """Render templates as production does, without the test instrumentation.

    The test environment wraps every template render to send a signal (for
    `assertTemplateUsed`); on an admin page that is hundreds of renders and
    roughly doubles the time, which production never pays.
    """
    instrumented = Template._render
    Template._render = _TestState.saved_data.template_render
    yield
    Template._render = instrumented
