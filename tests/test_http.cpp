// The HTTP API (`yosan-search serve`), against a server started in this process on an ephemeral loopback
// port, over the real corpus. Expectations are checked against the Searcher itself where a figure depends
// on the corpus, so that the API is tested, not the corpus.
#include <catch2/catch.hpp>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "core/run_state.h"
#include "indexer/document_builder.h"
#include "indexer/index_writer.h"
#include "indexer/run_lock.h"
#include "searcher/client_address.h"
#include "searcher/metrics.h"
#include "searcher/server.h"
#include "tests/test_support.h"

using namespace yosan;
using nlohmann::json;

namespace {

std::string url_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// A server on 127.0.0.1:<any free port>, serving on its own thread until the object goes away.
class RunningServer {
public:
    explicit RunningServer(Config config, std::string static_dir = {}) : RunningServer(std::move(config), options(static_dir)) {}
    RunningServer(Config config, ServerOptions o) : server_(std::move(config), std::move(o)) {
        port_ = server_.bind();
        thread_ = std::thread([this] { server_.run(); });
        // stop() before the accept loop has started would be lost, so wait for it.
        for (int i = 0; i < 500 && !server_.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        REQUIRE(server_.running());
    }
    ~RunningServer() {
        server_.stop();
        thread_.join();
    }
    int port() const { return port_; }

    struct Reply {
        int status = 0;
        std::string body;
        httplib::Headers headers;
        json js() const { return json::parse(body); }
        std::string header(const std::string& k) const {
            auto it = headers.find(k);
            return it == headers.end() ? "" : it->second;
        }
    };
    Reply get(const std::string& path) const {
        httplib::Client client("127.0.0.1", port_);
        client.set_read_timeout(30, 0);
        auto res = client.Get(path.c_str());
        REQUIRE(res);
        return {res->status, res->body, res->headers};
    }
    json get_json(const std::string& path, int expected_status = 200) const {
        Reply r = get(path);
        INFO(path << " → " << r.status << " " << r.body.substr(0, 300));
        REQUIRE(r.status == expected_status);
        REQUIRE(r.header("Content-Type").rfind("application/json", 0) == 0);
        return r.js();
    }

private:
    static ServerOptions options(const std::string& static_dir) {
        ServerOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.static_dir = static_dir;
        return o;
    }
    HttpServer server_;
    int port_ = 0;
    std::thread thread_;
};

RunningServer& corpus_server() {
    static RunningServer server(test::test_config(test::corpus_index()));
    return server;
}

// The Searcher's own answer, to compare the API with.
SearchResult direct(const std::string& query, const Filters& filters = {}) {
    static Config config = test::test_config(test::corpus_index());
    static Synonyms synonyms = Synonyms::load(config.synonyms_path, test::analyzer());
    Searcher s(config, test::analyzer(), test::bureaus(), synonyms);
    SearchRequest req;
    req.query = query;
    req.filters = filters;
    return s.search(req);
}

std::size_t facet_count(const json& facet, const std::string& value) {
    for (const json& v : facet)
        if (v["value"] == value) return v["count"].get<std::size_t>();
    return 0;
}

}  // namespace

TEST_CASE("search returns hits, snippets, exact facets and timing", "[http]") {
    RunningServer& srv = corpus_server();
    const json j = srv.get_json("/api/search?q=" + url_encode("蓄電池"));
    const SearchResult expected = direct("蓄電池");
    REQUIRE(expected.total > 0);
    CHECK(j["total"] == expected.total);
    CHECK(j["query"] == "蓄電池");
    CHECK(j["page"] == 1);
    CHECK(j["milliseconds"].is_number());
    REQUIRE(j["hits"].size() == std::min<std::size_t>(expected.total, 10));
    CHECK(j["hits"][0]["id"] == expected.hits[0].sheet.id);
    for (const json& h : j["hits"]) {
        CHECK(h.contains("title"));
        CHECK(h.contains("bureaus"));
        CHECK(h.contains("location"));
        CHECK_FALSE(h.contains("sections"));  // the list is light; /api/sheets/{id} has the sections
    }
    CHECK(j["hits"][0]["snippet"]["html"].get<std::string>().find("<mark>") != std::string::npos);

    SECTION("facets: every dimension, counts equal to the Searcher's") {
        for (const char* dim : {"bureau", "division", "year", "kind", "bucket"}) {
            INFO(dim);
            REQUIRE(j["facets"].contains(dim));
            for (const FacetValue& v : expected.facets.at(dim)) CHECK(facet_count(j["facets"][dim], v.value) == v.count);
        }
    }
    SECTION("clicking a facet narrows to its count, and its siblings stay listed for OR") {
        const json& bureaus = j["facets"]["bureau"];
        REQUIRE(bureaus.size() >= 2);
        const std::string first = bureaus[0]["value"], second = bureaus[1]["value"];
        const json one = srv.get_json("/api/search?q=" + url_encode("蓄電池") + "&bureau=" + url_encode(first));
        CHECK(one["total"] == bureaus[0]["count"]);
        CHECK(facet_count(one["facets"]["bureau"], second) == bureaus[1]["count"].get<std::size_t>());
        bool selected = false;
        for (const json& v : one["facets"]["bureau"]) selected |= v["value"] == first && v["selected"] == true;
        CHECK(selected);
        const json both = srv.get_json("/api/search?q=" + url_encode("蓄電池") + "&bureau=" + url_encode(first) + "&bureau=" + url_encode(second));
        CHECK(both["total"].get<int>() >= one["total"].get<int>());
        CHECK(both["total"].get<int>() <= j["total"].get<int>());
    }
    SECTION("year, kind, division and bucket filters match the Searcher") {
        const json all = srv.get_json("/api/search?per_page=1");
        Filters f;
        f.add("kind", "補正");
        CHECK(srv.get_json("/api/search?kind=" + url_encode("補正"))["total"] == direct("", f).total);
        CHECK(srv.get_json("/api/search?kind=" + url_encode("補正予算"))["total"] == direct("", f).total);
        f = {};
        f.add("year", "2025");
        CHECK(srv.get_json("/api/search?year=" + url_encode("令和7"))["total"] == direct("", f).total);
        f = {};
        f.add("division", "電池産業課");
        CHECK(srv.get_json("/api/search?division=" + url_encode("電池産業課"))["total"] == direct("", f).total);
        // A bureau and a division selected together narrow (AND across facets), never widen.
        const json bureau = srv.get_json("/api/search?bureau=" + url_encode("商務情報政策局"));
        const json division = srv.get_json("/api/search?division=" + url_encode("自動車課"));
        const json both = srv.get_json("/api/search?per_page=100&bureau=" + url_encode("商務情報政策局") + "&division=" + url_encode("自動車課"));
        CHECK(both["total"].get<int>() <= std::min(bureau["total"].get<int>(), division["total"].get<int>()));
        for (const json& h : both["hits"]) {
            bool top = false, div = false;
            for (const json& b : h["bureaus"]) {
                top |= b["top"] == "商務情報政策局";
                for (const json& d : b["divisions"]) div |= d == "自動車課";
            }
            CHECK((top && div));
        }
        const std::string bucket = all["facets"]["bucket"][0]["value"];
        CHECK(srv.get_json("/api/search?bucket=" + bucket)["total"] == all["facets"]["bucket"][0]["count"]);
    }
    SECTION("amount range: inclusive bounds written the Japanese way") {
        const json r = srv.get_json("/api/search?per_page=100&amount_min=" + url_encode("10億") + "&amount_max=" + url_encode("100億円"));
        REQUIRE(r["total"].get<int>() > 0);
        for (const json& h : r["hits"]) {
            CHECK(h["amount"].get<std::int64_t>() >= 1'000'000'000);
            CHECK(h["amount"].get<std::int64_t>() <= 10'000'000'000);
        }
    }
    SECTION("sort by amount, descending") {
        const json r = srv.get_json("/api/search?sort=-amount&per_page=30");
        std::int64_t last = INT64_MAX;
        for (const json& h : r["hits"]) {
            if (!h.contains("amount")) continue;
            CHECK(h["amount"].get<std::int64_t>() <= last);
            last = h["amount"];
        }
    }
    SECTION("pagination") {
        const json p1 = srv.get_json("/api/search?per_page=3&page=1");
        const json p2 = srv.get_json("/api/search?per_page=3&page=2");
        REQUIRE(p2["hits"].size() == 3);
        CHECK(p2["hits"][0]["rank"] == 4);
        CHECK(p1["hits"][0]["id"] != p2["hits"][0]["id"]);
        CHECK(p2["pages"] == (p2["total"].get<int>() + 2) / 3);
    }
    SECTION("budget words in the query come back as recognised filters") {
        const json r = srv.get_json("/api/search?q=" + url_encode("10億円以上 宇宙"));
        REQUIRE_FALSE(r["recognised_filters"].empty());
        CHECK(r["recognised_filters"][0]["field"] == "amount_min");
        for (const json& h : r["hits"]) CHECK(h["amount"].get<std::int64_t>() >= 1'000'000'000);
    }
}

TEST_CASE("bad parameters are a 400 with error and detail, never a 500", "[http]") {
    RunningServer& srv = corpus_server();
    const std::string long_ascii(10 * 1024, 'a');
    std::string long_japanese;
    while (long_japanese.size() < 10 * 1024) long_japanese += "予算";
    std::string medium;  // under the URI limit, over the query limit: rejected by the query parser
    while (medium.size() < 2000) medium += "蓄電池 ";
    const std::vector<std::string> paths = {
        "/api/search?sort=bogus",
        "/api/search?page=-1",
        "/api/search?page=0",
        "/api/search?page=abc",
        "/api/search?page=99999999999999999999",
        "/api/search?per_page=0",
        "/api/search?per_page=1000",
        "/api/search?amount_min=" + url_encode("たくさん"),
        "/api/search?amount_max=abc",
        "/api/search?amount_min=" + url_encode("100億") + "&amount_max=" + url_encode("1億"),
        "/api/search?year=" + url_encode("昔"),
        "/api/search?kind=unknown",
        "/api/search?bucket=99",
        "/api/search?q=%FF%FE",
        "/api/search?q=a&q=b",
        "/api/search?q=" + url_encode(medium),
        "/api/search?q=" + long_ascii,
        "/api/search?q=" + url_encode(long_japanese),
        "/api/sheets/x/similar?limit=1000",
    };
    for (const std::string& p : paths) {
        const json j = srv.get_json(p, 400);
        INFO(p.substr(0, 120));
        CHECK(j["error"].is_string());
        CHECK_FALSE(j["error"].get<std::string>().empty());
        CHECK(j["detail"].is_string());
    }
    // The server is still answering after all of that.
    CHECK(srv.get_json("/healthz")["status"] == "ok");
}

TEST_CASE("sheets by id, related sheets, unknown ids", "[http]") {
    RunningServer& srv = corpus_server();
    const Sheet& battery = test::sheet_at_line(1994);  // 蓄電池等の製品の持続可能性向上…
    const json s = srv.get_json("/api/sheets/" + battery.id);
    CHECK(s["id"] == battery.id);
    CHECK(s["title"] == battery.title);
    CHECK(s["sections"].size() == battery.sections.size());
    CHECK(s["source"]["first_line"] == battery.first_line);
    CHECK(s["location"] == battery.location());

    const json sim = srv.get_json("/api/sheets/" + battery.id + "/similar");
    REQUIRE_FALSE(sim["hits"].empty());
    for (const json& h : sim["hits"]) CHECK(h["id"] != battery.id);
    CHECK(srv.get_json("/api/sheets/" + battery.id + "/similar?limit=2")["hits"].size() <= 2);

    // The same 事業 in another kind (当初 and 補正) comes first among the related sheets.
    const std::string title = "半導体設計・製造基盤整備事業";
    const json twins = srv.get_json("/api/search?per_page=50&q=" + url_encode("title:\"" + title + "\""));
    int checked = 0;
    for (const json& h : twins["hits"]) {
        if (h["title"] != title) continue;
        const json rel = srv.get_json("/api/sheets/" + h["id"].get<std::string>() + "/similar");
        REQUIRE_FALSE(rel["hits"].empty());
        CHECK(rel["hits"][0]["title"] == title);
        ++checked;
    }
    CHECK(checked >= 2);

    const json missing = srv.get_json("/api/sheets/no-such-sheet", 404);
    CHECK(missing["error"].is_string());
    srv.get_json("/api/sheets/no-such-sheet/similar", 404);
    std::string long_id;
    for (int i = 0; i < 100; ++i) long_id += "局";
    const json clipped = srv.get_json("/api/sheets/" + url_encode(long_id), 404);
    CHECK(clipped["detail"].get<std::string>().find("\xEF\xBF\xBD") == std::string::npos);  // no broken character
    srv.get_json("/api/nothing", 404);
}

TEST_CASE("a repeated request is answered from the cache, with the same body", "[http]") {
    RunningServer& srv = corpus_server();
    const std::string path = "/api/search?q=" + url_encode("水素") + "&sort=-amount";
    const auto first = srv.get(path);
    const auto second = srv.get(path);
    CHECK(second.header("X-Yosan-Cache") == "hit");
    CHECK(second.body == first.body);
    CHECK(srv.get("/api/search?sort=-amount&q=" + url_encode("水素")).header("X-Yosan-Cache") == "hit");  // any order
    CHECK(srv.get("/healthz").header("X-Yosan-Cache").empty());
}

TEST_CASE("a value holding separator bytes cannot poison the cache", "[http]") {
    RunningServer& srv = corpus_server();
    // Once the key joined parts with control bytes: this query's key equalled that of q=宇宙&sort=-amount.
    const json poison = srv.get_json("/api/search?q=" + url_encode("宇宙") + "%1Esort%1D-amount");
    const json real = srv.get_json("/api/search?q=" + url_encode("宇宙") + "&sort=-amount");
    CHECK(real["sort"] == "-amount");
    CHECK(real["total"] == direct("宇宙").total);
    REQUIRE(real["total"].get<int>() >= 2);
    CHECK(real["hits"][0]["amount"].get<std::int64_t>() >= real["hits"][1]["amount"].get<std::int64_t>());
    CHECK(poison["total"] != real["total"]);
}

TEST_CASE("healthz reports the index", "[http]") {
    RunningServer& srv = corpus_server();
    const json h = srv.get_json("/healthz");
    CHECK(h["status"] == "ok");
    CHECK(h["sheets"] == test::corpus_sheets().size());
    CHECK(h["revision"].get<int>() >= 1);
    CHECK(h["indexed_at"].get<std::string>().size() == 20);  // 2026-11-30T23:33:14Z
}

TEST_CASE("an index analysed with other dictionaries is reported: healthz 503 and the CLI warns", "[http]") {
    test::TempDir dir("analysis-mismatch");
    Config config = test::test_config(test::corpus_index());
    // The same character fixes plus one more: the searcher would fold text differently from the index.
    const std::string charmap = dir.file("charmap.tsv");
    std::ofstream(charmap) << test::read_file(config.char_fixes_path) << "髙\t高\n";
    config.char_fixes_path = charmap;
    RunningServer srv(config);
    const json h = srv.get_json("/healthz", 503);
    CHECK(h["status"] == "unhealthy");
    REQUIRE(h["reasons"].size() == 1);
    CHECK(h["reasons"][0]["code"] == "analysis-mismatch");
    CHECK(h["reasons"][0]["message"].get<std::string>().find("yosan-index --full") != std::string::npos);
    CHECK(corpus_server().get_json("/healthz")["status"] == "ok");
}

TEST_CASE("the page and its files: content types, security headers, no traversal, read-only", "[http]") {
    RunningServer& srv = corpus_server();
    const auto page = srv.get("/");
    CHECK(page.status == 200);
    CHECK(page.header("Content-Type") == "text/html; charset=utf-8");
    CHECK(page.header("Content-Security-Policy").find("default-src 'none'") != std::string::npos);
    CHECK(page.header("X-Content-Type-Options") == "nosniff");
    CHECK(page.body.find("lang=\"ja\"") != std::string::npos);
    CHECK(srv.get("/static/app.js").header("Content-Type") == "text/javascript; charset=utf-8");
    CHECK(srv.get("/static/style.css").header("Content-Type") == "text/css; charset=utf-8");
    CHECK(srv.get("/api/search").header("X-Content-Type-Options") == "nosniff");
    for (const char* p : {"/static/../server.cpp", "/static/..%2F..%2Fetc%2Fpasswd", "/static/%2Fetc%2Fpasswd",
                          "/static/.hidden", "/static/nothing.js", "/../../etc/passwd"}) {
        INFO(p);
        const auto r = srv.get(p);
        CHECK(r.status == 404);
        CHECK(r.body.find("root:") == std::string::npos);
    }
    httplib::Client client("127.0.0.1", srv.port());
    auto post = client.Post("/api/search", "q=x", "application/x-www-form-urlencoded");
    REQUIRE(post);
    CHECK(post->status == 405);
    auto del = client.Delete("/api/sheets/x");
    REQUIRE(del);
    CHECK(del->status == 405);
}

TEST_CASE("a static folder is served instead of the built-in page, without escaping it", "[http]") {
    test::TempDir dir("http-static");
    std::filesystem::create_directories(dir.path() / "web");
    { std::ofstream(dir.path() / "web" / "index.html") << "<!doctype html><html lang=\"ja\">custom"; }
    { std::ofstream(dir.path() / "secret.txt") << "secret"; }
    RunningServer srv(test::test_config(test::corpus_index()), (dir.path() / "web").string());
    CHECK(srv.get("/").body.find("custom") != std::string::npos);
    CHECK(srv.get("/static/..%2Fsecret.txt").status == 404);
    CHECK(srv.get("/static/app.js").status == 404);
}

TEST_CASE("requests are served concurrently", "[http]") {
    RunningServer& srv = corpus_server();
    // One request first, from this thread: cpp-httplib's client builds function-local static regexes on
    // first use, inside the uninstrumented library, and ThreadSanitizer cannot see that guard; made here,
    // they are published to the client threads by their creation.
    REQUIRE(srv.get("/healthz").status == 200);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    const char* queries[] = {"蓄電池", "半導体", "宇宙", "サイバーセキュリティ", "", "はんどうたい", "水素", "GX"};
    // 16 clients with kept-alive connections: more than cpp-httplib's default pool of 8 threads.
    for (int copy = 0; copy < 2; ++copy) {
        for (const char* q : queries) {
            threads.emplace_back([&, q] {
                httplib::Client client("127.0.0.1", srv.port());
                for (int i = 0; i < 5; ++i) {
                    auto r = client.Get(("/api/search?q=" + url_encode(q)).c_str());
                    if (r && r->status == 200 && json::parse(r->body).contains("hits")) ++ok;
                }
            });
        }
    }
    for (std::thread& t : threads) t.join();
    CHECK(ok == 80);
}

TEST_CASE("a re-index into the same directory is picked up without a restart", "[http]") {
    test::TempDir dir("http-reopen");
    const std::string index = dir.file("index");
    Config config = test::test_config(index);
    DocumentBuilder builder(test::analyzer(), config);
    const std::vector<Sheet>& all = test::corpus_sheets();
    const std::vector<Sheet> half(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2));
    {
        IndexWriter w(index, builder);
        w.replace_file(test::corpus_path(), half);
        w.commit();
    }
    RunningServer srv(config);
    const json before = srv.get_json("/healthz");
    CHECK(before["sheets"] == half.size());
    CHECK(srv.get_json("/api/search?per_page=1")["total"] == half.size());
    const Sheet& late = all.back();
    srv.get_json("/api/sheets/" + late.id, 404);

    {
        IndexWriter w(index, builder);
        w.replace_file(test::corpus_path(), all);
        w.commit();
    }
    const json after = srv.get_json("/healthz");
    CHECK(after["sheets"] == all.size());
    CHECK(after["revision"].get<int>() > before["revision"].get<int>());
    CHECK(srv.get_json("/api/search?per_page=1")["total"] == all.size());
    CHECK(srv.get_json("/api/sheets/" + late.id)["id"] == late.id);
}

TEST_CASE("listen addresses for serve", "[http]") {
    ServerOptions o;
    parse_listen("0.0.0.0:9000", o);
    CHECK(o.host == "0.0.0.0");
    CHECK(o.port == 9000);
    parse_listen("[::1]:8081", o);
    CHECK(o.host == "::1");
    CHECK(o.port == 8081);
    ServerOptions d;
    parse_listen("8082", d);
    CHECK(d.host == "127.0.0.1");
    CHECK(d.port == 8082);
    CHECK_THROWS_AS(parse_listen("host:http", d), UsageError);
    CHECK_THROWS_AS(parse_listen("127.0.0.1:70000", d), UsageError);
}

TEST_CASE("yosan-search serve: --help, and a bad --listen is a usage error", "[http]") {
    std::string out;
    CHECK(test::run_command(test::binary("yosan-search") + " serve --help", &out) == 0);
    CHECK(out.find("--listen") != std::string::npos);
    const std::string config = test::source_path("config/yosan.toml");
    CHECK(test::run_command(test::binary("yosan-search") + " serve --config " + config + " --listen nowhere:port 2>/dev/null") == 2);
    CHECK(test::run_command(test::binary("yosan-search") + " serve --bogus 2>/dev/null") == 2);
}

TEST_CASE("a --full rebuild (a stub file switched to a new database) is picked up without a restart", "[http]") {
    test::TempDir dir("http-full");
    const std::string index = dir.file("index");
    const std::string config = test::source_path("config/yosan.toml");
    const std::string full = test::binary("yosan-index") + " -q --config " + config + " --index " + index + " --full 2>/dev/null";
    const int first = test::run_command(full);
    REQUIRE((first == 0 || first == 3));  // 3: some sheets only have notices
    RunningServer srv(test::test_config(index));
    const std::string path = "/api/search?q=" + url_encode("蓄電池");
    const json before = srv.get_json(path);
    srv.get_json(path);  // now cached
    const std::string at = srv.get_json("/healthz")["indexed_at"];
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // indexed_at has whole seconds
    const int second = test::run_command(full);
    REQUIRE((second == 0 || second == 3));
    CHECK(srv.get_json("/healthz")["indexed_at"] != at);
    const auto after = srv.get(path);
    CHECK(after.header("X-Yosan-Cache").empty());  // a new database is never answered from the cache
    CHECK(after.js()["total"] == before["total"]);
}

namespace {

// A raw TCP connection to the test server, for clients that misbehave on purpose. Closed when it goes.
class RawClient {
public:
    explicit RawClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        REQUIRE(fd_ >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;
    ~RawClient() { ::close(fd_); }
    // MSG_NOSIGNAL: the server may already have closed the connection, which must not kill the test.
    bool send(std::string_view bytes) { return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()); }
    // What the server sent until it closed the connection, or until `wait` passes.
    std::string read_all(std::chrono::milliseconds wait) {
        std::string out;
        const auto until = std::chrono::steady_clock::now() + wait;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
            pollfd p{fd_, POLLIN, 0};
            if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return out;
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return out;
            out.append(buf, static_cast<std::size_t>(n));
        }
    }

private:
    int fd_;
};

}  // namespace

TEST_CASE("200 clients trickling their headers (slowloris) neither stop a normal request nor stay forever", "[http][hardening]") {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.request_timeout = std::chrono::milliseconds(4000);
    RunningServer srv(test::test_config(test::corpus_index()), o);
    const std::string request = "GET /api/search?q=x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n\r\n";
    std::vector<std::unique_ptr<RawClient>> slow;
    for (int i = 0; i < 200; ++i) slow.push_back(std::make_unique<RawClient>(srv.port()));
    const auto opened = std::chrono::steady_clock::now();
    // One header byte per second from each (200 clients: far more than the 32 workers).
    for (std::size_t byte = 0; byte < 3; ++byte) {
        if (byte > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
        for (auto& c : slow) c->send(request.substr(byte, 1));
    }
    // While all of them are still trickling, a normal request is answered (before the test's 30 s read
    // timeout; no timing asserted).
    const json j = srv.get_json("/api/search?q=" + url_encode("蓄電池"));
    CHECK(j["total"].get<int>() > 0);
    // Past the deadline each slow client has been answered 408 (JSON) and its connection closed.
    std::this_thread::sleep_until(opened + std::chrono::milliseconds(5000));
    int timed_out = 0;
    for (auto& c : slow) {
        const std::string reply = c->read_all(std::chrono::milliseconds(3000));
        if (reply.rfind("HTTP/1.1 408", 0) == 0 && reply.find(R"("error":)") != std::string::npos) ++timed_out;
    }
    CHECK(timed_out == 200);
    CHECK(srv.get_json("/healthz")["status"] == "ok");
}

TEST_CASE("a server with every connection slot taken answers 503 in JSON, then recovers", "[http][hardening]") {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.max_connections = 4;
    RunningServer srv(test::test_config(test::corpus_index()), o);
    {
        std::vector<std::unique_ptr<RawClient>> idle;
        for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<RawClient>(srv.port()));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // accepted and counted
        const auto busy = srv.get("/api/search?q=" + url_encode("蓄電池"));
        CHECK(busy.status == 503);
        CHECK(busy.js()["error"].is_string());
        CHECK(busy.header("Retry-After") == "1");
    }
    // The idle clients went away: their slots are free again (bounded wait for the server to notice).
    int status = 0;
    for (int i = 0; i < 50 && status != 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        status = srv.get("/healthz").status;
    }
    CHECK(status == 200);
}

TEST_CASE("a kept-alive connection serves several requests, and an incomplete body times out", "[http][hardening]") {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.request_timeout = std::chrono::milliseconds(1000);
    RunningServer srv(test::test_config(test::corpus_index()), o);
    {
        httplib::Client client("127.0.0.1", srv.port());
        client.set_keep_alive(true);
        for (int i = 0; i < 3; ++i) {
            auto r = client.Get("/healthz");
            REQUIRE(r);
            CHECK(r->status == 200);
        }
    }
    // Two pipelined requests in one write are both answered.
    RawClient pipelined(srv.port());
    pipelined.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const std::string both = pipelined.read_all(std::chrono::seconds(10));
    CHECK(both.find("HTTP/1.1 200") != std::string::npos);
    CHECK(both.find("HTTP/1.1 200", both.find("HTTP/1.1 200") + 1) != std::string::npos);
    // A body promised but never sent holds a worker only until the deadline.
    RawClient body(srv.port());
    body.send("POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nq=");
    const std::string reply = body.read_all(std::chrono::seconds(10));
    CHECK(reply.find("HTTP/1.1 4") == 0);  // 400 or 405 once reading the body failed; never silence
}

TEST_CASE("symbolic links in the static folder are not followed out of it", "[http][hardening]") {
    namespace fs = std::filesystem;
    test::TempDir dir("http-static-links");
    const fs::path web = dir.path() / "web";
    fs::create_directories(web);
    { std::ofstream(web / "index.html") << "<!doctype html><html lang=\"ja\">custom"; }
    { std::ofstream(web / "app.js") << "// the page"; }
    { std::ofstream(dir.path() / "secret.txt") << "TOP-SECRET-CONTENT"; }
    fs::create_symlink("/etc/passwd", web / "passwd.js");
    fs::create_symlink("../secret.txt", web / "secret.js");
    fs::create_symlink(dir.path() / "secret.txt", web / "absolute.css");
    fs::create_symlink(dir.path(), web / "up.js");      // a link to a folder
    fs::create_symlink("app.js", web / "alias.js");     // stays inside: still served
    fs::create_symlink("missing.js", web / "dangling.js");
    RunningServer srv(test::test_config(test::corpus_index()), web.string());
    CHECK(srv.get("/").body.find("custom") != std::string::npos);
    CHECK(srv.get("/static/app.js").body == "// the page");
    CHECK(srv.get("/static/alias.js").body == "// the page");
    for (const char* p : {"/static/passwd.js", "/static/secret.js", "/static/absolute.css", "/static/up.js", "/static/dangling.js"}) {
        INFO(p);
        const auto r = srv.get(p);
        CHECK(r.status == 404);
        CHECK(r.js()["error"].is_string());
        CHECK(r.body.find("root:") == std::string::npos);
        CHECK(r.body.find("TOP-SECRET") == std::string::npos);
    }
    // The folder itself may be reached through a link (an installed package's usual layout).
    fs::create_symlink(web, dir.path() / "current");
    RunningServer linked(test::test_config(test::corpus_index()), (dir.path() / "current").string());
    CHECK(linked.get("/static/app.js").body == "// the page");
    CHECK(linked.get("/static/passwd.js").status == 404);
}

TEST_CASE("a sheet with a 1 MB line is searched with a short snippet around the word", "[http][hardening]") {
    // The line a PDF conversion can produce when a sheet loses its line breaks: 1 MB of text with the
    // word searched for far inside it. Analysing the whole line for each hit took seconds and hundreds of
    // megabytes; only a window around the word is analysed now (no timing asserted here).
    test::TempDir dir("http-long-line");
    std::string filler;
    while (filler.size() < 512 * 1024) filler += "事業者の取組を支援し、地域の産業基盤を整備する。";
    const std::string long_line = filler + "次世代の全固体蓄電池の量産技術を確立する。" + filler;
    REQUIRE(long_line.size() > 1024 * 1024);
    const std::string text = "\n\n全固体電池量産技術実証事業\n\n令和7年度予算額 12億円（新規）\n\n製造産業局電池産業課\n\n"
                             "事業目的・概要\n\n事業目的\n\n" + long_line + "\n\n事業概要\n\n地域の産業基盤を整備する。\n";
    const std::string source = dir.file("long.txt");
    { std::ofstream(source, std::ios::binary) << text; }
    const std::string index = dir.file("index");
    Config config = test::test_config(index);
    {
        ParseResult parsed = SheetParser(test::bureaus()).parse(read_sheet_file(source), source);
        REQUIRE(parsed.sheets.size() == 1);
        std::vector<Sheet*> ptrs{&parsed.sheets.front()};
        assign_ids(ptrs);
        DocumentBuilder builder(test::analyzer(), config);
        IndexWriter w(index, builder);
        w.replace_file(source, parsed.sheets);
        w.commit();
    }
    RunningServer srv(config);
    for (const char* query : {"蓄電池", "全固体 量産", "電池"}) {
        INFO(query);
        const json j = srv.get_json("/api/search?q=" + url_encode(query));
        REQUIRE(j["total"] == 1);
        const std::string html = j["hits"][0]["snippet"]["html"];
        CHECK(html.find("<mark>") != std::string::npos);
        CHECK(html.find("蓄電池") != std::string::npos);
        CHECK(html.size() < 1024);
        CHECK(html.rfind("…", 0) == 0);  // cut out of a longer line
        CHECK(first_invalid_utf8(html) == std::string::npos);
    }
    // A word found all over the line: still a short snippet.
    const json none = srv.get_json("/api/search?q=" + url_encode("事業者"));
    REQUIRE(none["total"] == 1);
    CHECK(none["hits"][0]["snippet"]["html"].get<std::string>().size() < 1024);
}

TEST_CASE("absurd amounts are a 400, never a 500", "[http][hardening]") {
    RunningServer& srv = corpus_server();
    const std::string zeros(400, '0');
    std::string digits401 = "1" + zeros;
    std::string wide;  // 40 full-width digits: short in bytes per character, long in characters
    for (int i = 0; i < 40; ++i) wide += "９";
    for (const std::string& amount : {digits401, "1" + zeros + "円", std::string("99999999999999兆円"), std::string("1e15000"),
                                      std::string("99e15"), std::string("99999999999999999999"), std::string("1") + zeros + "億",
                                      wide + "円", std::string("100000兆円")}) {
        for (const char* param : {"amount_min", "amount_max"}) {
            INFO(param << "=" << amount.substr(0, 40));
            const json j = srv.get_json(std::string("/api/search?") + param + "=" + url_encode(amount), 400);
            CHECK(j["error"].is_string());
            CHECK(j["detail"] == param);
        }
    }
    // Large but sane amounts are still accepted (1兆円 = the largest programmes; 9000兆円 below the cap).
    CHECK(srv.get_json("/api/search?amount_min=" + url_encode("1兆円"))["total"].is_number());
    CHECK(srv.get_json("/api/search?amount_max=" + url_encode("9000兆円"))["total"].is_number());
}

// ---------------------------------------------------------------------------------------------------------
// Monitoring: /metrics, /healthz with the run state, trusted proxies and the access log.

namespace {

// A /metrics answer, checked line by line against the text exposition format: every sample is
// `name{label="value",...} number`, and its family has a TYPE line before it.
struct Exposition {
    std::map<std::string, double> samples;       // "name{labels}" as written → value
    std::map<std::string, std::string> types;    // family → counter | gauge | histogram
    double at(const std::string& key) const {
        auto it = samples.find(key);
        return it == samples.end() ? 0 : it->second;
    }
    bool has(const std::string& key) const { return samples.count(key) > 0; }
};

Exposition parse_exposition(const std::string& text) {
    static const std::regex sample_line(
        R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (\S+))");
    static const std::regex type_line(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
    static const std::regex help_line(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
    Exposition e;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        INFO(line);
        std::smatch m;
        if (std::regex_match(line, m, type_line)) {
            CHECK(e.types.count(m[1]) == 0);  // one TYPE per family
            e.types[m[1]] = m[2];
            continue;
        }
        if (std::regex_match(line, help_line)) continue;
        REQUIRE(std::regex_match(line, m, sample_line));
        std::string family = m[1];
        for (const char* suffix : {"_bucket", "_sum", "_count"})
            if (family.size() > std::strlen(suffix) && family.ends_with(suffix)) {
                const std::string base = family.substr(0, family.size() - std::strlen(suffix));
                if (e.types.count(base) && e.types[base] == "histogram") family = base;
            }
        CHECK(e.types.count(family) == 1);
        const std::string value = m[3];
        double v = 0;
        if (value == "+Inf") v = std::numeric_limits<double>::infinity();
        else REQUIRE_NOTHROW(v = std::stod(value));
        CHECK(e.samples.count(std::string(m[1]) + std::string(m[2])) == 0);  // no duplicate series
        e.samples[std::string(m[1]) + std::string(m[2])] = v;
    }
    return e;
}

Exposition scrape(const RunningServer& srv) {
    const auto r = srv.get("/metrics");
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
    return parse_exposition(r.body);
}

// Collects access log lines from the worker threads.
struct LogLines {
    std::mutex mutex;
    std::vector<std::string> lines;
    std::function<void(const std::string&)> sink() {
        return [this](const std::string& line) {
            std::lock_guard lock(mutex);
            lines.push_back(line);
        };
    }
    // The first line containing `needle`. The logger runs after the answer is written, so the client can
    // see the answer a moment before the line exists: wait for it, a bounded while.
    std::string find(const std::string& needle) {
        for (int i = 0; i < 500; ++i) {
            {
                std::lock_guard lock(mutex);
                for (const std::string& l : lines)
                    if (l.find(needle) != std::string::npos) return l;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return {};
    }
};

ServerOptions loopback(std::function<void(const std::string&)> log = {}) {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.access_log = std::move(log);
    return o;
}

std::string index_command(const std::string& index, const std::string& inputs) {
    return test::binary("yosan-index") + " -q --config " + test::source_path("config/yosan.toml") + " --index " + index + " " +
           inputs + " 2>/dev/null";
}

bool has_reason(const json& health, const std::string& code) {
    for (const json& r : health["reasons"])
        if (r["code"] == code) return true;
    return false;
}

}  // namespace

TEST_CASE("/metrics is Prometheus text: requests by route and status, a cumulative latency histogram, the index", "[http][monitoring]") {
    RunningServer srv(test::test_config(test::corpus_index()), loopback());
    const Exposition before = scrape(srv);
    const std::string searches = R"(yosan_http_requests_total{route="/api/search",status="200"})";
    CHECK(before.at(searches) == 0);
    CHECK(before.types.at("yosan_http_requests_total") == "counter");
    CHECK(before.types.at("yosan_http_request_duration_seconds") == "histogram");
    CHECK(before.at("yosan_index_sheets") == static_cast<double>(test::corpus_sheets().size()));
    CHECK(before.at("yosan_index_revision") >= 1);
    CHECK(before.at("yosan_index_up") == 1);
    CHECK(before.at("process_start_time_seconds") > 1.7e9);
    CHECK_FALSE(before.has("yosan_last_run_success"));  // no run recorded beside this index

    const std::string path = "/api/search?q=" + url_encode("蓄電池");
    srv.get_json(path);
    srv.get_json(path);  // the same answer again: from the cache
    srv.get_json("/api/search?sort=bogus", 400);
    srv.get_json("/api/sheets/no-such-id", 404);
    srv.get_json("/no/such/route", 404);
    const Exposition after = scrape(srv);
    CHECK(after.at(searches) == 2);
    CHECK(after.at(R"(yosan_http_requests_total{route="/api/search",status="400"})") == 1);
    CHECK(after.at(R"(yosan_http_requests_total{route="/api/sheets/{id}",status="404"})") == 1);
    CHECK(after.at(R"(yosan_http_requests_total{route="other",status="404"})") == 1);  // unknown paths share one label
    CHECK(after.at(R"(yosan_http_requests_total{route="/metrics",status="200"})") == 1);  // the first scrape
    CHECK(after.at("yosan_cache_hits_total") - before.at("yosan_cache_hits_total") == 1);
    CHECK(after.at("yosan_cache_misses_total") - before.at("yosan_cache_misses_total") >= 1);

    // The histogram of /api/search: buckets never decrease, +Inf equals _count, which counts every answer.
    const std::string route = R"(route="/api/search")";
    double previous = 0;
    for (double le : Metrics::kBuckets) {
        char bound[32];
        std::snprintf(bound, sizeof bound, "%g", le);
        const std::string key = "yosan_http_request_duration_seconds_bucket{" + route + ",le=\"" + bound + "\"}";
        INFO(key);
        REQUIRE(after.has(key));
        CHECK(after.at(key) >= previous);
        previous = after.at(key);
    }
    const double inf = after.at("yosan_http_request_duration_seconds_bucket{" + route + ",le=\"+Inf\"}");
    CHECK(inf >= previous);
    CHECK(inf == after.at("yosan_http_request_duration_seconds_count{" + route + "}"));
    CHECK(inf == 3);
    CHECK(after.at("yosan_http_request_duration_seconds_sum{" + route + "}") > 0);
}

TEST_CASE("route labels are a fixed set", "[http][monitoring]") {
    CHECK(Metrics::route_label(Metrics::route_of("/api/search")) == "/api/search");
    CHECK(Metrics::route_label(Metrics::route_of("/api/search.csv")) == "/api/search.csv");
    CHECK(Metrics::route_label(Metrics::route_of("/api/sheets/abc")) == "/api/sheets/{id}");
    CHECK(Metrics::route_label(Metrics::route_of("/api/sheets/abc/similar")) == "/api/sheets/{id}/similar");
    CHECK(Metrics::route_label(Metrics::route_of("/api/sheets/abc/timeline")) == "/api/sheets/{id}/timeline");
    CHECK(Metrics::route_label(Metrics::route_of("/static/app.js")) == "/static/*");
    for (const char* p : {"/api/sheets/", "/api/sheets/a/b", "/api/sheets//similar", "/wp-login.php", "", "/healthz/x"}) {
        INFO(p);
        CHECK(Metrics::route_label(Metrics::route_of(p)) == "other");
    }
}

TEST_CASE("healthz follows the runs of yosan-index: 200 after a good run, 503 after a held lock or a refused run", "[http][monitoring]") {
    test::TempDir dir("http-runs");
    const std::string index = dir.file("index");
    const std::string state = index + ".last-run.json";
    const int first = test::run_command(index_command(index, test::corpus_path()));
    REQUIRE((first == 0 || first == 3));  // 3: some sheets only have notices
    const std::optional<RunState> good = read_run_state(state);
    REQUIRE(good);
    REQUIRE(good->last_run);
    CHECK(good->last_run->status == run_status(first));
    CHECK(good->last_run->exit_status == first);
    CHECK(good->last_run->report["documents"] == test::corpus_sheets().size());
    CHECK(good->last_run->report["added"] == test::corpus_sheets().size());
    REQUIRE(good->last_success);
    CHECK(good->last_success->finished_at == good->last_run->finished_at);
    CHECK(parse_utc_timestamp(good->last_run->started_at).has_value());

    RunningServer srv(test::test_config(index), loopback());
    json h = srv.get_json("/healthz");
    CHECK(h["status"] == "ok");
    CHECK(h["last_run"]["status"] == run_status(first));
    CHECK(h["last_success"] == good->last_success->finished_at);
    CHECK(h["reasons"].empty());
    CHECK(h["index_age_hours"].get<double>() < 1);

    SECTION("a run that finds the lock held") {
        {
            const RunLock held(index);
            CHECK(test::run_command(index_command(index, test::corpus_path())) == 4);
        }
        const std::optional<RunState> after = read_run_state(state);
        REQUIRE(after);
        CHECK(after->last_run->status == "lock-held");
        CHECK(after->last_run->error.find("別の索引処理が実行中です") != std::string::npos);
        REQUIRE(after->last_success);
        CHECK(after->last_success->finished_at == good->last_success->finished_at);  // when the last good run was stays
        h = srv.get_json("/healthz", 503);
        CHECK(h["status"] == "unhealthy");
        CHECK(has_reason(h, "last-run-lock-held"));
        CHECK(h["last_success"] == good->last_success->finished_at);
        const Exposition m = scrape(srv);
        CHECK(m.at(R"(yosan_last_run_status{status="lock-held"})") == 1);
        CHECK(m.at(R"(yosan_last_run_status{status="ok"})") == 0);
        CHECK(m.at("yosan_last_run_success") == 0);
        CHECK(m.at("yosan_last_success_age_seconds") >= 0);
    }
    SECTION("a run refused by the mass-delete guard, then a good run again") {
        std::filesystem::create_directories(dir.path() / "empty");
        CHECK(test::run_command(index_command(index, (dir.path() / "empty").string())) == 5);
        h = srv.get_json("/healthz", 503);
        CHECK(has_reason(h, "last-run-refused"));
        CHECK(h["last_run"]["error"].get<std::string>().find("--allow-mass-delete") != std::string::npos);
        CHECK(srv.get_json("/api/search?per_page=1")["total"] == test::corpus_sheets().size());  // nothing was deleted
        const int again = test::run_command(index_command(index, test::corpus_path()));
        REQUIRE((again == 0 || again == 3));
        CHECK(srv.get_json("/healthz")["status"] == "ok");
        CHECK(scrape(srv).at("yosan_last_run_success") == 1);
    }
}

TEST_CASE("the run state keeps the last success through failed runs, and a late record never hides a newer one", "[http][monitoring]") {
    test::TempDir dir("run-state");
    const std::string path = dir.file("sub") + "/index.last-run.json";  // the folder is created
    CHECK_FALSE(read_run_state(path));
    const auto record = [&](int exit_status, const std::string& started, const std::string& finished) {
        RunRecord r;
        r.status = run_status(exit_status);
        r.exit_status = exit_status;
        r.started_at = started;
        r.finished_at = finished;
        if (exit_status == 1) r.error = "Xapian: DatabaseCorruptError";
        record_run(path, r);
        return *read_run_state(path);
    };
    RunState s = record(3, "2026-12-01T02:30:00Z", "2026-12-01T02:31:00Z");
    CHECK(s.last_run->status == "partial");
    CHECK(s.last_success->finished_at == "2026-12-01T02:31:00Z");  // partial is a success
    s = record(1, "2026-12-02T02:30:00Z", "2026-12-02T02:30:05Z");
    CHECK(s.last_run->status == "failed");
    CHECK(s.last_run->error == "Xapian: DatabaseCorruptError");
    CHECK(s.last_success->finished_at == "2026-12-01T02:31:00Z");
    s = record(0, "2026-12-03T02:30:00Z", "2026-12-03T02:30:30Z");
    CHECK(s.last_run->status == "ok");
    CHECK(s.last_success->finished_at == "2026-12-03T02:30:30Z");
    // A run that found the lock held at 02:30:10 records after the holder finished at 02:30:30: old news.
    s = record(4, "2026-12-03T02:30:10Z", "2026-12-03T02:30:10Z");
    CHECK(s.last_run->status == "ok");
    std::ofstream(path) << "{not json";
    CHECK_THROWS_AS(read_run_state(path), IndexError);
    CHECK(record(5, "2026-12-04T02:30:00Z", "2026-12-04T02:30:01Z").last_run->status == "refused");  // a damaged file is replaced
    CHECK_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
    CHECK(parse_utc_timestamp("2026-12-01T02:30:00Z") == std::chrono::system_clock::from_time_t(1796092200));
    CHECK_FALSE(parse_utc_timestamp("2026-12-01 02:30:00"));
    CHECK(utc_timestamp(std::chrono::system_clock::from_time_t(1796092200)) == "2026-12-01T02:30:00Z");
}

TEST_CASE("healthz is 503 when the index is older than max_index_age_hours", "[http][monitoring]") {
    Config config = test::test_config(test::corpus_index());
    config.server.max_index_age_hours = 0.0001;  // 0.36 s
    RunningServer srv(config, loopback());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // older than that, whenever it was built
    const json h = srv.get_json("/healthz", 503);
    CHECK(h["status"] == "unhealthy");
    CHECK(has_reason(h, "index-too-old"));
    CHECK(h["index_age_hours"].get<double>() > 0.0001);
    CHECK(h["sheets"] == test::corpus_sheets().size());  // the details are there all the same
    CHECK(corpus_server().get_json("/healthz")["status"] == "ok");  // 36 hours by default
}

TEST_CASE("healthz is 503 when the index cannot be opened, and /metrics says so", "[http][monitoring]") {
    test::TempDir dir("http-gone");
    const std::string index = dir.file("index");
    const int status = test::run_command(index_command(index, test::corpus_path()));
    REQUIRE((status == 0 || status == 3));
    RunningServer srv(test::test_config(index), loopback());
    std::filesystem::remove_all(index);
    const json h = srv.get_json("/healthz", 503);
    CHECK(has_reason(h, "index-unavailable"));
    CHECK(scrape(srv).at("yosan_index_up") == 0);
}

TEST_CASE("trusted proxies: the client is the right-most untrusted X-Forwarded-For address", "[http][monitoring]") {
    const TrustedProxies proxies({"127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"});
    CHECK(proxies.contains("127.0.0.1"));
    CHECK(proxies.contains("::ffff:127.0.0.1"));  // a dual-stack socket's view of an IPv4 peer
    CHECK(proxies.contains("10.200.3.4"));
    CHECK_FALSE(proxies.contains("11.0.0.1"));
    CHECK(proxies.contains("fd12:3456::1"));
    CHECK_FALSE(proxies.contains("fe80::1"));
    CHECK_FALSE(proxies.contains("localhost"));
    CHECK(proxies.client("127.0.0.1", "198.51.100.9", "") == "198.51.100.9");
    CHECK(proxies.client("127.0.0.1", "203.0.113.66, 198.51.100.9, 10.0.0.5", "") == "198.51.100.9");  // left of it may be forged
    CHECK(proxies.client("127.0.0.1", "198.51.100.9:51234", "") == "198.51.100.9");
    CHECK(proxies.client("::1", "[2001:db8::7]:443", "") == "2001:db8::7");
    CHECK(proxies.client("127.0.0.1", "10.0.0.7, 10.0.0.5", "") == "10.0.0.7");  // only proxies: the farthest one
    CHECK(proxies.client("127.0.0.1", "", "192.0.2.4") == "192.0.2.4");
    CHECK(proxies.client("127.0.0.1", "<script>, 198.51.100.9", "") == "198.51.100.9");
    CHECK(proxies.client("127.0.0.1", "198.51.100.9, garbage", "") == "127.0.0.1");  // a proxy passed garbage: the proxy
    CHECK(proxies.client("198.51.100.1", "192.0.2.99", "192.0.2.98") == "198.51.100.1");  // not a proxy of ours
    CHECK(TrustedProxies().client("127.0.0.1", "192.0.2.99", "") == "127.0.0.1");
    CHECK_THROWS_AS(TrustedProxies({"localhost"}), ConfigError);
    CHECK_THROWS_AS(TrustedProxies({"10.0.0.0/33"}), ConfigError);
    CHECK_THROWS_AS(TrustedProxies({"::1/129"}), ConfigError);
    CHECK_THROWS_AS(TrustedProxies({"10.0.0.0/"}), ConfigError);
}

TEST_CASE("the access log names the X-Forwarded-For client only when the peer is a trusted proxy", "[http][monitoring]") {
    httplib::Headers forwarded = {{"X-Forwarded-For", "203.0.113.7"}};
    SECTION("trusted") {
        Config config = test::test_config(test::corpus_index());
        config.server.trusted_proxies = {"127.0.0.1", "::1"};
        LogLines log;
        RunningServer srv(config, loopback(log.sink()));
        httplib::Client client("127.0.0.1", srv.port());
        REQUIRE(client.Get("/healthz?from=proxy", forwarded));
        const std::string line = log.find("/healthz?from=proxy");
        CHECK(line.rfind("203.0.113.7 GET /healthz?from=proxy 200 ", 0) == 0);
        CHECK(line.ends_with("ms"));
    }
    SECTION("not trusted") {
        Config config = test::test_config(test::corpus_index());
        config.server.trusted_proxies = {"10.0.0.0/8"};  // a proxy elsewhere; this peer (loopback) is not it
        LogLines log;
        RunningServer srv(config, loopback(log.sink()));
        httplib::Client client("127.0.0.1", srv.port());
        REQUIRE(client.Get("/healthz?from=anyone", forwarded));
        CHECK(log.find("/healthz?from=anyone").rfind("127.0.0.1 GET /healthz?from=anyone 200 ", 0) == 0);
    }
}

TEST_CASE("an access log line cannot be forged or grow without bound", "[http][monitoring]") {
    const std::string line = access_log_line("192.0.2.1", "GET", "/api/search?q=a\r\nFAKE 200", 200, 1.25);
    CHECK(line == "192.0.2.1 GET /api/search?q=a%0D%0AFAKE%20200 200 1.2ms");
    const std::string long_line = access_log_line("192.0.2.1", "GET", "/api/search?q=" + std::string(5000, 'x'), 400, 0.5);
    CHECK(long_line.size() < 400);
    CHECK(long_line.find("... 400 0.5ms") != std::string::npos);
    CHECK(access_log_line("192.0.2.1", "", "", 400, 0).rfind("192.0.2.1 - - 400", 0) == 0);
}

TEST_CASE("[server] and [index] monitoring keys are read, typed and known", "[http][monitoring]") {
    test::TempDir dir("monitoring-config");
    const std::string path = dir.file("yosan.toml");
    std::ofstream(path) << "[index]\npath = \"idx\"\nstate_file = \"state/run.json\"\n"
                           "[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\nmax_index_age_hours = 12.5\naccess_log = false\n";
    const Config c = Config::load(path);
    CHECK(c.warnings.empty());
    CHECK(c.server.trusted_proxies == std::vector<std::string>{"127.0.0.1", "10.0.0.0/8"});
    CHECK(c.server.max_index_age_hours == 12.5);
    CHECK_FALSE(c.server.access_log);
    CHECK(run_state_path(c) == (dir.path() / "state" / "run.json").string());
    Config beside = c;
    beside.state_file.clear();
    CHECK(run_state_path(beside) == (dir.path() / "idx").string() + ".last-run.json");
    CHECK(Config::load(test::source_path("config/yosan.toml")).server.trusted_proxies.size() == 2);
    for (const char* bad : {"[server]\ntrusted_proxies = \"127.0.0.1\"\n", "[server]\nmax_index_age_hours = -1\n",
                            "[server]\naccess_log = \"yes\"\n"}) {
        INFO(bad);
        std::ofstream(path) << bad;
        CHECK_THROWS_AS(Config::load(path), ConfigError);
    }
}
