"""The cyclic garbage collector kept off the hot paths.

Parsing a large JSON body, or turning 10,000 records into models and rows, allocates fast enough
to start a collection every few hundred objects, and each collection of the older generations
walks the whole heap: measured, two thirds of the time of parsing a 3 MB body and about half of
the Python time of an ERP push went there. Reference counting still frees what is not cyclic.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic collection inside the block. The block must not await: no other request may run
    while the collector is off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def freeze_startup_objects() -> None:
    """Leave what start-up made (modules, routes, schemas, the OpenAPI document's models) out of
    every later collection: they live as long as the process, and a full collection otherwise
    walks all of them again each time a request leaves many new objects behind."""
    gc.collect()
    gc.freeze()
