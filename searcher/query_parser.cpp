#include "searcher/query_parser.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <utility>
#include <regex>
#include <set>

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

namespace {

// Subsidy rates: 補助率2/3以上, or 2/3以上 alone (a fraction before 以上 is never an amount) → every rate
// value from that share up, 定額 counting as 10/10.
bool recognise_rate_word(std::string_view w, const std::string& raw, Filters& out, std::vector<RecognisedFilter>& rec) {
    constexpr std::string_view kRate = "補助率", kAtLeast = "以上";
    if (w.starts_with(kRate)) w.remove_prefix(kRate.size());
    if (!w.ends_with(kAtLeast)) return false;
    const std::string_view rate = w.substr(0, w.size() - kAtLeast.size());
    const std::optional<double> share = rate_share(rate);
    if (!share) return false;
    for (std::string& v : rates_at_least(*share)) out.add("rate", std::move(v));
    rec.push_back({"rate", std::string(rate) + "以上", raw});
    return true;
}

bool has_amount_unit(std::string_view s) {
    for (const char* unit : {"円", "億", "万", "千", "兆", "百"})
        if (s.find(unit) != std::string_view::npos) return true;
    return false;
}

// The fiscal years of a span such as 2024-2025, FY2024-2025, 令和6〜7年度 or 令和6年度〜令和7年度.
std::optional<std::vector<int>> year_span(const std::string& lo, std::string hi) {
    const std::optional<int> a = parse_fiscal_year(lo);
    if (!a) return std::nullopt;
    std::optional<int> b = parse_fiscal_year(hi);
    if (!b) {  // 令和6〜7年度: the era is written once
        for (const char* era : {"令和", "平成", "FY"})
            if (lo.starts_with(era)) b = parse_fiscal_year(era + hi);
    }
    if (!b || *b < *a || *b - *a > 20) return std::nullopt;
    std::vector<int> years;
    for (int y = *a; y <= *b; ++y) years.push_back(y);
    return years;
}

}  // namespace

bool recognise_filter_word(const std::string& raw, Filters& out, std::vector<RecognisedFilter>& rec) {
    std::string w = nfkc(raw);
    // Wave dashes (〜, and ～ which NFKC already made ~) and dashes all mean a range.
    for (const char* dash : {"〜", "～", "−", "–", "—"}) replace_all(w, dash, "~");
    if (w.empty() || w.size() > 64) return false;
    if (recognise_rate_word(w, raw, out, rec)) return true;
    // Amount bounds: 10億円以上, 100億円未満, 5億以下, 1000億超.
    for (const char* op : {"以上", "超", "以下", "未満"}) {
        if (!w.ends_with(op) || w.size() == std::string_view(op).size()) continue;
        const std::string amount = w.substr(0, w.size() - std::string_view(op).size());
        if (!has_amount_unit(amount)) continue;
        auto yen = parse_yen(amount);
        if (!yen || *yen < 0) continue;
        const std::string_view o = op;
        if (o == "以上" || o == "超") {
            out.amount_min = o == "以上" ? *yen : *yen + 1;
            rec.push_back({"amount_min", std::to_string(*out.amount_min), raw});
        } else {
            out.amount_max = o == "未満" ? *yen : *yen + 1;
            rec.push_back({"amount_max", std::to_string(*out.amount_max), raw});
        }
        return true;
    }
    // Ranges: 10億~100億円 (an amount: a unit on either side) or 2024-2025, 令和6~7年度 (fiscal years).
    if (const std::size_t sep = w.find_first_of("~-", 1); sep != std::string::npos && sep + 1 < w.size()) {
        std::string lo = w.substr(0, sep), hi = w.substr(sep + 1);
        if (has_amount_unit(lo) || has_amount_unit(hi)) {
            if (!lo.ends_with("円") && hi.ends_with("円")) lo += "円";
            if (!has_amount_unit(lo) || (lo.size() >= 3 && lo.ends_with("円") && !has_amount_unit(lo.substr(0, lo.size() - 3)))) {
                // 10~100億円: the unit is written once, at the end
                for (const char* unit : {"兆", "億", "百万", "千万", "万", "千"})
                    if (hi.find(unit) != std::string::npos) {
                        const std::string bare = lo.ends_with("円") ? lo.substr(0, lo.size() - 3) : lo;
                        lo = bare + unit + "円";
                        break;
                    }
            }
            auto a = parse_yen(lo), b = parse_yen(hi);
            if (a && b && *a >= 0 && *a < *b) {
                out.amount_min = *a, out.amount_max = *b + 1;
                rec.push_back({"amount_min", std::to_string(*a), raw});
                rec.push_back({"amount_max", std::to_string(*b + 1), raw});
                return true;
            }
        } else if (auto years = year_span(lo, hi)) {
            for (int y : *years) {
                out.add("year", std::to_string(y));
                rec.push_back({"year", std::to_string(y), raw});
            }
            return true;
        }
    }
    // Fiscal year, optionally with a kind: 令和6年度補正, 令和6年度, FY2025, 2025年度, R7.
    static const std::regex year_re(R"(^((?:令和|平成)(?:[0-9]+|元)年度?|[0-9]{4}年度|FY[0-9]{4}|fy[0-9]{4}|R[0-9]{1,2})(当初|補正|予備費|概算要求)?(予算)?$)");
    std::smatch m;
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

// Ways to split a katakana reading into readings the index holds, fewest pieces first (at most a few):
// チクデンチ → チクデン+チ (蓄電+池) and チク+デンチ; only the index can tell which is the word.
std::vector<std::vector<std::string>> segment_reading(const std::string& kata, const Xapian::Database& db) {
    std::vector<std::string> chars;
    for (std::size_t i = 0; i < kata.size();) {
        std::size_t at = i;
        next_code_point(kata, i);
        chars.emplace_back(kata.substr(at, i - at));
    }
    const std::size_t n = chars.size();
    if (n == 0 || n > 24) return {};
    // known[i][j]: the reading chars[i..j) is in the index's reading lexicon.
    std::vector<std::vector<bool>> known(n, std::vector<bool>(n + 1, false));
    for (std::size_t i = 0; i < n; ++i) {
        std::string piece;
        for (std::size_t j = i; j < n && j - i < 12; ++j) {
            piece += chars[j];
            const std::string prefix = terms::reading_prefix(piece);
            known[i][j + 1] = db.metadata_keys_begin(prefix) != db.metadata_keys_end(prefix);
        }
    }
    // Depth-first over the splits with the fewest pieces and one more (中小企業 is 中+小+企業 in most
    // sheets, 中小+企業 in a few), a bounded number of them.
    std::vector<std::vector<std::string>> out;
    std::vector<std::string> current;
    const std::size_t max_pieces = 6, max_results = 8;
    // reachable[i]: the rest from i can be split at all; the walk never enters a dead end.
    std::vector<bool> reachable(n + 1, false);
    reachable[n] = true;
    for (std::size_t i = n; i-- > 0;)
        for (std::size_t j = i + 1; j <= n && !reachable[i]; ++j) reachable[i] = known[i][j] && reachable[j];
    if (!reachable[0]) return {};
    std::function<void(std::size_t, std::size_t)> walk = [&](std::size_t at, std::size_t limit) {
        if (out.size() >= max_results) return;
        if (at == n) {
            out.push_back(current);
            return;
        }
        if (current.size() >= limit) return;
        for (std::size_t j = n; j > at; --j) {  // longer pieces first
            if (!known[at][j] || !reachable[j]) continue;
            std::string piece(schema::kReading);
            for (std::size_t k = at; k < j; ++k) piece += chars[k];
            current.push_back(std::move(piece));
            walk(j, limit);
            current.pop_back();
        }
    };
    std::size_t fewest = 1;
    while (fewest <= max_pieces && out.empty()) walk(0, fewest++);
    if (!out.empty() && fewest <= max_pieces) {
        out.clear();
        walk(0, fewest);  // up to one piece more than the fewest
    }
    return out;
}

bool is_ascii_alnum(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
}

// The byte length of the run of hiragana that starts s, when something other than hiragana follows it.
std::size_t leading_hiragana(const std::string& s) {
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t next = i;
        if (!is_hiragana(next_code_point(s, next))) break;
        i = next;
    }
    return i < s.size() ? i : 0;
}

Xapian::Query any_of(const std::vector<Xapian::Query>& qs) {
    return qs.size() == 1 ? qs.front() : Xapian::Query(Xapian::Query::OP_OR, qs.begin(), qs.end());
}

// Every part of a compound (電池 → XG電池; 半導体 → XG半導 AND XG導体: bigrams carry no positions, and
// overlapping bigrams rarely meet outside the compound).
Xapian::Query all_of(const std::vector<std::string>& terms) {
    if (terms.size() == 1) return Xapian::Query(terms.front());
    return Xapian::Query(Xapian::Query::OP_AND, terms.begin(), terms.end());
}

// The words the index reads as `piece` ("R" + folded reading): the reading lexicon names them (core/terms.h).
std::vector<std::string> words_read_as(const std::string& piece, const Xapian::Database& db) {
    const std::string prefix = terms::reading_prefix(std::string_view(piece).substr(schema::kReading.size()));
    std::vector<std::string> words;
    for (auto t = db.metadata_keys_begin(prefix); t != db.metadata_keys_end(prefix); ++t) words.push_back((*t).substr(prefix.size()));
    return words;
}

// A reading split into pieces (チクデン+チ) as a phrase of the words each piece reads as (蓄電 池); the words
// are added to `words`.
Xapian::Query reading_phrase(const std::vector<std::string>& pieces, const Xapian::Database& db, std::vector<std::string>& words) {
    std::vector<Xapian::Query> slots;
    for (const std::string& piece : pieces) {
        const std::vector<std::string> read = words_read_as(piece, db);
        slots.emplace_back(Xapian::Query::OP_OR, read.begin(), read.end());
        words.insert(words.end(), read.begin(), read.end());
    }
    if (slots.size() == 1) return slots.front();
    return Xapian::Query(Xapian::Query::OP_PHRASE, slots.begin(), slots.end(), slots.size());
}

// Verbs that only carry the sentence (支援する, 開発を進める, 導入に向けた): they say nothing about which
// sheets are meant. UniDic lemmas and their plain forms.
bool is_light_verb(const Token& t) {
    static const std::set<std::string, std::less<>> light = {
        "為る", "する", "関する", "進める", "行う", "図る", "向ける", "係る", "伴う", "対する", "有る", "ある",
        "居る", "いる", "成る", "なる", "出来る", "できる", "基づく", "通ずる", "通じる", "因る", "よる", "於く",
        "おく", "為す", "なす", "目指す", "用いる", "図れる", "持つ", "得る", "思う", "ほしい", "欲しい", "たい"};
    return light.contains(t.term) || light.contains(t.surface);
}

// What a token is in a sentence typed as a query.
enum class Role { content, optional, none };
Role role_of(const Token& t) {
    if (!t.indexed) return Role::none;
    const std::string_view pos = t.pos;
    const auto is = [&](std::string_view p) { return pos.starts_with(p); };
    if (is("代名詞") || is("連体詞") || is("接続詞") || is("感動詞")) return Role::none;
    if (is("動詞") || is("形容詞") || is("副詞")) return is_light_verb(t) ? Role::none : Role::optional;
    return Role::content;  // nouns, prefixes and suffixes, na-adjectives (安全), numbers, letters, unknown words
}

}  // namespace

std::optional<QueryParser::WordQuery> QueryParser::word_query(const std::string& text, bool title_only, bool phrase,
                                                              const Xapian::Database& db, Analyzer::Session& session,
                                                              std::vector<HighlightPattern>& highlight) const {
    const std::string_view prefix = title_only ? schema::kTitle : std::string_view();
    // The analysed words, each in all its forms (lemma and surface).
    struct Analysed {
        std::vector<Xapian::Query> words;             // one per word: any of its forms
        std::vector<std::vector<std::string>> forms;  // per word: lemma first, then the surface if different
        Xapian::termpos span = 0;
    };
    const auto analysed = [&](const std::string& t) {
        Analysed a;
        HighlightPattern pattern;
        Xapian::termpos first = 0, last = 0;
        for (const Token& tok : analyzer_.analyze(session, t, 0, Analyzer::Mode::query)) {
            std::vector<std::string> f = terms::word_forms(prefix, tok);
            if (f.empty()) continue;
            if (a.words.empty()) first = tok.position;
            last = tok.position;
            a.words.push_back(f.size() == 1 ? Xapian::Query(f.front()) : Xapian::Query(Xapian::Query::OP_OR, f.begin(), f.end()));
            a.forms.push_back(std::move(f));
            pattern.terms.push_back(tok.term);
            pattern.surfaces.push_back(tok.surface);
            if (!phrase) highlight.push_back({{tok.term}, {tok.surface}, {}, {}});
        }
        a.span = last - first + 1;
        if (!pattern.terms.empty() && (phrase || pattern.terms.size() > 1)) highlight.push_back(std::move(pattern));
        return a;
    };
    // Queries to be ORed, each once: a spelling and a synonym often come to the same query (強靱化 and
    // its synonym 強靭化 both give 強靭 near 化), and a copy would only add its weight again and its
    // positional check.
    struct Alternatives {
        std::vector<Xapian::Query> queries;
        std::set<std::string> seen;  // their descriptions
        void add(const Xapian::Query& q) {
            if (seen.insert(q.get_description()).second) queries.push_back(q);
        }
    };
    // One spelling of the word: strict (a phrase, or near each other), loose (anywhere), and the phrase.
    // The strict alternatives that need positions (a compound's words near each other, a reading's words
    // in a row) are kept apart from the single words, see unless_single_word().
    struct Forms {
        Alternatives single_words, positional, others, loose, phrases;
        std::vector<std::string> near_terms;
    } forms;
    // A positional alternative counts only for sheets that the word's single-word spellings do not
    // match. Those match already, and Xapian 1.4 is slow at an OR of a term and a positional check
    // inside an AND: サプライチェーン OR 供給 NEAR 網, ANDed with 強靱化, took 112 ms at 10^5 sheets
    // against 2 ms written this way (the NEAR is then only checked where the term is absent). A sheet
    // that writes both a word and its synonym's compound weighs as the word alone.
    const auto unless_single_word = [&](const Xapian::Query& positional) {
        if (forms.single_words.queries.empty()) return positional;
        return Xapian::Query(Xapian::Query::OP_AND_NOT, positional, any_of(forms.single_words.queries));
    };
    // Compounds (several words) by their lemmas. Spellings with the same lemmas are one compound written
    // differently (強靱化, 強靭化, 強じん化: 強靭 + 化), so they make one phrase whose words may stand in any
    // of their forms (Xapian 1.4's phrase and near operators take terms composed with OR): one positional
    // check per sheet instead of one per spelling and form. Different lemmas (サプライチェーン and its synonym
    // 供給網) stay apart, so that no word of one pairs with a word of the other.
    struct Compound {
        std::vector<std::string> lemmas;
        std::vector<std::vector<std::string>> forms;  // per word, lemma first, each form once
        Xapian::termpos span = 0;
    };
    std::vector<Compound> compounds;  // in the order met
    const auto add_spelling = [&](const std::string& t) {
        const Analysed a = analysed(t);
        if (a.words.empty()) return;
        if (forms.near_terms.empty())
            for (const auto& f : a.forms) forms.near_terms.push_back(f.front());
        if (a.words.size() == 1) {
            forms.single_words.add(a.words.front());
            forms.loose.add(a.words.front());
            return;
        }
        std::vector<std::string> lemmas;
        for (const auto& f : a.forms) lemmas.push_back(f.front());
        auto same = std::find_if(compounds.begin(), compounds.end(), [&](const Compound& c) { return c.lemmas == lemmas; });
        if (same == compounds.end()) {
            compounds.push_back({lemmas, a.forms, a.span});
        } else {
            for (std::size_t k = 0; k < a.forms.size(); ++k)
                for (const std::string& f : a.forms[k])
                    if (std::find(same->forms[k].begin(), same->forms[k].end(), f) == same->forms[k].end()) same->forms[k].push_back(f);
            same->span = std::max(same->span, a.span);
        }
        // Anywhere in the sheet, for the first relaxation (a phrase stays a phrase: add_compounds).
        if (!phrase) forms.loose.add(Xapian::Query(Xapian::Query::OP_AND, a.words.begin(), a.words.end()));
    };
    const auto add_compounds = [&] {
        for (const Compound& c : compounds) {
            const Xapian::Query whole = terms::positional(Xapian::Query::OP_PHRASE, prefix, c.forms, c.span);
            forms.phrases.add(whole);
            if (phrase) {
                forms.positional.add(whole);
                forms.loose.add(whole);
            } else {
                // A compound typed as one word (国内製造基盤) also matches its words standing a little apart
                // (国内の製造基盤); only the phrase ranks it first.
                forms.positional.add(terms::positional(Xapian::Query::OP_NEAR, prefix, c.forms, c.span + 3));
            }
        }
    };
    const auto add_other_forms = [&](const std::string& t) {
        add_spelling(t);
        if (title_only || phrase) return;
        const std::string norm = analyzer_.normalize(t);
        // A part of a kanji compound: 電池 in 蓄電池, ranked well below whole words.
        if (config_.compound_part_weight > 0 && all_of_script(norm, is_kanji) && utf8_length(norm) >= 2) {
            highlight.push_back({{}, {}, norm, {}});
            const Xapian::Query part(Xapian::Query::OP_SCALE_WEIGHT, all_of(terms::gram_terms(norm)), config_.compound_part_weight);
            forms.others.add(part);
            forms.loose.add(part);
        }
        // Kana: the reading of a kanji word (ちくでんち, チクデンチ → 蓄電池), and for hiragana the katakana
        // word itself (ろぼっと → ロボット).
        const bool hiragana = all_of_script(norm, is_hiragana), katakana = all_of_script(norm, is_katakana);
        if ((hiragana || katakana) && utf8_length(norm) >= 2) {
            const std::string kata = hiragana ? hiragana_to_katakana(norm) : norm;
            for (const std::vector<std::string>& pieces : segment_reading(terms::fold_reading(kata), db)) {
                std::vector<std::string> words;
                const Xapian::Query read = reading_phrase(pieces, db, words);
                highlight.push_back({pieces, {}, {}, std::move(words)});
                (pieces.size() > 1 ? forms.positional : forms.single_words).add(read);
                forms.loose.add(read);
            }
            if (hiragana) add_spelling(kata);
        }
    };
    add_other_forms(text);
    if (forms.single_words.queries.empty() && forms.others.queries.empty() && forms.positional.queries.empty() &&
        compounds.empty())
        return std::nullopt;
    // Synonyms from dict/synonyms.tsv, each in all its forms too, so either side of a pair finds the same.
    const std::string norm = analyzer_.normalize(text);
    std::vector<std::string> alternatives = synonyms_.alternatives(norm);
    if (all_of_script(norm, is_hiragana))  // ろぼっと stands for ロボット, and so for its synonyms too
        for (std::string& alt : synonyms_.alternatives(hiragana_to_katakana(norm))) alternatives.push_back(std::move(alt));
    for (const std::string& alt : alternatives) add_other_forms(alt);
    add_compounds();
    std::vector<Xapian::Query> strict = forms.single_words.queries;
    strict.insert(strict.end(), forms.others.queries.begin(), forms.others.queries.end());
    if (!forms.positional.queries.empty()) strict.push_back(unless_single_word(any_of(forms.positional.queries)));
    WordQuery out{any_of(strict), any_of(forms.loose.queries), std::nullopt, forms.near_terms};
    if (!forms.phrases.queries.empty()) out.phrase = any_of(forms.phrases.queries);
    return out;
}

ParsedQuery QueryParser::parse(const std::string& raw, const Xapian::Database& db) const {
    Analyzer::Session session(analyzer_);
    return parse(raw, db, session);
}

ParsedQuery QueryParser::parse(const std::string& raw, const Xapian::Database& db, Analyzer::Session& session) const {
    if (raw.size() > kMaxQueryBytes)
        throw UsageError("検索語が長すぎます（" + std::to_string(kMaxQueryBytes) + " バイトまで）", "q");
    if (first_invalid_utf8(raw) != std::string::npos) throw UsageError("検索語が UTF-8 ではありません", "q");
    // NFKC turns full-width spaces, quotes and letters into the ASCII the lexer expects.
    std::string text = nfkc(raw);
    for (const char* q : {"“", "”", "「", "」"}) replace_all(text, q, "\"");
    const std::vector<Item> items = lex(text);
    if (items.size() > kMaxItems) throw UsageError("検索語が多すぎます（" + std::to_string(kMaxItems) + " 語まで）", "q");

    ParsedQuery out;
    std::vector<std::string> near;  // the terms of the content words, for the nearness bonus
    bool pending_or = false;
    // Returns the index of the requirement it became part of.
    const auto add_requirement = [&](Requirement r) -> std::size_t {
        if (pending_or && !out.required.empty()) {
            Requirement& prev = out.required.back();
            prev.text += " OR " + r.text;
            prev.query = Xapian::Query(Xapian::Query::OP_OR, prev.query, r.query);
            prev.loose = Xapian::Query(Xapian::Query::OP_OR, prev.loose, r.loose);
            prev.strict = true;
        } else {
            out.required.push_back(std::move(r));
        }
        return out.required.size() - 1;
    };
    const auto add_bonus = [&](const Xapian::Query& q, std::optional<std::size_t> within = std::nullopt) {
        out.bonus.push_back(q);
        out.bonus_within.push_back(within);
    };
    std::size_t words = 0;  // HighlightPattern::word
    const auto add_highlight = [&](std::vector<HighlightPattern>& highlight) {
        for (HighlightPattern& p : highlight) p.word = words;
        out.highlight.insert(out.highlight.end(), highlight.begin(), highlight.end());
        ++words;
    };
    const auto add_word = [&](const std::string& text, bool required, bool strict = false) {
        std::vector<HighlightPattern> highlight;
        auto q = word_query(text, false, false, db, session, highlight);
        if (!q) return;
        add_highlight(highlight);
        if (!required) {
            if (q->phrase) add_bonus(*q->phrase);
            add_bonus(q->loose);  // a verb such as 減らす: ranks, never required
            return;
        }
        // The phrase lies within the word's strict query (its compound's words near each other, or a single
        // word it leaves out); an OR keeps it within, since the requirement only grows.
        const std::size_t requirement = add_requirement({text, q->strict, q->loose, strict});
        if (q->phrase) add_bonus(*q->phrase, requirement);
        pending_or = false;
        near.insert(near.end(), q->near_terms.begin(), q->near_terms.end());
    };
    const auto add_kana_word = [&](const std::string& text) { add_word(text, true); };
    // A word or a sentence as people type it: 医療機器の開発を支援する補助金. Particles split it into
    // chunks (医療機器, 開発, 支援する補助金); a chunk may be a budget word (令和6年度補正の…); the rest
    // splits into content words (医療, 機器, 開発, 支援, 補助金: a prefix or suffix stays with its word),
    // each required, and other words (verbs such as 減らす), which only rank. A compound as typed
    // (医療機器) ranks higher as a phrase, but its words are required one by one, so that relaxation can
    // drop one (半導体関係 → 半導体).
    const auto add_sentence = [&](const std::string& sentence) {
        if (!synonyms_.alternatives(analyzer_.normalize(sentence)).empty()) return add_word(sentence, true);  // a name
        const std::vector<Token> tokens = analyzer_.analyze(session, sentence, 0, Analyzer::Mode::query);
        // A negation (存在しない, 使わない) changes what its clause means: the words of that chunk are never
        // dropped by relaxation.
        const auto is_negation = [](const Token& t) {
            return (t.pos.starts_with("助動詞") || t.pos.starts_with("形容詞")) &&
                   (t.term == "ない" || t.term == "無い" || t.term == "ず" || t.term == "ぬ");
        };
        struct Group {
            std::size_t begin, end;
            bool content;
            std::vector<std::size_t> cuts;  // where a new word of the compound starts
            bool negated = false;           // its chunk holds a negation
            int tokens = 1;
        };
        std::vector<Group> groups, chunk;
        std::size_t chunk_begin = 0;
        bool chunk_negated = false;
        const auto flush_chunk = [&](std::size_t chunk_end) {
            const bool negated = std::exchange(chunk_negated, false);
            if (chunk.empty()) return;
            for (Group& g : chunk) g.negated = negated;
            const std::string chunk_text = sentence.substr(chunk_begin, chunk_end - chunk_begin);
            if (chunk.size() > 1 && recognise_filter_word(std::string(trim(chunk_text)), out.filters, out.recognised)) {
                chunk.clear();
                return;
            }
            // A budget word of several tokens inside a sentence (令和6年度補正, 10億円以上) is a filter; a lone
            // 当初 or 補正 in a sentence (当初の目標を達成) is a word of it.
            for (const Group& g : chunk)
                if (!(g.content && g.tokens > 1 &&
                      recognise_filter_word(sentence.substr(g.begin, g.end - g.begin), out.filters, out.recognised)))
                    groups.push_back(g);
            chunk.clear();
        };
        bool open = false;  // whether the last group of the chunk can still grow into a compound
        bool after_prefix = false;
        std::size_t previous_begin = 0;
        for (const Token& t : tokens) {
            if (t.pos.starts_with("助詞")) {
                flush_chunk(t.begin);
                chunk_begin = t.end;
                open = false;
                continue;
            }
            if (chunk.empty()) chunk_begin = t.begin;
            chunk_negated |= is_negation(t);
            const Role role = role_of(t);
            if (role == Role::content && open && chunk.back().end == t.begin) {
                // A new word of the compound, unless the token leans on its neighbour: a suffix (補助+金),
                // the word after a prefix (中+小+企業), letters and digits (E+V, 5+G).
                const bool letters = is_ascii_alnum(sentence.substr(previous_begin, t.begin - previous_begin)) &&
                                     is_ascii_alnum(t.surface);
                if (!after_prefix && !letters && !t.pos.starts_with("接尾")) chunk.back().cuts.push_back(t.begin);
                chunk.back().end = t.end;
                ++chunk.back().tokens;
            } else if (role != Role::none) {
                chunk.push_back({t.begin, t.end, role == Role::content, {}, false, 1});
            }
            // A light verb or a symbol ends a compound but stays inside the chunk (10億〜100億円).
            open = role == Role::content;
            after_prefix = t.pos.starts_with("接頭");
            previous_begin = t.begin;
        }
        flush_chunk(sentence.size());
        const bool any_content = std::any_of(groups.begin(), groups.end(), [](const Group& g) { return g.content; });
        for (const Group& g : groups) {
            if (g.end <= g.begin) continue;
            const bool required = g.content || !any_content;
            // A compound that dict/synonyms.tsv names (電気自動車, 無人航空機) is one word with its synonyms.
            const bool named = !synonyms_.alternatives(analyzer_.normalize(sentence.substr(g.begin, g.end - g.begin))).empty();
            if (g.cuts.empty() || !required || named) {
                add_word(sentence.substr(g.begin, g.end - g.begin), required, g.negated);
                continue;
            }
            std::vector<HighlightPattern> unused;
            if (auto whole = word_query(sentence.substr(g.begin, g.end - g.begin), false, true, db, session, unused))
                add_bonus(whole->strict);
            std::size_t from = g.begin;
            for (std::size_t cut : g.cuts) {
                add_word(sentence.substr(from, cut - from), true, g.negated);
                from = cut;
            }
            add_word(sentence.substr(from, g.end - from), true, g.negated);
        }
    };
    for (std::size_t index = 0; index < items.size(); ++index) {
        const Item& it = items[index];
        // 「補助率 2/3以上」: the word before a rate filter names it and is not searched for.
        if (it.text == "補助率" && !it.quoted && index + 1 < items.size()) {
            Filters probe;
            std::vector<RecognisedFilter> unused;
            if (recognise_filter_word(items[index + 1].text, probe, unused) && !probe.of("rate").empty()) continue;
        }
        if (it.is_or) {
            pending_or = !out.required.empty();
            continue;
        }
        if (it.field == "bureau") {
            Filters named;
            named.add_typed(*find_facet("bureau"), it.text, FacetContext{config_, bureaus_});
            if (it.negated) {  // -bureau:自動車課 leaves that organisation out
                for (const auto& [facet, values] : named.values)
                    for (const std::string& v : values) out.excluded.emplace_back(terms::boolean(find_facet(facet)->prefix, v));
                continue;
            }
            out.filters.merge(named);
            out.recognised.push_back({"bureau", bureaus_.canonical(it.text), it.text});
            continue;
        }
        const bool plain = !it.quoted && it.field.empty() && !it.negated;
        if (plain && recognise_filter_word(it.text, out.filters, out.recognised)) continue;
        if (!plain) {
            // Quoted text, title: words and -words mean exactly what was typed: a phrase, never relaxed.
            std::vector<HighlightPattern> highlight;
            auto q = word_query(it.text, it.field == "title", it.quoted, db, session, highlight);
            if (!q) continue;
            if (it.negated) {
                out.excluded.push_back(q->strict);
                continue;
            }
            add_highlight(highlight);
            add_requirement({it.text, q->strict, q->strict, true});
            pending_or = false;
            continue;
        }
        // Next to OR, an item is one alternative as typed (電気自動車 OR 医療機器), not words to require apart.
        if (pending_or || (index + 1 < items.size() && items[index + 1].is_or)) {
            add_word(it.text, true, true);
            pending_or = false;
            continue;
        }
        // A word in kana alone (ちくでんち, ろぼっと) is one word read aloud, not a sentence to split; so is
        // a kana word that starts a sentence (じゅうでん設備を増やす) when the index knows its reading.
        std::string sentence = it.text;
        if (const std::string norm = analyzer_.normalize(it.text);
            utf8_length(norm) >= 2 && (all_of_script(norm, is_hiragana) || all_of_script(norm, is_katakana))) {
            add_kana_word(it.text);
            pending_or = false;
            continue;
        }
        if (const std::size_t run = leading_hiragana(sentence); run > 0) {
            std::string word = sentence.substr(0, run);
            for (const char* particle : {"の", "を", "に", "で", "と", "が", "は", "へ", "や"})
                if (word.ends_with(particle) && utf8_length(word) > 3) word.resize(word.size() - std::string_view(particle).size());
            if (utf8_length(word) >= 3 && !segment_reading(terms::fold_reading(hiragana_to_katakana(word)), db).empty()) {
                add_kana_word(word);
                sentence = sentence.substr(word.size());
            }
        }
        add_sentence(sentence);
        pending_or = false;
    }
    // A run of 1,000 bytes without spaces could hold a hundred words; the relaxation's work grows with them.
    if (out.required.size() > kMaxItems) throw UsageError("検索語が多すぎます（" + std::to_string(kMaxItems) + " 語まで）", "q");
    out.has_text = !out.required.empty() || !out.excluded.empty();
    // Sheets where the words stand close together rank above sheets where they are far apart. Only between
    // requirements: the words of one compound (中小企業: 中 小 企業) are already asked for near each other,
    // and a second, wider NEAR over them would only repeat that check on every match.
    if (out.required.size() >= 2 && near.size() >= 2 && near.size() <= 16 && config_.proximity_weight > 0) {
        const Xapian::termcount window = static_cast<Xapian::termcount>(near.size()) + config_.proximity_window;
        add_bonus(Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(Xapian::Query::OP_NEAR, near.begin(), near.end(), window),
                                config_.proximity_weight));
    }
    return out;
}

namespace {

// `matching` weighed more where `extra` matches too, with the same matches. Written as
// OR(matching, FILTER(extra, matching)) rather than AND_MAYBE(matching, extra): the same matches (the
// FILTER's lie inside `matching`; a FILTER weighs as its left side alone), but Xapian 1.4 tests an
// AND_MAYBE's right side at every match of its left one and tests a positional candidate that failed
// ahead of it again each time, where an OR steps through it once: サプライチェーン with the phrase bonus
// 供給 PHRASE 網 took 120 ms at 10^5 sheets as AND_MAYBE and 1.8 ms this way. The AND_MAYBE also
// mis-weighed: over an OR of positional bonuses it gave a sheet 22.8 where its requirements and the one
// bonus it has (c PHRASE n; not 技術 PHRASE 開発, nor the nearness) add up to 16.3, which this form gives.
// `within`: extras known to match only sheets of `matching`, which need no FILTER (one evaluation of
// `matching` less: 再エネ 21 → 15 ms at 10^5 sheets in Xapian).
Xapian::Query weighed_more(const Xapian::Query& matching, const std::vector<Xapian::Query>& extra,
                           const std::vector<Xapian::Query>& within = {}) {
    std::vector<Xapian::Query> parts{matching};
    parts.insert(parts.end(), within.begin(), within.end());
    if (!extra.empty())
        parts.emplace_back(Xapian::Query::OP_FILTER, Xapian::Query(Xapian::Query::OP_OR, extra.begin(), extra.end()), matching);
    return parts.size() == 1 ? matching : Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
}

}  // namespace

Xapian::Query ParsedQuery::without_excluded(const Xapian::Query& q) const {
    if (excluded.empty()) return q;
    return Xapian::Query(Xapian::Query::OP_AND_NOT, q, Xapian::Query(Xapian::Query::OP_OR, excluded.begin(), excluded.end()));
}

Xapian::Query ParsedQuery::ranked(const Xapian::Query& matching) const {
    std::vector<Xapian::Query> rank = bonus;
    for (const Requirement& r : required) rank.push_back(r.loose);
    return without_excluded(weighed_more(matching, rank));
}

std::vector<Xapian::Query> ParsedQuery::requirements(const std::vector<bool>& keep, bool loose) const {
    std::vector<Xapian::Query> must;
    for (std::size_t i = 0; i < required.size(); ++i)
        if (keep.empty() || keep[i]) must.push_back(loose && !required[i].strict ? required[i].loose : required[i].query);
    return must;
}

Xapian::Query ParsedQuery::matching(const std::vector<bool>& keep, bool loose) const {
    const std::vector<Xapian::Query> must = requirements(keep, loose);
    // Query(std::string()) matches everything like Query::MatchAll, but copying that shared static object
    // changes its reference count without synchronisation: concurrent requests could corrupt it (Xapian's
    // query.h says so; ThreadSanitizer showed it).
    if (must.empty()) return without_excluded(Xapian::Query(std::string()));
    return without_excluded(Xapian::Query(Xapian::Query::OP_AND, must.begin(), must.end()));
}

Xapian::Query ParsedQuery::build(const std::vector<bool>& keep, bool loose) const {
    const std::vector<Xapian::Query> must = requirements(keep, loose);
    if (must.empty()) return matching(keep, loose);
    // Bonuses add weight without changing what matches. A bonus that lies within the one requirement asked
    // for (in its strict form) cannot add a match.
    std::vector<Xapian::Query> extra, within;
    std::optional<std::size_t> only;
    if (must.size() == 1 && !loose)
        for (std::size_t i = 0; i < required.size(); ++i)
            if (keep.empty() || keep[i]) only = i;
    for (std::size_t b = 0; b < bonus.size(); ++b)
        (only && b < bonus_within.size() && bonus_within[b] == only ? within : extra).push_back(bonus[b]);
    return without_excluded(weighed_more(Xapian::Query(Xapian::Query::OP_AND, must.begin(), must.end()), extra, within));
}

}  // namespace yosan
