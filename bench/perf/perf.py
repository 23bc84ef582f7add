#!/usr/bin/env python3
"""The helpers of bench/perf/run.sh (yosan vs Groonga, issue 9); run.sh is the one entry point.

Subcommands (each prints or writes one thing; run.sh strings them together):
  config    write a yosan config for the work dir (paths rewritten: relative paths resolve against the config
            file's dir, so they become absolute; the user dictionary is taken from the build dir given)
  mecabrc   print the dicdir of the config's dictionary (UniDic) for a generated mecabrc
  prepare   the dumped sheets (yosan-index --dump, JSON lines) → Groonga's schema + load file, the plain sheet
            text for `mecab -Owakati`, and the byte counts
  check-groonga  reads Groonga's responses to the load file: every command succeeded, every sheet loaded
  free-port print a free 127.0.0.1 port
  wait      wait until a URL answers 200 (a server started by run.sh)
  startup   start a server command, time exec → first answered search, stop it; repeated
  latency   the query mix one request at a time, interleaved per query, warm (one pass discarded)
  wrk-lua   write the wrk Lua script that rotates the mix for one engine
  table     print the table with ratios and the FIGURES lines from the results dir

Standard library only (Debian's python3).
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench", "baselines"))
from sheets import body_text, full_title  # noqa: E402  (the text the relevance baselines load, reused)

# The amount buckets of config/yosan.toml ([amount] buckets: 1億, 10億, 100億, 1000億円): bucket k holds
# the amounts with k boundaries at or below them, as core/budget's bucket_of counts.
BUCKET_BOUNDS = [100_000_000, 1_000_000_000, 10_000_000_000, 100_000_000_000]
NFKC_NORMALIZERS = ["NormalizerNFKC150", "NormalizerNFKC130", "NormalizerNFKC121", "NormalizerNFKC100",
                    "NormalizerNFKC51"]
TITLE_WEIGHT = 5
PER_PAGE = 10
# The five Groonga drilldowns (yosan counts these and two more: spending form and subsidy rate).
DRILLDOWNS = [("bureau", "-_nsubrecs"), ("division", "-_nsubrecs"), ("year", "-_key"), ("kind", "-_nsubrecs"),
              ("bucket", "_key")]


# ---------------------------------------------------------------------------------------------- config

def cmd_config(a):
    """Copy the config, make every path absolute, point index and corpus at the work dir."""
    src_dir = os.path.dirname(os.path.abspath(a.source))
    build = os.path.abspath(a.build)
    root_build = os.path.join(ROOT, "build")
    section = ""
    out = []
    for line in open(a.source, encoding="utf-8").read().split("\n"):
        s = line.strip()
        m = re.match(r"^\[([^\]]+)\]", s)
        if m:
            section = m.group(1)
        m = re.match(r'^(\s*)([A-Za-z_]+)(\s*=\s*)"([^"]*)"(.*)$', line)
        if m and not s.startswith("#"):
            key, val = m.group(2), m.group(4)
            if section == "index" and key == "path":
                val = a.index
            elif val and (val.startswith("./") or val.startswith("../")):
                val = os.path.normpath(os.path.join(src_dir, val))
                if val == root_build or val.startswith(root_build + os.sep):
                    val = build + val[len(root_build):]
            line = f'{m.group(1)}{key}{m.group(3)}"{val}"{m.group(5)}'
        if section == "index" and re.match(r"^\s*settle_seconds\s*=", line):
            line = "settle_seconds = 0  # bench/perf: the generated files are new"
        if section == "corpus" and re.match(r"^\s*paths\s*=", line):
            line = f'paths = ["{a.corpus}"]'
        out.append(line)
    text = "\n".join(out)
    if "settle_seconds" not in text:
        text = text.replace("[index]\n", "[index]\nsettle_seconds = 0\n", 1)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(text)


def cmd_mecabrc(a):
    """The [analysis] dictionary_path of the config (UniDic), for MECABRC."""
    section = ""
    for line in open(a.config, encoding="utf-8"):
        m = re.match(r"^\s*\[([^\]]+)\]", line)
        if m:
            section = m.group(1)
        m = re.match(r'^\s*dictionary_path\s*=\s*"([^"]*)"', line)
        if m and section == "analysis":
            print(m.group(1))
            return
    sys.exit("perf.py: no [analysis] dictionary_path in " + a.config)


# --------------------------------------------------------------------------------------------- prepare

def bucket_of(yen):
    return sum(1 for b in BUCKET_BOUNDS if yen >= b)


def pick_normalizer(workdir):
    db = os.path.join(workdir, "probe", "db")
    os.makedirs(os.path.dirname(db), exist_ok=True)
    for n in NFKC_NORMALIZERS:
        args = ["groonga"] + ([] if os.path.exists(db) else ["-n"]) + [db]
        out = subprocess.run(args, input=f'normalize {n} "ＡＢｶﾞ"\n', capture_output=True, text=True).stdout
        if out.startswith("[[0,"):
            return n
    sys.exit("perf.py: this Groonga offers no NormalizerNFKC*")


def groonga_schema(normalizer):
    return ("plugin_register tokenizers/mecab\n"
            "table_create Sheets TABLE_HASH_KEY ShortText\n"
            "column_create Sheets title COLUMN_SCALAR ShortText\n"
            "column_create Sheets body COLUMN_SCALAR LongText\n"
            "table_create Bureaus TABLE_HASH_KEY ShortText\n"
            "table_create Divisions TABLE_HASH_KEY ShortText\n"
            "column_create Sheets bureau COLUMN_VECTOR Bureaus\n"
            "column_create Sheets division COLUMN_VECTOR Divisions\n"
            "column_create Sheets year COLUMN_SCALAR UInt16\n"
            "column_create Sheets kind COLUMN_SCALAR ShortText\n"
            "column_create Sheets amount COLUMN_SCALAR Int64\n"
            "column_create Sheets bucket COLUMN_SCALAR UInt8\n",
            # The indexes: filters on every facet and the amount, full text with TokenMecab.
            "column_create Bureaus sheets_bureau COLUMN_INDEX Sheets bureau\n"
            "column_create Divisions sheets_division COLUMN_INDEX Sheets division\n"
            "table_create Years TABLE_PAT_KEY UInt16\n"
            "column_create Years sheets_year COLUMN_INDEX Sheets year\n"
            "table_create Kinds TABLE_HASH_KEY ShortText\n"
            "column_create Kinds sheets_kind COLUMN_INDEX Sheets kind\n"
            "table_create Amounts TABLE_PAT_KEY Int64\n"
            "column_create Amounts sheets_amount COLUMN_INDEX Sheets amount\n"
            f"table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer TokenMecab --normalizer {normalizer}\n"
            "column_create Terms title_index COLUMN_INDEX|WITH_POSITION Sheets title\n"
            "column_create Terms body_index COLUMN_INDEX|WITH_POSITION Sheets body\n")


def cmd_prepare(a):
    records, text_bytes = 0, 0
    normalizer = pick_normalizer(a.work)
    columns, indexes = groonga_schema(normalizer)
    with open(a.sheets, encoding="utf-8") as src, \
            open(a.load, "w", encoding="utf-8") as load, open(a.text, "w", encoding="utf-8") as text:
        load.write(columns)
        if a.groonga_online:
            load.write(indexes)  # online: the index grows record by record during load
        load.write("load --table Sheets\n[\n")
        first = True
        for line in src:
            if not line.strip():
                continue
            d = json.loads(line)
            title, body = full_title(d), body_text(d)
            rec = {"_key": d["id"], "title": title, "body": body,
                   "bureau": [b.get("top", "") for b in d.get("bureaus") or [] if b.get("top")],
                   "division": [v for b in d.get("bureaus") or [] for v in b.get("divisions") or []]}
            if d.get("year") is not None:
                rec["year"] = int(d["year"])
            if d.get("kind"):
                rec["kind"] = d["kind"]
            if d.get("amount") is not None:
                rec["amount"] = int(d["amount"])
                rec["bucket"] = bucket_of(int(d["amount"]))
            load.write(("" if first else ",\n") + json.dumps(rec, ensure_ascii=False))
            first = False
            t = title + "\n" + body + "\n"
            text.write(t)
            text_bytes += len(t.encode("utf-8"))
            records += 1
        load.write("\n]\n")
        if not a.groonga_online:
            load.write(indexes)  # static: the indexes are built once over the loaded records (faster)
    corpus_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(a.corpus) for f in fs
                       if f.endswith(".txt"))
    stats = {"sheets": records, "text_bytes": text_bytes, "corpus_bytes": corpus_bytes,
             "normalizer": normalizer, "groonga_index": "online" if a.groonga_online else "static"}
    with open(a.stats, "w") as f:
        json.dump(stats, f)
    print(f"sheets {records}, sheet text {text_bytes / 1e6:.1f} MB, corpus files {corpus_bytes / 1e6:.1f} MB, "
          f"Groonga {normalizer}, {stats['groonga_index']} index build", file=sys.stderr)


def responses(s):
    dec = json.JSONDecoder()
    res, i = [], 0
    while i < len(s):
        while i < len(s) and s[i].isspace():
            i += 1
        if i >= len(s):
            break
        obj, i = dec.raw_decode(s, i)
        res.append(obj)
    return res


def cmd_check_groonga(a):
    out = responses(open(a.output, encoding="utf-8").read())
    bad = [r for r in out if not (isinstance(r, list) and r and isinstance(r[0], list) and r[0][0] == 0)]
    if bad:
        sys.exit(f"perf.py: a Groonga command failed: {json.dumps(bad[0], ensure_ascii=False)[:400]}")
    loaded = [r[1] for r in out if isinstance(r[1], int) and not isinstance(r[1], bool)]
    if a.sheets and a.sheets not in loaded:
        sys.exit(f"perf.py: Groonga loaded {loaded} records, not {a.sheets}")


# --------------------------------------------------------------------------------------------- queries

def read_queries(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t") + [""] * 5
        rows.append({"id": cols[0], "q": cols[1], "params": cols[2], "gquery": cols[3], "gfilter": cols[4]})
    return rows


def params_of(row):
    return [tuple(kv.split("=", 1)) for kv in row["params"].split("&") if "=" in kv]


def enc(pairs):
    return urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote, safe="")


def yosan_path(row):
    pairs = ([("q", row["q"])] if row["q"] else []) + params_of(row) + [("per_page", str(PER_PAGE))]
    return "/api/search?" + enc(pairs)


def gstr(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def groonga_path(row):
    """The same request as a Groonga select: full text, facet filters, sort, 10 hits with a snippet and
    five drilldowns (exact counts), cache=no."""
    per = {}
    for k, v in params_of(row):
        per.setdefault(k, []).append(v)
    conds = []
    for facet, op in (("bureau", "@"), ("division", "@"), ("kind", "==")):
        if facet in per:
            conds.append("(" + " || ".join(f"{facet} {op} {gstr(v)}" for v in per[facet]) + ")")
    for facet in ("year", "bucket"):
        if facet in per:
            conds.append("(" + " || ".join(f"{facet} == {int(v)}" for v in per[facet]) + ")")
    if "amount_min" in per:
        conds.append(f"amount >= {int(per['amount_min'][0])}")
    if "amount_max" in per:
        conds.append(f"amount <= {int(per['amount_max'][0])}")
    if row["gfilter"]:
        conds.append("(" + row["gfilter"] + ")")
    sort = {"": "-_score", "relevance": "-_score", "amount": "amount,-_score", "-amount": "-amount,-_score",
            "year": "-year,-_score", "-year": "year,-_score"}[per.get("sort", [""])[0]]
    page = int(per.get("page", ["1"])[0])
    pairs = [("table", "Sheets")]
    gq = row["gquery"]
    if gq != "*":
        if not gq:
            gq = " ".join(gstr(w) for w in row["q"].split())
        pairs += [("match_columns", f"title * {TITLE_WEIGHT} || body"), ("query", gq)]
    if conds:
        pairs.append(("filter", " && ".join(conds)))
    pairs += [("sort_keys", sort), ("offset", str((page - 1) * PER_PAGE)), ("limit", str(PER_PAGE)),
              ("output_columns", "_key,title,year,kind,amount,bureau,division,snippet_html(body)")]
    for key, order in DRILLDOWNS:
        pairs += [(f"drilldowns[{key}].keys", key), (f"drilldowns[{key}].sort_keys", order),
                  (f"drilldowns[{key}].limit", "-1"), (f"drilldowns[{key}].output_columns", "_key,_nsubrecs")]
    pairs.append(("cache", "no"))
    return "/d/select?" + enc(pairs)


PATHS = {"yosan": yosan_path, "groonga": groonga_path}


def fetch(base, path, timeout=60):
    """One request on a new connection (both engines alike); (seconds, status, body)."""
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return time.perf_counter() - t0, status, body


def hits_of(engine, body):
    try:
        j = json.loads(body)
        return j["total"] if engine == "yosan" else j[1][0][0][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def cmd_latency(a):
    rows = read_queries(a.queries)
    bases = {"yosan": a.yosan, "groonga": a.groonga}
    samples = {e: [] for e in bases}
    per_query = {(r["id"], e): [] for r in rows for e in bases}
    hits, errors = {}, {e: 0 for e in bases}
    for p in range(a.passes + 1):  # pass 0 warms both servers and is discarded
        for i, r in enumerate(rows):
            order = ["yosan", "groonga"] if (p + i) % 2 == 0 else ["groonga", "yosan"]
            for e in order:
                sec, status, body = fetch(bases[e], PATHS[e](r))
                if status != 200:
                    errors[e] += 1
                    if p == 0:
                        print(f"perf.py: {e} {r['id']}: HTTP {status} {body[:300]!r}", file=sys.stderr)
                if p == 0:
                    hits[(r["id"], e)] = hits_of(e, body)
                    continue
                samples[e].append(sec * 1000)
                per_query[(r["id"], e)].append(sec * 1000)
    with open(os.path.join(a.results, "queries.tsv"), "w", encoding="utf-8") as f:
        f.write("# id\tq\tparams\tyosan_hits\tgroonga_hits\tyosan_median_ms\tgroonga_median_ms\n")
        for r in rows:
            f.write(f"{r['id']}\t{r['q']}\t{r['params']}\t{hits[(r['id'], 'yosan')]}\t{hits[(r['id'], 'groonga')]}\t"
                    f"{statistics.median(per_query[(r['id'], 'yosan')]):.2f}\t"
                    f"{statistics.median(per_query[(r['id'], 'groonga')]):.2f}\n")
    res = {e: {"queries": len(rows), "passes": a.passes, "samples": len(samples[e]),
               "p50_ms": pct(samples[e], 50), "p90_ms": pct(samples[e], 90), "p99_ms": pct(samples[e], 99),
               "max_ms": max(samples[e]), "errors": errors[e]} for e in bases}
    with open(os.path.join(a.results, "latency.json"), "w") as f:
        json.dump(res, f)
    for e in bases:
        print(f"  {e:<8} p50 {res[e]['p50_ms']:7.2f} ms  p90 {res[e]['p90_ms']:7.2f} ms  "
              f"p99 {res[e]['p99_ms']:7.2f} ms  max {res[e]['max_ms']:7.2f} ms  ({res[e]['samples']} requests, "
              f"{res[e]['errors']} not 200)")


def cmd_wrk_lua(a):
    rows = read_queries(a.queries)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("local paths = {\n")
        for r in rows:
            f.write(f'  "{PATHS[a.engine](r)}",\n')
        f.write("}\n")
        f.write("""local i = 0
function setup(thread) thread:set("offset", math.random(1, #paths)) end
function request()
  i = i + 1
  return wrk.format("GET", paths[((i + (offset or 0)) % #paths) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "FIGURES requests=%d seconds=%.1f req_per_s=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d non_2xx=%d\\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
""")


# ------------------------------------------------------------------------------------- servers, startup

def cmd_free_port(_):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def first_answer(base, path, deadline, proc):
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return None
        try:
            _, status, _ = fetch(base, path, timeout=30)
            if status == 200:
                return time.perf_counter()
        except OSError:
            pass
        time.sleep(0.002)
    return None


def cmd_wait(a):
    row = read_queries(a.queries)[0]
    if first_answer(a.base, PATHS[a.engine](row), time.monotonic() + a.timeout, None) is None:
        sys.exit(f"perf.py: {a.engine} at {a.base} did not answer within {a.timeout} s")


def stop(proc, engine, base):
    if engine == "groonga":
        try:
            fetch(base, "/d/shutdown", timeout=5)  # a clean shutdown leaves no lock on the database
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            pass
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cmd_startup(a):
    """argv after --: the server command with {port} in it. Time from exec to the first answered search of
    the mix (its first query), once per rep; the servers are stopped in between."""
    row = read_queries(a.queries)[0]
    path = PATHS[a.engine](row)
    out = []
    for _ in range(a.reps):
        port = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        argv = [x.replace("{port}", str(port)) for x in a.argv]
        with open(a.log, "ab") as log:
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=log, stderr=log)
            t1 = first_answer(base, path, time.monotonic() + 60, proc)
            stop(proc, a.engine, base)
        if t1 is None:
            sys.exit(f"perf.py: {a.engine} did not answer (see {a.log})")
        out.append((t1 - t0) * 1000)
        time.sleep(0.2)
    print(" ".join(f"{v:.1f}" for v in out))


# ----------------------------------------------------------------------------------------------- table

def median(v):
    return statistics.median(v) if v else float("nan")


def load_results(d):
    R = {"index": {}, "wrk": {}, "startup": {}}
    with open(os.path.join(d, "index.tsv")) as f:
        for line in f:
            eng, rep, wall, user, sys_, rss_kb, status = line.split()
            R["index"].setdefault(eng, []).append({"wall": float(wall), "cpu": float(user) + float(sys_),
                                                   "rss_mb": int(rss_kb) * 1024 / 1e6, "status": status})
    p = os.path.join(d, "wrk.tsv")
    if os.path.exists(p):
        for line in open(p):
            eng, conns, rep, figures = line.rstrip("\n").split("\t")
            kv = dict(x.split("=") for x in figures.split()[1:])
            R["wrk"].setdefault((eng, int(conns)), []).append({k: float(v) for k, v in kv.items()})
    p = os.path.join(d, "startup.tsv")
    if os.path.exists(p):
        for line in open(p):
            eng, values = line.rstrip("\n").split("\t")
            R["startup"][eng] = [float(x) for x in values.split()]
    for name in ("sizes", "latency", "stats", "meta"):
        p = os.path.join(d, name + ".json")
        R[name] = json.load(open(p)) if os.path.exists(p) else {}
    return R


def cmd_table(a):
    R = load_results(a.results)
    st, meta = R["stats"], R["meta"]
    mb = st["text_bytes"] / 1e6
    rows = []  # (key, label, yosan, groonga, unit, higher_is_better, target text, target check)

    def mbps(eng):
        runs = R["index"].get(eng, [])
        return mb / median([r["wall"] for r in runs]) if runs else float("nan")

    def idx(eng, field):
        runs = R["index"].get(eng, [])
        return median([r[field] for r in runs]) if runs else float("nan")

    y_mbps, g_mbps, m_mbps = mbps("yosan"), mbps("groonga"), mbps("mecab")
    rows.append(("index_mb_per_s", "index throughput, MB/s", y_mbps, g_mbps, "MB/s", True,
                 "≥ 1.5× Groonga", lambda y, g: y >= 1.5 * g))
    rows.append(("index_vs_mecab", "  … vs raw mecab -Owakati, 1 core [MeCab]", y_mbps, m_mbps, "MB/s", True,
                 "≥ 0.75× MeCab", lambda y, g: y >= 0.75 * g))

    def per_cpu(eng):
        runs = R["index"].get(eng, [])
        return mb / median([r["cpu"] for r in runs]) if runs else float("nan")

    # Less sensitive to a busy machine than wall time; yosan's CPU seconds are those of all its threads.
    rows.append(("index_mb_per_cpu_s", "index MB per CPU second (user+sys)", per_cpu("yosan"), per_cpu("groonga"),
                 "MB/s", True, "", None))
    rows.append(("index_wall_s", "index wall time", idx("yosan", "wall"), idx("groonga", "wall"), "s", False,
                 "", None))
    rows.append(("index_cpu_s", "index CPU time (user+sys)", idx("yosan", "cpu"), idx("groonga", "cpu"), "s",
                 False, "", None))
    sz = R["sizes"]
    rows.append(("index_size_mb", "index on disk", sz.get("yosan_apparent", 0) / 1e6,
                 sz.get("groonga_allocated", 0) / 1e6, "MB", False, "≤ Groonga", lambda y, g: y <= g))
    rows.append(("index_rss_mb", "indexer peak RSS", idx("yosan", "rss_mb"), idx("groonga", "rss_mb"), "MB",
                 False, "≤ 400 MB", lambda y, g: y <= 400))
    lat = R["latency"]
    if lat:
        rows.append(("query_p50_ms", f"query p50 ({lat['yosan']['queries']} queries, one at a time)",
                     lat["yosan"]["p50_ms"], lat["groonga"]["p50_ms"], "ms", False, "≤ Groonga",
                     lambda y, g: y <= g))
        rows.append(("query_p99_ms", "query p99", lat["yosan"]["p99_ms"], lat["groonga"]["p99_ms"], "ms", False,
                     "≤ Groonga", lambda y, g: y <= g))
    for c in sorted({c for _, c in R["wrk"]}):
        y = median([r["req_per_s"] for r in R["wrk"].get(("yosan", c), [])])
        g = median([r["req_per_s"] for r in R["wrk"].get(("groonga", c), [])])
        rows.append((f"wrk_c{c}_req_per_s", f"wrk, no cache, {c} connections", y, g, "req/s", True, "≥ Groonga",
                     lambda y, g: y >= g))
        y = median([r["p99_ms"] for r in R["wrk"].get(("yosan", c), [])])
        g = median([r["p99_ms"] for r in R["wrk"].get(("groonga", c), [])])
        rows.append((f"wrk_c{c}_p99_ms", f"  … wrk p99 latency, {c} connections", y, g, "ms", False, "", None))
    if R["startup"]:
        rows.append(("start_ms", "server start → first answer", median(R["startup"].get("yosan", [])),
                     median(R["startup"].get("groonga", [])), "ms", False, "≤ 150 ms", lambda y, g: y <= 150))

    def fmt(v, unit):
        if v != v:
            return "–"
        if v < 10:
            return f"{v:,.2f} {unit}"
        return f"{v:,.1f} {unit}" if v < 100 else f"{v:,.0f} {unit}"

    print()
    print(f"yosan vs Groonga, {st['sheets']:,} sheets (corpus files {st['corpus_bytes'] / 1e6:.1f} MB; every MB/s "
          f"is over the {mb:.1f} MB of sheet text that all three read), {meta.get('reps', '?')} interleaved reps, "
          f"medians")
    print(f"{meta.get('machine', '')}; load before {meta.get('load_before', '?')}, after "
          f"{meta.get('load_after', '?')}")
    print(f"{meta.get('groonga', '')}; TokenMecab + {st['normalizer']}, {st['groonga_index']} index build; "
          f"MeCab dictionary {meta.get('dicdir', '')} for everyone")
    print()
    w = max(len(r[1]) for r in rows) + 2
    hdr = f"{'':<{w}}{'yosan':>14}{'Groonga':>14}   {'yosan/Groonga':<22}{'target (issue 9)':<24}"
    print(hdr.rstrip())
    print("-" * len(hdr.rstrip()))
    for key, label, y, g, unit, hib, target, check in rows:
        other = "MeCab" if key == "index_vs_mecab" else "Groonga"
        ratio = y / g if g and g == g and y == y else float("nan")
        if ratio != ratio:
            verdict = "–"
        else:
            better = ratio > 1 if hib else ratio < 1
            verdict = f"{ratio:.2f}× {'better' if better else 'worse'}" if abs(ratio - 1) > 0.005 else f"{ratio:.2f}× same"
        met = "" if check is None or y != y or g != g else (" (met)" if check(y, g) else " (not met)")
        verdict = verdict.replace("×", f"× {other}") if other != "Groonga" and verdict != "–" else verdict
        print(f"{label:<{w}}{fmt(y, unit):>14}{fmt(g, unit):>14}   {verdict:<22}{target + met}".rstrip())
    print()
    if "mecab" in R["index"]:
        print(f"raw mecab -Owakati (1 core): {m_mbps:.2f} MB/s, peak RSS {idx('mecab', 'rss_mb'):.0f} MB")
    print(f"index on disk: yosan {sz.get('yosan_apparent', 0) / 1e6:.1f} MB (du -sb; allocated "
          f"{sz.get('yosan_allocated', 0) / 1e6:.1f} MB), Groonga {sz.get('groonga_allocated', 0) / 1e6:.1f} MB "
          f"allocated (du -s -B1; apparent {sz.get('groonga_apparent', 0) / 1e6:.1f} MB)")
    for eng in ("yosan", "groonga", "mecab"):
        runs = R["index"].get(eng, [])
        if runs:
            print(f"index runs {eng}: " + ", ".join(f"{r['wall']:.1f} s" for r in runs) +
                  f"; exit statuses {' '.join(r['status'] for r in runs)}")
    if R["startup"]:
        print("server start runs: " + "; ".join(f"{e} " + " ".join(f"{v:.0f}" for v in vs) + " ms"
                                                for e, vs in R["startup"].items()))
    if lat:
        print(f"latency requests not answered 200: yosan {lat['yosan']['errors']}, groonga {lat['groonga']['errors']}"
              f"; per query: {os.path.join(a.results, 'queries.tsv')}")
    print()
    for key, label, y, g, unit, hib, target, check in rows:
        ratio = y / g if g and g == g and y == y else float("nan")
        print(f"FIGURES sheets={st['sheets']} row={key} yosan={y:.3f} "
              f"{'mecab' if key == 'index_vs_mecab' else 'groonga'}={g:.3f} ratio={ratio:.3f} unit={unit.replace('/', '_per_')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("config")
    p.add_argument("--source", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--index", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("mecabrc")
    p.add_argument("--config", required=True)
    p = sub.add_parser("prepare")
    for k in ("sheets", "corpus", "work", "load", "text", "stats"):
        p.add_argument("--" + k, required=True)
    p.add_argument("--groonga-online", action="store_true")
    p = sub.add_parser("check-groonga")
    p.add_argument("--output", required=True)
    p.add_argument("--sheets", type=int, default=0)
    sub.add_parser("free-port")
    p = sub.add_parser("wait")
    p.add_argument("--engine", choices=PATHS, required=True)
    p.add_argument("--base", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--timeout", type=float, default=120)
    p = sub.add_parser("startup")
    p.add_argument("--engine", choices=PATHS, required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--log", required=True)
    p.add_argument("argv", nargs=argparse.REMAINDER)
    p = sub.add_parser("latency")
    p.add_argument("--yosan", required=True)
    p.add_argument("--groonga", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--passes", type=int, default=5)
    p.add_argument("--results", required=True)
    p = sub.add_parser("wrk-lua")
    p.add_argument("--engine", choices=PATHS, required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("table")
    p.add_argument("--results", required=True)
    a = ap.parse_args()
    if a.cmd == "startup" and a.argv and a.argv[0] == "--":
        a.argv = a.argv[1:]
    {"config": cmd_config, "mecabrc": cmd_mecabrc, "prepare": cmd_prepare, "check-groonga": cmd_check_groonga,
     "free-port": cmd_free_port, "wait": cmd_wait, "startup": cmd_startup, "latency": cmd_latency,
     "wrk-lua": cmd_wrk_lua, "table": cmd_table}[a.cmd](a)


if __name__ == "__main__":
    main()
