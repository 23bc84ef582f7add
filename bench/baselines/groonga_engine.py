"""Groonga baseline: a Sheets table (title, body) with full-text indexes, searched with `select`.

Schema (Groonga's usual full-text set-up, nothing tuned):
  table_create Sheets TABLE_HASH_KEY ShortText
  column_create Sheets title COLUMN_SCALAR ShortText
  column_create Sheets body  COLUMN_SCALAR LongText
  table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer TOKENIZER --normalizer NORMALIZER
  column_create Terms title_index COLUMN_INDEX|WITH_POSITION Sheets title
  column_create Terms body_index  COLUMN_INDEX|WITH_POSITION Sheets body
Query: select Sheets --match_columns 'title * 5 || body' --query '<raw query>' --sort_keys -_score
with Groonga's default scorer (term frequency times the column weight) and its default query syntax
(words separated by spaces are ANDed).  Every space-separated word of the user's query is passed as a
quoted phrase, so characters such as ( ) : - in what the user typed are text, not query operators.
TokenMecab uses the system MeCab dictionary (/etc/mecabrc), as a packaged Groonga does.
"""
import json
import os
import subprocess
import urllib.parse

# Newest first: the first one the installed Groonga knows is used.
NFKC_NORMALIZERS = ["NormalizerNFKC150", "NormalizerNFKC130", "NormalizerNFKC121",
                    "NormalizerNFKC100", "NormalizerNFKC51"]
TITLE_WEIGHT = 5


def _groonga(db, commands, create=False):
    args = ["groonga"] + (["-n"] if create else []) + [db]
    out = subprocess.run(args, input=commands, capture_output=True, text=True, check=False)
    return out.stdout


def _responses(stdout):
    """Groonga prints one JSON response per command; parse them in order."""
    dec = json.JSONDecoder()
    res, i = [], 0
    s = stdout
    while i < len(s):
        while i < len(s) and s[i].isspace():
            i += 1
        if i >= len(s):
            break
        obj, i = dec.raw_decode(s, i)
        res.append(obj)
    return res


def _check(responses, what):
    for r in responses:
        header = r[0] if isinstance(r, list) and r and isinstance(r[0], list) else None
        if header and header[0] != 0:
            raise RuntimeError(f"groonga {what} failed: {r}")


def groonga_version():
    out = subprocess.run(["groonga", "--version"], capture_output=True, text=True)
    return out.stdout.splitlines()[0] if out.stdout else "groonga (unknown version)"


def pick_nfkc_normalizer(workdir):
    db = os.path.join(workdir, "probe.grn")
    for n in NFKC_NORMALIZERS:
        res = _responses(_groonga(db if os.path.exists(db) else db,
                                  f'normalize {n} "ＡＢｶﾞ"\n', create=not os.path.exists(db)))
        if res and res[-1][0][0] == 0:
            return n
    raise RuntimeError("this Groonga offers no NormalizerNFKC*")


def quote_query(q):
    words = q.split()
    return " ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in words)


class GroongaEngine:
    def __init__(self, name, tokenizer, workdir):
        self.name = name
        self.tokenizer = tokenizer
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.db = os.path.join(self.dir, "db.grn")
        self.normalizer = pick_nfkc_normalizer(self.dir)
        self.description = f"{groonga_version()}; {tokenizer} + {self.normalizer}; title*{TITLE_WEIGHT} || body; default scorer"

    def index(self, sheets):
        plugin = "plugin_register tokenizers/mecab\n" if self.tokenizer == "TokenMecab" else ""
        records = [{"_key": s.id, "title": s.title, "body": s.body} for s in sheets]
        cmds = (plugin +
                "table_create Sheets TABLE_HASH_KEY ShortText\n"
                "column_create Sheets title COLUMN_SCALAR ShortText\n"
                "column_create Sheets body COLUMN_SCALAR LongText\n"
                f"table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer {self.tokenizer} "
                f"--normalizer {self.normalizer}\n"
                "column_create Terms title_index COLUMN_INDEX|WITH_POSITION Sheets title\n"
                "column_create Terms body_index COLUMN_INDEX|WITH_POSITION Sheets body\n"
                "load --table Sheets\n" + json.dumps(records, ensure_ascii=False) + "\n")
        res = _responses(_groonga(self.db, cmds, create=True))
        _check(res, "index")
        loaded = res[-1][1]
        if loaded != len(sheets):
            raise RuntimeError(f"groonga loaded {loaded} of {len(sheets)} sheets")

    def search(self, query, limit=10):
        """Return (total hits, [sheet ids best first])."""
        if not query.split():
            return 0, []
        params = {
            "table": "Sheets",
            "match_columns": f"title * {TITLE_WEIGHT} || body",
            "query": quote_query(query),
            "output_columns": "_key,_score",
            "sort_keys": "-_score,_id",
            "limit": str(limit),
        }
        plugin = "plugin_register tokenizers/mecab\n" if self.tokenizer == "TokenMecab" else ""
        cmd = plugin + "/d/select?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote) + "\n"
        res = _responses(_groonga(self.db, cmd))
        _check(res, f"select {query!r}")
        body = res[-1][1][0]
        total = body[0][0]
        ids = [row[0] for row in body[2:]]
        return total, ids
