"""Run the ``rst`` CLI in a subprocess with test-only fault hooks (for signal, kill and race tests).

usage: python rst_wrapper.py <rst arguments…>

Hooks, chosen by environment variables, wrap library functions *here* (never in the library);
with ``--workers N`` the forkserver imports this file as ``__mp_main__`` before forking the
workers, so they carry the hooks too:

RST_TEST_SLOW=<seconds>        sleep this long before writing each partition's Parquet parts
RST_TEST_KILL_ON=<label>       SIGKILL the process about to write partition <label>
                               (e.g. ``bronze/ES/ohlcv_1h/month=2024-02``)
"""

from __future__ import annotations

import os
import signal
import time

import rst.framework.stage as stage_mod

_SLOW = float(os.environ.get("RST_TEST_SLOW", "0") or 0)
_KILL_ON = os.environ.get("RST_TEST_KILL_ON", "")
_orig_write_parts = stage_mod._write_parts


def _write_parts(staging, contract, label, batches):  # type: ignore[no-untyped-def]
    if _KILL_ON and label == _KILL_ON:
        os.kill(os.getpid(), signal.SIGKILL)
    if _SLOW:
        time.sleep(_SLOW)
    return _orig_write_parts(staging, contract, label, batches)


stage_mod._write_parts = _write_parts

if __name__ == "__main__":
    from rst.cli.main import main

    main()
