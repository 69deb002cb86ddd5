"""Command-line interface: click commands, one module per command (see ``main.py``)."""
