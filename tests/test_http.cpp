// The HTTP API (`yosan-search serve`), against a server started in this process on an ephemeral loopback
// port, over the real corpus. Expectations are checked against the Searcher itself where a figure depends
// on the corpus, so that the API is tested, not the corpus.
#include <catch2/catch.hpp>

#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <thread>

#include <httplib.h>

#include "core/error.h"
#include "indexer/document_builder.h"
#include "indexer/index_writer.h"
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
    explicit RunningServer(Config config, std::string static_dir = {}) : server_(std::move(config), options(static_dir)) {
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
