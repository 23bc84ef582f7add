#include "indexer/scheme.h"

#include <algorithm>

#include "core/budget.h"
#include "core/text.h"

namespace yosan {

namespace {

// Caps on what one sheet can contribute. Real sheets have at most a handful of each; the caps only keep
// a hostile file from producing megabytes of facet values.
constexpr std::size_t kMaxRates = 32;
constexpr std::size_t kMaxLimits = 64;
constexpr std::size_t kMaxAmountBytes = 64;  // 「1兆2,000億3,000万円」 fits easily

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool ends_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// The last code point before byte offset `pos` (0 when there is none). Only used on NFKC text, which is
// valid UTF-8 (ICU replaces invalid input).
char32_t code_point_before(std::string_view s, std::size_t pos) {
    std::size_t start = pos;
    while (start > 0 && pos - start < 4) {
        --start;
        if ((static_cast<unsigned char>(s[start]) & 0xC0) != 0x80) break;
    }
    if (start == pos) return 0;
    std::size_t i = start;
    return next_code_point(s, i);
}

// A kanji numeral 一〜十 (rates are written with small numbers only), or a run of ASCII digits.
// Reads at `pos` forwards and returns the value and the byte length, or nothing.
std::optional<std::pair<int, std::size_t>> number_at(std::string_view s, std::size_t pos) {
    if (pos < s.size() && is_digit(s[pos])) {
        std::size_t n = 0;
        int v = 0;
        while (pos + n < s.size() && is_digit(s[pos + n]) && n < 3) v = v * 10 + (s[pos + n++] - '0');
        if (pos + n < s.size() && is_digit(s[pos + n])) return std::nullopt;  // 4+ digits: not a rate
        return std::make_pair(v, n);
    }
    static constexpr std::string_view kanji[] = {"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"};
    for (int k = 0; k < 10; ++k)
        if (starts_with(s.substr(pos), kanji[k])) return std::make_pair(k + 1, kanji[k].size());
    return std::nullopt;
}

// The same, reading backwards from `end` (exclusive).
std::optional<std::pair<int, std::size_t>> number_before(std::string_view s, std::size_t end) {
    if (end > 0 && is_digit(s[end - 1])) {
        std::size_t n = 0;
        while (n < end && is_digit(s[end - 1 - n]) && n < 3) ++n;
        if (n < end && is_digit(s[end - 1 - n])) return std::nullopt;
        int v = 0;
        for (std::size_t i = end - n; i < end; ++i) v = v * 10 + (s[i] - '0');
        return std::make_pair(v, n);
    }
    static constexpr std::string_view kanji[] = {"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"};
    for (int k = 0; k < 10; ++k)
        if (ends_with(s.substr(0, end), kanji[k])) return std::make_pair(k + 1, kanji[k].size());
    return std::nullopt;
}

// A plausible subsidy rate: a proper fraction with a small denominator (10/10 included).
bool plausible_rate(int num, int den) { return den >= 2 && den <= 10 && num >= 1 && num <= den; }

// True when the fraction starting at `start` is a share of a rate: 「国1/2」「県 1/4」.
bool is_share(std::string_view s, std::size_t start) {
    while (start > 0 && s[start - 1] == ' ') --start;
    char32_t cp = code_point_before(s, start);
    return cp == U'国' || cp == U'県';
}

// Reads an amount such as "4,500万円", "15億円", "420万" at `pos` (an ASCII digit). Returns the text, or
// empty when what is there is a bare number ("3年間", "1月") rather than an amount of money.
std::string_view amount_at(std::string_view s, std::size_t pos) {
    static constexpr std::string_view units[] = {"兆", "億", "百万", "千万", "万", "千"};
    std::size_t end = pos;
    bool unit = false;
    while (end < s.size() && end - pos < kMaxAmountBytes) {
        char c = s[end];
        if (is_digit(c) || c == ',' || c == '.') {
            ++end;
            continue;
        }
        bool matched = false;
        for (std::string_view u : units)
            if (starts_with(s.substr(end), u)) {
                end += u.size();
                unit = matched = true;
                break;
            }
        if (!matched) break;
    }
    if (starts_with(s.substr(end), "円")) end += std::string_view("円").size(), unit = true;
    if (!unit) return {};
    return s.substr(pos, end - pos);
}

// The display form the parser stores for a body line: trimmed, without the converter's ** emphasis.
std::string display(std::string_view line) {
    std::string s(trim(line));
    replace_all(s, "**", "");
    return std::string(trim(s));
}

void add_value(std::vector<SchemeValue>& out, std::string value, std::uint32_t line, std::size_t cap) {
    for (const SchemeValue& v : out)
        if (v.value == value) return;
    if (out.size() < cap) out.push_back({std::move(value), line});
}

// Each text line of `sec` with the file line it came from.
std::vector<std::uint32_t> section_lines(const Sheet& sheet, const Section& sec, const std::vector<std::string_view>& text,
                                         const SourceLines* source) {
    std::vector<std::uint32_t> out(text.size(), sec.first_line);
    if (!source || sec.first_line == 0) return out;
    // Walk the file from the section's first line, matching each stored line to the next file line with
    // the same display form. Blank lines and header lines the parser used elsewhere are passed over.
    std::uint32_t at = sec.first_line;
    const std::uint32_t last = std::min<std::uint32_t>(sheet.last_line ? sheet.last_line : at, source->size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        std::uint32_t n = at;
        while (n <= last && display(source->line(n)) != text[i]) ++n;
        if (n > last) break;  // not found: keep the section's first line for the rest
        out[i] = n;
        at = n + 1;
    }
    return out;
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) nl = text.size();
        out.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

}  // namespace

SourceLines::SourceLines(std::string_view text) {
    lines_ = split_lines(text);
    for (std::string_view& l : lines_)
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
}

std::string_view SourceLines::line(std::uint32_t number) const {
    if (number == 0 || number > lines_.size()) return {};
    return lines_[number - 1];
}

std::vector<std::string> scan_rates(std::string_view raw) {
    const std::string line = nfkc(raw);
    const std::string_view s = line;
    struct Found {
        std::size_t pos;
        std::string value;
    };
    std::vector<Found> found;
    auto keep = [&](std::size_t pos, std::string value) {
        if (found.size() < kMaxRates) found.push_back({pos, std::move(value)});
    };

    // a/b: a and b are short digit runs, not part of a date (2024/4/1) or a decimal.
    for (std::size_t slash = s.find('/'); slash != std::string_view::npos && found.size() < kMaxRates;
         slash = s.find('/', slash + 1)) {
        std::size_t left_end = slash, right = slash + 1;
        if (left_end > 0 && s[left_end - 1] == ' ') --left_end;
        if (right < s.size() && s[right] == ' ') ++right;
        if (left_end == 0 || !is_digit(s[left_end - 1]) || right >= s.size() || !is_digit(s[right])) continue;
        auto num = number_before(s, left_end);
        auto den = number_at(s, right);
        if (!num || !den) continue;
        std::size_t start = left_end - num->second, end = right + den->second;
        if (start > 0 && (s[start - 1] == '.' || s[start - 1] == '/' || s[start - 1] == ',')) continue;
        if (end < s.size() && (s[end] == '/' || s[end] == '.')) continue;
        if (!plausible_rate(num->first, den->first) || is_share(s, start)) continue;
        keep(start, std::to_string(num->first) + "/" + std::to_string(den->first));
    }

    // X分のY (2分の1, 二分の一): Y/X.
    constexpr std::string_view bun = "分の";
    for (std::size_t p = s.find(bun); p != std::string_view::npos && found.size() < kMaxRates; p = s.find(bun, p + 1)) {
        auto den = number_before(s, p);
        auto num = number_at(s, p + bun.size());
        if (!den || !num || !plausible_rate(num->first, den->first)) continue;
        std::size_t start = p - den->second;
        if (is_share(s, start)) continue;
        keep(start, std::to_string(num->first) + "/" + std::to_string(den->first));
    }

    if (std::size_t p = s.find(kRateFixed); p != std::string_view::npos) keep(p, std::string(kRateFixed));

    std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.pos < b.pos; });
    std::vector<std::string> out;
    for (Found& f : found)
        if (std::find(out.begin(), out.end(), f.value) == out.end()) out.push_back(std::move(f.value));
    return out;
}

std::vector<std::string> scan_forms(std::string_view raw) {
    const std::string line = nfkc(raw);
    const std::string_view s = line;
    auto has = [&](std::string_view w) { return s.find(w) != std::string_view::npos; };

    // 出資 counts unless every occurrence is 出資獲得 (a window of a subsidy, not the state's capital).
    bool capital = false;
    for (std::size_t p = s.find("出資"); p != std::string_view::npos; p = s.find("出資", p + 1))
        if (!starts_with(s.substr(p), "出資獲得")) {
            capital = true;
            break;
        }

    std::vector<std::string> out;
    if (has("委託")) out.emplace_back("委託");
    if (has("補助") || has("助成")) out.emplace_back("補助");
    if (has("交付金") || has("費を交付")) out.emplace_back("交付金");
    if (capital) out.emplace_back("出資");
    if (has("貸付") || has("低利融資")) out.emplace_back("貸付");
    if (has("基金")) out.emplace_back("基金");
    if (has("給付金")) out.emplace_back("給付");
    return out;
}

std::vector<std::pair<std::int64_t, std::string>> scan_limits(std::string_view raw) {
    const std::string line = nfkc(raw);
    const std::string_view s = line;
    std::vector<std::pair<std::int64_t, std::string>> out;
    constexpr std::string_view kUpper = "上限", kLower = "下限", kStop = "。";
    std::size_t p = s.find(kUpper);
    while (p != std::string_view::npos && out.size() < kMaxLimits) {
        // The stretch this 上限 governs: to the next 下限 or the end of the sentence. The next search starts
        // after it, so every byte is read a bounded number of times however many 上限 the line holds.
        std::size_t from = p + kUpper.size();
        std::size_t stop = std::min(s.find(kLower, from), s.find(kStop, from));
        if (stop == std::string_view::npos) stop = s.size();
        for (std::size_t i = from; i < stop && out.size() < kMaxLimits; ++i) {
            if (!is_digit(s[i]) || (i > from && (is_digit(s[i - 1]) || s[i - 1] == ',' || s[i - 1] == '.'))) continue;
            std::string_view a = amount_at(s.substr(0, stop), i);
            if (a.empty()) continue;
            if (auto yen = parse_yen(a); yen && *yen > 0) out.emplace_back(*yen, std::string(a));
            i += a.size() - 1;
        }
        p = stop == s.size() ? std::string_view::npos : s.find(kUpper, stop);
    }
    return out;
}

SchemeInfo extract_scheme(const Sheet& sheet, const SourceLines* source) {
    SchemeInfo info;
    std::vector<std::pair<std::string, std::uint32_t>> forms;  // first line per form
    auto add_forms = [&](std::string_view text, std::uint32_t line) {
        for (std::string& f : scan_forms(text))
            if (std::none_of(forms.begin(), forms.end(), [&](const auto& x) { return x.first == f; }))
                forms.emplace_back(std::move(f), line);
    };

    // The title names the form of many sheets (…補助金, …運営費交付金, …委託費, …出資事業) whose body does
    // not repeat it. Only forms: a title carries no rates or limits.
    if (!sheet.title.empty()) {
        std::uint32_t line = sheet.first_line;
        if (source)
            for (std::uint32_t n = sheet.first_line; n && n <= std::min<std::uint32_t>(sheet.last_line, source->size()); ++n)
                if (nfkc(source->line(n)).find(nfkc(sheet.title)) != std::string::npos) {
                    line = n;
                    break;
                }
        add_forms(sheet.title, line);
    }

    for (const Section& sec : sheet.sections) {
        // 事業概要 and 事業スキーム hold the scheme; header notes hold 「※…運営費交付金を含む。」. 事業目的 and
        // 成果目標 are left out: they speak of 補助事業者 and 出資先 in outcomes, not of how money is spent.
        if (sec.key != "overview" && sec.key != "scheme" && sec.key != "note") continue;
        const std::vector<std::string_view> text = split_lines(sec.text);
        const std::vector<std::uint32_t> lines = section_lines(sheet, sec, text, source);
        for (std::size_t i = 0; i < text.size(); ++i) {
            add_forms(text[i], lines[i]);
            for (std::string& r : scan_rates(text[i])) add_value(info.rates, std::move(r), lines[i], kMaxRates);
            for (auto& [yen, written] : scan_limits(text[i])) {
                const std::int64_t y = yen;
                if (std::none_of(info.limits.begin(), info.limits.end(), [&](const SchemeLimit& l) { return l.yen == y; }) &&
                    info.limits.size() < kMaxLimits)
                    info.limits.push_back({yen, std::move(written), lines[i]});
            }
        }
    }

    for (std::string_view f : kForms)
        for (const auto& [name, line] : forms)
            if (name == f) info.forms.push_back({name, line});
    return info;
}

}  // namespace yosan
