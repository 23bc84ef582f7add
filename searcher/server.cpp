#include "searcher/server.h"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <list>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <boost/program_options.hpp>
#include <httplib.h>
#include <toml++/toml.h>

#include "core/bureaus.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/schema.h"
#include "core/text.h"
#include "searcher/http_assets.h"
#include "searcher/searcher.h"

namespace yosan {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kDefaultPerPage = 10;
constexpr int kMaxPerPage = 100;
constexpr int kMaxPage = 1000;      // deeper pages are never useful to a person and cost a full match
constexpr int kMaxSimilar = 20;
constexpr std::size_t kMaxValues = 32;  // values of one repeated parameter (bureau=...&bureau=...)

// Sent with every response. The page loads only its own files (no CDN, no inline script), so 'self' is
// enough, and the API cannot be framed or sniffed as HTML.
const httplib::Headers kSecurityHeaders = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
     "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
};

std::string content_type_of(std::string_view name) {
    const auto ends = [&](std::string_view ext) { return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext; };
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".js")) return "text/javascript; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".json")) return "application/json; charset=utf-8";
    if (ends(".png")) return "image/png";
    return "application/octet-stream";
}

// A yosan::Error that carries an HTTP status other than the one its class maps to (404 for an unknown id).
class HttpError : public Error {
public:
    HttpError(int status, std::string message, std::string context = {})
        : Error(std::move(message), std::move(context)), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

// error_handler_t::replace: a sheet with a broken byte must not turn a whole answer into an exception.
std::string dump(const json& body) { return body.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_json_text(httplib::Response& res, int status, std::string body) {
    res.status = status;
    res.set_content(std::move(body), "application/json; charset=utf-8");
    res.set_header("Cache-Control", "no-store");
}

void send_json(httplib::Response& res, int status, const json& body) {
    send_json_text(res, status, dump(body));
}

void send_error(httplib::Response& res, int status, const std::string& error, const std::string& detail) {
    send_json(res, status, {{"error", error}, {"detail", detail}});
}

// At most `bytes` of s, cut on a character boundary: user input echoed in a message must stay UTF-8.
std::string clip(std::string_view s, std::size_t bytes) {
    if (s.size() <= bytes) return std::string(s);
    while (bytes > 0 && (static_cast<unsigned char>(s[bytes]) & 0xC0) == 0x80) --bytes;
    return std::string(s.substr(0, bytes)).append("…");
}

// Strict integer parsing: the whole text, in range, or UsageError naming the parameter.
long long parse_int(const std::string& text, const char* param, long long lo, long long hi) {
    long long v = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || p != end || v < lo || v > hi)
        throw UsageError(std::string(param).append(" は ").append(std::to_string(lo)).append("〜").append(std::to_string(hi))
                             .append(" の整数で指定してください: ").append(clip(text, 64)),
                         param);
    return v;
}

// Every value of a (possibly repeated) parameter, each checked for UTF-8; empty values are skipped, so a
// form that sends "bureau=" means no filter.
std::vector<std::string> param_values(const httplib::Request& req, const char* key) {
    std::vector<std::string> out;
    const std::size_t n = req.get_param_value_count(key);
    if (n > kMaxValues) throw UsageError(std::string(key).append(" の指定が多すぎます"), key);
    for (std::size_t i = 0; i < n; ++i) {
        std::string v = req.get_param_value(key, i);
        if (first_invalid_utf8(v) != std::string::npos) throw UsageError("UTF-8 として読めない文字が含まれています", key);
        if (!trim(v).empty()) out.emplace_back(trim(v));
    }
    return out;
}

std::string single_param(const httplib::Request& req, const char* key) {
    std::vector<std::string> v = param_values(req, key);
    if (v.size() > 1) throw UsageError(std::string(key).append(" は 1 回だけ指定してください"), key);
    return v.empty() ? std::string() : v.front();
}

// The request filters, kept per facet dimension so that each facet can be counted without its own filter.
struct FacetFilters {
    std::vector<std::string> bureaus, divisions;
    std::vector<int> years;
    std::vector<std::string> kinds;
    std::vector<int> buckets;
    std::optional<std::int64_t> amount_min, amount_max;

    // All of them, or all but the dimension `except` ("bureau", "division", "year", "kind", "bucket").
    Filters merged(const std::string& except = {}) const {
        Filters f;
        if (except != "bureau") f.bureaus = bureaus;
        if (except != "division") f.bureaus.insert(f.bureaus.end(), divisions.begin(), divisions.end());
        if (except != "year") f.years = years;
        if (except != "kind") f.kinds = kinds;
        if (except != "bucket") f.buckets = buckets;
        f.amount_min = amount_min;
        f.amount_max = amount_max;
        return f;
    }
    std::vector<std::string> selected(const std::string& dim) const {
        std::vector<std::string> out;
        if (dim == "bureau") out = bureaus;
        if (dim == "division") out = divisions;
        if (dim == "kind") out = kinds;
        if (dim == "year")
            for (int y : years) out.push_back(std::to_string(y));
        if (dim == "bucket")
            for (int b : buckets) out.push_back(std::to_string(b));
        return out;
    }
};

struct SearchParams {
    SearchRequest request;
    FacetFilters filters;
    int page = 1;
    int per_page = kDefaultPerPage;
    std::string sort = "relevance";
};

SearchParams parse_search_params(const httplib::Request& req, const Config& config) {
    SearchParams p;
    // QueryParser enforces the length and item limits with a UsageError; the HTTP layer only checks encoding.
    p.request.query = single_param(req, "q");
    p.filters.bureaus = param_values(req, "bureau");
    p.filters.divisions = param_values(req, "division");
    for (const std::string& y : param_values(req, "year")) {
        auto v = parse_fiscal_year(y);
        if (!v) throw UsageError("年度は 2025 か 令和7 の形で指定してください: " + clip(y, 64), "year");
        p.filters.years.push_back(*v);
    }
    for (const std::string& k : param_values(req, "kind")) {
        auto v = parse_kind(k);
        if (!v) throw UsageError("予算区分は 当初・補正・予備費・要求 のいずれかです: " + clip(k, 64), "kind");
        p.filters.kinds.push_back(*v);
    }
    for (const std::string& b : param_values(req, "bucket"))
        p.filters.buckets.push_back(static_cast<int>(parse_int(b, "bucket", 0, config.buckets.count() - 1)));
    for (const auto& [key, target] : {std::pair{"amount_min", &p.filters.amount_min}, std::pair{"amount_max", &p.filters.amount_max}}) {
        const std::string text = single_param(req, key);
        if (text.empty()) continue;
        auto v = parse_yen(text);
        if (!v || *v < 0) throw UsageError("金額は 10億, 500百万, 3000万, 1e9 のように指定してください: " + clip(text, 64), key);
        *target = *v;
    }
    if (p.filters.amount_min && p.filters.amount_max && *p.filters.amount_min > *p.filters.amount_max)
        throw UsageError("金額の下限が上限を超えています", "amount_min");
    if (p.filters.amount_max) *p.filters.amount_max += 1;  // amount_max is inclusive for people, exclusive in Filters
    if (std::string s = single_param(req, "sort"); !s.empty()) p.sort = s;
    p.request.sort = parse_sort(p.sort);
    if (std::string s = single_param(req, "page"); !s.empty()) p.page = static_cast<int>(parse_int(s, "page", 1, kMaxPage));
    if (std::string s = single_param(req, "per_page"); !s.empty())
        p.per_page = static_cast<int>(parse_int(s, "per_page", 1, kMaxPerPage));
    p.request.offset = static_cast<Xapian::doccount>((p.page - 1) * p.per_page);
    p.request.limit = static_cast<Xapian::doccount>(p.per_page);
    p.request.filters = p.filters.merged();
    return p;
}

// Searchers to lend to request threads. A Searcher is not thread safe and opening a database costs a few
// file opens, so handles are reused; the pool grows to the number of requests served at once.
class SearcherPool {
public:
    SearcherPool(const Config& c, const Analyzer& a, const BureauDirectory& b, const Synonyms& s)
        : config_(c), analyzer_(a), bureaus_(b), synonyms_(s) {}

    class Lease {
    public:
        Lease(SearcherPool& pool, std::unique_ptr<Searcher> s) : pool_(pool), searcher_(std::move(s)) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { pool_.give_back(std::move(searcher_)); }
        Searcher& operator*() { return *searcher_; }
        Searcher* operator->() { return searcher_.get(); }

    private:
        SearcherPool& pool_;
        std::unique_ptr<Searcher> searcher_;
    };

    Lease acquire() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                std::unique_ptr<Searcher> s = std::move(idle_.back());
                idle_.pop_back();
                return Lease(*this, std::move(s));
            }
        }
        return Lease(*this, std::make_unique<Searcher>(config_, analyzer_, bureaus_, synonyms_));
    }

private:
    void give_back(std::unique_ptr<Searcher> s) {
        if (!s) return;
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(s));
    }
    const Config& config_;
    const Analyzer& analyzer_;
    const BureauDirectory& bureaus_;
    const Synonyms& synonyms_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Searcher>> idle_;
};

// Runs fn with a Searcher that has caught up with the latest commit. A commit that lands while fn reads
// can make Xapian throw DatabaseModifiedError; then the handle is reopened and fn runs once more.
template <class Fn>
auto with_searcher(SearcherPool& pool, Fn&& fn) {
    SearcherPool::Lease s = pool.acquire();
    s->reopen();
    try {
        return fn(*s);
    } catch (const Xapian::DatabaseModifiedError&) {
        s->reopen();
        return fn(*s);
    }
}

// Answers already computed, keyed by the request target and the index generation (database UUID and
// revision), so a nightly commit or a --full switch never serves an old answer. Staff repeat queries
// (the back button, a shared link, clicking a facet off again) and a search costs tens of milliseconds of
// MeCab work for the snippets, while a lookup costs microseconds. Least recently used entries go first.
// Thread safe (one mutex; the work under it is a hash lookup and a list splice).
class ResponseCache {
public:
    explicit ResponseCache(std::size_t capacity) : capacity_(capacity) {}
    std::optional<std::string> get(const std::string& key) {
        if (!capacity_) return std::nullopt;
        std::lock_guard lock(mutex_);
        auto it = index_.find(key);
        if (it == index_.end()) return std::nullopt;
        entries_.splice(entries_.begin(), entries_, it->second);
        return it->second->second;
    }
    void put(const std::string& key, std::string body) {
        if (!capacity_) return;
        std::lock_guard lock(mutex_);
        if (auto it = index_.find(key); it != index_.end()) {
            it->second->second = std::move(body);
            entries_.splice(entries_.begin(), entries_, it->second);
            return;
        }
        entries_.emplace_front(key, std::move(body));
        index_[key] = entries_.begin();
        while (entries_.size() > capacity_) {
            index_.erase(entries_.back().first);
            entries_.pop_back();
        }
    }

private:
    std::size_t capacity_;
    std::mutex mutex_;
    std::list<std::pair<std::string, std::string>> entries_;
    std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> index_;
};

// What identifies the index a Searcher has open; empty when it cannot be told (then nothing is cached).
std::string generation(Searcher& s) {
    try {
        return s.database().get_uuid() + "@" + std::to_string(s.database().get_revision());
    } catch (const Xapian::Error&) {
        return {};
    }
}

json facet_json(const std::vector<FacetValue>& values, const std::vector<std::string>& selected) {
    json arr = json::array();
    std::set<std::string> seen;
    for (const FacetValue& v : values) {
        const bool on = std::find(selected.begin(), selected.end(), v.value) != selected.end();
        arr.push_back({{"value", v.value}, {"label", v.label}, {"count", v.count}, {"selected", on}});
        seen.insert(v.value);
    }
    // A selected value that no longer matches anything still gets a row, so the page can clear it.
    for (const std::string& s : selected)
        if (seen.insert(s).second) arr.push_back({{"value", s}, {"label", s}, {"count", 0}, {"selected", true}});
    return arr;
}

json sheet_json(const Sheet& s) {
    json j = s.to_json();
    j["display_title"] = s.display_title();
    j["location"] = s.location();
    return j;
}

json hits_json(const std::vector<Hit>& hits) {
    json arr = json::array();
    for (const Hit& h : hits) {
        json j = hit_json(h);
        j["display_title"] = h.sheet.display_title();
        j["location"] = h.sheet.location();
        arr.push_back(std::move(j));
    }
    return arr;
}

// Reads the [server] table of the config file: listen = "host:port", static_dir = "path" (relative to the
// config file). Absent keys leave the options as they are.
void load_server_section(const Config& config, ServerOptions& options) {
    if (config.source.empty() || !fs::exists(config.source)) return;
    toml::table t;
    try {
        t = toml::parse_file(config.source);
    } catch (const toml::parse_error& e) {
        throw ConfigError(std::string(e.description()), config.source);
    }
    if (auto listen = t["server"]["listen"].value<std::string>()) parse_listen(*listen, options);
    if (auto dir = t["server"]["static_dir"].value<std::string>(); dir && !dir->empty()) {
        fs::path p(*dir);
        options.static_dir = (p.is_absolute() ? p : fs::path(config.source).parent_path() / p).lexically_normal().string();
    }
}

}  // namespace

void parse_listen(const std::string& text, ServerOptions& options) {
    std::string host = options.host, port = text;
    if (!text.empty() && text.front() == '[') {  // [::1]:8080
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            throw UsageError("--listen は 127.0.0.1:8080 の形で指定してください: " + text, "--listen");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
        if (colon > 0) host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    options.port = static_cast<int>(parse_int(port, "--listen", 0, 65535));
    options.host = host;
}

struct HttpServer::Impl {
    Impl(Config c, ServerOptions o)
        : config(std::move(c)),
          options(std::move(o)),
          analyzer(config.analysis),
          bureaus(config.bureaus_path.empty() ? BureauDirectory{} : BureauDirectory::load(config.bureaus_path)),
          synonyms(Synonyms::load(config.synonyms_path, analyzer)),
          pool(config, analyzer, bureaus, synonyms) {
        { auto first = pool.acquire(); }  // opens the index now: a missing index fails at start, not per request
        routes();
    }

    void routes();
    void guarded(const httplib::Request& req, httplib::Response& res, const std::function<void()>& fn);
    void answer(const httplib::Request& req, httplib::Response& res, const std::function<json(Searcher&)>& produce);
    void handle_search(const httplib::Request& req, httplib::Response& res);
    void handle_sheet(const httplib::Request& req, const std::string& id, httplib::Response& res);
    void handle_similar(const httplib::Request& req, const std::string& id, httplib::Response& res);
    void handle_health(httplib::Response& res);
    void handle_static(const std::string& name, httplib::Response& res);

    Config config;
    ServerOptions options;
    Analyzer analyzer;
    BureauDirectory bureaus;
    Synonyms synonyms;
    SearcherPool pool;
    ResponseCache cache{options.cache_entries};
    httplib::Server http;
    int port = -1;
};

// The only place request errors are caught: yosan::UsageError is the caller's fault (400); everything else
// is ours (500), and is logged because staff cannot see it.
void HttpServer::Impl::guarded(const httplib::Request& req, httplib::Response& res, const std::function<void()>& fn) {
    try {
        fn();
    } catch (const HttpError& e) {
        send_error(res, e.status(), e.message(), e.context());
    } catch (const UsageError& e) {
        send_error(res, 400, e.message(), e.context());
    } catch (const Error& e) {
        std::cerr << "yosan-search serve: " << req.path << ": " << e.describe() << "\n";
        send_error(res, 500, "サーバーでエラーが起きました", e.describe());
    } catch (const Xapian::Error& e) {
        std::cerr << "yosan-search serve: " << req.path << ": Xapian: " << e.get_description() << "\n";
        send_error(res, 500, "索引の読み出しでエラーが起きました", e.get_description());
    } catch (const std::exception& e) {
        std::cerr << "yosan-search serve: " << req.path << ": " << e.what() << "\n";
        send_error(res, 500, "サーバーでエラーが起きました", e.what());
    }
}

// Answers from the cache, or runs produce(searcher) on a Searcher that has caught up with the latest
// commit and caches what it returns. A commit that lands during produce() can make Xapian throw
// DatabaseModifiedError; then the handle is reopened and the answer computed once more.
void HttpServer::Impl::answer(const httplib::Request& req, httplib::Response& res, const std::function<json(Searcher&)>& produce) {
    SearcherPool::Lease s = pool.acquire();
    for (int attempt = 0;; ++attempt) {
        s->reopen();
        std::string key = generation(*s);
        if (!key.empty()) {
            // httplib's params are a multimap ordered by name, so the key does not depend on the order in
            // the URL; control characters separate the parts, as they cannot occur in a decoded value.
            key.append("\x1f").append(req.path);
            for (const auto& [k, v] : req.params) key.append("\x1e").append(k).append("\x1d").append(v);
            if (std::optional<std::string> hit = cache.get(key)) {
                send_json_text(res, 200, std::move(*hit));
                res.set_header("X-Yosan-Cache", "hit");
                return;
            }
        }
        try {
            std::string body = dump(produce(*s));
            if (!key.empty()) cache.put(key, body);
            send_json_text(res, 200, std::move(body));
            return;
        } catch (const Xapian::DatabaseModifiedError&) {
            if (attempt > 0) throw;
        }
    }
}

void HttpServer::Impl::handle_search(const httplib::Request& req, httplib::Response& res) {
    const SearchParams p = parse_search_params(req, config);
    answer(req, res, [&](Searcher& s) {
        SearchResult r = s.search(p.request);
        json j = to_json(r);
        j["hits"] = hits_json(r.hits);
        // Facets are counted as if their own dimension were not filtered, so that a second value of the
        // same facet can be added (OR within a facet, AND across facets). One cheap extra pass per
        // filtered dimension: no hits are fetched, only the facet spy runs.
        for (const std::string dim : {"bureau", "division", "year", "kind", "bucket"}) {
            const std::vector<std::string> selected = p.filters.selected(dim);
            if (selected.empty()) {
                j["facets"][dim] = facet_json(r.facets[dim], selected);
                continue;
            }
            SearchRequest alt = p.request;
            alt.filters = p.filters.merged(dim);
            alt.offset = 0;
            alt.limit = 0;
            SearchResult ar = s.search(alt);
            j["facets"][dim] = facet_json(ar.facets[dim], selected);
        }
        j["query"] = p.request.query;
        j["page"] = p.page;
        j["per_page"] = p.per_page;
        j["pages"] = (static_cast<long long>(r.total) + p.per_page - 1) / p.per_page;
        j["sort"] = p.sort;
        return j;
    });
}

void HttpServer::Impl::handle_sheet(const httplib::Request& req, const std::string& id, httplib::Response& res) {
    answer(req, res, [&](Searcher& s) {
        std::optional<Sheet> sheet = s.sheet(id);
        if (!sheet) throw HttpError(404, "その ID の資料はありません", clip(id, 64));
        return sheet_json(*sheet);
    });
}

void HttpServer::Impl::handle_similar(const httplib::Request& req, const std::string& id, httplib::Response& res) {
    int limit = 8;
    if (std::string l = single_param(req, "limit"); !l.empty()) limit = static_cast<int>(parse_int(l, "limit", 1, kMaxSimilar));
    answer(req, res, [&](Searcher& s) {
        if (!s.sheet(id)) throw HttpError(404, "その ID の資料はありません", clip(id, 64));
        return json{{"id", id}, {"hits", hits_json(s.similar(id, static_cast<Xapian::doccount>(limit)))}};
    });
}

void HttpServer::Impl::handle_health(httplib::Response& res) {
    json out = with_searcher(pool, [&](Searcher& s) {
        Xapian::Database& db = s.database();
        json j = {{"status", "ok"}, {"sheets", db.get_doccount()}};
        // A stub file or a sharded database has no single revision; report it only when there is one.
        try {
            j["revision"] = db.get_revision();
        } catch (const Xapian::InvalidOperationError&) {
            j["revision"] = nullptr;
        }
        const std::string at = db.get_metadata(std::string(schema::kMetaIndexedAt));
        j["indexed_at"] = at.empty() ? json(nullptr) : json(at);
        j["schema"] = db.get_metadata(std::string(schema::kMetaSchema));
        return j;
    });
    send_json(res, 200, out);
}

void HttpServer::Impl::handle_static(const std::string& name, httplib::Response& res) {
    // Names are a flat list of plain file names: no '/', no "..", no hidden files. Anything else is simply
    // not one of the page's files.
    const bool plain = !name.empty() && name.size() < 128 && name.front() != '.' &&
                       name.find_first_of("/\\") == std::string::npos && name.find("..") == std::string::npos &&
                       first_invalid_utf8(name) == std::string::npos;
    if (!plain) throw HttpError(404, "ページが見つかりません", clip(name, 64));
    if (!options.static_dir.empty()) {
        const fs::path path = fs::path(options.static_dir) / name;
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) throw HttpError(404, "ページが見つかりません", name);
        std::ifstream in(path, std::ios::binary);
        std::ostringstream body;
        body << in.rdbuf();
        res.set_content(body.str(), content_type_of(name));
    } else {
        const web::Asset* a = web::find_asset(name);
        if (!a) throw HttpError(404, "ページが見つかりません", name);
        res.set_content(std::string(a->body), content_type_of(name));
    }
    res.status = 200;
    res.set_header("Cache-Control", name == "index.html" ? "no-cache" : "max-age=300");
}

void HttpServer::Impl::routes() {
    http.set_default_headers(kSecurityHeaders);
    // Read-only: only GET (and HEAD, which httplib answers from the GET routes) is routed at all.
    http.Get("/api/search", [this](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handle_search(req, res); });
    });
    http.Get(R"(/api/sheets/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handle_sheet(req, req.matches[1].str(), res); });
    });
    http.Get(R"(/api/sheets/([^/]+)/similar)", [this](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handle_similar(req, req.matches[1].str(), res); });
    });
    http.Get("/healthz", [this](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handle_health(res); });
    });
    http.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handle_static("index.html", res); });
    });
    http.Get(R"(/static/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handle_static(req.matches[1].str(), res); });
    });
    http.Get("/favicon.ico", [this](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handle_static("favicon.svg", res); });
    });
    // Called for every response >= 400. Routing misses, other methods and requests that httplib rejects
    // itself (a URI over 8 KB: 414) get the same JSON shape as our own errors. An over-long URI is nearly
    // always an over-long query, which the API reports as a 400.
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (!req.method.empty() && req.method != "GET" && req.method != "HEAD" && res.status != 414 && res.status != 431) {
            res.set_header("Allow", "GET, HEAD");
            send_error(res, 405, "この操作はできません（読み出し専用です）", req.method);
            return httplib::Server::HandlerResponse::Handled;
        }
        switch (res.status) {
            case 414:
            case 431:
                res.status = 400;
                send_error(res, 400, "検索語または条件が長すぎます", "検索語は 1024 バイトまでです");
                break;
            case 404: send_error(res, 404, "ページが見つかりません", clip(req.path, 128)); break;
            default:
                send_error(res, res.status, "リクエストを処理できません", std::to_string(res.status));
        }
        return httplib::Server::HandlerResponse::Handled;
    }));
    // A last line of defence: handlers catch everything themselves, so reaching this is a bug, but the
    // client still gets JSON and the server keeps running.
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_error(res, 500, "サーバーでエラーが起きました", "unexpected exception");
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        if (options.access_log || res.status >= 500)
            std::cerr << req.method << " " << req.path << " " << res.status << "\n";
    });
    http.set_payload_max_length(64 * 1024);  // nothing is uploaded; a large body is refused early
    const std::size_t threads = std::max<std::size_t>(options.threads, 2);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_keep_alive_timeout(2);  // an idle connection gives its thread back soon
    // httplib writes the headers and the body separately; with Nagle's algorithm the body then waits for
    // the client's delayed ACK (40 ms on Linux) on a kept-alive connection.
    http.set_tcp_nodelay(true);
    http.set_keep_alive_max_count(1000);  // the page and API clients reuse connections; 5 (the default) is low
}

HttpServer::HttpServer(Config config, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
    Impl& i = *impl_;
    i.port = i.options.port == 0 ? i.http.bind_to_any_port(i.options.host)
                                 : (i.http.bind_to_port(i.options.host, i.options.port) ? i.options.port : -1);
    if (i.port < 0)
        throw Error(std::string("待ち受けできません（使用中のポートか、不正なアドレスです）"),
                    std::string(i.options.host).append(":").append(std::to_string(i.options.port)));
    return i.port;
}

bool HttpServer::run() { return impl_->http.listen_after_bind(); }
void HttpServer::stop() { impl_->http.stop(); }
bool HttpServer::running() const { return impl_->http.is_running(); }

int run_server(int argc, char** argv) {
    namespace po = boost::program_options;
    std::string config_path, index_path, listen, static_dir;
    bool access_log = false;
    std::size_t cache_entries = ServerOptions{}.cache_entries, threads = ServerOptions{}.threads;
    po::options_description opts("yosan-search serve [--config FILE] [--listen 127.0.0.1:8080]");
    opts.add_options()
        ("help,h", "show this help")
        ("config,c", po::value(&config_path)->default_value(default_config_path()), "config file (TOML)")
        ("index,i", po::value(&index_path), "index directory (overrides the config)")
        ("listen,l", po::value(&listen), "address and port; loopback unless told otherwise (overrides [server] listen)")
        ("static-dir", po::value(&static_dir), "serve the page from this folder instead of the built-in copy")
        ("access-log", po::bool_switch(&access_log), "log every request on stderr")
        ("cache-entries", po::value(&cache_entries), "answers kept in memory (0 = no cache; default 256)")
        ("threads", po::value(&threads), "worker threads (default 32)");
    po::variables_map vm;
    if (!parse_command_line(argc, argv, opts, nullptr, vm)) return 0;
    const Config config = load_config(config_path, index_path);
    ServerOptions options;
    load_server_section(config, options);
    if (!listen.empty()) parse_listen(listen, options);
    if (!static_dir.empty()) options.static_dir = static_dir;
    options.access_log = access_log;
    if (vm.count("cache-entries")) options.cache_entries = cache_entries;
    if (vm.count("threads")) options.threads = threads;

    // SIGINT/SIGTERM are blocked in every thread (the worker threads inherit the mask) and taken by one
    // waiting thread, which stops the server from ordinary code rather than from a signal handler.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    HttpServer server(std::move(config), options);
    const int port = server.bind();
    std::string host = options.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    std::cout << "yosan-search: http://" << host << ":" << port << "/ で待ち受けています（Ctrl-C で終了）" << std::endl;
    std::thread waiter([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        server.stop();
    });
    const bool ok = server.run();
    // When listening failed no signal came; send one so the waiting thread can finish.
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    return ok ? 0 : 1;
}

}  // namespace yosan
