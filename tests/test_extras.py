"""Every extra in pyproject.toml installs from public PyPI."""

from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def test_no_extra_pins_a_local_version_label():
    """`torch==2.13.0+cpu` is served by PyTorch's index only, not by PyPI."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [
        Requirement(line)
        for lines in project["optional-dependencies"].values()
        for line in lines
    ] + [Requirement(line) for line in project["dependencies"]]
    assert any(r.name == "torch" for r in requirements)
    for requirement in requirements:
        for spec in requirement.specifier:
            assert "+" not in spec.version, f"{requirement}: local version label"
        assert requirement.url is None, f"{requirement}: a direct URL"


def test_the_torch_extra_accepts_the_cpu_wheel_and_pypi_releases():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (torch,) = [Requirement(r) for r in project["optional-dependencies"]["torch"]]
    assert torch.specifier.contains("2.13.0+cpu")
    assert torch.specifier.contains("2.13.0")
    assert not torch.specifier.contains("2.3.0")
