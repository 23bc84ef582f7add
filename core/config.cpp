#include "core/config.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/error.h"
#include "core/hash.h"
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

namespace {

// Every key yosan reads, by table ([server] is read by yosan-search serve). Anything else is a typo or a
// setting of another version: warned about, never silently ignored.
const std::map<std::string, std::set<std::string>, std::less<>>& known_keys() {
    static const std::map<std::string, std::set<std::string>, std::less<>> keys = {
        {"index", {"path", "max_delete_share", "settle_seconds", "state_file", "shards", "build_threads", "flush_documents"}},
        {"corpus", {"paths"}},
        {"analysis", {"dictionary", "dictionary_path", "user_dictionary"}},
        {"dict", {"bureaus", "synonyms", "char_fixes", "assignments"}},
        {"amount", {"buckets"}},
        {"weights", {"title", "purpose", "overview", "other"}},
        {"ranking", {"bm25_k1", "bm25_b", "compound_part_weight", "proximity_weight", "proximity_window"}},
        {"server", {"listen", "static_dir", "access_log", "trusted_proxies", "max_index_age_hours"}},
    };
    return keys;
}

// Typed access to one table of the file. A key that is absent keeps the default; a key of the wrong type
// or out of range is a ConfigError naming the file, the key and what was expected (a default silently put
// in place of "lots" would hide the mistake until someone wonders why nothing changed).
class Reader {
public:
    Reader(const toml::table& root, std::string path, std::string table)
        : path_(std::move(path)), table_(std::move(table)) {
        if (const toml::node* n = root.get(table_)) {
            table_node_ = n->as_table();
            if (!table_node_) fail(table_, "テーブル（[" + table_ + "]）");
        }
    }

    std::string string(const std::string& key, std::string fallback) const {
        const toml::node* n = get(key);
        if (!n) return fallback;
        if (!n->is_string()) fail(key, "文字列");
        return **n->as_string();
    }
    bool boolean(const std::string& key, bool fallback) const {
        const toml::node* n = get(key);
        if (!n) return fallback;
        if (!n->is_boolean()) fail(key, "true か false");
        return **n->as_boolean();
    }
    double number(const std::string& key, double fallback, double min, double max) const {
        const toml::node* n = get(key);
        if (!n) return fallback;
        std::optional<double> v;
        if (n->is_floating_point()) v = **n->as_floating_point();
        else if (n->is_integer()) v = static_cast<double>(**n->as_integer());
        if (!v || !(*v >= min && *v <= max)) fail(key, range_text("数値", min, max));
        return *v;
    }
    unsigned whole(const std::string& key, unsigned fallback, std::int64_t min, std::int64_t max) const {
        const toml::node* n = get(key);
        if (!n) return fallback;
        if (!n->is_integer() || **n->as_integer() < min || **n->as_integer() > max) fail(key, range_text("整数", double(min), double(max)));
        return static_cast<unsigned>(**n->as_integer());
    }
    std::vector<std::string> strings(const std::string& key) const {
        std::vector<std::string> out;
        const toml::node* n = get(key);
        if (!n) return out;
        const toml::array* arr = n->as_array();
        if (!arr) fail(key, "文字列の配列");
        for (const toml::node& v : *arr) {
            if (!v.is_string()) fail(key, "文字列の配列");
            out.push_back(**v.as_string());
        }
        return out;
    }
    const toml::node* get(const std::string& key) const { return table_node_ ? table_node_->get(key) : nullptr; }
    [[noreturn]] void fail(const std::string& key, const std::string& expected) const {
        const std::string name = key == table_ ? key : table_ + "." + key;
        throw ConfigError("設定 " + name + " は" + expected + "で書いてください", path_ + ": " + name);
    }

private:
    static std::string range_text(const char* kind, double min, double max) {
        const auto num = [](double v) {
            std::ostringstream s;
            s << v;
            return s.str();
        };
        if (max >= 1e9) return num(min) + " 以上の" + kind;
        return num(min) + " から " + num(max) + " までの" + kind;
    }

    std::string path_, table_;
    const toml::table* table_node_ = nullptr;
};

void warn_about_unknown_keys(const toml::table& root, const std::string& path, std::vector<std::string>& warnings) {
    for (const auto& [table, node] : root) {
        const std::string name(table.str());
        const auto known = known_keys().find(name);
        if (known == known_keys().end()) {
            warnings.push_back(path + ": 知らない設定 [" + name + "] は無視します");
            continue;
        }
        if (const toml::table* t = node.as_table())
            for (const auto& [key, value] : *t)
                if (!known->second.count(std::string(key.str())))
                    warnings.push_back(path + ": 知らない設定 " + name + "." + std::string(key.str()) + " は無視します");
    }
}

}  // namespace

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
    warn_about_unknown_keys(t, path, c.warnings);

    const Reader index(t, path, "index"), corpus(t, path, "corpus"), analysis(t, path, "analysis"), dict(t, path, "dict"),
        amount(t, path, "amount"), weights(t, path, "weights"), ranking(t, path, "ranking"), server(t, path, "server");
    c.index_path = resolve(base, index.string("path", "../var/index"));
    c.max_delete_share = index.number("max_delete_share", c.max_delete_share, 0, 1);
    c.settle_seconds = index.whole("settle_seconds", c.settle_seconds, 0, 7 * 24 * 3600);
    c.state_file = resolve(base, index.string("state_file", ""));
    c.shards = index.whole("shards", c.shards, 1, 256);
    c.build_threads = index.whole("build_threads", c.build_threads, 0, 64);
    c.flush_documents = index.whole("flush_documents", c.flush_documents, 1, 1000000);
    for (const std::string& p : corpus.strings("paths")) c.corpus_paths.push_back(resolve(base, p));

    c.analysis.dictionary = parse_dictionary_kind(analysis.string("dictionary", "unidic"));
    c.analysis.dictionary_path = resolve(base, analysis.string("dictionary_path", ""));
    // A missing user dictionary is refused when the Analyzer loads it (analyzer.h), not dropped here: its
    // words would silently go unindexed.
    c.analysis.user_dictionary = resolve(base, analysis.string("user_dictionary", ""));
    c.char_fixes_path = resolve(base, dict.string("char_fixes", ""));
    c.analysis.char_fixes = load_char_map(c.char_fixes_path);
    c.bureaus_path = resolve(base, dict.string("bureaus", ""));
    c.synonyms_path = resolve(base, dict.string("synonyms", ""));
    c.assignments_path = resolve(base, dict.string("assignments", ""));

    if (const toml::node* n = amount.get("buckets")) {
        const toml::array* arr = n->as_array();
        if (!arr) amount.fail("buckets", "金額の配列");
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
    c.weights.title = weights.whole("title", c.weights.title, 0, 1000);
    c.weights.purpose = weights.whole("purpose", c.weights.purpose, 0, 1000);
    c.weights.overview = weights.whole("overview", c.weights.overview, 0, 1000);
    c.weights.other = weights.whole("other", c.weights.other, 0, 1000);
    c.bm25_k1 = ranking.number("bm25_k1", c.bm25_k1, 0, 1e9);
    c.bm25_b = ranking.number("bm25_b", c.bm25_b, 0, 1);
    c.compound_part_weight = ranking.number("compound_part_weight", c.compound_part_weight, 0, 1e9);
    c.proximity_weight = ranking.number("proximity_weight", c.proximity_weight, 0, 1e9);
    c.proximity_window = ranking.whole("proximity_window", c.proximity_window, 1, 1000);

    c.server.listen = server.string("listen", "");
    c.server.static_dir = resolve(base, server.string("static_dir", ""));
    c.server.access_log = server.boolean("access_log", c.server.access_log);
    c.server.trusted_proxies = server.strings("trusted_proxies");
    c.server.max_index_age_hours = server.number("max_index_age_hours", c.server.max_index_age_hours, 0, 1e9);
    return c;
}

namespace {

// FNV-1a (64 bit) of a file's content. A file of up to 16 MB (the user dictionary, charmap) is hashed
// whole; a larger one (sys.dic is a quarter of a gigabyte, and every nightly run and every server start
// would pay for reading it) by its size and 64 blocks of 64 KB spread evenly over it, the first and the
// last included. Two builds of a dictionary differ all over (its double-array and its matrix), so the
// samples tell them apart; this is a change detector, not a defence against forgery. Throws ConfigError
// naming the path when the file cannot be read.
std::string file_hash(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw ConfigError(std::string(what) + "を読めません", path);
    const auto size = static_cast<std::uint64_t>(in.tellg());
    std::uint64_t h = kFnvYosanBasis;
    const auto mix = [&](const char* data, std::size_t n) { h = fnv1a(std::string_view(data, n), h); };
    mix(reinterpret_cast<const char*>(&size), sizeof size);
    constexpr std::uint64_t kWhole = 16u << 20, kBlock = 64u << 10, kBlocks = 64;
    std::vector<char> buf(size <= kWhole ? size : kBlock);
    const auto read_at = [&](std::uint64_t offset, std::size_t n) {
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(buf.data(), static_cast<std::streamsize>(n));
        mix(buf.data(), static_cast<std::size_t>(in.gcount()));
    };
    if (size <= kWhole) read_at(0, static_cast<std::size_t>(size));
    else
        for (std::uint64_t b = 0; b < kBlocks; ++b) read_at((size - kBlock) * b / (kBlocks - 1), kBlock);
    if (in.bad()) throw ConfigError(std::string(what) + "を読めません", path);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

}  // namespace

std::string analysis_fingerprint(const Config& c) {
    std::string f = c.analysis.dictionary == DictionaryKind::unidic ? "unidic" : "ipadic";
    f.append(" sys.dic=").append(file_hash((fs::path(c.analysis.dictionary_path) / "sys.dic").string(), "MeCab のシステム辞書"));
    f.append(" user=").append(c.analysis.user_dictionary.empty() ? "-" : file_hash(c.analysis.user_dictionary, "MeCab のユーザー辞書"));
    f.append(" charmap=").append(c.char_fixes_path.empty() ? "-" : file_hash(c.char_fixes_path, "文字補正表"));
    return f;
}

std::string default_config_path() {
    if (const char* env = std::getenv("YOSAN_CONFIG"); env && *env) return env;
    return "config/yosan.toml";
}

}  // namespace yosan
