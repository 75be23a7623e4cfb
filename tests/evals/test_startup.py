"""What the command line costs before it does anything: ``--version`` and ``--help``
import no model client, numpy or scipy (they took 4 s on a 2-core machine when they did),
and ``import evals`` loads its names only when first used."""

import subprocess
import sys

import pytest

HEAVY = ("scipy", "numpy", "openai", "patterns")


def loaded(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split()[-1000:] if out.stdout else [])


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_the_version_and_the_help_import_nothing_heavy(flag: str) -> None:
    code = (
        "import contextlib, io\nfrom evals.cli import main\n"
        f"with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main([{flag!r}])"
    )
    found = loaded(code)
    assert not {m for m in found if m.split(".")[0] in HEAVY}


def test_importing_evals_loads_a_name_only_when_used() -> None:
    assert "scipy" not in loaded("import evals")
    assert "openai" in loaded("import evals\nevals.Suite")
    # numpy and scipy only when a statistic is computed; scipy.stats only for ranks
    before = loaded("import evals, evals.metrics, evals.report\nevals.Suite, evals.Accuracy")
    assert not before & {"scipy", "numpy"}
    computed = loaded("from evals.metrics import proportion, t95\nt95(5), proportion(3, 10)")
    assert "scipy.special" in computed
    assert "scipy.stats" not in computed
