"""SQLite FTS5 baseline with the trigram tokenizer, ranked by bm25() with the title weighted.

  CREATE VIRTUAL TABLE t USING fts5(title, body, id UNINDEXED, tokenize='trigram')
  SELECT id FROM t WHERE t MATCH :q ORDER BY bm25(t, 5.0, 1.0) LIMIT 10

Python's sqlite3 module is used (its SQLite must have FTS5; checked at start).  The trigram tokenizer
folds ASCII case only: it has no NFKC step, so full-width ＪＥＴＲＯ does not match JETRO.  Each
space-separated word of the raw query becomes an FTS5 string ("..."), so the words are ANDed and
punctuation is text, not syntax.  A word of fewer than 3 characters cannot match anything with
trigrams (FTS5 documents this): such a query returns nothing, and the harness says so.  There is
deliberately no LIKE fallback: it is not how the engine searches.
"""
import sqlite3

from fts5 import TITLE_WEIGHT, Fts5Search




def short_words(query):
    return [w for w in query.split() if len(w) < 3]


class SqliteTrigramEngine(Fts5Search):
    def __init__(self, name="sqlite-trigram"):
        self.name = name
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE t USING fts5(title, body, id UNINDEXED, tokenize='trigram')")
        self.description = (f"SQLite {sqlite3.sqlite_version} FTS5 trigram; "
                            f"bm25(t, {TITLE_WEIGHT}, 1.0); no NFKC")

    def index(self, sheets):
        self.db.executemany("INSERT INTO t(title, body, id) VALUES (?, ?, ?)",
                            [(s.title, s.body, s.id) for s in sheets])
        self.db.commit()

    @staticmethod
    def match_expr(query):
        return " ".join('"' + w.replace('"', '""') + '"' for w in query.split())


    def note(self, query):
        sw = short_words(query)
        if sw:
            return "trigram cannot match words under 3 characters: " + ", ".join(sw)
        return ""
