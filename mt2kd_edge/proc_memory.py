"""A process's memory, read from /proc (Linux): the current RSS and its peak (high-water mark).

Why not ``resource.getrusage(...).ru_maxrss``: Linux carries a process's ru_maxrss across fork and exec,
so a child started from a 40 MB Python process reports at least 40 MB whatever it then uses. VmHWM
belongs to the process's own address space, which exec replaces, so it is the child's own peak.
"""

from __future__ import annotations

import os


def status_mb(field: str, pid: int | str = "self") -> float:
    """``field`` ("VmRSS", "VmHWM", ...) of /proc/PID/status in MB; NaN where /proc does not say."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def rss_mb(pid: int | str = "self") -> float:
    return status_mb("VmRSS", pid)


def peak_rss_mb(pid: int | str = "self") -> float:
    """The peak RSS of this process since it started (or since its last exec)."""
    peak = status_mb("VmHWM", pid)
    if peak == peak:  # not NaN
        return peak
    import resource  # not Linux: the best the platform offers

    scale = 1 if os.uname().sysname == "Darwin" else 1024  # macOS reports bytes, Linux KB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale / 1024
