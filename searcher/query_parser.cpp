#include "searcher/query_parser.h"

#include <fstream>
#include <regex>

#include "core/budget.h"
#include "core/error.h"
#include "core/schema.h"
#include "core/terms.h"
#include "core/text.h"

namespace yosan {

// ---------------------------------------------------------------------------------------------------
// Synonyms

Synonyms Synonyms::load(const std::string& path, const Analyzer& analyzer) {
    Synonyms s;
    if (path.empty()) return s;
    std::ifstream in(path);
    if (!in) throw ConfigError("同義語辞書を開けません", path);
    std::string line;
    while (std::getline(in, line)) {
        std::string_view t = trim(line);
        if (t.empty() || t.front() == '#') continue;
        std::vector<std::string> group;
        std::size_t start = 0;
        for (std::size_t i = 0; i <= t.size(); ++i)
            if (i == t.size() || t[i] == '\t') {
                std::string w(trim(t.substr(start, i - start)));
                if (!w.empty()) group.push_back(analyzer.normalize(w));
                start = i + 1;
            }
        if (group.size() < 2) continue;
        for (const std::string& w : group) s.group_of_[w] = s.groups_.size();
        s.groups_.push_back(std::move(group));
    }
    return s;
}

std::vector<std::string> Synonyms::alternatives(const std::string& w) const {
    std::vector<std::string> out;
    if (auto it = group_of_.find(w); it != group_of_.end())
        for (const std::string& x : groups_[it->second])
            if (x != w) out.push_back(x);
    return out;
}

// ---------------------------------------------------------------------------------------------------
// Budget words

bool recognise_filter_word(const std::string& raw, Filters& out, std::vector<RecognisedFilter>& rec) {
    const std::string w = nfkc(raw);
    std::smatch m;
    // Amount ranges: 10億円以上, 100億円未満, 5億以下, 1000億超, 10億〜100億円.
    static const std::regex bound_re(R"(^(.+?)(以上|超|以下|未満)$)");
    if (std::regex_match(w, m, bound_re)) {
        if (auto yen = parse_yen(m[1].str())) {
            const std::string op = m[2].str();
            if (op == "以上" || op == "超") {
                out.amount_min = op == "以上" ? *yen : *yen + 1;
                rec.push_back({"amount_min", std::to_string(*out.amount_min), raw});
            } else {
                out.amount_max = op == "未満" ? *yen : *yen + 1;
                rec.push_back({"amount_max", std::to_string(*out.amount_max), raw});
            }
            return true;
        }
    }
    static const std::regex range_re(R"(^(.+?)[〜~-](.+)$)");
    if (std::regex_match(w, m, range_re)) {
        std::string lo = m[1].str(), hi = m[2].str();
        if (!lo.ends_with("円") && hi.ends_with("円")) lo += "円";
        auto a = parse_yen(lo), b = parse_yen(hi);
        if (a && b && *a < *b) {
            out.amount_min = *a, out.amount_max = *b + 1;
            rec.push_back({"amount_min", std::to_string(*a), raw});
            rec.push_back({"amount_max", std::to_string(*b + 1), raw});
            return true;
        }
    }
    // Fiscal year, optionally with a kind: 令和6年度補正, 令和6年度, FY2025, 2025年度, R7.
    static const std::regex year_re(R"(^((?:令和|平成)(?:[0-9]+|元)年度?|[0-9]{4}年度|FY[0-9]{4}|fy[0-9]{4}|R[0-9]{1,2})(当初|補正|予備費|概算要求)?(予算)?$)");
    if (std::regex_match(w, m, year_re)) {
        if (auto y = parse_fiscal_year(m[1].str())) {
            out.add("year", std::to_string(*y));
            rec.push_back({"year", std::to_string(*y), raw});
            if (m[2].matched) {
                const std::string kind = *parse_kind(m[2].str());
                out.add("kind", kind);
                rec.push_back({"kind", kind, raw});
            }
            return true;
        }
    }
    // A kind alone: 補正, 補正予算, 当初予算, 予備費, 概算要求.
    static const std::regex kind_re(R"(^(当初|補正|予備費|概算要求)(予算)?$)");
    if (std::regex_match(w, m, kind_re)) {
        const std::string kind = *parse_kind(m[1].str());
        out.add("kind", kind);
        rec.push_back({"kind", kind, raw});
        return true;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------------
// Query text

namespace {

struct Item {
    std::string text;
    bool quoted = false, negated = false, is_or = false;
    std::string field;  // "", "title", "bureau"
};

bool is_space_at(const std::string& s, std::size_t i) { return s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'; }

std::vector<Item> lex(const std::string& s) {
    std::vector<Item> items;
    std::size_t i = 0;
    while (i < s.size()) {
        if (is_space_at(s, i)) {
            ++i;
            continue;
        }
        Item it;
        if (s[i] == '-' && i + 1 < s.size() && !is_space_at(s, i + 1)) it.negated = true, ++i;
        for (const char* f : {"title:", "bureau:"}) {
            const std::size_t n = std::string_view(f).size();
            if (s.compare(i, n, f) == 0) it.field = std::string(f, n - 1), i += n;
        }
        if (i < s.size() && s[i] == '"') {
            std::size_t close = s.find('"', i + 1);
            if (close == std::string::npos) close = s.size();  // an unbalanced quote runs to the end
            it.text = s.substr(i + 1, close - i - 1);
            it.quoted = true;
            i = std::min(close + 1, s.size());
        } else {
            std::size_t end = i;
            while (end < s.size() && !is_space_at(s, end)) ++end;
            it.text = s.substr(i, end - i);
            i = end;
        }
        if (!it.quoted && !it.negated && it.field.empty() && it.text == "OR") it.is_or = true;
        if (!it.text.empty() || it.is_or) items.push_back(std::move(it));
    }
    return items;
}

// Splits a katakana reading into readings the index holds (fewest pieces), for hiragana queries.
std::optional<std::vector<std::string>> segment_reading(const std::string& kata, const Xapian::Database& db) {
    std::vector<std::string> chars;
    for (std::size_t i = 0; i < kata.size();) {
        std::size_t at = i;
        next_code_point(kata, i);
        chars.emplace_back(kata.substr(at, i - at));
    }
    const std::size_t n = chars.size();
    std::vector<int> best(n + 1, 1 << 20), from(n + 1, -1);
    best[0] = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (best[i] >= (1 << 20)) continue;
        std::string piece;
        for (std::size_t j = i; j < n && j - i < 16; ++j) {
            piece += chars[j];
            if (best[i] + 1 < best[j + 1] && db.term_exists(std::string(schema::kReading) + piece))
                best[j + 1] = best[i] + 1, from[j + 1] = static_cast<int>(i);
        }
    }
    if (from[n] < 0) return std::nullopt;
    std::vector<std::string> pieces;
    for (std::size_t at = n; at > 0; at = static_cast<std::size_t>(from[at])) {
        std::string piece;
        for (std::size_t k = static_cast<std::size_t>(from[at]); k < at; ++k) piece += chars[k];
        pieces.insert(pieces.begin(), std::string(schema::kReading) + piece);
    }
    return pieces;
}

Xapian::Query phrase_of(const std::vector<std::string>& terms, Xapian::termcount window) {
    if (terms.size() == 1) return Xapian::Query(terms.front());
    return Xapian::Query(Xapian::Query::OP_PHRASE, terms.begin(), terms.end(), window);
}

}  // namespace

std::optional<Xapian::Query> QueryParser::text_query(const std::string& text, bool title_only,
                                                     const Xapian::Database& db,
                                                     std::vector<HighlightPattern>& highlight,
                                                     std::vector<std::string>& proximity_terms) const {
    const auto analysed = [&](const std::string& t) -> std::optional<Xapian::Query> {
        std::vector<Xapian::Query> positions;
        HighlightPattern pattern;
        Xapian::termpos first = 0, last = 0;
        const std::string_view prefix = title_only ? schema::kTitle : std::string_view();
        for (const Token& tok : analyzer_.analyze(t, 0, Analyzer::Mode::query)) {
            const std::vector<std::string> forms = terms::word_forms(prefix, tok);
            if (forms.empty()) continue;
            if (positions.empty()) first = tok.position;
            last = tok.position;
            positions.push_back(forms.size() == 1 ? Xapian::Query(forms.front())
                                                  : Xapian::Query(Xapian::Query::OP_OR, forms.begin(), forms.end()));
            pattern.terms.push_back(tok.term);
            pattern.surfaces.push_back(tok.surface);
        }
        if (positions.empty()) return std::nullopt;
        highlight.push_back(std::move(pattern));
        if (positions.size() == 1) return positions.front();
        return Xapian::Query(Xapian::Query::OP_PHRASE, positions.begin(), positions.end(), last - first + 1);
    };
    // One word in all its forms: the analysed word, a part of a kanji compound (電池 in 蓄電池, ranked well
    // below whole words), and for hiragana the reading of a kanji word (はんどうたい → 半導体).
    const auto word_query = [&](const std::string& word) -> std::optional<Xapian::Query> {
        std::optional<Xapian::Query> whole = analysed(word);
        if (!whole || title_only) return whole;
        std::vector<Xapian::Query> forms{*whole};
        const std::string norm = analyzer_.normalize(word);
        if (config_.compound_part_weight > 0 && all_of_script(norm, is_kanji) && utf8_length(norm) >= 2) {
            const std::vector<std::string> grams = terms::gram_terms(norm);
            highlight.push_back({{}, {}, norm});
            forms.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, phrase_of(grams, grams.size()), config_.compound_part_weight);
        }
        if (all_of_script(norm, is_hiragana) && utf8_length(norm) >= 2) {
            if (auto pieces = segment_reading(hiragana_to_katakana(norm), db)) {
                highlight.push_back({*pieces, {}, {}});
                forms.push_back(phrase_of(*pieces, pieces->size()));
            }
        }
        return forms.size() == 1 ? forms.front() : Xapian::Query(Xapian::Query::OP_OR, forms.begin(), forms.end());
    };

    std::optional<Xapian::Query> main = word_query(text);
    if (!main) return std::nullopt;
    proximity_terms = highlight.front().terms;
    // Synonyms from dict/synonyms.tsv, each in all its forms too, so that either side of a pair finds the
    // same sheets.
    std::vector<Xapian::Query> words{*main};
    for (const std::string& alt : synonyms_.alternatives(analyzer_.normalize(text)))
        if (auto q = word_query(alt)) words.push_back(*q);
    return words.size() == 1 ? words.front() : Xapian::Query(Xapian::Query::OP_OR, words.begin(), words.end());
}

ParsedQuery QueryParser::parse(const std::string& raw, const Xapian::Database& db) const {
    if (raw.size() > kMaxQueryBytes)
        throw UsageError("検索語が長すぎます（" + std::to_string(kMaxQueryBytes) + " バイトまで）", "q");
    if (first_invalid_utf8(raw) != std::string::npos) throw UsageError("検索語が UTF-8 ではありません", "q");
    // NFKC turns full-width spaces, quotes and letters into the ASCII the lexer expects.
    std::string text = nfkc(raw);
    for (const char* q : {"“", "”", "「", "」"}) replace_all(text, q, "\"");
    const std::vector<Item> items = lex(text);
    if (items.size() > kMaxItems) throw UsageError("検索語が多すぎます（" + std::to_string(kMaxItems) + " 語まで）", "q");

    ParsedQuery out;
    std::vector<Xapian::Query> must, must_not;
    std::vector<std::string> near_terms;  // the terms of each positive word, for the nearness bonus
    std::size_t near_words = 0;
    bool pending_or = false;
    for (const Item& it : items) {
        if (it.is_or) {
            pending_or = !must.empty();
            continue;
        }
        if (it.field == "bureau") {
            out.filters.add_typed(*find_facet("bureau"), it.text, FacetContext{config_, bureaus_});
            out.recognised.push_back({"bureau", bureaus_.canonical(it.text), it.text});
            continue;
        }
        if (!it.quoted && it.field.empty() && !it.negated && recognise_filter_word(it.text, out.filters, out.recognised))
            continue;
        std::vector<HighlightPattern> highlight;
        std::vector<std::string> own_terms;
        auto q = text_query(it.text, it.field == "title", db, highlight, own_terms);
        if (!q) continue;
        if (it.negated) {
            must_not.push_back(*q);
        } else {
            out.highlight.insert(out.highlight.end(), highlight.begin(), highlight.end());
            if (it.field.empty() && !pending_or) {
                near_terms.insert(near_terms.end(), own_terms.begin(), own_terms.end());
                ++near_words;
            }
            if (pending_or) must.back() = Xapian::Query(Xapian::Query::OP_OR, must.back(), *q);
            else must.push_back(*q);
        }
        pending_or = false;
    }
    // A query of words ANDs them; the ones that are not in any sheet make the result empty, as staff expect.
    out.has_text = !must.empty() || !must_not.empty();
    // Query(std::string()) and not Query::MatchAll: copying that static object changes its reference count
    // without synchronisation, so concurrent requests (the server's threads) could corrupt it (Xapian's
    // query.h says so; ThreadSanitizer showed it).
    Xapian::Query q = must.empty() ? Xapian::Query(std::string()) : Xapian::Query(Xapian::Query::OP_AND, must.begin(), must.end());
    // Sheets where the words stand close together rank above sheets where they are far apart: an optional
    // NEAR of all the words' terms adds weight without changing what matches.
    if (near_words >= 2 && config_.proximity_weight > 0 && near_terms.size() <= 16) {
        const Xapian::termcount window = static_cast<Xapian::termcount>(near_terms.size()) + config_.proximity_window;
        Xapian::Query near(Xapian::Query::OP_NEAR, near_terms.begin(), near_terms.end(), window);
        q = Xapian::Query(Xapian::Query::OP_AND_MAYBE, q, Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, near, config_.proximity_weight));
    }
    if (!must_not.empty()) q = Xapian::Query(Xapian::Query::OP_AND_NOT, q, Xapian::Query(Xapian::Query::OP_OR, must_not.begin(), must_not.end()));
    out.query = q;
    return out;
}

}  // namespace yosan
