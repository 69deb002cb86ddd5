"""A throwaway PostgreSQL server started from the machine's own binaries, for tests and benchmarks.

``TempPostgres`` runs ``initdb`` into a fresh temporary directory and starts ``postgres`` on a
unix socket in that directory and on ``127.0.0.1`` at a free port; ``stop()`` shuts it down
(``pg_ctl stop -m fast``) and deletes the directory. PostgreSQL refuses to run as root, so when
the caller is root the server runs as the ``postgres`` user (or ``nobody`` when that user is
absent) through ``runuser``, and the directory is handed to that user.

Not for production: ``fsync`` is off unless ``durable=True`` and local socket logins are trusted.
Loopback logins need the generated password, which is part of :attr:`TempPostgres.url`.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from rst.serving.errors import PostgresUnavailable


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``pg_ctl`` (or ``$RST_PG_BINDIR``)."""
    override = os.environ.get("RST_PG_BINDIR")
    candidates = [override] if override else sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    return None


def _version(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TempPostgres:
    """One PostgreSQL cluster in a temporary directory; use as a context manager or call ``start``/``stop``."""

    def __init__(self, *, durable: bool = False, user: str = "rst", database: str = "rst") -> None:
        bindir = find_bindir()
        if bindir is None:
            raise PostgresUnavailable("no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin")
        self.bindir = bindir
        self.durable = durable
        self.user = user
        self.database = database
        self.password = secrets.token_hex(12)
        self.port = 0
        self.root = Path(tempfile.mkdtemp(prefix="rstpg-"))  # short: unix socket paths are limited to ~107 bytes
        self._os_user = self._pick_os_user()

    @staticmethod
    def _pick_os_user() -> str | None:
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
                return name
            except KeyError:
                continue
        raise PostgresUnavailable(
            "running as root and neither a 'postgres' nor a 'nobody' user exists to run the server"
        )

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        """``postgresql://`` URL over loopback TCP, with the generated password."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    @property
    def socket_url(self) -> str:
        """``postgresql://`` URL over the unix socket in the temporary directory (trusted, no password)."""
        return f"postgresql://{self.user}@/{self.database}?host={self.root}&port={self.port}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._os_user is not None:
            cmd = ["runuser", "-u", self._os_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def _check(self, proc: subprocess.CompletedProcess[str], what: str) -> None:
        if proc.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
            raise PostgresUnavailable(f"{what} failed ({proc.returncode}): {proc.stderr.strip()[-800:]} {tail}".strip())

    def start(self) -> TempPostgres:
        """initdb + start; returns self once the server accepts connections."""
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self._os_user is not None:
            info = pwd.getpwnam(self._os_user)
            os.chmod(self.root, 0o700)
            for p in (self.root, pwfile):
                os.chown(p, info.pw_uid, info.pw_gid)
        initdb = self._run(
            str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", self.user, "--pwfile", str(pwfile),
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        self._check(initdb, "initdb")
        pwfile.unlink()
        options = f"-k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=40"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        for _attempt in range(5):
            self.port = _free_port()
            proc = self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.root / "server.log"),
                "-o", f"{options} -p {self.port}", "-w", "-t", "60", "start",
            )  # fmt: skip
            if proc.returncode == 0:
                break
        else:
            self._check(proc, "pg_ctl start")
        created = self._run(
            str(self.bindir / "psql"), "-h", str(self.root), "-p", str(self.port), "-U", self.user,
            "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {self.database}",
        )  # fmt: skip
        self._check(created, "CREATE DATABASE")
        return self

    def stop(self) -> None:
        """Fast shutdown, then delete the temporary directory."""
        if (self.data_dir / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TempPostgres:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
