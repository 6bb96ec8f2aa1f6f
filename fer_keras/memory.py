"""Refuse before allocating: what a step will hold in memory against what the machine has free.

A config can ask for more memory than any machine has (a 10000×10000 input size, a balancing
target of 10⁸ images); allocating it gets the process killed (status left "running", nothing
said). :func:`check_fits` compares an estimate with the memory available now (``MemAvailable``
on Linux) and stops with one line giving the estimate and what to change.
"""

from __future__ import annotations

import os

from fer_keras.errors import UserError

#: Share of the available memory one array may take (the rest: the model, TensorFlow, batches).
SHARE = 0.8


def available_bytes() -> int | None:
    """Memory available to a new allocation now (Linux ``MemAvailable``; total physical memory elsewhere)."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def gib(count: float) -> str:
    """Bytes as ``12.3 GiB``."""
    return f"{count / 2**30:.1f} GiB"


def check_fits(need: int, what: str, change: str) -> None:
    """One-line :class:`~fer_keras.errors.UserError` when ``need`` bytes exceed :data:`SHARE` of the free memory."""
    free = available_bytes()
    if free is not None and need > SHARE * free:
        raise UserError(f"{what} would take about {gib(need)} of memory, more than this machine has free "
                        f"({gib(free)}); {change}")
