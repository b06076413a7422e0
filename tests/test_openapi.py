"""The OpenAPI schema of the whole API is valid and generated without a single warning."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    stderr = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=stderr)
    schema = out.read_text()
    for path in ("/api/datasets/", "/api/queries/", "/api/wallet/", "/api/models/"):
        assert f"{path}:" in schema
