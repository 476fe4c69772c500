#!/usr/bin/env python3
"""Every row `htsc run` prints is valid against the JSON Schema `htsc compile`
writes for its query (DIR/QUERY.schema.json), checked by the jsonschema
package (Draft 2020-12, with format checks for ipv4 and ipv6).

    check_schema.py --htsc bin/htsc --data tests/data

Each library query is compiled alone (--target none) and run on captures
where it finds rows (the oracle's sweep parameters, else its defaults on
every capture until some row comes); every query must contribute rows. A
schema that accepts anything proves nothing, so each schema must also reject
rows made wrong on purpose: a column missing, an unknown column, a value of
the wrong type. Exit 0 when all holds, 1 otherwise.
"""
import argparse
import copy
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
try:
    import jsonschema
except ImportError:
    print("schema: FAIL: python3-jsonschema is missing (scripts/install-deps.sh)")
    sys.exit(1)
from oracle import SWEEP  # noqa: E402  the parameters that find rows

# queries the oracle does not cover, with parameters that find rows
MORE = {"zorro": ({"port": "21", "threshold": "1", "word": '"USER"'}, "ftp_brute_force.pcap")}


def rows_of(htsc, qfile, cap, sets):
    cmd = [htsc, "run", qfile, "--pcap", cap]
    for k, v in sets.items():
        cmd += ["--set", "%s=%s" % (k, v)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return []
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--htsc", default="bin/htsc")
    ap.add_argument("--data", default="tests/data")
    a = ap.parse_args()
    caps = sorted(glob.glob(os.path.join(a.data, "*.pcap*")))
    failed, total = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for qfile in sorted(glob.glob("queries/*.htq")):
            q = os.path.basename(qfile)[:-4]
            out = os.path.join(tmp, q)
            r = subprocess.run([a.htsc, "compile", qfile, "--target", "none", "-o", out],
                               capture_output=True, text=True)
            path = os.path.join(out, q + ".schema.json")
            if r.returncode != 0 or not os.path.exists(path):
                print("FAIL %s: htsc compile wrote no schema: %s" % (q, r.stderr.strip()))
                failed += 1
                continue
            schema = json.load(open(path))
            jsonschema.Draft202012Validator.check_schema(schema)
            v = jsonschema.Draft202012Validator(
                schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            sets, where = SWEEP.get(q, MORE.get(q, ({}, None)))
            tried = [os.path.join(a.data, c) for c in where.split()] if where else caps
            rows = []
            for cap in tried:
                rows += rows_of(a.htsc, qfile, cap, sets)
                if len(rows) >= 2000:
                    break
            if not rows:
                print("FAIL %s: no row to check on %d captures" % (q, len(tried)))
                failed += 1
                continue
            bad = [e for row in rows for e in v.iter_errors(row)]
            if bad:
                print("FAIL %s: %d of %d rows invalid: %s" % (q, len(bad), len(rows), bad[0].message))
                failed += 1
                continue
            # wrong rows must be refused
            cols = [c for c in schema["required"] if c not in ("query", "window_start", "window_end")]
            wrongs = []
            w = copy.deepcopy(rows[0]); del w[cols[-1]]; wrongs.append(("a column missing", w))
            w = copy.deepcopy(rows[0]); w["no_such_column"] = 1; wrongs.append(("an unknown column", w))
            w = copy.deepcopy(rows[0]); w["window_end"] = "soon"; wrongs.append(("a string as a time", w))
            for c in cols:
                t = schema["properties"][c]["type"]
                if "integer" in t or "boolean" in t:
                    w = copy.deepcopy(rows[0]); w[c] = "x"; wrongs.append(("a string in %s" % c, w))
                    break
                if schema["properties"][c].get("format") == "ipv4":
                    w = copy.deepcopy(rows[0]); w[c] = "300.1.2.3"; wrongs.append(("a bad address in %s" % c, w))
                    break
            accepted = [what for what, w in wrongs if v.is_valid(w)]
            if accepted:
                print("FAIL %s: the schema accepts %s" % (q, ", ".join(accepted)))
                failed += 1
                continue
            total += len(rows)
            print("ok   %-22s %5d rows valid; %d wrong rows refused" % (q, len(rows), len(wrongs)))
    print("schema: %d rows of %d queries valid against their schema; %d failed" % (
        total, len(glob.glob("queries/*.htq")) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
