"""Load the sheets that yosan parses (``yosan-index --dump``) as plain title/body records.

The baselines index exactly these records, so every engine in the relevance benchmark searches the
same sheets with the same source line ranges; only matching and ranking differ.
"""
import json
import subprocess
from dataclasses import dataclass


@dataclass
class Sheet:
    id: str
    title: str        # the heading as printed: "親事業のうち、(2) 子事業" for a sub-project sheet
    body: str         # budget line, organisation lines and every section (heading + text)
    first_line: int
    last_line: int


def full_title(d):
    title = d.get("title") or ""
    parent = d.get("parent")
    if parent:
        label = d.get("sub_label")
        return f"{parent}のうち、{label + ' ' if label else ''}{title}"
    return title


def body_text(d):
    parts = []
    if d.get("budget_text"):
        parts.append(d["budget_text"])
    for b in d.get("bureaus") or []:
        parts.append(" ".join([b.get("top", "")] + list(b.get("divisions") or [])).strip())
    for a in d.get("allocations") or []:
        if a.get("text"):
            parts.append(a["text"])
    for s in d.get("sections") or []:
        parts.append(s.get("title", ""))
        parts.append(s.get("text", ""))
    return "\n".join(p for p in parts if p)


def from_dump_lines(lines):
    sheets = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        d = json.loads(line)
        src = d["source"]
        sheets.append(Sheet(id=d["id"], title=full_title(d), body=body_text(d),
                            first_line=int(src["first_line"]), last_line=int(src["last_line"])))
    return sheets


def dump(yosan_index, config, corpus_file):
    """Run ``yosan-index -c CONFIG --dump FILE`` and return the parsed sheets."""
    out = subprocess.run([yosan_index, "-c", config, "--dump", corpus_file],
                         check=True, capture_output=True, text=True)
    return from_dump_lines(out.stdout.splitlines())
