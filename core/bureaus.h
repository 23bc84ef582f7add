// The organisation vocabulary: canonical names for bureaus written several ways, and the top unit of
// divisions that sheets sometimes name alone. Loaded from dict/bureaus.tsv:
//
//   alias     商務サービスグループ     商務・サービスグループ
//   division  航空機武器産業課         製造産業局
//
// Also splits an organisation line of a sheet into (top, divisions) pairs. Immutable after loading;
// thread safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sheet.h"

namespace yosan {

class BureauDirectory {
public:
    BureauDirectory() = default;
    static BureauDirectory load(const std::string& path);  // throws ConfigError

    // The canonical spelling of an organisation name (NFKC applied, aliases resolved).
    std::string canonical(std::string_view name) const;
    // The top unit a division belongs to, when the dictionary knows it.
    std::optional<std::string> top_of(std::string_view division) const;
    // True for 局・庁・グループ and 大臣官房.
    static bool is_top_unit(std::string_view name);

    // Splits an organisation line such as "- (3) 製造産業局 航空機武器産業課・金属課 金属技術室" into
    // units. Returns nullopt when the line is not made only of organisation names (then it is not an
    // organisation line). Divisions before any top unit get `inherited_top`, or the dictionary's top.
    std::optional<std::vector<BureauRef>> parse_line(std::string_view line, const std::string& inherited_top) const;

    void add_alias(std::string from, std::string to) { aliases_[std::move(from)] = std::move(to); }
    void add_division(std::string division, std::string top) { division_top_[std::move(division)] = std::move(top); }

private:
    std::map<std::string, std::string, std::less<>> aliases_;
    std::map<std::string, std::string, std::less<>> division_top_;
};

// Merges `more` into `into`, joining divisions of the same top unit and dropping duplicates.
void merge_bureaus(std::vector<BureauRef>& into, const std::vector<BureauRef>& more);

}  // namespace yosan
