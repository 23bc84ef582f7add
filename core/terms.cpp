#include "core/terms.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "core/hash.h"
#include "core/schema.h"
#include "core/text.h"

namespace yosan::terms {

namespace {

// The longest prefix of s of at most `bytes` bytes that ends on a character boundary.
std::string_view cut_on_character(std::string_view s, std::size_t bytes) {
    if (s.size() <= bytes) return s;
    while (bytes > 0 && (static_cast<unsigned char>(s[bytes]) & 0xC0) == 0x80) --bytes;
    return s.substr(0, bytes);
}

}  // namespace

std::string boolean(std::string_view prefix, std::string_view value) {
    std::string term;
    term.reserve(prefix.size() + value.size());
    term.append(prefix).append(value);
    if (term.size() <= kMaxTermBytes) return term;
    // Omega's hash_long_term: keep what fits, then a hash of the whole term, so two long values that share
    // their first 220 bytes still get different terms.
    char hash[20];
    std::snprintf(hash, sizeof hash, "#%016llx", static_cast<unsigned long long>(fnv1a(term)));
    std::string out(cut_on_character(term, kMaxTermBytes - (sizeof hash - 1)));
    out.append(hash);
    return out;
}

namespace {

bool is_word(std::string_view text) { return !text.empty() && text.size() <= kMaxWordBytes; }

}  // namespace

std::string word(std::string_view prefix, std::string_view text) {
    if (!is_word(text)) return {};
    std::string term;
    term.reserve(prefix.size() + text.size());
    term.append(prefix).append(text);
    return term;
}

std::size_t word_forms(std::string_view prefix, const Token& token, std::array<std::string, 2>& out) {
    if (!token.indexed) return 0;
    const auto put = [&](std::string_view text, std::size_t at) {
        if (!is_word(text)) return at;
        out[at].assign(prefix).append(text);
        return at + 1;
    };
    const std::size_t n = put(token.term, 0);
    return token.surface != token.term ? put(token.surface, n) : n;
}

bool surface_has_positions(const Token& token) {
    const std::string_view pos = token.pos;
    return !(pos.starts_with("動詞") || pos.starts_with("形容詞") || pos.starts_with("助動詞"));
}

Xapian::Query positional(Xapian::Query::op op, std::string_view prefix, const std::vector<std::vector<std::string>>& forms,
                         Xapian::termcount window) {
    const auto any_form = [](const std::vector<std::string>& f, std::size_t strip) {
        std::vector<std::string> terms;
        for (const std::string& t : f) terms.push_back(t.substr(strip));
        return terms.size() == 1 ? Xapian::Query(terms.front()) : Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end());
    };
    std::vector<Xapian::Query> words, body;
    for (const auto& f : forms) {
        words.push_back(any_form(f, 0));
        if (!prefix.empty()) body.push_back(any_form(f, prefix.size()));
    }
    if (prefix.empty()) return Xapian::Query(op, words.begin(), words.end(), window);
    return Xapian::Query(Xapian::Query::OP_AND, Xapian::Query(Xapian::Query::OP_AND, words.begin(), words.end()),
                         Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(op, body.begin(), body.end(), window), 0.0));
}

std::vector<std::string> word_forms(std::string_view prefix, const Token& token) {
    std::array<std::string, 2> forms;
    const std::size_t n = word_forms(prefix, token, forms);
    return {std::make_move_iterator(forms.begin()), std::make_move_iterator(forms.begin() + static_cast<std::ptrdiff_t>(n))};
}

namespace {

void append_folded_reading(std::string& out, std::string_view katakana) {
    // Small kana as their full-size letters: people type だつたんそ for 脱炭素 (ダッタンソ), and slip on
    // ィ/イ; as a reading, the difference never decides which word is meant. One pass: every reading of
    // every indexed word comes through here.
    const auto full_size = [](char32_t c) -> char32_t {
        switch (c) {
            case U'ァ': case U'ィ': case U'ゥ': case U'ェ': case U'ォ': case U'ッ': case U'ャ': case U'ュ': case U'ョ': case U'ヮ':
                return c + 1;  // each small letter stands just before its full-size one
            case U'ヵ': return U'カ';
            case U'ヶ': return U'ケ';
            default: return 0;
        }
    };
    for (std::size_t i = 0; i < katakana.size();) {
        const std::size_t from = i;
        if (const char32_t full = full_size(next_code_point(katakana, i))) append_utf8(out, full);
        else out.append(katakana.substr(from, i - from));
    }
}

}  // namespace

std::string fold_reading(std::string_view katakana) {
    std::string out;
    out.reserve(katakana.size());
    append_folded_reading(out, katakana);
    return out;
}

std::string reading_prefix(std::string_view folded_reading) {
    std::string p(schema::kReading);
    p.append(folded_reading).push_back('\t');
    return p;
}

bool reading(const Token& token, std::string& out) {
    if (!token.indexed || token.reading.empty()) return false;
    if (all_of_script(token.surface, is_katakana) || all_of_script(token.surface, is_hiragana)) return false;
    if (!is_word(token.term)) return false;
    out.clear();  // (not assign(): GCC 12 sees a false overlap in it, -Wrestrict)
    out.append(schema::kReading);
    append_folded_reading(out, token.reading);
    out.push_back('\t');
    out.append(token.term);
    return out.size() <= kMaxTermBytes;
}

std::string reading(const Token& token) {
    std::string out;
    return reading(token, out) ? out : std::string();
}

std::vector<std::string> gram_terms(std::string_view kanji_run) {
    std::vector<std::string> out;
    for_each_gram_term(kanji_run, [&](const std::string& term) { out.push_back(term); });
    return out;
}

bool spelling_word(std::string_view term) {
    if (term.empty() || (term[0] >= 'A' && term[0] <= 'Z')) return false;  // prefixed terms
    const std::size_t letters = utf8_length(term);
    if (all_of_script(term, is_katakana)) return letters >= 3 && letters <= 30;
    if (letters < 4 || letters > 30) return false;
    return std::all_of(term.begin(), term.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; });
}

}  // namespace yosan::terms
