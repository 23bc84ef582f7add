// The two binaries as staff and the nightly job run them: exit statuses, messages, JSON.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace yosan;
using test::binary;
using test::run_command;

namespace {
std::string config() { return test::source_path("config/yosan.toml"); }
std::string search(const std::string& index, const std::string& args) {
    return binary("yosan-search") + " -c " + config() + " --index " + index + " " + args;
}
}  // namespace

TEST_CASE("yosan-index and yosan-search on good and bad files", "[cli]") {
    test::TempDir dir("cli");
    const std::string index = dir.file("index");
    const std::filesystem::path docs = dir.path() / "docs";
    std::filesystem::create_directories(docs);
    std::filesystem::copy_file(test::corpus_path(), docs / "meti.txt");
    std::ofstream(docs / "empty.txt") << "";
    std::ofstream(docs / "latin1.txt", std::ios::binary) << "題名\n\xe9t\xe9\n";
    std::ofstream(docs / "binary.txt", std::ios::binary) << std::string("\x7f" "ELF\0\0\0", 7);

    std::string out;
    const int status = run_command(binary("yosan-index") + " -c " + config() + " --index " + index + " " + docs.string() + " 2>&1", &out);
    INFO(out);
    CHECK(status == 3);  // partial: three files were skipped
    CHECK(out.find("empty.txt:1: 空のファイルです") != std::string::npos);
    CHECK(out.find("latin1.txt:2: UTF-8") != std::string::npos);
    CHECK(out.find("binary.txt:1: バイナリ") != std::string::npos);
    CHECK(out.find("indexed 109 sheets") != std::string::npos);

    SECTION("an answered query exits 0, with JSON for programs") {
        REQUIRE(run_command(search(index, "--json --limit 3 蓄電池"), &out) == 0);
        const auto j = nlohmann::json::parse(out);
        CHECK(j["total"].get<int>() >= 4);
        REQUIRE(j["hits"].size() == 3);
        const auto& hit = j["hits"][0];
        CHECK(hit["source"]["file"].get<std::string>().ends_with("meti.txt"));
        CHECK(hit["source"]["first_line"].get<int>() > 0);
        CHECK(hit["amount"].is_number_integer());
        CHECK(hit["snippet"]["html"].get<std::string>().find("<mark>") != std::string::npos);
        CHECK(j["facets"].contains("bureau"));
    }
    SECTION("zero hits is still an answer") {
        CHECK(run_command(search(index, "存在しない語句ぴよぴよ"), &out) == 0);
        CHECK(out.find("0 件") != std::string::npos);
    }
    SECTION("text output shows the amount, the facets and the source") {
        REQUIRE(run_command(search(index, "--year 令和7 --kind 予備費"), &out) == 0);
        CHECK(out.find("重要鉱物供給源多角化のための出資事業") != std::string::npos);
        CHECK(out.find("390億円") != std::string::npos);
        CHECK(out.find("meti.txt:3909-3931") != std::string::npos);
        CHECK(out.find("予備費 (1)") != std::string::npos);
    }
    SECTION("usage errors exit 2 with a message") {
        CHECK(run_command(search(index, "--sort random 蓄電池 2>&1"), &out) == 2);
        CHECK(out.find("並べ順") != std::string::npos);
        CHECK(run_command(search(index, "--amount-min たくさん 2>&1"), &out) == 2);
        CHECK(run_command(search(index, "--year 7 2>&1"), &out) == 2);
        CHECK(run_command(search(index, "--no-such-flag 2>&1"), &out) == 2);
        CHECK(run_command(search(index, "--amount-min 10億 --amount-max 100億 --json"), &out) == 0);
    }
    SECTION("a missing index exits 1") {
        CHECK(run_command(search(dir.file("nowhere"), "蓄電池 2>&1"), &out) == 1);
        CHECK(out.find("索引が見つかりません") != std::string::npos);
    }
    SECTION("re-indexing the same files changes nothing; a removed file takes its sheets along") {
        REQUIRE(run_command(binary("yosan-index") + " -c " + config() + " --index " + index + " " + (docs / "meti.txt").string() + " 2>&1", &out) == 0);
        CHECK(out.find("added 0, updated 0, deleted 0, unchanged 109") != std::string::npos);
        std::filesystem::remove(docs / "meti.txt");
        std::ofstream(docs / "small.txt") << test::read_file(test::source_path("tests/fixtures/other-ministries.txt"));
        // Removing every sheet is a mass deletion: it needs --allow-mass-delete.
        run_command(binary("yosan-index") + " -c " + config() + " --index " + index + " --allow-mass-delete " + (docs / "small.txt").string() + " 2>&1", &out);
        CHECK(out.find("deleted 109") != std::string::npos);
        REQUIRE(run_command(search(index, "--json --limit 50"), &out) == 0);
        CHECK(nlohmann::json::parse(out)["total"] == 6);
    }
}
