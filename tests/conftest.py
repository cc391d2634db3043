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
