"""Sweeps that scale out: ``cxsim --multirun`` jobs, resume, failure markers, ``cxsim-collect``.

Each job of a sweep writes complete results (``meta.json`` last) or a
``FAILED`` marker into a directory named by the hash of its overrides; a
re-run of the same command skips the complete jobs and redoes the others;
``cxsim-collect`` merges the complete jobs and names the others. Runs are tiny
(200 clients, 0.1 years) and go through the real command line in a
subprocess, as a user would run them.

The failed job is made to fail honestly: the sweep runs under a limit on file
size (``RLIMIT_FSIZE``, what a disk quota does to a process), which only the
big market's ``clients.parquet`` exceeds. The write fails half-way through,
so the test also shows that a half-written table is never presented as a
result.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import cxsim
from cxsim.collect import collect, expand_sweep, main, override_hash

SOLO = ["scenario=solo", "sim.years=0.1"]
BIG = 60_000
"""Clients of the job that fails: its clients table (~190 kB) exceeds the limit."""
FILE_LIMIT = 100_000
"""Bytes per file: above every figure (~50 kB) and every table of 200 clients."""


def _cxsim(args: list[str], cwd: Path, file_limit: int | None = None,
           timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")}

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return subprocess.run([sys.executable, "-m", "cxsim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit if file_limit else None)


def _sweep_dir(stdout: str) -> Path:
    found = re.search(r"^sweep: (.+)$", stdout, re.MULTILINE)
    assert found, stdout
    return Path(found.group(1))


def _mtimes(sweep: Path, jobs: list[str]) -> dict[str, int]:
    return {job: (sweep / job / "meta.json").stat().st_mtime_ns for job in jobs}


def _collect_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


# --------------------------------------------------------------------------- #
# Job identity
# --------------------------------------------------------------------------- #


def test_a_job_is_the_hash_of_its_overrides_in_any_order():
    a = override_hash(["seed=1", "market.size=200"])
    assert a == override_hash(["market.size=200", "seed=1"])
    assert a != override_hash(["seed=2", "market.size=200"])
    assert re.fullmatch(r"[0-9a-f]{12}", a)


def test_a_sweep_expands_as_hydras_basic_sweeper_does():
    jobs = expand_sweep(["scenario=solo", "seed=1,2", "+firms.b.price_level=range(1,3)"])
    assert jobs == [
        ["scenario=solo", "seed=1", "+firms.b.price_level=1"],
        ["scenario=solo", "seed=1", "+firms.b.price_level=2"],
        ["scenario=solo", "seed=2", "+firms.b.price_level=1"],
        ["scenario=solo", "seed=2", "+firms.b.price_level=2"],
    ]


# --------------------------------------------------------------------------- #
# A failed job, collected, then completed by the same command
# --------------------------------------------------------------------------- #


def test_a_failed_job_is_named_by_collect_and_a_rerun_completes_it(tmp_path, capsys):
    args = ["-m", *SOLO, f"market.size=200,{BIG},300"]
    done = _cxsim(args, tmp_path, file_limit=FILE_LIMIT)

    assert done.returncode == 1, done.stderr
    sweep = _sweep_dir(done.stdout)
    assert sweep.parent == tmp_path / "multirun"
    jobs = {size: override_hash([*SOLO, f"market.size={size}"]) for size in (200, BIG, 300)}
    failed = sweep / jobs[BIG]
    assert f"cxsim: job {jobs[BIG]} failed: " in done.stderr
    reason = (failed / "FAILED").read_text()
    assert "File too large" in reason and reason.count("\n") == 1
    # nothing in the failed job's directory looks like a result, not even half a table
    assert not (failed / "meta.json").exists()
    assert [p.name for p in failed.iterdir() if p.suffix in (".parquet", ".json", ".partial")
            or p.name.endswith(".partial")] == []

    result = collect(sweep)
    assert list(result.table["market.size"]) == [200, 300]
    assert set(result.table.job) == {jobs[200], jobs[300]}
    problems = result.problems
    assert list(problems.job) == [jobs[BIG]] and list(problems.status) == ["failed"]
    assert f"market.size={BIG}" in problems.overrides[0]
    assert "File too large" in problems.reason[0]

    code, out, err = _collect_cli([str(sweep)], capsys)
    assert code == 1
    assert jobs[BIG] in err and f"market.size={BIG}" in err
    listed = pd.read_csv(sweep / "sweep_failed.csv")
    assert list(listed.job) == [jobs[BIG]] and list(listed.status) == ["failed"]
    assert len(pd.read_csv(sweep / "sweep_summary.csv")) == 2

    before = _mtimes(sweep, [jobs[200], jobs[300]])
    again = _cxsim(args, tmp_path)  # the same command, without the limit

    assert again.returncode == 0, again.stderr
    assert _sweep_dir(again.stdout) == sweep
    for size in (200, 300):
        assert f"cxsim: job {jobs[size]} is complete, skipped" in again.stdout
    assert _mtimes(sweep, [jobs[200], jobs[300]]) == before
    assert not (failed / "FAILED").exists() and (failed / "meta.json").is_file()
    result = collect(sweep)
    assert result.problems.empty
    assert list(result.table["market.size"]) == [200, BIG, 300]
    code, out, err = _collect_cli([str(sweep)], capsys)
    assert code == 0 and err == ""
    assert len(pd.read_csv(sweep / "sweep_failed.csv")) == 0


def test_a_sweep_killed_with_sigkill_resumes_with_the_same_command(tmp_path):
    args = [sys.executable, "-m", "cxsim", "-m", *SOLO, "market.size=200", "seed=0,1,2"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")}
    with open(tmp_path / "out.txt", "w") as out, open(tmp_path / "err.txt", "w") as err:
        proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=err,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            finished: list[Path] = []
            while not finished and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
                finished = list((tmp_path / "multirun").glob("sweep-*/*/meta.json"))
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert finished, (tmp_path / "err.txt").read_text()
    sweep = finished[0].parent.parent
    first = finished[0].parent.name

    interrupted = collect(sweep).jobs
    assert len(interrupted) == 3
    assert set(interrupted.status) - {"complete"} <= {"incomplete", "missing"}
    assert (interrupted.status != "complete").any(), "the kill came too late to interrupt"
    before = _mtimes(sweep, [first])

    again = _cxsim(args[3:], tmp_path)

    assert again.returncode == 0, again.stderr
    assert f"cxsim: job {first} is complete, skipped" in again.stdout
    assert _mtimes(sweep, [first]) == before
    result = collect(sweep)
    assert result.problems.empty
    assert list(result.table.seed) == [0, 1, 2]


# --------------------------------------------------------------------------- #
# Launchers and replications
# --------------------------------------------------------------------------- #

DUEL = ["market.size=200", "sim.years=0.1", "seed=3,4", "experiment.replications=1,2"]
"""Four jobs of the two-firm default scenario, two of them of two replications."""


def _sweep_with(launcher: list[str], where: Path) -> pd.DataFrame:
    done = _cxsim(["-m", *DUEL, *launcher, f"hydra.sweep.dir={where}"], where.parent)
    assert done.returncode == 0, done.stderr
    result = collect(where)
    assert result.problems.empty, result.problems
    return result.table


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory) -> pd.DataFrame:
    """The DUEL sweep run by Hydra's basic launcher, collected."""
    return _sweep_with([], tmp_path_factory.mktemp("basic") / "sweep")


def test_replications_in_a_job_are_collected_as_rows_per_firm(basic_sweep):
    table = basic_sweep
    assert list(table.columns[:3]) == ["job", "experiment.replications", "overrides"]
    assert "seed" in table.columns  # swept, and a result column already: kept once
    assert table.job.nunique() == 4
    assert len(table) == (1 + 2) * 2 * 2  # replications x seeds x firms
    for (seed, n, firm), rows in table.groupby(["seed", "experiment.replications", "firm"]):
        assert list(rows.replication) == list(range(n)), (seed, n, firm)
    # replication i of a job is cxsim.replicate's replication i
    cfg = cxsim.compose(["market.size=200", "sim.years=0.1", "seed=3",
                         "experiment.replications=2"])
    expected = cxsim.replicate(cfg, 2, progress=False).summary
    mine = table[(table.seed == 3) & (table["experiment.replications"] == 2)]
    got = mine[list(expected.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_joblib_launcher_gives_the_same_collected_table(basic_sweep, tmp_path):
    table = _sweep_with(["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
                        tmp_path / "sweep")
    pd.testing.assert_frame_equal(table, basic_sweep)


def test_ray_launcher_gives_the_same_collected_table(basic_sweep, tmp_path):
    """Four jobs on a local Ray instance; runs when hydra-ray-launcher is installed.

    ``make test-distributed`` installs Ray and the plugin and runs this test.
    """
    pytest.importorskip("hydra_plugins.hydra_ray_launcher")
    table = _sweep_with(["hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2",
                         "+hydra.launcher.ray.init.include_dashboard=false"],
                        tmp_path / "sweep")
    pd.testing.assert_frame_equal(table, basic_sweep)


def test_submitit_local_launcher_gives_the_same_collected_table(basic_sweep, tmp_path):
    """The ``dev`` extra installs hydra-submitit-launcher; SLURM runs the same code."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    table = _sweep_with(["hydra/launcher=submitit_local"], tmp_path / "sweep")
    pd.testing.assert_frame_equal(table, basic_sweep)


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #


def test_zero_replications_exit_2_before_anything_is_written(tmp_path):
    done = _cxsim(["-m", *SOLO, "market.size=200", "experiment.replications=1,0"], tmp_path)

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "cxsim: error: experiment.replications must be in [1, 100,000]; got 0"]
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["no-such-dir", "a-file", "not-a-sweep", "bad-table"])
def test_collect_bad_input_exits_2_with_one_line(tmp_path, capsys, case):
    target = tmp_path / "x"
    argv = [str(target)]
    if case == "a-file":
        target.write_text("")
    elif case == "not-a-sweep":
        (target / "sub").mkdir(parents=True)
    elif case == "bad-table":
        target.mkdir()
        argv += ["--table", "nope"]
    messages = {
        "no-such-dir": f"sweep directory '{target}' does not exist or is not a directory",
        "a-file": f"sweep directory '{target}' does not exist or is not a directory",
        "not-a-sweep": f"'{target}' is not a cxsim sweep directory",
        "bad-table": "argument --table: invalid choice: 'nope'",
    }
    before = sorted(tmp_path.rglob("*"))

    code, out, err = _collect_cli(argv, capsys)

    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cxsim-collect: error: ")
    assert messages[case] in lines[0]
    assert sorted(tmp_path.rglob("*")) == before
