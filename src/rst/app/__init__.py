"""The local web app (Streamlit): update, inspect and build continuous series without a terminal.

``rst app`` serves :mod:`rst.app.main`; each view is one module (``updates``, ``browser``,
``definitions``, ``parents``, ``series``, ``health``) that only reads widgets, calls
:mod:`rst.ops` and renders, so the app and the CLI share every decision.
"""
