"""The ``rst`` command group: one module per command, loaded lazily, errors rendered as one line.

Any :class:`rst.errors.RstError` escaping a command becomes ``error: <message>``
on stderr and exit code 1 (2 for usage errors); ``--verbose`` shows the
traceback too. Library code never prints; commands render. Everything printed
here, every log record and any uncaught traceback goes through
:func:`rst.redaction.redact` first: no API key reaches the terminal or a log.
"""

from __future__ import annotations

import errno
import importlib
import logging
import sys
from typing import Any

import click

from rst.errors import RstError, UsageError
from rst.redaction import format_exception, install_excepthook, install_log_filter, redact

COMMANDS: dict[str, str] = {
    "run": "rst.cli.run:run",
    "import": "rst.cli.import_raw:import_raw",
    "demo": "rst.cli.demo:demo",
    "verify": "rst.cli.verify:verify",
    "status": "rst.cli.status:status",
    "invalidate": "rst.cli.invalidate:invalidate",
    "runs": "rst.cli.runs:runs",
    "parents": "rst.cli.parents:parents",
    "series": "rst.cli.series:series",
    "query": "rst.cli.query:query",
    "download": "rst.cli.download:download",
    "update": "rst.cli.update:update",
    "retire": "rst.cli.retire:retire",
    "migrate": "rst.cli.migrate:migrate_cmd",
    "publish": "rst.cli.publish:publish",
    "db": "rst.cli.db:db",
    "serve": "rst.cli.serve:serve",
    "app": "rst.cli.app:app",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used; errors become one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None  # command not shipped yet
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return _accept_verbosity(command)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # every error is one line; --verbose adds the traceback
            verbose = bool(ctx.meta.get("rst.verbose")) or "--verbose" in sys.argv or "-v" in sys.argv
            if verbose:
                click.echo(format_exception(exc), err=True, nl=False)
            click.echo(f"error: {redact(describe(exc))}", err=True)
            ctx.exit(2 if isinstance(exc, UsageError) else 1)


_OS_HINTS = {
    errno.EROFS: "the file system is read-only: point --lake (or the output) at a writable place",
    errno.ENOSPC: "the disk is full: free space and rerun (nothing partial is visible)",
    errno.EDQUOT: "the disk quota is exhausted: free space and rerun (nothing partial is visible)",
    errno.ENAMETOOLONG: "a file name is too long for this file system: use a shorter path",
    errno.ENOENT: "no such file or directory: check the path (an output's folder must exist)",
    errno.EACCES: "permission denied: check the owner and mode of the path",
    errno.EPERM: "operation not permitted: check the owner and mode of the path",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EISDIR: "a directory was given where a file is expected",
}


def describe(exc: BaseException) -> str:
    """One actionable line for any exception: rst's own message, an OS error with its path, else the first line."""
    if isinstance(exc, RstError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in _OS_HINTS:
        where = exc.filename if exc.filename is not None else _path_in(str(exc))
        return f"{where}: {_OS_HINTS[exc.errno]}" if where else _OS_HINTS[exc.errno]
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    path = _path_in(text)
    if isinstance(exc, FileNotFoundError) and path:
        return f"{path}: {_OS_HINTS[errno.ENOENT]}"
    return f"{type(exc).__name__}: {text or 'no message'} (unexpected: rerun with --verbose for the traceback)"


def _path_in(text: str) -> str:
    """The absolute path a foreign error message ends with (polars/pyarrow put it there), else ""."""
    tail = text.rsplit(": ", 1)[-1].strip()
    return tail if tail.startswith("/") else ""


_VERBOSITY = {"verbose": ("--verbose", "-v"), "quiet": ("--quiet", "-q")}
_FLAGS = {flag for decls in _VERBOSITY.values() for flag in decls}


def _flags_after_command(args: list[str]) -> list[str]:
    """``rst -q status`` → ``rst status -q``: a verbosity flag before the command applies to the command."""
    leading = []
    while args and args[0] in _FLAGS:
        leading.append(args.pop(0))
    if not leading or not args or args[0].startswith("-"):
        return leading + args
    if "--" in args:
        cut = args.index("--")
        return args[:cut] + leading + args[cut:]
    return args + leading


def _remember(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and param.name:
        ctx.meta[f"rst.{param.name}"] = True
        if param.name == "verbose":
            logging.getLogger().setLevel(logging.INFO)


def _accept_verbosity(command: click.Command) -> click.Command:
    """Give ``command`` (and a group's subcommands) ``--verbose``/``--quiet`` where it lacks them.

    So both are accepted before or after the subcommand on every command; commands with their own
    flags read the group's too (:func:`rst.cli.options.apply_verbosity`).
    """
    names = {p.name for p in command.params}
    for name, decls in _VERBOSITY.items():
        if name not in names:
            help_text = "Logs and tracebacks." if name == "verbose" else "Less output."
            command.params.append(
                click.Option(list(decls), is_flag=True, expose_value=False, callback=_remember, help=help_text)
            )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_verbosity(sub)
    return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Logs and tracebacks.")
@click.option("--quiet", "-q", is_flag=True, help="Only errors and the final line (for cron).")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """rst — a medallion lakehouse for Databento futures data."""
    ctx.meta["rst.verbose"] = verbose
    ctx.meta["rst.quiet"] = quiet
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_log_filter()  # secrets never reach a log line, whatever logged it
    install_excepthook()  # nor the traceback of an exception nobody caught


def main(args: list[str] | None = None, prog_name: str = "rst") -> None:
    """Console-script entry point: click's own usage errors are one ``error:`` line too."""
    try:
        code = cli.main(args=_flags_after_command(sys.argv[1:] if args is None else args), prog_name=prog_name,
                        standalone_mode=False)  # fmt: skip
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        sys.exit(0)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)  # only UsageError and its subclasses carry the command's context
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        click.echo(f"error: {redact(exc.format_message())}{hint}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
