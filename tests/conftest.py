import pytest

from costcorrect.catalog import Catalog
from costcorrect.scenario import load_scenario
from costcorrect.serving import frontier as fr


@pytest.fixture(scope="session")
def catalog():
    return Catalog.load()


@pytest.fixture(scope="session")
def scenario():
    return load_scenario()


@pytest.fixture(scope="session")
def h100_setup(catalog, scenario):
    return fr.setup_for(catalog, scenario, "h100-sxm")


def _one_line_error(result) -> str:
    """Assert a CLI result is bad input: exit code 2, one non-empty stderr line, no traceback."""
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(scope="session")
def one_line_error():
    return _one_line_error


@pytest.fixture(scope="session")
def cli_json():
    """Run the CLI and return its JSON stdout (the command must succeed)."""
    import json

    from typer.testing import CliRunner

    from costcorrect.cli import app

    def run(*args):
        r = CliRunner().invoke(app, list(args))
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    return run


@pytest.fixture(scope="module")
def web_client():
    """A TestClient on the web explorer app (skips where FastAPI is not installed)."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from costcorrect.web import create_app

    with TestClient(create_app()) as c:
        yield c
