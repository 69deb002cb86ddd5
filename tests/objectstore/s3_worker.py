"""Run the toy stage on an ``s3://`` lake in a separate process (killed-writer and reader tests).

usage: python s3_worker.py '<json>' with keys uri, key, repeat (list of params, one forced build each),
out (result file). ``RST_TEST_ROWS_PER_FILE`` sets the rows per part; ``RST_TEST_KILL_AT=before_pointer`` makes this process SIGKILL itself once the
attempt's parts and manifest are uploaded, just before the pointer would be published (the hook is
installed here, in this test-only wrapper, by wrapping the library's publish function).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "framework"))

from toystage import SYMBOL, ToyStage  # noqa: E402

import rst.framework.parts as parts_mod  # noqa: E402
import rst.framework.pointer as pointer_mod  # noqa: E402
from rst.framework.lake import Lake  # noqa: E402
from rst.framework.partition import Granularity, PartitionKey  # noqa: E402


def main() -> None:
    args = json.loads(sys.argv[1])
    if os.environ.get("RST_TEST_KILL_AT") == "before_pointer":
        pointer_mod.publish = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # type: ignore[assignment]
    if os.environ.get("RST_TEST_ROWS_PER_FILE"):
        parts_mod.ROWS_PER_FILE = int(os.environ["RST_TEST_ROWS_PER_FILE"])
    lake = Lake.resolve(args["uri"])
    key = PartitionKey(Granularity.DAY, args["key"])
    results = [ToyStage(lake, SYMBOL, params).run(key, force=True).outcome.value for params in args["repeat"]]
    if args.get("out"):
        Path(args["out"]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
