"""Print bench/run's results as a Markdown table with the ratios to the baselines.

Input: results.tsv rows of backend, workload, req/s, p50 ms, p99 ms, RSS kB, failed, total,
anonymous RSS kB (the heap, without mapped files).
"""

import sys

path, users, duration, conns = sys.argv[1:5]
rows = {}
order = []
for line in open(path):
    backend, workload, rps, p50, p99, rss, failed, total, anon = line.rstrip("\n").split("\t")
    rows[(backend, workload)] = dict(
        rps=float(rps),
        p50=float(p50),
        p99=float(p99),
        rss=int(rss),
        failed=int(failed),
        total=int(total),
        anon=int(anon),
    )
    order.append((backend, workload))

# Which pgbench statement each workload is compared with.
PGBENCH = {
    "get": "select",
    "filter": "select",
    "post": "insert",
    "patch": "update",
    "mixed": None,
    "get-nocapture": "select",
    "post-nocapture": "insert",
}
PEERS = ["scim2-server", "scimmy"]
LABEL = {
    "ceiling": "fixed-body /healthz",
    "get": "GET /Users/{id}",
    "filter": "userName eq",
    "post": "POST /Users",
    "patch": "PATCH /Users/{id}",
    "mixed": "Entra cycle",
    "get-nocapture": "GET /Users/{id}, journal capture off",
    "post-nocapture": "POST /Users, journal capture off",
}
for key in list(rows):
    if key[1].startswith("burst-"):
        LABEL[key[1]] = f"GET burst, {key[1][6:]} connections (RSS 2 s after)"


def ratio(ours, base):
    if base is None or base["rps"] <= 0:
        return "-"
    return f"{ours / base['rps']:.2f}x"


print(
    f"\n{users} users, {duration} s per workload, {conns} connections "
    "(wrk -t2; pgbench -j2 -M prepared)\n"
)
peers_present = [p for p in PEERS if any(b == p for b, _ in order)]
head = ["server", "workload", "req/s", "p50 ms", "p99 ms", "RSS MB", "heap MB", "failed", "/ pgbench", "/ ceiling"]
head += [f"/ {p}" for p in peers_present]
print("| " + " | ".join(head) + " |")
print("|" + "|".join("---" for _ in head) + "|")
for backend, workload in order:
    r = rows[(backend, workload)]
    cells = [
        backend,
        LABEL.get(workload, workload),
        f"{r['rps']:.0f}",
        f"{r['p50']:.2f}",
        f"{r['p99']:.2f}",
        f"{r['rss'] / 1024:.0f}" if r["rss"] else "-",
        f"{r['anon'] / 1024:.0f}" if r["anon"] else "-",
        f"{r['failed']}/{r['total']}",
    ]
    if backend in ("pgbench",) + tuple(PEERS):
        cells += ["-", "-"] + ["-" for _ in peers_present]
    else:
        kind = PGBENCH.get(workload)
        cells.append(ratio(r["rps"], rows.get(("pgbench", kind)) if kind else None))
        cells.append("-" if workload == "ceiling" else ratio(r["rps"], rows.get((backend, "ceiling"))))
        cells += [ratio(r["rps"], rows.get((p, workload))) for p in peers_present]
    print("| " + " | ".join(cells) + " |")

# The request journal's share: each workload with capture on against the same workload
# with capture off (a restart on the same database, minutes later in the same run).
journal = []
for backend in sorted({b for b, _ in order}):
    for workload in ("get", "post"):
        on, off = rows.get((backend, workload)), rows.get((backend, f"{workload}-nocapture"))
        if on and off and off["rps"] > 0:
            journal.append(f"{backend} {LABEL[workload]}: capture on / off = {on['rps'] / off['rps']:.2f}x")
if journal:
    print("\nJournal capture (headers and bodies kept per request): " + "; ".join(journal))
