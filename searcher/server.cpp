#include "searcher/server.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
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

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <httplib.h>

#include "core/bureaus.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/run_state.h"
#include "core/schema.h"
#include "core/text.h"
#include "searcher/client_address.h"
#include "searcher/export.h"
#include "searcher/guarded_http_server.h"
#include "searcher/http_assets.h"
#include "searcher/metrics.h"
#include "searcher/response_cache.h"
#include "searcher/search_request.h"
#include "searcher/searcher.h"
#include "searcher/searcher_pool.h"

namespace yosan {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kDefaultPerPage = 10;
constexpr int kMaxPerPage = 100;
constexpr int kMaxPage = 1000;      // deeper pages are never useful to a person and cost a full match
constexpr int kMaxSimilar = 20;

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

struct SearchParams {
    SearchRequest request;
    int page = 1;
    int per_page = kDefaultPerPage;
};

SearchParams parse_search_params(const httplib::Request& req, const FacetContext& context) {
    SearchParams p;
    p.request = read_search_request(req.params, context);
    if (std::string s = single_param(req.params, "page"); !s.empty()) p.page = static_cast<int>(parse_int(s, "page", 1, kMaxPage));
    if (std::string s = single_param(req.params, "per_page"); !s.empty())
        p.per_page = static_cast<int>(parse_int(s, "per_page", 1, kMaxPerPage));
    p.request.offset = static_cast<Xapian::doccount>((p.page - 1) * p.per_page);
    p.request.limit = static_cast<Xapian::doccount>(p.per_page);
    return p;
}

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

// What identifies the index a Searcher has open; empty when it cannot be told (then nothing is cached).
std::string generation(Searcher& s) {
    try {
        return s.database().get_uuid() + "@" + std::to_string(s.database().get_revision());
    } catch (const Xapian::Error&) {
        return {};
    }
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

// An open file descriptor, closed when it goes.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

// The bytes of `name` in the static folder. The name is already a plain file name, but the folder may hold
// a symbolic link (planted, or left by a careless copy) to /etc/passwd or to anything else outside it:
// the link is resolved and the target must be a regular file directly inside the (resolved) folder, and
// it is opened with O_NOFOLLOW so that a link swapped in after the check is not followed either.
// Anything else is simply not one of the page's files (404).
std::string read_static_file(const std::string& static_dir, const std::string& name) {
    std::error_code ec;
    const fs::path dir = fs::canonical(static_dir, ec);
    if (ec) throw HttpError(404, "ページが見つかりません", name);
    const fs::path target = fs::canonical(dir / name, ec);
    if (ec || target.parent_path() != dir) throw HttpError(404, "ページが見つかりません", name);
    const FileDescriptor fd(::open(target.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) throw HttpError(404, "ページが見つかりません", name);
    std::string body;
    char buf[16384];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error("静的ファイルを読めません", target.string());
        }
        body.append(buf, static_cast<std::size_t>(n));
    }
    return body;
}

// [server] listen and static_dir (core/config.h) as options; the command line overrides them afterwards.
void load_server_section(const Config& config, ServerOptions& options) {
    if (!config.server.listen.empty()) parse_listen(config.server.listen, options);
    if (!config.server.static_dir.empty()) options.static_dir = config.server.static_dir;
}

// What /healthz says about the index and the last runs, and whether that is a reason for 503 (`reasons`)
// or only worth a look (`warnings`). Each entry is {"code", "message"}: the code for alerting rules, the
// message for the people reading it.
struct Health {
    nlohmann::json body = nlohmann::json::object();
    nlohmann::json reasons = nlohmann::json::array();
    nlohmann::json warnings = nlohmann::json::array();
    void reason(std::string code, std::string message) { reasons.push_back({{"code", std::move(code)}, {"message", std::move(message)}}); }
    void warning(std::string code, std::string message) { warnings.push_back({{"code", std::move(code)}, {"message", std::move(message)}}); }
};

std::string hours_text(double hours) {
    std::ostringstream s;
    s.precision(3);
    s << hours;
    return s.str();
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

std::string access_log_line(const std::string& client, const std::string& method, const std::string& target, int status,
                            double milliseconds) {
    static const char* hex = "0123456789ABCDEF";
    const auto field = [](std::string& out, std::string_view text, std::size_t max) {
        if (text.empty()) out += '-';
        for (std::size_t i = 0; i < text.size() && i < max; ++i) {
            const auto c = static_cast<unsigned char>(text[i]);
            if (c > 0x20 && c < 0x7f) out += static_cast<char>(c);
            else out.append("%").append(1, hex[c >> 4]).append(1, hex[c & 15]);
        }
        if (text.size() > max) out += "...";
    };
    std::string line;
    field(line, client, 64);
    line += ' ';
    field(line, method, 16);
    line += ' ';
    field(line, target, 256);
    char tail[48];
    std::snprintf(tail, sizeof tail, " %d %.1fms", status, milliseconds);
    return line + tail;
}

struct HttpServer::Impl {
    Impl(Config c, ServerOptions o)
        : config(std::move(c)),
          options(std::move(o)),
          analyzer(config.analysis),
          bureaus(config.bureaus_path.empty() ? BureauDirectory{} : BureauDirectory::load(config.bureaus_path)),
          synonyms(Synonyms::load(config.synonyms_path, analyzer)),
          analysis(analysis_fingerprint(config)),
          proxies(config.server.trusted_proxies),
          state_path(run_state_path(config)),
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
    void handle_metrics(httplib::Response& res);
    void log_request(const httplib::Request& req, const httplib::Response& res);
    void handle_timeline(const httplib::Request& req, const std::string& id, httplib::Response& res);
    void handle_search_csv(const httplib::Request& req, httplib::Response& res);
    void handle_static(const std::string& name, httplib::Response& res);

    Config config;
    ServerOptions options;
    Analyzer analyzer;
    BureauDirectory bureaus;
    Synonyms synonyms;
    std::string analysis;  // analysis_fingerprint(config), for /healthz: the dictionaries do not change while serving
    TrustedProxies proxies;  // [server] trusted_proxies
    std::string state_path;  // where yosan-index records its runs (core/run_state.h)
    Metrics metrics;
    SearcherPool pool;
    ResponseCache cache{options.cache_entries};
    GuardedHttpServer http{ConnectionLimits{.threads = std::max<std::size_t>(options.threads, 2),
                                            .request_deadline = options.request_timeout,
                                            .max_connections = std::max<std::size_t>(options.max_connections, 1),
                                            .max_queued = std::max<std::size_t>(options.threads, 2) * 8}};
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
            key = ResponseCache::key(key, req.path, req.params);
            if (std::optional<std::string> hit = cache.get(key)) {
                metrics.cache_hit();
                send_json_text(res, 200, std::move(*hit));
                res.set_header("X-Yosan-Cache", "hit");
                return;
            }
            if (attempt == 0) metrics.cache_miss();
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
    const SearchParams p = parse_search_params(req, FacetContext{config, bureaus});
    answer(req, res, [&](Searcher& s) {
        SearchResult r = s.search(p.request);
        json j = to_json(r);
        j["hits"] = hits_json(r.hits);
        j["query"] = p.request.query;
        j["page"] = p.page;
        j["per_page"] = p.per_page;
        j["pages"] = (static_cast<long long>(r.total) + p.per_page - 1) / p.per_page;
        j["sort"] = sort_name(p.request.sort);
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
    if (std::string l = single_param(req.params, "limit"); !l.empty()) limit = static_cast<int>(parse_int(l, "limit", 1, kMaxSimilar));
    answer(req, res, [&](Searcher& s) {
        if (!s.sheet(id)) throw HttpError(404, "その ID の資料はありません", clip(id, 64));
        return json{{"id", id}, {"hits", hits_json(s.similar(id, static_cast<Xapian::doccount>(limit)))}};
    });
}

void HttpServer::Impl::handle_timeline(const httplib::Request& req, const std::string& id, httplib::Response& res) {
    answer(req, res, [&](Searcher& s) {
        std::optional<Timeline> t = timeline(s, id);
        if (!t) throw HttpError(404, "その ID の資料はありません", clip(id, 64));
        json j = timeline_json(*t);
        j["id"] = id;
        return j;
    });
}

// The whole matched set as CSV (searcher/export.h), not cached: it can be large and is asked for rarely.
void HttpServer::Impl::handle_search_csv(const httplib::Request& req, httplib::Response& res) {
    const SearchRequest request = read_search_request(req.params, FacetContext{config, bureaus});
    const ExportResult r = with_searcher(pool, [&](Searcher& s) { return export_matches(s, request); });
    res.status = 200;
    res.set_content(export_csv(r), "text/csv; charset=utf-8");
    res.set_header("Content-Disposition", "attachment; filename=\"yosan-search.csv\"");
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Yosan-Total", std::to_string(r.total));
    res.set_header("X-Yosan-Rows", std::to_string(r.sheets.size()));
    if (r.truncated()) res.set_header("X-Yosan-Truncated", std::to_string(kMaxExportRows));
}

// 200 when the index answers and is up to date; 503 with {"status": "unhealthy", "reasons": [...]} when
//   - the index cannot be opened (index-unavailable),
//   - it was analysed with other dictionaries or character fixes (analysis-mismatch),
//   - it has not been brought up to date for [server] max_index_age_hours (index-too-old): its age is the
//     time since the later of its yosan:indexed_at (the last commit) and the end of the last successful run
//     (a run that finds nothing changed commits nothing, yet the index is current),
//   - the last run failed, was refused (mass delete) or found the lock held (last-run-<status>).
// A partial last run (some files skipped; they kept their sheets) is a warning, not a reason: the rest was
// committed, and the systemd unit takes exit 3 as success too. So is a state file that cannot be read, and
// an index whose age cannot be told.
void HttpServer::Impl::handle_health(httplib::Response& res) {
    using Clock = std::chrono::system_clock;
    const Clock::time_point now = Clock::now();
    Health h;
    std::optional<Clock::time_point> indexed_at;
    try {
        with_searcher(pool, [&](Searcher& s) {
            Xapian::Database& db = s.database();
            h.body["sheets"] = db.get_doccount();
            // A sharded database has no single revision; report it only when there is one.
            try {
                h.body["revision"] = db.get_revision();
            } catch (const Xapian::InvalidOperationError&) {
                h.body["revision"] = nullptr;
            }
            const std::string at = db.get_metadata(std::string(schema::kMetaIndexedAt));
            h.body["indexed_at"] = at.empty() ? json(nullptr) : json(at);
            indexed_at = parse_utc_timestamp(at);
            h.body["schema"] = db.get_metadata(std::string(schema::kMetaSchema));
            // An index analysed with other dictionaries answers, but words silently stop matching.
            if (auto mismatch = analysis_mismatch(analysis, db)) h.reason("analysis-mismatch", *mismatch);
            return 0;
        });
    } catch (const Error& e) {  // the health check's subject: reported, not a 500
        h.reason("index-unavailable", "索引を開けません: " + e.describe());
    } catch (const Xapian::Error& e) {
        h.reason("index-unavailable", "索引を開けません: " + e.get_description());
    }

    std::optional<RunState> state;
    try {
        state = read_run_state(state_path);
    } catch (const Error& e) {
        h.warning("state-unreadable", e.describe());
    }
    std::optional<Clock::time_point> current = indexed_at;
    if (state && state->last_run) {
        const RunRecord& r = *state->last_run;
        json last = {{"status", r.status}, {"exit_status", r.exit_status}, {"finished_at", r.finished_at}};
        if (!r.error.empty()) last["error"] = r.error;
        h.body["last_run"] = std::move(last);
        if (r.status == "partial")
            h.warning("last-run-partial", "前回の索引処理で読み飛ばしたファイルがあります（yosan-index の警告を確認してください）");
        else if (!run_succeeded(r.status))
            h.reason("last-run-" + r.status, "前回の索引処理が失敗しました（" + r.status + "）" + (r.error.empty() ? "" : ": " + r.error));
    } else {
        h.body["last_run"] = nullptr;
    }
    if (state && state->last_success) {
        h.body["last_success"] = state->last_success->finished_at;
        if (auto end = parse_utc_timestamp(state->last_success->finished_at); end && (!current || *end > *current)) current = end;
    } else {
        h.body["last_success"] = nullptr;
    }
    const double max_hours = config.server.max_index_age_hours;
    h.body["max_index_age_hours"] = max_hours;
    if (current) {
        const double age = std::chrono::duration<double, std::ratio<3600>>(now - *current).count();
        h.body["index_age_hours"] = age;
        if (max_hours > 0 && age > max_hours)
            h.reason("index-too-old", "索引が " + hours_text(age) + " 時間更新されていません（上限 " + hours_text(max_hours) + " 時間）");
    } else {
        h.body["index_age_hours"] = nullptr;
        if (h.body.contains("sheets")) h.warning("index-age-unknown", "索引の更新時刻が分かりません");
    }
    h.body["status"] = h.reasons.empty() ? "ok" : "unhealthy";
    h.body["reasons"] = std::move(h.reasons);
    h.body["warnings"] = std::move(h.warnings);
    send_json(res, h.body["status"] == "ok" ? 200 : 503, h.body);
}

void HttpServer::Impl::handle_metrics(httplib::Response& res) {
    Metrics::Snapshot snap;
    try {
        with_searcher(pool, [&](Searcher& s) {
            Xapian::Database& db = s.database();
            snap.sheets = db.get_doccount();
            try {
                snap.revision = db.get_revision();
            } catch (const Xapian::InvalidOperationError&) {
                // a sharded database: no single revision
            }
            return 0;
        });
    } catch (const Error&) {
        // yosan_index_up 0 says it; the scrape itself still answers
    } catch (const Xapian::Error&) {
    }
    try {
        if (std::optional<RunState> state = read_run_state(state_path)) {
            if (state->last_run) snap.last_run_status = state->last_run->status;
            if (state->last_success)
                if (auto end = parse_utc_timestamp(state->last_success->finished_at))
                    snap.seconds_since_success = std::chrono::duration<double>(std::chrono::system_clock::now() - *end).count();
        }
    } catch (const Error&) {
        // an unreadable state file: the series are left out, and /healthz names the problem
    }
    const GuardedHttpServer::Stats gate = http.stats();
    snap.connections_accepted = gate.accepted;
    snap.requests_timed_out = gate.timed_out;
    snap.connections_refused = gate.refused;
    res.status = 200;
    res.set_content(metrics.render(snap), "text/plain; version=0.0.4; charset=utf-8");
    res.set_header("Cache-Control", "no-store");
}

// Runs on the worker thread when the answer is ready to be written (see routes()).
void HttpServer::Impl::log_request(const httplib::Request& req, const httplib::Response& res) {
    const auto latency = std::chrono::steady_clock::now() - GuardedHttpServer::request_arrived();
    metrics.record_request(Metrics::route_of(req.path), res.status, latency);
    if (!options.access_log && res.status < 500) return;
    std::string forwarded;  // several X-Forwarded-For headers are one list, in order
    for (std::size_t i = 0, n = req.get_header_value_count("X-Forwarded-For"); i < n; ++i)
        forwarded.append(i ? "," : "").append(req.get_header_value("X-Forwarded-For", i));
    const std::string client = proxies.client(req.remote_addr, forwarded, req.get_header_value("X-Real-IP"));
    const std::string line =
        access_log_line(client, req.method, req.target, res.status, std::chrono::duration<double, std::milli>(latency).count());
    if (options.access_log) options.access_log(line);
    else std::cerr << "yosan-search serve: " + line + "\n";
}

void HttpServer::Impl::handle_static(const std::string& name, httplib::Response& res) {
    // Names are a flat list of plain file names: no '/', no "..", no hidden files. Anything else is simply
    // not one of the page's files.
    const bool plain = !name.empty() && name.size() < 128 && name.front() != '.' &&
                       name.find_first_of("/\\") == std::string::npos && name.find("..") == std::string::npos &&
                       first_invalid_utf8(name) == std::string::npos;
    if (!plain) throw HttpError(404, "ページが見つかりません", clip(name, 64));
    if (!options.static_dir.empty()) {
        res.set_content(read_static_file(options.static_dir, name), content_type_of(name));
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
    http.Get(R"(/api/search\.csv)", [this](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handle_search_csv(req, res); });
    });
    http.Get(R"(/api/sheets/([^/]+)/timeline)", [this](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handle_timeline(req, req.matches[1].str(), res); });
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
    http.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handle_metrics(res); });
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
    // Counted and logged when the answer is ready, just before httplib writes it (its post-routing hook runs
    // for every answer a worker writes, errors included): a client that has read its answer finds it counted,
    // and a slow reader does not stretch the latency of the server's own work.
    http.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) { log_request(req, res); });
    http.set_payload_max_length(64 * 1024);  // nothing is uploaded; a large body is refused early
    // Worker threads, the request deadline and the connection limit: see GuardedHttpServer (slowloris).
    http.set_keep_alive_timeout(2);  // an idle kept-alive connection is closed after this
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
    i.http.widen_backlog(1024);
    return i.port;
}

bool HttpServer::run() { return impl_->http.listen_after_bind(); }
void HttpServer::stop() { impl_->http.stop(); }
bool HttpServer::running() const { return impl_->http.is_running(); }

int run_server(int argc, char** argv) {
    namespace po = boost::program_options;
    std::string config_path, index_path, listen, static_dir;
    bool access_log = false;  // forces the access log on even when [server] access_log = false
    std::size_t cache_entries = ServerOptions{}.cache_entries, threads = ServerOptions{}.threads,
                max_connections = ServerOptions{}.max_connections;
    double request_timeout = 5;
    po::options_description opts("yosan-search serve [--config FILE] [--listen 127.0.0.1:8080]");
    opts.add_options()
        ("help,h", "show this help")
        ("config,c", po::value(&config_path)->default_value(default_config_path()), "config file (TOML)")
        ("index,i", po::value(&index_path), "index directory (overrides the config)")
        ("listen,l", po::value(&listen), "address and port; loopback unless told otherwise (overrides [server] listen)")
        ("static-dir", po::value(&static_dir), "serve the page from this folder instead of the built-in copy")
        ("access-log", po::bool_switch(&access_log), "log every request on stderr (the default unless [server] access_log = false)")
        ("cache-entries", po::value(&cache_entries), "answers kept in memory (0 = no cache; default 256)")
        ("threads", po::value(&threads), "worker threads (default 32)")
        ("request-timeout", po::value(&request_timeout), "seconds for a whole request to arrive, else 408 (default 5)")
        ("max-connections", po::value(&max_connections), "open connections at once, beyond which 503 (default 512)");
    po::variables_map vm;
    if (!parse_command_line(argc, argv, opts, nullptr, vm)) return 0;
    const Config config = load_config(config_path, index_path);
    ServerOptions options;
    load_server_section(config, options);
    if (!listen.empty()) parse_listen(listen, options);
    if (!static_dir.empty()) options.static_dir = static_dir;
    if (access_log || config.server.access_log)
        options.access_log = [](const std::string& line) { std::cerr << line + "\n" << std::flush; };
    if (vm.count("cache-entries")) options.cache_entries = cache_entries;
    if (vm.count("threads")) options.threads = threads;
    if (vm.count("max-connections")) options.max_connections = max_connections;
    if (vm.count("request-timeout")) {
        if (!(request_timeout >= 0.1 && request_timeout <= 600))
            throw UsageError("--request-timeout は 0.1〜600 秒で指定してください", "--request-timeout");
        options.request_timeout = std::chrono::milliseconds(static_cast<long long>(request_timeout * 1000));
    }

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
