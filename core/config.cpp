#include "core/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <toml++/toml.h>

#include "core/error.h"
#include "core/text.h"

namespace yosan {

namespace fs = std::filesystem;

namespace {

std::string resolve(const fs::path& base, const std::string& p) {
    if (p.empty()) return p;
    fs::path path(p);
    return (path.is_absolute() ? path : (base / path)).lexically_normal().string();
}

}  // namespace

CharMap load_char_map(const std::string& path) {
    CharMap map;
    if (path.empty()) return map;
    std::ifstream in(path);
    if (!in) throw ConfigError("文字補正表を開けません", path);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        std::string_view t = trim(line);
        if (t.empty() || t.front() == '#') continue;
        auto tab = t.find('\t');
        if (tab == std::string_view::npos) throw ConfigError("タブ区切りで 2 列にしてください", path + ":" + std::to_string(n));
        std::string_view from = trim(t.substr(0, tab)), to = trim(t.substr(tab + 1));
        if (auto hash = to.find('#'); hash != std::string_view::npos) to = trim(to.substr(0, hash));
        // One character each, of the same UTF-8 length, so that byte offsets into the text stay valid.
        if (utf8_length(from) != 1 || utf8_length(to) != 1 || from.size() != to.size())
            throw ConfigError("同じ種類の 1 文字ずつ書いてください", path + ":" + std::to_string(n));
        std::size_t i = 0, k = 0;
        map[next_code_point(from, i)] = next_code_point(to, k);
    }
    return map;
}

Config Config::load(const std::string& path) {
    toml::table t;
    try {
        t = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw ConfigError(std::string("設定ファイルを読めません: ") + std::string(e.description()),
                          path + ":" + std::to_string(where.line));
    }
    const fs::path base = fs::absolute(fs::path(path)).parent_path();
    Config c;
    c.source = path;
    c.index_path = resolve(base, t["index"]["path"].value_or(std::string("../var/index")));
    c.max_delete_share = t["index"]["max_delete_share"].value_or(c.max_delete_share);
    if (c.max_delete_share < 0 || c.max_delete_share > 1)
        throw ConfigError("削除の上限は 0 から 1 の割合で書いてください", path + ": index.max_delete_share");
    if (auto arr = t["corpus"]["paths"].as_array())
        for (const auto& v : *arr)
            if (auto s = v.value<std::string>()) c.corpus_paths.push_back(resolve(base, *s));

    c.analysis.dictionary = parse_dictionary_kind(t["analysis"]["dictionary"].value_or(std::string("unidic")));
    c.analysis.dictionary_path = resolve(base, t["analysis"]["dictionary_path"].value_or(std::string()));
    c.analysis.user_dictionary = resolve(base, t["analysis"]["user_dictionary"].value_or(std::string()));
    if (!c.analysis.user_dictionary.empty() && !fs::exists(c.analysis.user_dictionary)) c.analysis.user_dictionary.clear();
    c.char_fixes_path = resolve(base, t["dict"]["char_fixes"].value_or(std::string()));
    c.analysis.char_fixes = load_char_map(c.char_fixes_path);
    c.bureaus_path = resolve(base, t["dict"]["bureaus"].value_or(std::string()));
    c.synonyms_path = resolve(base, t["dict"]["synonyms"].value_or(std::string()));
    c.assignments_path = resolve(base, t["dict"]["assignments"].value_or(std::string()));

    if (auto arr = t["amount"]["buckets"].as_array()) {
        c.buckets.bounds.clear();
        for (const auto& v : *arr) {
            std::optional<std::int64_t> yen;
            if (auto s = v.value<std::string>()) yen = parse_yen(*s);
            else if (auto i = v.value<std::int64_t>()) yen = *i;
            if (!yen || (!c.buckets.bounds.empty() && *yen <= c.buckets.bounds.back()))
                throw ConfigError("金額帯の境界は昇順の金額で書いてください", path + ": amount.buckets");
            c.buckets.bounds.push_back(*yen);
        }
    }
    c.weights.title = t["weights"]["title"].value_or(c.weights.title);
    c.weights.purpose = t["weights"]["purpose"].value_or(c.weights.purpose);
    c.weights.overview = t["weights"]["overview"].value_or(c.weights.overview);
    c.weights.other = t["weights"]["other"].value_or(c.weights.other);
    c.bm25_k1 = t["ranking"]["bm25_k1"].value_or(c.bm25_k1);
    c.bm25_b = t["ranking"]["bm25_b"].value_or(c.bm25_b);
    c.compound_part_weight = t["ranking"]["compound_part_weight"].value_or(c.compound_part_weight);
    c.proximity_weight = t["ranking"]["proximity_weight"].value_or(c.proximity_weight);
    c.proximity_window = t["ranking"]["proximity_window"].value_or(c.proximity_window);
    return c;
}

std::string default_config_path() {
    if (const char* env = std::getenv("YOSAN_CONFIG"); env && *env) return env;
    return "config/yosan.toml";
}

}  // namespace yosan
