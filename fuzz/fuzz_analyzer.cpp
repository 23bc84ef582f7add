// Fuzz target: arbitrary bytes through Analyzer::analyze, in index and in query mode, both as they come
// (the query box and the HTTP API pass on what the user typed; the analyzer must not crash on it) and made
// valid UTF-8 (each undecodable byte replaced by U+FFFD, as a sheet file that passed read_sheet_file is).
//
// Properties checked on every result (a failure aborts, which libFuzzer reports as a crash):
//   - begin <= end <= text size for every token (the snippet builder cuts the original text there);
//   - positions never decrease and never start below first_position (phrases rely on the order);
//   - the terms of terms::word_forms are nonempty and at most kMaxWordBytes after their prefix (Xapian
//     refuses longer terms and a whole commit with them);
//   - for valid UTF-8 input, in addition: offsets on character boundaries, and surface and term valid
//     UTF-8 (the JSON of the API and the page would otherwise break).
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/terms.h"
#include "core/text.h"
#include "fuzz/fuzz_common.h"

using namespace yosan;

namespace {

bool on_boundary(std::string_view text, std::size_t at) {
    return at == text.size() || (static_cast<unsigned char>(text[at]) & 0xC0) != 0x80;
}

std::string make_valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) append_utf8(out, next_code_point(s, i));
    return out;
}

void check(std::string_view text, bool valid, Analyzer::Mode mode) {
    constexpr std::uint32_t first = 7;  // not 0, so that a position restarting from 0 shows
    const std::vector<Token> tokens = fuzz::analyzer().analyze(text, first, mode);
    std::uint32_t last = first;
    for (const Token& t : tokens) {
        if (t.begin > t.end || t.end > text.size()) std::abort();
        if (t.position < last) std::abort();
        last = t.position;
        if (t.surface.empty()) std::abort();
        for (std::string_view prefix : {"", "S"})
            for (const std::string& term : terms::word_forms(prefix, t))
                if (term.size() <= prefix.size() || term.size() > prefix.size() + terms::kMaxWordBytes) std::abort();
        if (!valid) continue;
        if (!on_boundary(text, t.begin) || !on_boundary(text, t.end)) std::abort();
        if (first_invalid_utf8(t.surface) != std::string::npos || first_invalid_utf8(t.term) != std::string::npos)
            std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Queries are capped at a few KB, sheet lines are short; lines of many KB are a separate concern (the
    // analyzer's long-line splitting) and would only slow the search down.
    if (size > 8192) return -1;
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    const bool valid = first_invalid_utf8(raw) == std::string_view::npos;
    check(raw, valid, Analyzer::Mode::index);
    check(raw, valid, Analyzer::Mode::query);
    if (!valid) {
        const std::string fixed = make_valid_utf8(raw);
        if (first_invalid_utf8(fixed) != std::string::npos) std::abort();
        check(fixed, true, Analyzer::Mode::index);
        check(fixed, true, Analyzer::Mode::query);
    }
    return 0;
}
