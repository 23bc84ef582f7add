#!/usr/bin/env python3
"""Deterministic generator of a large sheet corpus from the real one, for the re-index benchmark.

    bench/gen/gen.py --out DIR [--sheets 10500] [--per-file 105] [--seed 7] [--source data/...txt]
                     [--index-binary build/indexer/yosan-index] [--config config/yosan.toml]

The sheet boundaries come from `yosan-index --dump` (the parser itself, so the generated files split the
way the indexer will). Every generated sheet is a real sheet with
  - its fiscal years shifted (令和N年度 → 令和(N+d)年度 throughout the sheet, d in -4..+1),
  - its amounts scaled by one factor (0.3x .. 3x, formatted as written: commas, decimals),
  - its title varied (a prefix word, and a series number for most sheets) so that ids are mostly distinct,
  - with some probability its 事業概要 body exchanged with another sheet's (paragraphs move between sheets).
The same arguments always give byte-identical files (random.Random(seed), no time or hash order).
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys

HEADING = re.compile(r"^\s*(?:[【■◆●]\s*)?(事業目的|事業概要|事業スキーム|成果目標|事業の内容|事業目的・概要)")
AMOUNT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s*)(億円|百万円|千円|万円)")
REIWA = re.compile(r"令和(\d+)年度")
PREFIXES = ["次世代", "地域", "戦略的", "先端", "グリーン", "デジタル", "国際", "緊急", "革新的", "持続可能な",
            "広域", "重点", "総合", "新たな", "官民連携", "中堅", "産学連携", "省エネ型", "高度", "実証型"]


def dump_sheets(binary, config, source):
    out = subprocess.run([binary, "--config", config, "--dump", source], check=False,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def scale_amounts(text, factor):
    def repl(m):
        whole, frac, space, unit = m.group(1), m.group(2) or "", m.group(3), m.group(4)
        value = float(whole.replace(",", "") + frac) * factor
        if frac:
            num = f"{value:.{len(frac) - 1}f}"
        else:
            num = str(max(1, round(value)))
            if "," in whole:
                num = f"{int(num):,}"
        return num + space + unit
    return AMOUNT.sub(repl, text)


def shift_years(text, delta):
    return REIWA.sub(lambda m: f"令和{max(1, int(m.group(1)) + delta)}年度", text)


def sections(lines):
    """(heading index, end index) of each section heading in the sheet's lines."""
    heads = [i for i, l in enumerate(lines) if HEADING.match(l)]
    return [(h, heads[k + 1] if k + 1 < len(heads) else len(lines)) for k, h in enumerate(heads)]


def overview_body(lines):
    for h, end in sections(lines):
        if "概要" in lines[h] and end > h + 1:
            return (h + 1, end)
    return None


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sheets", type=int, default=10500)
    ap.add_argument("--per-file", type=int, default=105)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--source", default=os.path.join(root, "data", "meti-budget-sheets-r7.txt"))
    ap.add_argument("--index-binary", default=os.path.join(root, "build", "indexer", "yosan-index"))
    ap.add_argument("--config", default=os.path.join(root, "config", "yosan.toml"))
    a = ap.parse_args()

    text_lines = open(a.source, encoding="utf-8").read().split("\n")
    sheets = dump_sheets(a.index_binary, a.config, a.source)
    if not sheets:
        sys.exit("gen.py: no sheets from --dump (is the index binary built?)")
    blocks = [text_lines[s["source"]["first_line"] - 1:s["source"]["last_line"]] for s in sheets]
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)

    n_files = (a.sheets + a.per_file - 1) // a.per_file
    made = 0
    for f in range(n_files):
        ministry = f % 10
        out_lines = []
        for k in range(min(a.per_file, a.sheets - made)):
            src = rng.randrange(len(blocks))
            lines = list(blocks[src])
            # Paragraphs exchanged: another sheet's 事業概要 body in place of this one's.
            if rng.random() < 0.3:
                donor = blocks[rng.randrange(len(blocks))]
                mine, other = overview_body(lines), overview_body(donor)
                if mine and other:
                    lines[mine[0]:mine[1]] = donor[other[0]:other[1]]
            # Title: a prefix word and a series number on the first line, unless the sheet lost its title
            # (it starts at a heading, which must stay a heading).
            if lines and not HEADING.match(lines[0]):
                lines[0] = PREFIXES[rng.randrange(len(PREFIXES))] + lines[0].lstrip()
                if rng.random() < 0.9:
                    # The series number goes in front too: appending could land after a budget on the same line.
                    lines[0] = f"第{f * a.per_file + k + 1}次" + lines[0]
            block = "\n".join(lines)
            block = shift_years(block, rng.randint(-4, 1))
            block = scale_amounts(block, rng.choice([0.3, 0.5, 0.8, 1.2, 1.5, 2.0, 3.0]))
            out_lines.append(block)
            made += 1
        path = os.path.join(a.out, f"ministry{ministry:02d}", f"sheets-{f:04d}.txt")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(out_lines) + "\n")
    print(f"gen.py: {made} sheets in {n_files} files under {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
