"""The `lee` command line, through click's test runner and as a real process."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from generators.empirical import EmpiricalSampler
from lee.cli import lee
from lee.study import load_study

COLUMNS = ("a", "b", "m")

# A small study on synthetic events: two features independent of the scan variable
# m, which falls exponentially. A plain bump scan keeps the toys fast.
STUDY = """\
name = "synthetic"
seed = 3
out = "out"
progress = false

[data]
path = "data.npz"

[generator]
checkpoint = "gen.pt"
kind = "empirical"
events = "mc.csv"

[fidelity]
reference = "mc.csv"
n_events = 10000

[windows]
scan_range = [40.0, 280.0]
width = 40.0
step = 20.0
sideband = 40.0
bins = 4

[scan]
kind = "bump"
scan_feature = "m"

[toys]
n_toys = 12
n_jobs = 1
"""


def events(n, seed):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.normal(size=n), rng.normal(size=n), 40 + rng.exponential(60, n)]
    )


@pytest.fixture
def study_dir(tmp_path):
    """A folder with data.npz, mc.csv, a fitted bootstrap gen.pt and study.toml."""
    data = events(3_000, seed=1)
    np.savez(tmp_path / "data.npz", **{c: data[:, k] for k, c in enumerate(COLUMNS)})
    mc = events(20_000, seed=2)
    lines = [",".join(COLUMNS)] + [",".join(map(repr, row.tolist())) for row in mc]
    (tmp_path / "mc.csv").write_text("\n".join(lines) + "\n")
    EmpiricalSampler(features=COLUMNS).fit(mc).save(tmp_path / "gen.pt")
    (tmp_path / "study.toml").write_text(STUDY)

    return tmp_path


def invoke(*args):
    return CliRunner().invoke(lee, [str(a) for a in args])


def stored_toys(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM toys").fetchone()[0]


# -- help ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [[], ["demo"], ["train"], ["fidelity"], ["toys"], ["report"], ["init"]]
)
def test_every_command_has_help(command):
    result = invoke(*command, "--help")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: lee")


def test_every_option_of_a_study_command_names_its_key():
    for name in ("train", "fidelity", "toys", "report"):
        command = lee.commands[name]
        for param in command.params:
            if param.param_type_name == "option" and param.name not in (
                "help",
                "sets",
                "with_fidelity",
            ):
                assert "[key: " in (param.help or ""), f"{name} --{param.name}"


def test_unknown_option_is_a_usage_error():
    result = invoke("toys", "study.toml", "--tyos", "5")

    assert result.exit_code == 2
    assert "No such option '--tyos'" in result.output


# -- init and the TOML round trip ------------------------------------------------------


def test_init_writes_a_study_that_reads_back(tmp_path):
    path = tmp_path / "study.toml"

    result = invoke("init", path, "--set", "toys.n_toys=42")

    assert result.exit_code == 0, result.output
    assert load_study(path).toys.n_toys == 42


def test_init_does_not_overwrite_without_force(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text("seed = 1\n")

    result = invoke("init", path)

    assert result.exit_code == 2
    assert "--force" in result.output
    assert path.read_text() == "seed = 1\n"


def test_report_folder_holds_a_study_file_equal_to_the_one_run(study_dir):
    assert invoke("toys", study_dir / "study.toml").exit_code == 0
    assert invoke("report", study_dir / "study.toml", "--no-fidelity").exit_code == 0

    original = load_study(study_dir / "study.toml")
    copy = load_study(study_dir / "out" / "study.toml")

    # Paths are rewritten relative to the report folder; they point to the same
    # files, and every other key is unchanged.
    assert copy.resolve(copy.data.path) == original.resolve(original.data.path)
    assert copy.store_path == original.store_path
    assert copy.scan == original.scan and copy.windows == original.windows
    assert copy.toys.n_toys == original.toys.n_toys


# -- errors a user can act on ----------------------------------------------------------


def test_missing_study_file_is_a_usage_error(tmp_path):
    result = invoke("toys", tmp_path / "nothere.toml")

    assert result.exit_code == 2
    assert "nothere.toml" in result.output and "does not exist" in result.output


def test_missing_data_file_is_a_usage_error(study_dir):
    result = invoke("toys", study_dir / "study.toml", "--data", "missing.npz")

    assert result.exit_code == 2
    assert "missing.npz" in result.output and "does not exist" in result.output


def test_malformed_value_names_key_expected_type_and_value(study_dir):
    path = study_dir / "study.toml"
    path.write_text(STUDY.replace("n_toys = 12", 'n_toys = "twelve"'))

    result = invoke("toys", path)

    assert result.exit_code == 2
    assert "key 'toys.n_toys' must be an integer" in result.output
    assert "got 'twelve' (a string)" in result.output


def test_malformed_set_value_names_the_key(study_dir):
    result = invoke("toys", study_dir / "study.toml", "--set", "scan.n_folds=many")

    assert result.exit_code == 2
    assert "'scan.n_folds' must be an integer; got 'many'" in result.output


def test_set_without_equals_sign(study_dir):
    result = invoke("toys", study_dir / "study.toml", "--set", "scan.n_folds")

    assert result.exit_code == 2
    assert "--set needs KEY=VALUE" in result.output


def test_unknown_column_lists_the_available_ones(study_dir):
    result = invoke(
        "train", study_dir / "study.toml", "--columns", "a,mass", "-o", "x.pt"
    )

    assert result.exit_code == 1
    assert "unknown column 'mass'" in result.output
    assert "['a', 'b', 'm']" in result.output


def test_unknown_scan_feature_names_the_key(study_dir):
    result = invoke("toys", study_dir / "study.toml", "--set", "scan.scan_feature=mbb")

    assert result.exit_code == 1
    assert "scan.scan_feature names the column 'mbb'" in result.output


def test_checkpoint_of_other_columns_is_incompatible(study_dir):
    EmpiricalSampler(features=("x", "y", "m")).fit(events(100, 0)).save(
        study_dir / "other.pt"
    )

    result = invoke("toys", study_dir / "study.toml", "-g", study_dir / "other.pt")

    assert result.exit_code == 1
    assert "incompatible checkpoint" in result.output
    assert "['x', 'y', 'm']" in result.output


def test_file_that_is_not_a_checkpoint_is_refused(study_dir):
    (study_dir / "bad.pt").write_bytes(b"not a checkpoint")

    result = invoke("toys", study_dir / "study.toml", "-g", study_dir / "bad.pt")

    assert result.exit_code == 1
    assert "cannot read" in result.output and "checkpoint" in result.output


def test_store_of_another_study_is_refused(study_dir):
    path = study_dir / "study.toml"
    assert invoke("toys", path, "--toys", "2").exit_code == 0

    result = invoke("toys", path, "--toys", "2", "--set", "windows.bins=8")

    assert result.exit_code == 1
    assert "belongs to another study" in result.output


@pytest.mark.parametrize(
    ("command", "key"),
    [("train", "generator.events"), ("fidelity", "fidelity.reference")],
)
def test_command_without_its_input_names_the_option_and_key(command, key):
    result = invoke(command)

    assert result.exit_code == 2
    assert key in result.output


def test_report_without_a_store(study_dir):
    result = invoke("report", study_dir / "study.toml")

    assert result.exit_code == 2
    assert "no toy store" in result.output and "lee toys" in result.output


# -- the commands ----------------------------------------------------------------------


def test_train_fits_and_saves_the_sampler(study_dir):
    result = invoke(
        "train", study_dir / "study.toml", "--columns", "m,a", "-o", "new.pt"
    )

    assert result.exit_code == 0, result.output
    assert "saved EmpiricalSampler (2 columns" in result.output
    from generators.checkpoint import load

    assert load(Path.cwd() / "new.pt").features == ("m", "a")
    (Path.cwd() / "new.pt").unlink()


def test_train_a_wgangp_for_one_epoch(study_dir):
    out = study_dir / "wgangp.pt"

    result = invoke(
        "train",
        study_dir / "study.toml",
        "--kind",
        "wgangp",
        "--epochs",
        "1",
        "--events",
        study_dir / "data.npz",
        "-o",
        out,
    )

    assert result.exit_code == 0, result.output
    assert "saved WGANGP (3 columns" in result.output
    assert out.is_file()


def test_train_with_a_weight_column(study_dir):
    w = np.abs(events(3_000, seed=1)[:, 0])
    data = events(3_000, seed=1)
    np.savez(study_dir / "weighted.npz", a=data[:, 0], m=data[:, 2], w=w)

    result = invoke(
        "train",
        study_dir / "study.toml",
        "--events",
        study_dir / "weighted.npz",
        "--weights",
        "w",
        "-o",
        study_dir / "weighted.pt",
    )

    assert result.exit_code == 0, result.output
    assert "(2 columns" in result.output


def test_fidelity_writes_report_and_figures(study_dir):
    result = invoke("fidelity", study_dir / "study.toml", "-n", "8000")

    assert result.exit_code == 0, result.output
    assert "C2ST AUC" in result.output
    report = json.loads((study_dir / "fidelity" / "fidelity.json").read_text())
    # -n overrides fidelity.n_events of the file.
    assert report["n_reference"] == 8000
    assert list((study_dir / "fidelity").glob("*.png"))


def test_toys_run_resume_and_report(study_dir):
    path = study_dir / "study.toml"
    store = study_dir / "out" / "toys.sqlite"

    first = invoke("toys", path, "--toys", "5")
    second = invoke("toys", path)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "12 toys in" in second.output and "(0 failed" in second.output
    assert stored_toys(store) == 12

    result = invoke("report", path)

    assert result.exit_code == 0, result.output
    for line in ("local Z (largest)", "empirical", "gross-vitells", "toys run"):
        assert line in result.output
    report = json.loads((study_dir / "out" / "report.json").read_text())
    assert report["toys"]["n_toys"] == 12
    assert set(report["global_significance"]) == {
        "empirical",
        "gross-vitells",
        "trials-factor",
    }
    for figure in ("scan", "toys_max_significance", "global_vs_local"):
        assert (study_dir / "out" / f"{figure}.png").is_file()
    assert (study_dir / "out" / "fidelity" / "histograms.png").is_file()


@pytest.mark.slow
def test_toys_with_the_cwola_scan_on_two_workers(study_dir):
    result = invoke(
        "toys",
        study_dir / "study.toml",
        "--toys",
        "2",
        "--jobs",
        "2",
        "--store",
        study_dir / "cwola.sqlite",
        "--set",
        "scan.kind=cwola",
        "--set",
        "scan.n_folds=2",
        "--set",
        "scan.efficiencies=[0.2]",
    )

    assert result.exit_code == 0, result.output
    assert "2 toys in" in result.output and "(0 failed" in result.output


@pytest.mark.slow
def test_ctrl_c_keeps_the_store_and_the_printed_command_resumes(study_dir):
    # A real process and a real SIGINT: the toys of the interrupted run must all be
    # in the store, and the command it prints must finish exactly the toys asked.
    path = study_dir / "study.toml"
    store = study_dir / "out" / "toys.sqlite"
    lee_command = [sys.executable, "-c", "from lee.cli import main; main()"]
    args = ["toys", str(path), "--toys", "400", "--set", "scan.kind=cwola"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [*lee_command, *args],
        cwd=study_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if store.exists() and stored_toys(store) >= 2:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)

    assert proc.returncode == 1, stderr
    assert "interrupted" in stderr and "resume with:" in stderr
    assert "Error:" not in stderr  # an interruption is not reported as an error
    resume = stderr.split("resume with:")[1].strip().splitlines()[0]
    assert resume.startswith("lee toys ") and "--toys 400" in resume
    n_kept = stored_toys(store)
    assert 2 <= n_kept < 400

    # Resume with fewer toys wanted, to keep the test short: the same store.
    rerun = subprocess.run(
        [*lee_command, *resume.split()[1:], "--toys", str(n_kept + 3)],
        cwd=study_dir,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )

    assert rerun.returncode == 0, rerun.stderr
    assert stored_toys(store) == n_kept + 3


def test_demo_quick_end_to_end(tmp_path):
    out = tmp_path / "demo"

    result = invoke("demo", "--quick", "--out", out, "--no-progress")

    assert result.exit_code == 0, result.output
    for line in ("local Z (largest)", "empirical", "trials-factor", "wall time"):
        assert line in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["toys"]["n_toys"] == report["study"]["toys"]["n_toys"]
    assert report["data"]["n_signal"] > 0
    assert (
        report["seeds"]["toys"] == report["toys"]["config"]["random_state"]["entropy"]
    )
    assert {"lee-toys", "numpy", "torch"} <= set(report["versions"])
    for figure in ("scan", "toys_max_significance", "global_vs_local"):
        assert (out / f"{figure}.png").is_file()
    assert list((out / "fidelity").glob("*.png"))
    assert load_study(out / "study.toml").toys.n_toys == report["toys"]["n_toys"]
