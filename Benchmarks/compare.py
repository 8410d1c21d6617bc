#!/usr/bin/env python3
"""compare.py [--runs N] [--json FILE] LABEL -- CMD... [LABEL -- CMD...]...

Runs every command N times (default 7), interleaved (round r runs each command once, in order),
stdout discarded, and prints for each: the median wall time, min-max, the median CPU time (user +
system, from wait4) and the peak RSS (from one more run under /usr/bin/time, so that it is the
command's own and not the forked Python's; wait4's figure when /usr/bin/time is missing). Ratios between commands are made by the caller
(or with --ratio A/B, printed as median(A)/median(B) with the range of per-round ratios).

Interleaving matters on a shared machine: a burst of load hits every command of a round, not a
run of one command. Exit status 2 if a command fails (its label and status are printed)."""
import json
import os
import statistics
import subprocess
import sys
import time


def parse(argv):
    runs, out, ratios, cmds = 7, None, [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--runs":
            runs = int(argv[i + 1]); i += 2; continue
        if a == "--json":
            out = argv[i + 1]; i += 2; continue
        if a == "--ratio":
            ratios.append(argv[i + 1].split("/", 1)); i += 2; continue
        label = a
        if i + 1 >= len(argv) or argv[i + 1] != "--":
            sys.exit("compare.py: expected LABEL -- CMD... at %r" % a)
        j = i + 2
        cmd = []
        while j < len(argv) and argv[j] != ";;":
            cmd.append(argv[j]); j += 1
        cmds.append((label, cmd))
        i = j + 1
    return runs, out, ratios, cmds


def run_once(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    return code, dt, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def own_rss(cmd):
    """Peak RSS (KiB) of CMD alone: wait4 on a child of this script would also count the
    forked Python's pages (Linux keeps the pre-exec high-water mark), so CMD is run once more
    under /usr/bin/time, a small C program, whose child is CMD. None without /usr/bin/time."""
    if not os.path.exists("/usr/bin/time"):
        return None
    import tempfile
    with tempfile.NamedTemporaryFile("r") as f:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name] + cmd, stdout=subprocess.DEVNULL)
        try:
            return int(f.read().split()[-1])
        except (ValueError, IndexError):
            return None


def main():
    runs, out, ratios, cmds = parse(sys.argv[1:])
    if not cmds:
        sys.exit(__doc__)
    wall = {l: [] for l, _ in cmds}
    cpu = {l: [] for l, _ in cmds}
    rss = {l: 0 for l, _ in cmds}
    for _ in range(runs):
        for label, cmd in cmds:
            code, dt, ct, mr = run_once(cmd)
            if code != 0:
                print("%s: exit status %d" % (label, code), file=sys.stderr)
                sys.exit(2)
            wall[label].append(dt)
            cpu[label].append(ct)
            rss[label] = max(rss[label], mr)
    for label, cmd in cmds:
        own = own_rss(cmd)
        if own is not None:
            rss[label] = own
    result = {}
    for label, _ in cmds:
        w = wall[label]
        result[label] = {"medianMs": statistics.median(w) * 1000, "minMs": min(w) * 1000,
                         "maxMs": max(w) * 1000, "cpuMedianMs": statistics.median(cpu[label]) * 1000,
                         "peakRSSKiB": rss[label], "runs": runs}
        r = result[label]
        print("%-46s %9.1f ms (%.1f-%.1f)  cpu %8.1f ms  %8d KiB peak RSS"
              % (label, r["medianMs"], r["minMs"], r["maxMs"], r["cpuMedianMs"], r["peakRSSKiB"]))
    for a, b in ratios:
        per = [x / y for x, y in zip(wall[a], wall[b]) if y > 0]
        m = statistics.median(wall[a]) / statistics.median(wall[b])
        key = "%s / %s" % (a, b)
        result[key] = {"ratio": m, "min": min(per), "max": max(per)}
        print("%-46s %9.2fx (per-round %.2f-%.2f)" % (key, m, min(per), max(per)))
    if out:
        with open(out, "w") as f:
            json.dump(result, f, indent=2, sort_keys=True)


main()
