// `yosan-search serve`: the HTTP JSON API and the staff search page (cpp-httplib).
//
//   GET /api/search?q=&bureau=&division=&year=&kind=&bucket=&amount_min=&amount_max=&sort=&page=&per_page=
//   GET /api/sheets/{id}            one whole sheet (sections, source lines)
//   GET /api/sheets/{id}/similar    related sheets
//   GET /healthz                    index revision, sheet count, last index time, last run; 503 with the reasons
//                                   when unhealthy (see handle_health in server.cpp)
//   GET /metrics                    Prometheus text format (searcher/metrics.h)
//   GET /, /static/*                the page (built into the binary, or from ServerOptions::static_dir)
//
// The server is read-only: no route writes to the index. Errors are JSON {"error", "detail"}: 400 for a bad
// parameter (yosan::UsageError), 404 for an unknown id or path, 500 for anything else; a handler never lets
// an exception escape.
//
// Concurrency: cpp-httplib serves requests on a pool of worker threads. A Searcher is NOT thread safe, so
// each request borrows one from a pool (one Xapian handle per concurrent request) and calls reopen() first,
// which is a cheap check when nothing changed; a nightly commit is therefore visible without a restart.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/config.h"

namespace yosan {

struct ServerOptions {
    // Where to listen. Default: loopback only, so nothing is exposed to the network unless asked for.
    std::string host = "127.0.0.1";
    // 0 picks a free port (tests); bind() returns the one chosen.
    int port = 8080;
    // A folder holding index.html, app.js, style.css... to serve instead of the copies built into the
    // binary (for an installed package or for editing the page without rebuilding). Default: empty.
    std::string static_dir;
    // Where the access log goes: one line per request (client, method, target, status, milliseconds; see
    // access_log_line()). Called from the worker threads at once. Empty: no access log, and only server
    // errors (5xx) are logged on stderr. run_server() sends it to stderr unless [server] access_log = false.
    std::function<void(const std::string& line)> access_log;
    // How many answers (search, sheet, similar) to keep in memory, keyed by the request and the index
    // generation, so a new commit is never answered from the cache. 0 turns it off. Default: 256.
    std::size_t cache_entries = 256;
    // Worker threads. They only run requests whose header has fully arrived (see guarded_http_server.h),
    // and requests are short. Default: 32.
    std::size_t threads = 32;
    // The request line, headers and body must arrive within this time, or the client gets 408 and the
    // connection is closed: a client trickling its request a byte at a time (slowloris) holds no worker and
    // no connection slot for long. Default: 5 s.
    std::chrono::milliseconds request_timeout{5000};
    // Connections open at once; one more is answered 503 (JSON) and closed. Default: 512.
    std::size_t max_connections = 512;
};

// Parses "127.0.0.1:8080", "[::1]:8080", ":8080" (loopback) or "8080" into options.host/port; throws
// UsageError otherwise.
void parse_listen(const std::string& text, ServerOptions& options);

// The HTTP server. Construction loads the analyser and dictionaries and opens the index once (throwing
// IndexError when it is missing), so a misconfigured server fails at start rather than on the first request.
// bind() and run() are called from one thread; stop() may be called from any thread.
class HttpServer {
public:
    HttpServer(Config config, ServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds the listening socket; returns the port. Throws Error when the address cannot be bound.
    int bind();
    // Serves until stop(). Returns false when the server could not listen.
    bool run();
    void stop();
    bool running() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The access log line of one request: "client method target status ms", the target (path and query, as
// sent) cut to 256 bytes and every byte outside printable ASCII written %XX, so that a request cannot forge
// log lines.
std::string access_log_line(const std::string& client, const std::string& method, const std::string& target, int status,
                            double milliseconds);

// argv[0] is "serve". Returns the process exit status.
int run_server(int argc, char** argv);

}  // namespace yosan
