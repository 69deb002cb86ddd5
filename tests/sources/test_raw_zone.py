"""The immutable raw zone: validated placement, no overwrite, catalogue, coverage, hostile inputs."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rst.errors import DbnFormatError, RawZoneError
from rst.framework.hashing import sha256_bytes, sha256_file
from rst.sources.raw_zone import RawZone, merge_intervals, parent_symbol, subtract_intervals

MBP10_V3 = "databento-python/GLBX.MDP3/test_data.mbp-10.dbn.zst"
TRADES_V3 = "databento-python/GLBX.MDP3/test_data.trades.dbn.zst"
STATS_V2 = "dbn/test_data.statistics.dbn"
DEF_MSFT = "dbn/test_data.definition.dbn"


def _tree(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_import_places_read_only_file_and_catalogue(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    src = sample_file(MBP10_V3)
    zone = RawZone(tmp_path)
    entry = zone.import_file(src)
    rel = "raw/source=databento/dataset=GLBX.MDP3/schema=mbp-10/parent=ES/test_data.mbp-10.dbn.zst"
    assert entry.path == rel
    dest = tmp_path / rel
    assert entry.abspath(tmp_path) == dest
    assert dest.read_bytes() == src.read_bytes()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o444
    assert entry.sha256 == sha256_file(src) == sha256_bytes(src.read_bytes())
    assert (entry.size, entry.record_count, entry.dbn_version) == (src.stat().st_size, 4, 3)
    assert (entry.dataset, entry.schema, entry.parent, entry.symbols) == ("GLBX.MDP3", "mbp-10", "ES", ("ESH1",))
    assert (entry.start_ns, entry.end_ns) == (1609113600000000000, 1609200000000000000)
    doc = json.loads((tmp_path / "raw/_catalog" / f"{entry.sha256}.json").read_text())
    assert doc["path"] == rel and doc["record_count"] == 4 and doc["imported_at"]
    assert zone.files() == [entry]
    assert zone.files(dataset="GLBX.MDP3", schema="mbp-10", symbol="ES") == [entry]
    assert zone.files(schema="trades") == []
    assert _tree(tmp_path / "_staging") == []


def test_import_twice_is_a_noop(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    first = zone.import_file(sample_file(MBP10_V3))
    before = _tree(tmp_path)
    again = zone.import_file(sample_file(MBP10_V3))
    assert again == first
    assert _tree(tmp_path) == before


def test_same_name_different_content_refused(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path / "lake")
    zone.import_file(sample_file(MBP10_V3))
    impostor = tmp_path / "in" / "test_data.mbp-10.dbn.zst"
    impostor.parent.mkdir()
    shutil.copy(sample_file("dbn/test_data.mbp-10.v3.dbn.zst"), impostor)  # other ESH1 mbp-10 data
    with pytest.raises(RawZoneError) as exc:
        zone.import_file(impostor)
    msg = str(exc.value)
    assert str(impostor) in msg
    assert "parent=ES/test_data.mbp-10.dbn.zst" in msg
    assert _tree(tmp_path / "lake" / "_staging") == []
    assert len(zone.files()) == 1


@pytest.mark.parametrize("cut", [5, 30])
def test_truncated_file_leaves_nothing(sample_file: Callable[[str], Path], tmp_path: Path, cut: int) -> None:
    bad = tmp_path / "in" / "cut.mbp-10.dbn.zst"
    bad.parent.mkdir()
    bad.write_bytes(sample_file(MBP10_V3).read_bytes()[:-cut])
    lake = tmp_path / "lake"
    zone = RawZone(lake)
    with pytest.raises(DbnFormatError) as exc:
        zone.import_file(bad)
    assert str(bad) in str(exc.value)
    assert _tree(lake / "raw") == []
    assert _tree(lake / "_staging") == []
    assert zone.files() == []


def test_garbage_leaves_nothing(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with pytest.raises(DbnFormatError):
        RawZone(lake).import_bytes(b"not dbn", "junk.dbn.zst")
    assert _tree(lake / "raw") == [] and _tree(lake / "_staging") == []


def test_symbol_override_and_underivable_parent(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    with pytest.raises(RawZoneError, match="pass --symbol"):
        zone.import_file(sample_file(STATS_V2))  # requested by instrument id: no symbols
    entry = zone.import_file(sample_file(STATS_V2), symbol="es")
    assert entry.parent == "ES"
    assert "/parent=ES/" in entry.path
    assert entry.end_ns is None
    with pytest.raises(RawZoneError, match="cannot derive a parent"):
        zone.import_file(sample_file(DEF_MSFT))  # equity symbol, not a futures raw symbol
    assert _tree(tmp_path / "_staging") == []


def test_import_stream_and_staged(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    data = sample_file(TRADES_V3).read_bytes()
    entry = zone.import_stream(io.BytesIO(data), "glbx-es-20201228.trades.dbn.zst")
    assert entry.path.endswith("schema=trades/parent=ES/glbx-es-20201228.trades.dbn.zst")
    # a downloader streamed into _staging itself
    staged = tmp_path / "_staging" / "download-123.part"
    staged.write_bytes(sample_file(MBP10_V3).read_bytes())
    placed = zone.import_staged(staged, name="glbx-es-20201228.mbp-10.dbn.zst")
    assert placed.abspath(tmp_path).is_file()
    assert not staged.exists()
    outside = tmp_path / "elsewhere.dbn.zst"
    outside.write_bytes(data)
    with pytest.raises(RawZoneError, match="_staging"):
        zone.import_staged(outside, name="x.dbn.zst")


def test_rescan_catalogues_dropped_files(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    rel = "raw/source=databento/dataset=GLBX.MDP3/schema=trades/parent=ES/dropped.trades.dbn.zst"
    dest = tmp_path / rel
    dest.parent.mkdir(parents=True)
    shutil.copy(sample_file(TRADES_V3), dest)
    assert zone.files() == []
    added = zone.rescan()
    assert [e.path for e in added] == [rel]
    assert added[0].record_count == 4
    assert stat.S_IMODE(dest.stat().st_mode) == 0o444
    assert zone.rescan() == []
    assert zone.files() == added
    # importing the same bytes under that name again is a no-op
    src = tmp_path / "dropped.trades.dbn.zst"
    shutil.copy(sample_file(TRADES_V3), src)
    assert zone.import_file(src) == added[0]


def test_rescan_refuses_misplaced(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    dest = tmp_path / "raw/source=databento/dataset=GLBX.MDP3/schema=mbp-1/parent=ES/wrong.dbn.zst"
    dest.parent.mkdir(parents=True)
    shutil.copy(sample_file(TRADES_V3), dest)
    with pytest.raises(RawZoneError, match="misplaced"):
        RawZone(tmp_path).rescan()


def test_coverage_and_uncovered(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    zone.import_file(sample_file(MBP10_V3))  # 2020-12-28 00:00 .. 2020-12-29 00:00
    zone.import_file(sample_file("dbn/test_data.mbp-10.v3.dbn.zst"))  # 2020-12-28 13:00 .. 12-29
    day = 86_400 * 10**9
    start = 1609113600000000000
    assert zone.coverage("GLBX.MDP3", "mbp-10", "ES") == [(start, start + day)]
    assert zone.uncovered("GLBX.MDP3", "mbp-10", "ES", start - day, start + 2 * day) == [
        (start - day, start),
        (start + day, start + 2 * day),
    ]
    assert zone.uncovered("GLBX.MDP3", "mbp-10", "ES", start, start + day) == []
    assert zone.coverage("GLBX.MDP3", "mbp-10", "NQ") == []


def test_parent_symbol() -> None:
    assert parent_symbol(["ES.FUT"]) == "ES"
    assert parent_symbol(["ESH1", "ESM1", "ESH1-ESM1"]) == "ES"
    assert parent_symbol(["ES.c.0"]) == "ES"
    assert parent_symbol(["6EM4"]) == "6E"
    assert parent_symbol(["MESZ23"]) == "MES"
    with pytest.raises(RawZoneError, match="several parents"):
        parent_symbol(["ES.FUT", "NQ.FUT"])


def test_read_only_files_survive_in_place(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    entry = RawZone(tmp_path).import_file(sample_file(MBP10_V3))
    dest = entry.abspath(tmp_path)
    if os.geteuid() != 0:  # root ignores permission bits
        with pytest.raises(PermissionError):
            dest.open("ab")
    assert not os.access(dest, os.W_OK) or os.geteuid() == 0


intervals = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 200)).map(lambda t: (min(t), max(t))), max_size=8
)


@given(covered=intervals, window=st.tuples(st.integers(0, 200), st.integers(0, 200)).map(lambda t: (min(t), max(t))))
def test_uncovered_partitions_the_window(covered: list[tuple[int, int]], window: tuple[int, int]) -> None:
    lo, hi = window
    merged = merge_intervals(covered)
    gaps = subtract_intervals(window, covered)
    points_window = set(range(lo, hi))
    points_covered = {x for a, b in merged for x in range(a, b)} & points_window
    points_gaps = {x for a, b in gaps for x in range(a, b)}
    assert points_gaps | points_covered == points_window  # union is the window
    assert not points_gaps & points_covered  # disjoint
    for a, b in [*gaps, *merged]:
        assert a < b
    assert all(gaps[i][1] < gaps[i + 1][0] for i in range(len(gaps) - 1))  # sorted, maximal
    assert all(merged[i][1] < merged[i + 1][0] for i in range(len(merged) - 1))


# ---------------------------------------------------------------- hostile inputs to import (issue 9, item 9)


def _rst(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``rst ARGS…`` in a subprocess: a command that blocks fails the test instead of hanging it."""
    code = "from rst.cli.main import cli; cli(prog_name='rst')"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout)


def test_import_refuses_fifos_sockets_devices_without_blocking(tmp_path: Path) -> None:
    incoming = tmp_path / "in"
    incoming.mkdir()
    fifo = incoming / "pipe.dbn.zst"
    os.mkfifo(fifo)  # opened for reading, a FIFO with no writer blocks forever
    link = incoming / "link-to-pipe.dbn"
    link.symlink_to(fifo)
    sock_path = incoming / "sock.dbn"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    lake = tmp_path / "lake"
    try:
        result = _rst("import", "--lake", str(lake), str(fifo), str(link), str(sock_path), "/dev/null")
        walked = _rst("import", "--lake", str(lake), str(incoming))  # the same things found by a directory walk
    finally:
        server.close()
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("refused ")]
    assert len(errors) == 4, result.stderr
    assert result.stderr.splitlines()[-1] == "error: 0 imported, 0 already present, 4 refused"
    for path, kind in ((fifo, "a FIFO"), (link, "a FIFO"), (sock_path, "a socket"), (Path("/dev/null"), "a character device")):
        assert any(f"{path}: not a regular file ({kind})" in line for line in errors), (path, errors)
    assert walked.returncode == 1 and walked.stderr.count("not a regular file") == 3, walked.stderr
    assert _tree(lake / "raw") == [] and _tree(lake / "_staging") == []


def test_import_refuses_a_directory_given_as_a_file(tmp_path: Path) -> None:
    trap = tmp_path / "looks-like.dbn.zst"
    trap.mkdir()
    with pytest.raises(RawZoneError, match=r"looks-like\.dbn\.zst: not a regular file \(a directory\)"):
        RawZone(tmp_path / "lake").import_file(trap)


def test_import_copies_at_most_the_size_it_saw_and_refuses_a_file_that_grows(tmp_path: Path) -> None:
    lying = Path("/proc/self/status")  # a regular file whose stat size (0) is not what a read returns
    if not lying.exists() or os.stat(lying).st_size != 0:
        pytest.skip("needs /proc/self/status with st_size 0")
    with pytest.raises(RawZoneError, match=r"/proc/self/status: grew while being imported"):
        RawZone(tmp_path).import_file(lying)
    assert _tree(tmp_path / "_staging") == []


def test_import_refuses_a_file_that_shrinks_while_copied(tmp_path: Path) -> None:
    short = Path("/sys/devices/system/cpu/online")  # st_size 4096, a few bytes to read
    if not short.exists() or os.stat(short).st_size <= len(short.read_bytes()):
        pytest.skip("needs a sysfs file whose stat size exceeds its content")
    with pytest.raises(RawZoneError, match=r"online: shrank while being imported \(\d+ of 4096 bytes\)"):
        RawZone(tmp_path).import_file(short)
    assert _tree(tmp_path / "_staging") == []


_KILLED_IMPORT = """
import os, signal, sys
from rst.sources import raw_zone
def hold(path, *args, **kwargs):
    if sys.argv[3] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)  # killed mid-import, its copy staged
    print("staged", flush=True)
    sys.stdin.read()  # a live import, still validating
    raise SystemExit(0)
raw_zone.validate_file = hold
raw_zone.RawZone(sys.argv[1]).import_file(sys.argv[2])
"""


def test_killed_import_copies_are_swept_by_the_next_import_and_verify(
    sample_file: Callable[[str], Path], tmp_path: Path
) -> None:
    from rst.framework.lake import Lake
    from rst.framework.verify import verify_raw

    lake = tmp_path / "lake"
    src = str(sample_file(TRADES_V3))
    killed = subprocess.run([sys.executable, "-c", _KILLED_IMPORT, str(lake), src, "kill"], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    (left,) = _tree(lake / "_staging")
    live = subprocess.Popen([sys.executable, "-c", _KILLED_IMPORT, str(lake), src, "live"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert live.stdout is not None and live.stdout.readline().strip() == "staged"
        (busy,) = set(_tree(lake / "_staging")) - {left}
        fresh = lake / "_staging" / "raw-4194304-0123456789abcdef-young.dbn"  # unlocked but just written
        fresh.write_bytes(b"x")
        an_hour_ago = time.time() - 3600
        for name in (left, busy):
            os.utime(lake / "_staging" / name, (an_hour_ago, an_hour_ago))  # old: only the lock can protect it
        RawZone(lake).import_file(sample_file(MBP10_V3))
        assert _tree(lake / "_staging") == sorted([busy, fresh.name])  # the dead import's copy is gone
        os.utime(fresh, (an_hour_ago, an_hour_ago))
        assert verify_raw(Lake(lake)) == []
        assert _tree(lake / "_staging") == [busy]  # a live import's copy survives any sweep
    finally:
        live.kill()
        live.wait()


# ---------------------------------------------------------------- corrupt catalogue entries (issue 9, item 8)


def test_corrupt_catalogue_entries_are_skipped_and_listed_once(sample_file: Callable[[str], Path], tmp_path: Path) -> None:
    zone = RawZone(tmp_path)
    good = zone.import_file(sample_file(MBP10_V3))
    other = zone.import_file(sample_file(TRADES_V3))
    doc = json.loads(zone._entry_path(other.sha256).read_text())
    catalog = tmp_path / "raw" / "_catalog"
    fake = "f" * 64
    planted = {
        "1" * 64: b"{not json",
        "2" * 64: b"\xff\xfe\x00 not utf-8",
        "3" * 64: json.dumps({**doc, "sha256": "3" * 64, "size": "4"}).encode(),  # wrong type
        "4" * 64: json.dumps({k: v for k, v in doc.items() if k != "schema"} | {"sha256": "4" * 64}).encode(),
        "5" * 64: json.dumps({**doc, "sha256": "5" * 64, "path": "raw/../../../etc/passwd"}).encode(),
        "6" * 64: json.dumps([doc]).encode(),
        "7" * 64: json.dumps({**doc, "sha256": fake}).encode(),  # its name is not its hash
    }
    for sha, data in planted.items():
        (catalog / f"{sha}.json").write_bytes(data)
    assert zone.files() == sorted([good, other], key=lambda e: e.path)
    problems = zone.problems()
    assert [p for p, _ in problems] == [f"raw/_catalog/{sha}.json" for sha in sorted(planted)]
    what = dict(problems)
    assert "not a plain relative path under raw/" in what[f"raw/_catalog/{'5' * 64}.json"]
    assert "size is '4', not a count" in what[f"raw/_catalog/{'3' * 64}.json"]
    assert "lacks schema" in what[f"raw/_catalog/{'4' * 64}.json"]
    # an entry damaged in place: its file drops out until the same bytes are imported again, which repairs it
    zone._entry_path(good.sha256).write_bytes(b"\x00garbage")
    zone.refresh()
    assert zone.files() == [other]
    repaired = zone.import_file(sample_file(MBP10_V3))
    assert (repaired.path, repaired.sha256) == (good.path, good.sha256)
    assert zone.entry(good.path) == repaired
    assert len(zone.files()) == 2 and len(zone.problems()) == len(planted)
