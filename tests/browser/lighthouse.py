"""Lighthouse on every console page, signed in (run by browser.rs when HERALD_LIGHTHOUSE
names the lighthouse CLI): accessibility >= 95 everywhere, performance >= 90 on the
dashboard and the messages page. Writes the scores as a Markdown table.
    python3 lighthouse.py BASE_URL DATA_JSON OUT_MD
"""
import json
import os
import subprocess
import sys
import urllib.request

BASE, DATA, OUT = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
LIGHTHOUSE = os.environ["HERALD_LIGHTHOUSE"]
CHROMIUM = os.environ.get("HERALD_CHROMIUM", "/usr/bin/chromium")
PERF = {"/console", "/console/messages"}


def cookie(email):
    body = json.dumps({"email": email, "password": DATA["password"]}).encode()
    req = urllib.request.Request(BASE + "/v1/session", body, {"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req) as r:
        return r.headers["set-cookie"].split(";")[0]


def score(path, jar):
    out = subprocess.run(
        [LIGHTHOUSE, BASE + path, "--output=json", "--quiet", "--only-categories=accessibility,performance",
         "--chrome-flags=--headless=new --no-sandbox", "--extra-headers=" + json.dumps({"Cookie": jar})],
        capture_output=True, text=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=180)
    if out.returncode != 0:
        raise SystemExit(f"lighthouse failed on {path}: {out.stderr[-2000:]}")
    report = json.loads(out.stdout)
    cats = report["categories"]
    failing = [a["id"] for a in report["audits"].values() if a.get("score") == 0 and a["id"] in
               {x["id"] for x in cats["accessibility"]["auditRefs"]}]
    return round(cats["accessibility"]["score"] * 100), round(cats["performance"]["score"] * 100), failing


def main():
    owner, operator = cookie(DATA["owner_email"]), cookie(DATA["operator_email"])
    pages = [(p, owner) for p in ["/console", "/console/messages", "/console/messages/" + DATA["message_id"], "/console/send",
                                  "/console/calls", "/console/calls/" + DATA["call_sid"], "/console/dead-letters", "/console/dnc",
                                  "/console/numbers", "/console/keys", "/console/users", "/console/settings"]]
    pages += [(p, operator) for p in ["/console/ops", "/console/ops/tenants", "/console/ops/audit"]]
    rows, bad = [], []
    for path, jar in pages:
        a11y, perf, failing = score(path, jar)
        label = path.replace(DATA["message_id"], "{id}").replace(DATA["call_sid"], "{sid}")
        rows.append(f"| `{label}` | {a11y} | {perf} |")
        print(f"{path}: accessibility {a11y}, performance {perf} {failing or ''}", flush=True)
        if a11y < 95:
            bad.append(f"{path}: accessibility {a11y} ({', '.join(failing)})")
        if path in PERF and perf < 90:
            bad.append(f"{path}: performance {perf}")
    login = score("/console/login", "")
    rows.insert(0, f"| `/console/login` | {login[0]} | {login[1]} |")
    with open(OUT, "w") as f:
        f.write("| page | accessibility | performance |\n|---|---|---|\n" + "\n".join(rows) + "\n")
    if bad:
        raise SystemExit("below the bar:\n" + "\n".join(bad))


main()
