"""Serving: the lake published to PostgreSQL (``rst publish``), queried back (``rst db query``) and over HTTP.

The lake stays the system of record; the database is a derived, rebuildable copy.
psycopg is imported only inside this package's modules, never by other commands.
"""
