"""A small least-recently-used map shared by the readers' per-question caches."""
from __future__ import annotations

import threading


class LRU:
    """A thread-safe least-recently-used map (the server answers requests in threads).

    ``functools.lru_cache`` wraps a function of its arguments; the readers need to fill
    entries piecewise (one per passage of a batch read at once), so they hold a map instead.
    """

    def __init__(self, size: int) -> None:
        self.size, self._data, self._lock = size, {}, threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.pop(key, None)
            if value is not None:
                self._data[key] = value  # now the most recent (dicts keep insertion order)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data.pop(key, None)
            self._data[key] = value
            while len(self._data) > self.size:
                del self._data[next(iter(self._data))]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
