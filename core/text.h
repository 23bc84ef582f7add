// Text utilities shared by the analyser, the sheet parser and the snippet builder: UTF-8 decoding and
// validation, ICU normalisation with an offset map back to the original text, and script classes.
//
// All functions here are thread safe.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace yosan {

// Decodes one code point starting at s[i] and advances i. Invalid sequences decode as U+FFFD, one byte.
char32_t next_code_point(std::string_view s, std::size_t& i);
void append_utf8(std::string& out, char32_t cp);
std::size_t utf8_length(std::string_view s);  // in code points

// Offset of the first byte that is not part of valid UTF-8, or npos when the whole text is valid.
std::size_t first_invalid_utf8(std::string_view s);

bool is_kanji(char32_t cp);     // CJK ideographs and 々
bool is_katakana(char32_t cp);  // includes the long-vowel mark ー
bool is_hiragana(char32_t cp);
bool all_of_script(std::string_view s, bool (*pred)(char32_t));
std::string hiragana_to_katakana(std::string_view s);

// Known character-level corrections applied before normalisation, such as the PDF extraction error 鈳 for
// 鉱. Each maps one code point to one of the same UTF-8 length, so byte offsets stay aligned.
using CharMap = std::map<char32_t, char32_t>;

// The result of normalising a text: the normalised UTF-8 and ICU's record of the edits, as spans that are
// either unchanged (offsets map one to one) or changed as a unit (ＡＩ → ai). Any byte range of the
// normalised text maps back to the original range that produced it.
struct NormalizedText {
    struct Span {
        std::size_t norm, orig;            // where the span starts in `text` and in the original
        std::size_t norm_len, orig_len;
        bool changed;
    };
    std::string text;
    std::vector<Span> spans;  // ascending, covering both texts
    std::size_t orig_size = 0;

    // The original byte range covering normalised bytes [begin, end).
    std::pair<std::size_t, std::size_t> to_original(std::size_t begin, std::size_t end) const;
};

// NFKC plus case folding (ＡＩ→ai, ｻｲﾊﾞｰ→サイバー), after applying `fixes`.
NormalizedText normalize_for_search(std::string_view original, const CharMap& fixes);
// The same without the offset map, for short strings such as facet values and query words.
std::string normalize(std::string_view original, const CharMap& fixes = {});
// NFKC only: for parsing numbers and brackets while keeping case (used by the sheet parser).
std::string nfkc(std::string_view original);

// Replaces every occurrence of `from` in `s` with `to`.
void replace_all(std::string& s, std::string_view from, std::string_view to);

// Appends `line` to `text`, with a '\n' between when `text` is not empty.
void append_line(std::string& text, std::string_view line);

// Removes ASCII and ideographic white space from both ends.
std::string_view trim(std::string_view s);

}  // namespace yosan
