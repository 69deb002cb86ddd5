"""Run the toy stage in a separate process (for crash, race and reader tests).

usage: python toy_worker.py '<json>'  with keys lake, key, params, force, lock_timeout,
rows_per_file, repeat (list of params for successive forced rebuilds), out (result file), go (file to wait for).

``RST_TEST_KILL_AT`` selects a point at which this process SIGKILLs itself. The points inside the
library are reached by wrapping library functions *here*, in this test-only wrapper:

parts_written           after the main partition's Parquet parts are written
before_success          after the main manifest is written, before its ``_SUCCESS``
before_quarantine_swap  right before the quarantine partition is swapped in
between_swaps           after the quarantine swap, before the main swap
before_swap             right before the main partition's swap
after_exchange          right after renameat2 exchanged the main partition (old one in staging)
after_swap              right after the main swap returned
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


from toystage import TABLE, ToyStage  # noqa: E402

import rst.framework.commit as commit  # noqa: E402
import rst.framework.manifest as manifest  # noqa: E402
import rst.framework.parts as parts_mod  # noqa: E402
import rst.framework.stage as stage_mod  # noqa: E402
import rst.framework.storage as storage_mod  # noqa: E402
from rst.errors import PartitionLocked  # noqa: E402
from rst.framework.lake import Lake  # noqa: E402
from rst.framework.partition import Granularity, PartitionKey  # noqa: E402

KILL_AT = os.environ.get("RST_TEST_KILL_AT", "")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _is_main(path: Path) -> bool:
    """True when ``path`` (a staging or partition dir) belongs to the main toy table."""
    return Path(path).parent.name in (TABLE, f"table={TABLE}")


def install_kill_hooks() -> None:
    orig_write_parts = stage_mod._write_parts
    orig_write_synced = manifest._write_synced
    orig_swap_in = storage_mod.swap_in
    orig_exchange = commit._exchange

    def write_parts(staging, contract, label, batches):  # type: ignore[no-untyped-def]
        out = orig_write_parts(staging, contract, label, batches)
        if KILL_AT == "parts_written" and _is_main(staging):
            _die()
        return out

    def write_synced(path, data):  # type: ignore[no-untyped-def]
        if KILL_AT == "before_success" and path.name == manifest.SUCCESS and _is_main(path.parent):
            _die()
        orig_write_synced(path, data)

    def swap_in(lake, staging, target):  # type: ignore[no-untyped-def]
        main = _is_main(target)
        if (KILL_AT == "before_swap" and main) or (KILL_AT == "before_quarantine_swap" and not main):
            _die()
        orig_swap_in(lake, staging, target)
        if (KILL_AT == "after_swap" and main) or (KILL_AT == "between_swaps" and not main):
            _die()

    def exchange(a, b):  # type: ignore[no-untyped-def]
        ok = orig_exchange(a, b)
        if KILL_AT == "after_exchange" and _is_main(b):
            _die()
        return ok

    stage_mod._write_parts = write_parts
    manifest._write_synced = write_synced
    storage_mod.swap_in = swap_in
    commit._exchange = exchange


def main() -> None:
    args = json.loads(sys.argv[1])
    install_kill_hooks()
    if "rows_per_file" in args:
        parts_mod.ROWS_PER_FILE = int(args["rows_per_file"])
    lake = Lake(Path(args["lake"]))
    key = PartitionKey(Granularity.DAY, args["key"])
    if args.get("go"):
        deadline = time.monotonic() + 60
        while not os.path.exists(args["go"]) and time.monotonic() < deadline:
            time.sleep(0.001)
    results = []
    for params in args.get("repeat") or [args.get("params", {})]:
        stage = ToyStage(lake, "ES", params)
        try:
            res = stage.run(key, force=bool(args.get("force")), lock_timeout=args.get("lock_timeout"))
            results.append(res.outcome.value)
        except PartitionLocked:
            results.append("locked")
    if args.get("out"):
        Path(args["out"]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
