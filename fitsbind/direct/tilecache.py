"""The cache of decoded tiles that tile-compressed images and tables keep, and the members
through which users size it (the same on both HDU classes)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from fitsbind.errors import FITSValueError

__all__ = ["DEFAULT_TILE_CACHE", "TileCache", "TileCacheMembers"]

#: default capacity of an HDU's tile cache, bytes
DEFAULT_TILE_CACHE = 32 << 20


class TileCache:
    """Decoded tiles by key (anything hashable), each an object with ``nbytes``; when more
    than ``capacity`` bytes would be held the least recently used go first, and an item
    larger than the whole capacity is not kept. Safe to share between threads."""

    def __init__(self, capacity: int = DEFAULT_TILE_CACHE) -> None:
        self.capacity = int(capacity)
        self.used = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The item under ``key`` (now the most recently used), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: Hashable, item: Any) -> None:
        """Keep ``item`` under ``key``, replacing what was there."""
        nbytes = item.nbytes
        with self._lock:
            if nbytes > self.capacity:
                return
            old = self._items.pop(key, None)
            self._items[key] = item
            self.used += nbytes if old is None else nbytes - old.nbytes
            if self.used > self.capacity:
                self._shrink(self.capacity)

    def drop(self, key: Hashable) -> None:
        """Forget the item under ``key``, if any."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.used -= old.nbytes

    def resize(self, capacity: int) -> None:
        """Set the capacity in bytes; least recently used items go until the rest fit."""
        with self._lock:
            self.capacity = int(capacity)
            self._shrink(self.capacity)

    def clear(self) -> None:
        """Forget every item (the capacity stays)."""
        with self._lock:
            self._items.clear()
            self.used = 0

    def _shrink(self, capacity: int) -> None:
        while self.used > capacity and self._items:
            _, old = self._items.popitem(last=False)
            self.used -= old.nbytes


class TileCacheMembers:
    """The public tile-cache members of an HDU that keeps its decoded tiles in
    ``self._cache`` (a :class:`TileCache`)."""

    _cache: TileCache

    @property
    def tile_cache_size(self) -> int:
        """Capacity of the decoded-tile cache, bytes (default 32 MiB; 0: no caching). A read
        decoding more than a quarter of it is not kept: its caller holds those pixels."""
        return self._cache.capacity

    @property
    def tile_cache_used(self) -> int:
        """Bytes of decoded tiles held in the cache now."""
        return self._cache.used

    def set_tile_cache_size(self, nbytes: int) -> None:
        """Set the cache capacity in bytes; a smaller one drops least recently used tiles."""
        if int(nbytes) < 0:
            raise FITSValueError(f"tile cache size {nbytes} must be 0 or more")
        self._cache.resize(int(nbytes))

    def clear_tile_cache(self) -> None:
        """Drop every cached tile (the capacity stays)."""
        self._cache.clear()
