// The server's metrics, in the Prometheus text exposition format (version 0.0.4) for GET /metrics.
//
// One registry per server. Counters are atomics with relaxed ordering: each is a tally on its own, read
// now and then by a scrape, and nothing is ordered by them. A scrape is therefore not one consistent
// snapshot across counters, but each histogram is: its _count is the sum of the bucket counts that were
// read (so +Inf always equals _count and buckets are cumulative).
//
// Label sets are bounded: a route is one of a fixed list (Route), anything else being "other", and the
// status is the HTTP status code (100–599), so no request can add a series of its own.
//
// Thread safe: record_request(), cache_hit() and cache_miss() are called by the worker threads at once.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yosan {

class Metrics {
public:
    enum class Route : std::uint8_t { search, search_csv, sheet, similar, timeline, healthz, metrics, page, static_file, other, count_ };
    // The label value of a route: "/api/search", "/api/sheets/{id}"…, "/" for the page, "/static/*" for its files.
    static std::string_view route_label(Route r);
    // The route a request path belongs to (the same patterns as the server's routes).
    static Route route_of(std::string_view path);

    // Upper bounds of the latency histogram, in seconds (+Inf is implied).
    static constexpr std::array<double, 13> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                        0.25,  0.5,    1,     2.5,  5,    10};

    Metrics();

    void record_request(Route route, int status, std::chrono::steady_clock::duration latency);
    void cache_hit() { cache_hits_.fetch_add(1, std::memory_order_relaxed); }
    void cache_miss() { cache_misses_.fetch_add(1, std::memory_order_relaxed); }

    // What the server knows at scrape time rather than counts as it goes.
    struct Snapshot {
        std::optional<std::uint64_t> revision;  // absent: a stub or sharded database has none
        std::optional<std::uint64_t> sheets;    // absent: the index could not be opened
        std::optional<double> seconds_since_success;  // absent: no successful run recorded
        std::string last_run_status;            // core/run_state.h statuses; empty: no run recorded
        // The gate's own counters (guarded_http_server.h): answers written without a worker.
        std::uint64_t connections_accepted = 0, requests_timed_out = 0, connections_refused = 0;
    };

    // The whole exposition (text/plain; version=0.0.4).
    std::string render(const Snapshot& s) const;

private:
    static constexpr std::size_t kRoutes = static_cast<std::size_t>(Route::count_);
    static constexpr int kMinStatus = 100, kMaxStatus = 599;
    static constexpr std::size_t kStatuses = kMaxStatus - kMinStatus + 1;

    struct Histogram {
        std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> counts{};  // the last one: above every bound
        std::atomic<std::uint64_t> sum_micros{0};
    };

    const double start_time_;  // seconds since the epoch
    std::array<std::array<std::atomic<std::uint64_t>, kStatuses>, kRoutes> requests_{};
    std::array<Histogram, kRoutes> latency_{};
    std::atomic<std::uint64_t> cache_hits_{0}, cache_misses_{0};
};

}  // namespace yosan
