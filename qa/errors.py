"""Errors raised at the public entry points. Each message names the bad value and the fix."""
from __future__ import annotations


class QAError(Exception):
    """Base class for every error this package raises on purpose."""


class InputError(QAError, ValueError):
    """A question, query or argument that cannot be used (empty, too long, k < 1, ...)."""


class CorpusError(QAError):
    """A corpus folder or document that cannot be read or holds no usable text."""


class IndexError_(QAError):
    """A saved index that is missing, corrupt or of an incompatible format.

    Named with a trailing underscore so that it does not shadow the built-in ``IndexError``.
    """
