"""``--executor``/``--scheduler``: the address is checked whole at the boundary, a scheduler that cannot
give rst's guarantees is refused in one line, and none of it needs a cluster of its own."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from rst.cli.main import cli
from rst.cluster.address import validate_scheduler
from rst.cluster.errors import ClusterUnfit, SchedulerUnreachable
from rst.errors import UsageError
from rst.framework.lake import Lake

LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)
HOSTS = st.one_of(
    st.lists(LABEL, min_size=1, max_size=4).map(".".join),
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t))),
    st.sampled_from(["[::1]", "[fe80::1]", "[2001:db8::8786]"]),
)


@given(host=HOSTS, port=st.integers(1, 65535))
def test_every_tcp_host_port_is_accepted_as_given(host: str, port: int) -> None:
    address = f"tcp://{host}:{port}"
    assert validate_scheduler(address, "--scheduler") == address


@given(host=HOSTS, port=st.integers(1, 65535), junk=st.sampled_from(["/", "\n", " ", "/status", ":1", "?x", "\x00"]))
def test_anything_after_the_port_is_refused(host: str, port: int, junk: str) -> None:
    with pytest.raises(UsageError, match=r"^--scheduler: .* is not a Dask scheduler address \(tcp://HOST:PORT\)$"):
        validate_scheduler(f"tcp://{host}:{port}{junk}", "--scheduler")


@pytest.mark.parametrize(
    "value",
    ["", "127.0.0.1:8786", "tcp://127.0.0.1", "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536", "tcp://h:08786",
     "tls://127.0.0.1:8786", "tcp://-bad:1", "tcp://a b:1", "tcp://999.1.1.1:8786", "tcp://:8786", "TCP://h:1"],
)  # fmt: skip
def test_malformed_addresses_are_refused_in_one_line(value: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_scheduler(value, "--scheduler")
    assert str(info.value).startswith("--scheduler: ") and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler: applies to --executor dask only"),
        (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786", "-j", "2"], "--workers: a --scheduler's"),
        (["--executor", "dask", "--scheduler", "http://127.0.0.1:8786"], "is not a Dask scheduler address"),
    ],
)
def test_run_refuses_inconsistent_executor_options(tmp_path: Path, args: list[str], message: str) -> None:
    lake, _ = Lake.create(tmp_path / "lake")
    result = CliRunner().invoke(cli, ["run", "--lake", str(lake.root), *args])
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("error: ") and message in line, line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_scheduler_is_one_line_naming_it() -> None:
    from rst.cluster.dask_executor import dask_executor

    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(SchedulerUnreachable) as info, dask_executor(address, 1, connect_timeout=1):
        pass
    assert str(info.value) == (
        f"--scheduler: no Dask scheduler answered at {address} within 1 s; "
        "start one there (dask scheduler) or fix the address"
    )


@pytest.mark.parametrize(
    ("allowed_failures", "message"),
    [
        (3, r"reruns a task whose worker died \(allowed-failures=3\); restart it with DASK_DISTRIBUTED__"),
        (0, r"^--scheduler: no worker joined tcp://127\.0\.0\.1:\d+ within 1 s; start workers there$"),
    ],
)
def test_scheduler_unfit_for_exactly_once_is_refused(allowed_failures: int, message: str) -> None:
    """Dask's default ``allowed-failures`` (3) reruns a partition whose worker died; no worker would hang the run."""
    import dask
    from distributed import LocalCluster

    from rst.cluster.dask_executor import dask_executor

    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        bare = LocalCluster(n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1",
                            dashboard_address="127.0.0.1:0")  # fmt: skip
    with bare, pytest.raises(ClusterUnfit, match=message), dask_executor(bare.scheduler_address, 1, connect_timeout=1):
        pass
