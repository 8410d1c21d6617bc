#!/usr/bin/env python3
"""measure.py LABEL RUNS CMD...: best wall time (ms) and peak RSS (KiB) of CMD over RUNS runs,
stdout discarded. Uses os.wait4, so the RSS is the command's own, not this script's."""
import os
import subprocess
import sys
import time

label, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
best, rss = None, 0
for _ in range(runs):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("%s: exit status %d" % (label, os.waitstatus_to_exitcode(status)))
    best = dt if best is None else min(best, dt)
    rss = max(rss, ru.ru_maxrss)
print("%-44s %9.1f ms %10d KiB peak RSS" % (label, best * 1000, rss))
