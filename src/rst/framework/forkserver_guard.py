"""Preload module of the multiprocessing fork server: importing it there arms parent-death.

Listed in the fork server's preload modules by :func:`rst.framework.procguard.start_forkserver`;
the import calls :func:`rst.framework.procguard.arm_forkserver`, which acts only in a process
whose parent is the one named by ``$RST_FORKSERVER_PARENT`` (the fork server), so importing this
module anywhere else changes nothing.
"""

from __future__ import annotations

from rst.framework.procguard import arm_forkserver

arm_forkserver()
