#include "searcher/metrics.h"

#include <charconv>

#include "core/run_state.h"

namespace yosan {

namespace {

std::string number(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, std::string_view labels, const std::string& value) {
    out.append(name);
    if (!labels.empty()) out.append("{").append(labels).append("}");
    out.append(" ").append(value).append("\n");
}

}  // namespace

std::string_view Metrics::route_label(Route r) {
    switch (r) {
        case Route::search: return "/api/search";
        case Route::search_csv: return "/api/search.csv";
        case Route::sheet: return "/api/sheets/{id}";
        case Route::similar: return "/api/sheets/{id}/similar";
        case Route::timeline: return "/api/sheets/{id}/timeline";
        case Route::healthz: return "/healthz";
        case Route::metrics: return "/metrics";
        case Route::page: return "/";
        case Route::static_file: return "/static/*";
        case Route::other:
        case Route::count_: break;
    }
    return "other";
}

Metrics::Route Metrics::route_of(std::string_view path) {
    if (path == "/api/search") return Route::search;
    if (path == "/api/search.csv") return Route::search_csv;
    if (path == "/healthz") return Route::healthz;
    if (path == "/metrics") return Route::metrics;
    if (path == "/") return Route::page;
    if (path == "/favicon.ico" || (path.size() > 8 && path.substr(0, 8) == "/static/")) return Route::static_file;
    constexpr std::string_view sheets = "/api/sheets/";
    if (path.size() > sheets.size() && path.substr(0, sheets.size()) == sheets) {
        const std::string_view rest = path.substr(sheets.size());
        const auto slash = rest.find('/');
        if (slash == std::string_view::npos) return Route::sheet;
        if (slash > 0 && rest.substr(slash) == "/similar") return Route::similar;
        if (slash > 0 && rest.substr(slash) == "/timeline") return Route::timeline;
    }
    return Route::other;
}

Metrics::Metrics()
    : start_time_(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()) {}

void Metrics::record_request(Route route, int status, std::chrono::steady_clock::duration latency) {
    const auto r = static_cast<std::size_t>(route);
    if (r >= kRoutes) return;
    const int s = status < kMinStatus || status > kMaxStatus ? kMaxStatus : status;
    requests_[r][static_cast<std::size_t>(s - kMinStatus)].fetch_add(1, std::memory_order_relaxed);
    const double secs = std::chrono::duration<double>(latency).count();
    std::size_t b = 0;
    while (b < kBuckets.size() && secs > kBuckets[b]) ++b;
    Histogram& h = latency_[r];
    h.counts[b].fetch_add(1, std::memory_order_relaxed);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
    h.sum_micros.fetch_add(static_cast<std::uint64_t>(micros > 0 ? micros : 0), std::memory_order_relaxed);
}

std::string Metrics::render(const Snapshot& s) const {
    std::string out;
    out.reserve(16384);
    header(out, "yosan_http_requests_total", "counter", "HTTP requests answered, by route and status code.");
    for (std::size_t r = 0; r < kRoutes; ++r)
        for (std::size_t i = 0; i < kStatuses; ++i)
            if (const std::uint64_t n = requests_[r][i].load(std::memory_order_relaxed)) {
                std::string labels = "route=\"";
                labels.append(route_label(static_cast<Route>(r))).append("\",status=\"").append(std::to_string(i + kMinStatus)).append("\"");
                sample(out, "yosan_http_requests_total", labels, std::to_string(n));
            }

    header(out, "yosan_http_request_duration_seconds", "histogram",
           "Time from a complete request header to the answer ready to send, by route.");
    for (std::size_t r = 0; r < kRoutes; ++r) {
        const Histogram& h = latency_[r];
        const std::string route = "route=\"" + std::string(route_label(static_cast<Route>(r))) + "\"";
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
            cumulative += h.counts[b].load(std::memory_order_relaxed);
            const std::string le = b < kBuckets.size() ? number(kBuckets[b]) : "+Inf";
            sample(out, "yosan_http_request_duration_seconds_bucket", route + ",le=\"" + le + "\"", std::to_string(cumulative));
        }
        sample(out, "yosan_http_request_duration_seconds_sum", route,
               number(static_cast<double>(h.sum_micros.load(std::memory_order_relaxed)) / 1e6));
        sample(out, "yosan_http_request_duration_seconds_count", route, std::to_string(cumulative));
    }

    header(out, "yosan_http_connections_accepted_total", "counter", "Connections accepted.");
    sample(out, "yosan_http_connections_accepted_total", "", std::to_string(s.connections_accepted));
    header(out, "yosan_http_requests_timed_out_total", "counter", "Requests not complete by the deadline (answered 408 without a worker).");
    sample(out, "yosan_http_requests_timed_out_total", "", std::to_string(s.requests_timed_out));
    header(out, "yosan_http_connections_refused_total", "counter", "Connections answered 503 because the server was full.");
    sample(out, "yosan_http_connections_refused_total", "", std::to_string(s.connections_refused));

    header(out, "yosan_cache_hits_total", "counter", "Answers served from the answer cache.");
    sample(out, "yosan_cache_hits_total", "", std::to_string(cache_hits_.load(std::memory_order_relaxed)));
    header(out, "yosan_cache_misses_total", "counter", "Answers computed because the cache did not hold them.");
    sample(out, "yosan_cache_misses_total", "", std::to_string(cache_misses_.load(std::memory_order_relaxed)));

    header(out, "yosan_index_up", "gauge", "1 when the index could be opened for this scrape, else 0.");
    sample(out, "yosan_index_up", "", s.sheets ? "1" : "0");
    if (s.sheets) {
        header(out, "yosan_index_sheets", "gauge", "Sheets (documents) in the index.");
        sample(out, "yosan_index_sheets", "", std::to_string(*s.sheets));
    }
    if (s.revision) {
        header(out, "yosan_index_revision", "gauge", "Revision of the live Xapian database (absent for a sharded one).");
        sample(out, "yosan_index_revision", "", std::to_string(*s.revision));
    }
    if (s.seconds_since_success) {
        header(out, "yosan_last_success_age_seconds", "gauge", "Seconds since the last successful (ok or partial) index run ended.");
        sample(out, "yosan_last_success_age_seconds", "", number(*s.seconds_since_success));
    }
    if (!s.last_run_status.empty()) {
        header(out, "yosan_last_run_status", "gauge", "1 for the status of the last index run, 0 for the others.");
        for (std::string_view st : kRunStatuses)
            sample(out, "yosan_last_run_status", "status=\"" + std::string(st) + "\"", st == s.last_run_status ? "1" : "0");
        header(out, "yosan_last_run_success", "gauge", "1 when the last index run succeeded (ok or partial), else 0.");
        sample(out, "yosan_last_run_success", "", run_succeeded(s.last_run_status) ? "1" : "0");
    }
    header(out, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
    sample(out, "process_start_time_seconds", "", number(start_time_));
    return out;
}

}  // namespace yosan
