"""Run scim2-tester (its Python API, `scim2_tester.check_server`) against a live server
and write every check result as JSON, for gate.py.

Usage: scim2_tester_check.py BASE_URL OUTPUT.json  (the bearer token comes from the
SCIM_TOKEN environment variable, so that it is not on a command line).

Each result gets a stable id, `ResourceType/check_name[attribute]`: scim2-tester names a
result after its checker function, and the PATCH checkers report one result per
attribute (in `data["urn"]`). Statuses are mapped to pass/fail/skip:
SUCCESS, COMPLIANT (follows a SHOULD) and ACCEPTABLE (uses a MAY) pass; DEVIATION
(departs from a SHOULD), ERROR (breaks a MUST) and CRITICAL fail; SKIPPED is a skip.
"""

import json
import os
import sys
import traceback
from collections import Counter

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

OUTCOME = {
    Status.SUCCESS: "pass",
    Status.COMPLIANT: "pass",
    Status.ACCEPTABLE: "pass",
    Status.DEVIATION: "fail",
    Status.ERROR: "fail",
    Status.CRITICAL: "fail",
    Status.SKIPPED: "skip",
}


def check_id(result) -> str:
    scope = result.resource_type or "server"
    urn = result.data.get("urn") if isinstance(result.data, dict) else None
    return f"{scope}/{result.title}" + (f"[{urn}]" if urn else "")


def main() -> int:
    base_url, output = sys.argv[1], sys.argv[2]
    token = os.environ["SCIM_TOKEN"]
    http = httpx2.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    client = SyncSCIMClient(http)
    try:
        results = check_server(client)
    except Exception:  # a crash of the tool is a failed run, reported as one check
        traceback.print_exc()
        results = None

    checks = []
    if results is None:
        checks.append(
            {"id": "scim2-tester/crashed", "outcome": "fail", "status": "CRASH",
             "reason": "check_server raised; see the traceback above"}
        )
    else:
        seen: Counter[str] = Counter()
        for result in results:
            ident = check_id(result)
            seen[ident] += 1
            if seen[ident] > 1:  # keep ids unique if a checker reports twice
                ident = f"{ident}#{seen[ident]}"
            checks.append(
                {
                    "id": ident,
                    "outcome": OUTCOME[result.status],
                    "status": result.status.name,
                    "reason": result.reason or "",
                    "data": None if result.data is None else str(result.data)[:2000],
                }
            )
    with open(output, "w", encoding="utf-8") as f:
        json.dump({"tool": "scim2-tester", "checks": checks}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
