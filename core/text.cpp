#include "core/text.h"

#include <algorithm>
#include <unicode/bytestream.h>
#include <unicode/edits.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "core/error.h"

namespace yosan {

char32_t next_code_point(std::string_view s, std::size_t& i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    int extra = 0;
    char32_t cp = 0;
    if (c < 0x80) {
        ++i;
        return c;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
        extra = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        extra = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
        extra = 3, cp = c & 0x07;
    } else {
        ++i;
        return 0xFFFD;
    }
    for (int k = 1; k <= extra; ++k) {
        if (i + k >= s.size() || (byte(i + k) & 0xC0) != 0x80) {
            ++i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return 0xFFFD;
    }
    i += extra + 1;
    return cp;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size();) next_code_point(s, i), ++n;
    return n;
}

std::size_t first_invalid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t at = i;
        const char32_t cp = next_code_point(s, i);
        // U+FFFD written literally is three bytes; a decoding failure advances by one.
        if (cp == 0xFFFD && i - at == 1) return at;
    }
    return std::string_view::npos;
}

bool is_kanji(char32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x20000 && cp <= 0x2FFFF) || cp == 0x3005;
}
bool is_katakana(char32_t cp) { return (cp >= 0x30A1 && cp <= 0x30FA) || cp == 0x30FC || (cp >= 0x31F0 && cp <= 0x31FF); }
bool is_hiragana(char32_t cp) { return (cp >= 0x3041 && cp <= 0x3096) || cp == 0x30FC; }

bool all_of_script(std::string_view s, bool (*pred)(char32_t)) {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size();)
        if (!pred(next_code_point(s, i))) return false;
    return true;
}

std::string hiragana_to_katakana(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = next_code_point(s, i);
        if (cp >= 0x3041 && cp <= 0x3096) cp += 0x60;
        append_utf8(out, cp);
    }
    return out;
}

namespace {

const icu::Normalizer2& load(bool casefold) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n =
        casefold ? icu::Normalizer2::getNFKCCasefoldInstance(status) : icu::Normalizer2::getNFKCInstance(status);
    if (U_FAILURE(status) || n == nullptr) throw AnalysisError(std::string("ICU normaliser unavailable: ") + u_errorName(status));
    return *n;
}

// ICU makes its singletons once (umtx_initOnce) and hands them to later callers through an atomic load
// inside libicuuc; the indexer's parse threads (reindex.cpp) then read the object from our code. Holding
// the reference in a function-local static publishes it through the C++ static-init guard, which
// ThreadSanitizer sees (it cannot see ICU's own atomics: the library is not instrumented), and spares a
// call into ICU per line. A throw leaves the static uninitialised, so the next call tries again.
const icu::Normalizer2& instance(bool casefold) {
    if (casefold) {
        static const icu::Normalizer2& nfkc_casefold = load(true);
        return nfkc_casefold;
    }
    static const icu::Normalizer2& nfkc = load(false);
    return nfkc;
}

NormalizedText normalize_with(const icu::Normalizer2& norm, std::string_view original, const CharMap& fixes) {
    NormalizedText r;
    r.orig_size = original.size();
    std::string fixed;
    if (!fixes.empty()) {
        fixed.reserve(original.size());
        for (std::size_t i = 0; i < original.size();) {
            const std::size_t at = i;
            const char32_t cp = next_code_point(original, i);
            auto f = fixes.find(cp);
            if (f == fixes.end()) fixed.append(original.substr(at, i - at));
            else append_utf8(fixed, f->second);
        }
        original = fixed;  // same byte length: load_char_map allows only same-length fixes
    }
    icu::Edits edits;
    UErrorCode status = U_ZERO_ERROR;
    icu::StringByteSink<std::string> sink(&r.text, static_cast<int32_t>(original.size()));
    norm.normalizeUTF8(0, icu::StringPiece(original.data(), static_cast<int32_t>(original.size())), sink, &edits, status);
    if (U_FAILURE(status)) throw AnalysisError(std::string("ICU normalisation failed: ") + u_errorName(status));
    for (auto it = edits.getFineIterator(); it.next(status);)
        r.spans.push_back({static_cast<std::size_t>(it.destinationIndex()), static_cast<std::size_t>(it.sourceIndex()),
                           static_cast<std::size_t>(it.newLength()), static_cast<std::size_t>(it.oldLength()),
                           static_cast<bool>(it.hasChange())});
    return r;
}

}  // namespace

std::pair<std::size_t, std::size_t> NormalizedText::to_original(std::size_t begin, std::size_t end) const {
    if (spans.empty()) return {begin, end};  // nothing changed
    // The span holding `begin`, and the span holding the last byte before `end`.
    const auto holding = [&](std::size_t at) {
        auto it = std::upper_bound(spans.begin(), spans.end(), at, [](std::size_t x, const Span& s) { return x < s.norm; });
        return it == spans.begin() ? it : std::prev(it);
    };
    const Span& b = *holding(begin);
    const Span& e = *holding(end > begin ? end - 1 : begin);
    const std::size_t ob = b.changed ? b.orig : b.orig + (begin - b.norm);
    const std::size_t oe = e.changed ? e.orig + e.orig_len : e.orig + (end - e.norm);
    return {ob, std::min(oe, orig_size)};
}

NormalizedText normalize_for_search(std::string_view original, const CharMap& fixes) {
    return normalize_with(instance(true), original, fixes);
}

std::string normalize(std::string_view original, const CharMap& fixes) {
    return normalize_with(instance(true), original, fixes).text;
}

std::string nfkc(std::string_view original) { return normalize_with(instance(false), original, {}).text; }

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    std::string out;
    std::size_t at = 0;
    for (std::size_t hit; (hit = s.find(from, at)) != std::string::npos; at = hit + from.size())
        out.append(s, at, hit - at).append(to);
    out.append(s, at, std::string::npos);
    s = std::move(out);
}

void append_line(std::string& text, std::string_view line) {
    if (!text.empty()) text += '\n';
    text.append(line);
}

std::string_view trim(std::string_view s) {
    const auto is_space_at = [&](std::size_t i, std::size_t& len) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') return len = 1, true;
        if (s.compare(i, 3, "\u3000") == 0) return len = 3, true;  // ideographic space
        if (s.compare(i, 2, "\u00a0") == 0) return len = 2, true;  // no-break space
        return false;
    };
    std::size_t len = 0;
    while (!s.empty() && is_space_at(0, len)) s.remove_prefix(len);
    while (!s.empty()) {
        if (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n') { s.remove_suffix(1); continue; }
        if (s.size() >= 3 && s.substr(s.size() - 3) == "\u3000") { s.remove_suffix(3); continue; }
        if (s.size() >= 2 && s.substr(s.size() - 2) == "\u00a0") { s.remove_suffix(2); continue; }
        break;
    }
    return s;
}

}  // namespace yosan
