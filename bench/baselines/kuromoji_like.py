"""An Elasticsearch-kuromoji-like baseline: MeCab + IPADIC morphemes, SQLite FTS5, bm25().

What a team would get from Elasticsearch's `kuromoji` analyzer (Lucene's JapaneseAnalyzer), rebuilt
from Debian packages only (mecab-utils, mecab-ipadic-utf8, python3's sqlite3):

  1. MeCab with IPADIC (/var/lib/mecab/dic/ipadic-utf8; kuromoji ships IPADIC too) splits the text;
     morphemes made only of punctuation are discarded (the tokenizer's discard_punctuation, default
     true).  Kuromoji's default "search" mode also splits long compounds; MeCab has only the normal mode.
  2. Each morpheme is replaced by its base form (JapaneseBaseFormFilter: 進め -> 進める).
  3. Morphemes whose part of speech is in kuromoji's default stoptags are dropped
     (JapanesePartOfSpeechStopFilter): 助詞 (every sub-tag), 助動詞, 接続詞, 記号 except
     記号-アルファベット, その他-間投, フィラー, 非言語音.
  4. Full-width ASCII is folded to half width and half-width katakana to full width (CJKWidthFilter).
  5. Lucene's Japanese stopword list (stopwords.txt of the kuromoji module, below) is applied to the
     base forms (する, いる, ある, なる, こと, ため, ...).
  6. A katakana word of 4 or more characters loses one trailing ー (JapaneseKatakanaStemFilter:
     サプライヤー -> サプライヤ), then lower case.

The remaining tokens are stored space-joined in an FTS5 table (`tokenize='unicode61 remove_diacritics 0'`
splits them on the spaces again), with the title weighted as in the other baselines:

  CREATE VIRTUAL TABLE t USING fts5(title, body, id UNINDEXED, tokenize='unicode61 remove_diacritics 0')
  SELECT id FROM t WHERE t MATCH '"tok1" OR "tok2" ...' ORDER BY bm25(t, 5.0, 1.0) LIMIT 10

A query goes through the same analysis and becomes an OR of its distinct tokens, as an Elasticsearch
`match` query does by default (operator OR).  It knows nothing of budget words (令和7年度補正,
1000億円以上): they are searched as words like any other.

The corpus is analysed with one `mecab` process over all the text (or the `MeCab` Python module when
python3-mecab happens to be installed: the same library and dictionary, so the same tokens).
"""
import os
import shutil
import sqlite3
import subprocess
import unicodedata

from fts5 import TITLE_WEIGHT, Fts5Search

IPADIC = "/var/lib/mecab/dic/ipadic-utf8"

# kuromoji's default stoptags: whole first-level tags, and the few exact tags
STOP_POS1 = {"助詞", "助動詞", "接続詞", "フィラー", "非言語音"}
STOP_POS = {"その他-間投"}
KEEP_POS = {"記号-アルファベット"}          # commented out in stoptags.txt: kept
STOP_POS1_EXCEPT = {"記号"}                  # every 記号 sub-tag is a stoptag except the one above

# Lucene's lucene/analysis/kuromoji/.../ja/stopwords.txt (the default ja_stop list)
JA_STOPWORDS = set("""
の に は を た が で て と し れ さ ある いる も する から な こと として い や れる など なっ ない この ため
その あっ よう また もの という あり まで られ なる へ か だ これ によって により おり より による ず なり
られる において ば なかっ なく しかし について せ だっ その後 できる それ う ので なお のみ でき き つ
における および いう さらに でも ら たり その他 に関する たち ます ん なら に対して 特に せる 及び これら
とき では にて ほか ながら うち そして とともに ただし かつて それぞれ または お ほど ものの に対する
ほとんど と共に といった です とも ところ ここ
""".split())


def cjk_width(s):
    """CJKWidthFilter: full-width ASCII variants to ASCII, half-width katakana to full width."""
    out = []
    for c in s:
        o = ord(c)
        if 0xFF01 <= o <= 0xFF5E:
            out.append(chr(o - 0xFEE0))
        elif 0xFF65 <= o <= 0xFF9F:
            out.append(unicodedata.normalize("NFKC", c))
        else:
            out.append(c)
    return "".join(out)


PUNCT_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf", "Pd", "Ps", "Pe", "Pc", "Po", "Sm", "Sc", "Sk", "So", "Pi", "Pf"}


def is_punctuation(s):
    """The tokenizer's discardPunctuation (default true): a token made only of punctuation is dropped."""
    return all(unicodedata.category(c) in PUNCT_CATEGORIES for c in s)


def is_katakana(s):
    return all(0x30A0 <= ord(c) <= 0x30FF for c in s)


def katakana_stem(s):
    if len(s) >= 4 and is_katakana(s) and s.endswith("ー"):
        return s[:-1]
    return s


def keep_pos(features):
    pos = [p for p in features[:4] if p and p != "*"]
    full = "-".join(pos)
    if full in KEEP_POS:
        return True
    if pos and (pos[0] in STOP_POS1 or pos[0] in STOP_POS1_EXCEPT):
        return False
    return full not in STOP_POS


def tokens_of(mecab_lines):
    """Content-word tokens from MeCab's default output (surface TAB pos,pos,pos,pos,cform,ctype,base,...)."""
    toks = []
    for line in mecab_lines:
        if not line or line == "EOS" or "\t" not in line:
            continue
        surface, feat = line.split("\t", 1)
        f = feat.split(",")
        if is_punctuation(surface) or not keep_pos(f):
            continue
        base = f[6] if len(f) > 6 and f[6] != "*" else surface
        t = cjk_width(base)
        if not t.strip() or t in JA_STOPWORDS:
            continue
        toks.append(katakana_stem(t).lower())
    return toks


class Analyzer:
    def __init__(self, dic=IPADIC):
        if not os.path.exists(os.path.join(dic, "sys.dic")):
            raise RuntimeError(f"IPADIC not found in {dic} (Debian package mecab-ipadic-utf8)")
        self.dic = dic
        self.tagger = None
        try:
            import MeCab  # python3-mecab, if installed
            self.tagger = MeCab.Tagger(f"-d {dic}")
            self.how = "MeCab module"
        except ImportError:
            if not shutil.which("mecab"):
                raise RuntimeError("neither the MeCab Python module nor the mecab command (Debian package mecab-utils)")
            self.how = "mecab command"

    def analyse_lines(self, lines):
        """One token list per input line (lines must not contain newlines)."""
        lines = [l.replace("\r", " ") for l in lines]
        if self.tagger is not None:
            return [tokens_of(self.tagger.parse(l).splitlines()) if l.strip() else [] for l in lines]
        idx = [i for i, l in enumerate(lines) if l.strip()]
        text = "".join(lines[i] + "\n" for i in idx)
        out = subprocess.run(["mecab", "-d", self.dic, "-b", str(1 << 22)], input=text,
                             capture_output=True, text=True, check=True).stdout
        per, cur = [], []
        for line in out.split("\n"):
            if line == "EOS":
                per.append(cur)
                cur = []
            elif line:
                cur.append(line)
        if len(per) != len(idx):
            raise RuntimeError(f"mecab returned {len(per)} sentences for {len(idx)} lines")
        res = [[] for _ in lines]
        for i, ml in zip(idx, per):
            res[i] = tokens_of(ml)
        return res

    def analyse(self, text):
        return [t for toks in self.analyse_lines(text.split("\n")) for t in toks]


class KuromojiLikeEngine(Fts5Search):
    def __init__(self, name="kuromoji-like"):
        self.name = name
        self.analyzer = Analyzer()
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE t USING fts5(title, body, id UNINDEXED, "
                        "tokenize='unicode61 remove_diacritics 0')")
        self.description = (f"MeCab + IPADIC ({self.analyzer.how}), base forms, kuromoji stoptags + ja stopwords; "
                            f"SQLite {sqlite3.sqlite_version} FTS5 unicode61 on the tokens; OR of the query's "
                            f"tokens; bm25(t, {TITLE_WEIGHT}, 1.0)")
        self.terms = {}

    def index(self, sheets):
        lines, owner = [], []
        for i, s in enumerate(sheets):
            for field, text in (("title", s.title), ("body", s.body)):
                for l in text.split("\n"):
                    lines.append(l)
                    owner.append((i, field))
        toks = self.analyzer.analyse_lines(lines)
        docs = [{"title": [], "body": []} for _ in sheets]
        for (i, field), tl in zip(owner, toks):
            docs[i][field].extend(tl)
        self.db.executemany("INSERT INTO t(title, body, id) VALUES (?, ?, ?)",
                            [(" ".join(d["title"]), " ".join(d["body"]), s.id) for d, s in zip(docs, sheets)])
        self.db.commit()

    def match_expr(self, query):
        seen = []
        for t in self.analyzer.analyse(query):
            if t not in seen:
                seen.append(t)
        self.terms[query] = seen
        return " OR ".join('"' + t.replace('"', '""') + '"' for t in seen)


    def note(self, query):
        terms = self.terms.get(query)
        return ("terms: " + " ".join(terms)) if terms else "no content words"
