"""What the SQLite FTS5 baselines share: a table t(id, title, body) searched with MATCH and ranked by bm25()
with the title weighted like yosan's (5 to 1)."""

TITLE_WEIGHT = 5.0


class Fts5Search:
    """Mixin: needs self.db (a sqlite3 connection with table t) and self.match_expr(query)."""

    def search(self, query, limit=10):
        expr = self.match_expr(query)
        if not expr:
            return 0, []
        total = self.db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expr,)).fetchone()[0]
        rows = self.db.execute(
            f"SELECT id FROM t WHERE t MATCH ? ORDER BY bm25(t, {TITLE_WEIGHT}, 1.0) LIMIT ?",
            (expr, limit)).fetchall()
        return total, [r[0] for r in rows]
