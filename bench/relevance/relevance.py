#!/usr/bin/env python3
"""Relevance benchmark: yosan and baselines on the same sheets, scored against judged query sets.

Run through bench/relevance/run (which installs the baselines' Debian packages when missing).
Python 3 standard library only.  See bench/relevance/README.md.
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "baselines"))

import sheets as sheets_mod  # noqa: E402

ALL_ENGINES = ["yosan", "groonga-mecab", "groonga-bigram", "sqlite-trigram", "kuromoji-like"]
K = 10


# ---------------------------------------------------------------- query sets

def read_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            qid, query = line.split("\t", 1)
            out.append((qid.strip(), query))
    return out


def read_qrels(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            qid, ln, grade = cols[0].strip(), int(cols[1]), int(cols[2])
            title = cols[3] if len(cols) > 3 else ""
            out.setdefault(qid, []).append({"line": ln, "grade": grade, "title": title})
    return out


# ---------------------------------------------------------------- metrics

def judge(hits, judgements):
    """Grade each hit (dicts with first_line/last_line): the best grade among the judgements whose
    line lies in the hit's source range; each judgement is credited once."""
    used = set()
    grades = []
    for h in hits:
        g = 0
        for i, j in enumerate(judgements):
            if i in used or j["grade"] <= 0:
                continue
            if h["first_line"] <= j["line"] <= h["last_line"]:
                used.add(i)
                g = max(g, j["grade"])
        grades.append(g)
    return grades, used


def metrics(grades, judgements, total):
    """nDCG@10 (gain 2^g-1, ideal from all judgements), P@5 (grade>=1), MRR (first relevant in the
    top 10), recall@10 (judged sheets found in the top 10).  A query with no judgements scores 1.0
    on every metric when it returns no hit and 0.0 otherwise."""
    rel = [j for j in judgements if j["grade"] > 0]
    if not rel:
        v = 1.0 if total == 0 else 0.0
        return {"ndcg": v, "p5": v, "mrr": v, "recall": v}
    top = grades[:K]
    dcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(top))
    ideal = sorted((j["grade"] for j in rel), reverse=True)[:K]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    p5 = sum(1 for g in grades[:5] if g > 0) / 5.0
    mrr = 0.0
    for i, g in enumerate(top):
        if g > 0:
            mrr = 1.0 / (i + 1)
            break
    recall = sum(1 for g in top if g > 0) / len(rel)
    return {"ndcg": dcg / idcg if idcg else 0.0, "p5": p5, "mrr": mrr, "recall": recall}


# ---------------------------------------------------------------- yosan

def prepare_config(config, build, tmp):
    """Copy the config with its relative paths made absolute, and paths under <repo>/build/ pointed
    at --build, so that a build in another directory is measured with its own artefacts."""
    cfg_dir = os.path.dirname(os.path.abspath(config))
    default_build = os.path.join(ROOT, "build")
    text = open(config, encoding="utf-8").read()

    def fix(m):
        p = m.group(1)
        if p.startswith("./") or p.startswith("../"):
            p = os.path.normpath(os.path.join(cfg_dir, p))
            if os.path.abspath(build) != default_build and (p == default_build or p.startswith(default_build + os.sep)):
                p = os.path.join(os.path.abspath(build), os.path.relpath(p, default_build))
        return '"' + p + '"'

    text = re.sub(r'"((?:\.\.?/)[^"\n]*)"', fix, text)
    out = os.path.join(tmp, "yosan.toml")
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return out


class YosanEngine:
    name = "yosan"

    def __init__(self, build, config, tmp, shown_config):
        self.index_bin = os.path.join(build, "indexer", "yosan-index")
        self.search_bin = os.path.join(build, "searcher", "yosan-search")
        for b in (self.index_bin, self.search_bin):
            if not os.access(b, os.X_OK):
                sys.exit(f"relevance: {b} not found; build first, or pass --build DIR")
        self.config = config
        self.dir = os.path.join(tmp, "yosan-index")
        self.description = (f"{self.search_bin} -c {shown_config} (relative paths made absolute, build/ paths "
                            f"pointed at the build measured) --json --limit {K} --query QUERY")
        self.filters = {}

    def index(self, _sheets):
        r = subprocess.run([self.index_bin, "-c", self.config, "--index", self.dir],
                           capture_output=True, text=True)
        # 3 is a partial run: some sheet had a warning (the corpus's title-less sheet at line 792 does).
        if r.returncode not in (0, 3):
            sys.exit(f"relevance: yosan-index failed:\n{r.stderr}")

    def search(self, query, limit=K):
        r = subprocess.run([self.search_bin, "-c", self.config, "--index", self.dir, "--json",
                            "--limit", str(limit), "--query", query], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"yosan-search failed for {query!r}: {r.stderr.strip()}")
        d = json.loads(r.stdout)
        self.filters[query] = [f.get("text", "") for f in d.get("recognised_filters") or []]
        hits = [{"id": h.get("id"), "title": h.get("title", ""),
                 "first_line": int(h["source"]["first_line"]), "last_line": int(h["source"]["last_line"])}
                for h in d.get("hits", [])]
        return int(d.get("total", len(hits))), hits

    def note(self, query):
        f = self.filters.get(query)
        return ("filters: " + " ".join(f)) if f else ""


class IdEngine:
    """Adapts a baseline that returns sheet ids to hits with source line ranges."""

    def __init__(self, engine, by_id):
        self.engine = engine
        self.name = engine.name
        self.description = engine.description
        self.by_id = by_id

    def index(self, sheets):
        self.engine.index(sheets)

    def search(self, query, limit=K):
        total, ids = self.engine.search(query, limit)
        hits = []
        for i in ids:
            s = self.by_id[i]
            hits.append({"id": i, "title": s.title, "first_line": s.first_line, "last_line": s.last_line})
        return total, hits

    def note(self, query):
        return self.engine.note(query) if hasattr(self.engine, "note") else ""


# ---------------------------------------------------------------- output

def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def pad(s, w, right=False):
    s = str(s)
    while width(s) > w:
        s = s[:-1]
    fill = " " * (w - width(s))
    return fill + s if right else s + fill


def query_width(rows):
    return min(52, max([24] + [width(r["query"]) for r in rows]))


def fmt(v):
    return f"{v:.3f}"


def mean(xs):
    return sum(xs) / len(xs) if xs else 0.0


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="yosan build directory (default build/)")
    ap.add_argument("--config", default=os.path.join(ROOT, "config", "yosan.toml"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "data", "meti-budget-sheets-r7.txt"),
                    help="the sheet file whose --dump the baselines index (the config's corpus for yosan)")
    ap.add_argument("--set", default="all", choices=["dev", "check", "sentence", "all"],
                    help="bundled query sets (bench/relevance/queries-SET.tsv): dev, check, sentence, all (default)")
    ap.add_argument("--queries", help="a custom query set (qid<TAB>query); replaces --set")
    ap.add_argument("--qrels", help="judgements for --queries (qid<TAB>line<TAB>grade<TAB>title)")
    ap.add_argument("--engines", default=",".join(ALL_ENGINES))
    ap.add_argument("--explain", default="yosan",
                    help="engines whose weak queries are explained (comma list; '' for none)")
    ap.add_argument("--explain-below", type=float, default=0.9, help="explain queries with nDCG@10 below this")
    ap.add_argument("--json", dest="json_out", help="also write every result to this JSON file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary indexes")
    args = ap.parse_args()

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ALL_ENGINES:
            sys.exit(f"relevance: unknown engine {e!r}; known: {', '.join(ALL_ENGINES)}")

    sets = []
    if args.queries or args.qrels:
        if not (args.queries and args.qrels):
            sys.exit("relevance: --queries and --qrels go together")
        sets.append((os.path.splitext(os.path.basename(args.queries))[0].replace("queries-", ""),
                     args.queries, args.qrels))
    else:
        if args.set in ("dev", "all"):
            sets.append(("dev", os.path.join(HERE, "queries-dev.tsv"), os.path.join(HERE, "qrels-dev.tsv")))
        for name in ("check", "sentence"):
            if args.set in (name, "all"):
                sets.append((name, os.path.join(HERE, f"queries-{name}.tsv"), os.path.join(HERE, f"qrels-{name}.tsv")))

    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="yosan-relevance-")
    try:
        config = prepare_config(args.config, build, tmp)
        index_bin = os.path.join(build, "indexer", "yosan-index")
        if not os.access(index_bin, os.X_OK):
            sys.exit(f"relevance: {index_bin} not found; build first, or pass --build DIR")
        sheet_list = sheets_mod.dump(index_bin, config, os.path.abspath(args.corpus))
        by_id = {s.id: s for s in sheet_list}
        print(f"corpus: {os.path.relpath(args.corpus, ROOT)}: {len(sheet_list)} sheets (yosan-index --dump); build: {build}")

        objs = []
        for name in engines:
            if name == "yosan":
                objs.append(YosanEngine(build, config, tmp, os.path.abspath(args.config)))
            elif name.startswith("groonga-"):
                import groonga_engine
                tok = {"groonga-mecab": "TokenMecab", "groonga-bigram": "TokenBigram"}[name]
                objs.append(IdEngine(groonga_engine.GroongaEngine(name, tok, tmp), by_id))
            elif name == "sqlite-trigram":
                import sqlite_trigram
                objs.append(IdEngine(sqlite_trigram.SqliteTrigramEngine(name), by_id))
            elif name == "kuromoji-like":
                import kuromoji_like
                objs.append(IdEngine(kuromoji_like.KuromojiLikeEngine(name), by_id))
        timing = {}
        for e in objs:
            t0 = time.time()
            e.index(sheet_list)
            timing[e.name] = {"index_s": time.time() - t0, "query_s": []}

        results = {}   # (set, engine) -> list of per-query dicts
        for set_name, qpath, rpath in sets:
            queries = read_queries(qpath)
            qrels = read_qrels(rpath)
            for e in objs:
                rows = []
                for qid, q in queries:
                    judg = qrels.get(qid, [])
                    t0 = time.time()
                    try:
                        total, hits = e.search(q, K)
                        note = e.note(q)
                    except Exception as ex:  # one failing query must not hide the others' figures
                        total, hits, note = 0, [], f"ERROR: {ex}"
                    timing[e.name]["query_s"].append(time.time() - t0)
                    grades, used = judge(hits, judg)
                    m = metrics(grades, judg, total)
                    if note.startswith("ERROR"):
                        m = {k: 0.0 for k in m}
                    rows.append({"qid": qid, "query": q, "total": total, "hits": hits, "grades": grades,
                                 "judgements": judg, "metrics": m, "note": note})
                results[(set_name, e.name)] = rows

        # ---- one table per engine and set
        for set_name, qpath, _ in sets:
            for e in objs:
                rows = results[(set_name, e.name)]
                print()
                print(f"== {e.name} on {set_name} ({os.path.relpath(qpath, ROOT) if qpath.startswith(ROOT) else qpath}, {len(rows)} queries)")
                print(f"   {e.description}")
                qw = query_width(rows)
                hdr = f"{pad('qid', 6)}  {pad('query', qw)}  {pad('hits', 5, True)}  {pad('nDCG@10', 7, True)}  {pad('P@5', 5, True)}  {pad('MRR', 5, True)}  {pad('R@10', 5, True)}  note"
                print(hdr)
                for r in rows:
                    m = r["metrics"]
                    note = r["note"]
                    if not r["judgements"]:
                        note = ("no judgements: 1.0 if no hit, else 0.0" + ("; " + note if note else ""))
                    print(f"{pad(r['qid'], 6)}  {pad(r['query'], qw)}  {pad(r['total'], 5, True)}  {pad(fmt(m['ndcg']), 7, True)}  "
                          f"{pad(fmt(m['p5']), 5, True)}  {pad(fmt(m['mrr']), 5, True)}  {pad(fmt(m['recall']), 5, True)}  {note}".rstrip())
                agg = {k: mean([r["metrics"][k] for r in rows]) for k in ("ndcg", "p5", "mrr", "recall")}
                print(f"{pad('mean', 6)}  {pad('', qw)}  {pad('', 5)}  {pad(fmt(agg['ndcg']), 7, True)}  {pad(fmt(agg['p5']), 5, True)}  "
                      f"{pad(fmt(agg['mrr']), 5, True)}  {pad(fmt(agg['recall']), 5, True)}")

        # ---- explanations
        explain = [x.strip() for x in args.explain.split(",") if x.strip()]
        for set_name, _, _ in sets:
            for e in objs:
                if e.name not in explain:
                    continue
                weak = [r for r in results[(set_name, e.name)] if r["metrics"]["ndcg"] < args.explain_below]
                print()
                print(f"== {e.name} on {set_name}: queries with nDCG@10 < {args.explain_below} ({len(weak)})")
                for r in weak:
                    print(f"-- {r['qid']} {r['query']}  nDCG@10 {fmt(r['metrics']['ndcg'])}, {r['total']} hits"
                          + (f"  [{r['note']}]" if r["note"] else ""))
                    for j in sorted(r["judgements"], key=lambda j: -j["grade"]):
                        rank = next((i + 1 for i, h in enumerate(r["hits"])
                                     if h["first_line"] <= j["line"] <= h["last_line"]), None)
                        where = f"rank {rank}" if rank else "MISSED"
                        print(f"     judged g{j['grade']} line {j['line']:>5} {j['title']}: {where}")
                    for i, (h, g) in enumerate(zip(r["hits"], r["grades"])):
                        print(f"     #{i + 1:<2} g{g} {h['first_line']:>5}-{h['last_line']:<5} {h['title']}")

        # ---- side by side
        print()
        print("== summary (mean over queries; a query without judgements scores 1.0 when it returns no hit, else 0.0)")
        print(f"{pad('engine', 15)}  {pad('set', 8)}  {pad('queries', 7, True)}  {pad('nDCG@10', 7, True)}  {pad('P@5', 5, True)}  "
              f"{pad('MRR', 5, True)}  {pad('R@10', 5, True)}  {pad('index s', 7, True)}  {pad('ms/query', 8, True)}")
        summary = []
        for set_name, _, _ in sets:
            for e in objs:
                rows = results[(set_name, e.name)]
                agg = {k: mean([r["metrics"][k] for r in rows]) for k in ("ndcg", "p5", "mrr", "recall")}
                tm = timing[e.name]
                summary.append({"engine": e.name, "set": set_name, "queries": len(rows), **agg})
                print(f"{pad(e.name, 15)}  {pad(set_name, 8)}  {pad(len(rows), 7, True)}  {pad(fmt(agg['ndcg']), 7, True)}  "
                      f"{pad(fmt(agg['p5']), 5, True)}  {pad(fmt(agg['mrr']), 5, True)}  {pad(fmt(agg['recall']), 5, True)}  "
                      f"{pad('%.2f' % tm['index_s'], 7, True)}  {pad('%.1f' % (1000 * mean(tm['query_s'])), 8, True)}")
        for set_name, _, _ in sets:
            rows = results[(set_name, objs[0].name)] if objs else []
            best_p5 = mean([min(5, sum(1 for j in r["judgements"] if j["grade"] > 0)) / 5.0
                            if any(j["grade"] > 0 for j in r["judgements"]) else 1.0 for r in rows])
            print(f"(best possible P@5 on {set_name}: {best_p5:.3f}, as some queries have fewer than 5 judged sheets)")
        for set_name, _, _ in sets:
            print()
            print(f"== nDCG@10 per query on {set_name}")
            names = [e.name for e in objs]
            per = [results[(set_name, n)] for n in names]
            qw = query_width(per[0]) if per else 24
            print(f"{pad('qid', 6)}  {pad('query', qw)}  " + "  ".join(pad(n, max(14, len(n)), True) for n in names))
            for i in range(len(per[0]) if per else 0):
                r0 = per[0][i]
                print(f"{pad(r0['qid'], 6)}  {pad(r0['query'], qw)}  " +
                      "  ".join(pad(fmt(p[i]['metrics']['ndcg']) + ("" if p[i]['judgements'] else f" ({p[i]['total']} hits)"),
                                    max(14, len(n)), True) for p, n in zip(per, names)))
        print("(ms/query for yosan includes starting the yosan-search process; groonga likewise runs one process per query)")

        if args.json_out:
            with open(args.json_out, "w", encoding="utf-8") as f:
                json.dump({"summary": summary,
                           "engines": {e.name: e.description for e in objs},
                           "results": {f"{s}/{n}": rows for (s, n), rows in results.items()}},
                          f, ensure_ascii=False, indent=1)
    finally:
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
