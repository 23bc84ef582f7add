#include "searcher/server.h"

#include <algorithm>
#include <cerrno>
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

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <httplib.h>
#include <toml++/toml.h>

#include "core/bureaus.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/schema.h"
#include "core/text.h"
#include "searcher/export.h"
#include "searcher/guarded_http_server.h"
#include "searcher/http_assets.h"
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
          analysis(analysis_fingerprint(config)),
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
    void handle_timeline(const httplib::Request& req, const std::string& id, httplib::Response& res);
    void handle_search_csv(const httplib::Request& req, httplib::Response& res);
    void handle_static(const std::string& name, httplib::Response& res);

    Config config;
    ServerOptions options;
    Analyzer analyzer;
    BureauDirectory bureaus;
    Synonyms synonyms;
    std::string analysis;  // analysis_fingerprint(config), for /healthz: the dictionaries do not change while serving
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
        // An index analysed with other dictionaries answers, but words silently stop matching.
        if (auto mismatch = analysis_mismatch(analysis, db)) j["status"] = "analysis-mismatch", j["detail"] = *mismatch;
        return j;
    });
    send_json(res, out["status"] == "ok" ? 200 : 503, out);
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
    bool access_log = false;
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
        ("access-log", po::bool_switch(&access_log), "log every request on stderr")
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
    options.access_log = access_log;
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
