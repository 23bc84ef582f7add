// Hostile input for the indexer side: huge lines and numbers, files that are not regular files, unreadable
// folders, symlinked lock files, folders that are not ours, bad configs. Every hostile file is built here,
// under the build tree; the good sheet text comes from the real corpus.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xapian.h>

#include "core/budget.h"
#include "core/config.h"
#include "core/document_data.h"
#include "core/error.h"
#include "core/schema.h"
#include "indexer/document_builder.h"
#include "indexer/file_state.h"
#include "indexer/index_writer.h"
#include "indexer/reindex.h"
#include "indexer/run_lock.h"
#include "indexer/sheet_parser.h"
#include "tests/test_support.h"

using namespace yosan;
namespace fs = std::filesystem;

namespace {

// A small, complete sheet: a title line, a budget line, a bureau and two sections.
std::string sheet(const std::string& title, const std::string& budget = "令和7年度予算額 10億円（新規）",
                  const std::string& body = "蓄電池の製造基盤を強化する。") {
    return title + "\n" + budget + "\n製造産業局宇宙産業課\n事業目的・概要\n事業目的\n" + body + "\n成果目標\n2030年までに達成する。\n\n";
}

ParseResult parse(const std::string& text, const std::string& file = "hostile.txt") {
    return SheetParser(test::bureaus()).parse(text, file);
}

bool has_warning(const ParseResult& r, std::uint32_t line, const std::string& words) {
    for (const ParseWarning& w : r.warnings)
        if (w.line == line && w.skipped && w.message.find(words) != std::string::npos) return true;
    return false;
}

// A folder of sheet files (the real corpus, cut in two at a sheet boundary) and an index beside it.
struct Docs {
    test::TempDir dir{"hostile"};
    fs::path docs = dir.path() / "docs";
    std::string index = dir.file("index");
    Config config = test::test_config(index);

    const std::string text = test::read_file(test::corpus_path());

    Docs() {
        fs::create_directories(docs);
        write("a.txt", text.substr(0, offset_of_sheet(50)));
        write("b.txt", text.substr(offset_of_sheet(50)));
    }
    // Where the k-th sheet of the corpus starts in its text.
    std::size_t offset_of_sheet(std::size_t k) const {
        std::size_t at = 0;
        for (std::uint32_t line = 1; line < test::corpus_sheets()[k].first_line; ++line) at = text.find('\n', at) + 1;
        return at;
    }
    void write(const std::string& name, const std::string& text) const {
        fs::create_directories((docs / name).parent_path());
        std::ofstream(docs / name, std::ios::binary) << text;
    }
    ReindexReport run(std::vector<std::string> inputs = {}, unsigned settle = 0, bool full = false) const {
        ReindexOptions o;
        o.inputs = inputs.empty() ? std::vector<std::string>{docs.string()} : inputs;
        o.settle_seconds = settle;
        o.full = full;
        o.warn = [this](const std::string& w) { warnings.push_back(w); };
        warnings.clear();
        return reindex(config, o);
    }
    bool warned(const std::string& words) const {
        for (const std::string& w : warnings)
            if (w.find(words) != std::string::npos) return true;
        return false;
    }
    Xapian::doccount count() const { return Xapian::Database(index).get_doccount(); }
    mutable std::vector<std::string> warnings;
};

// Runs `body` as the user nobody in a child process (root reads and writes everything, so permission
// problems can only be staged without it) and returns its exit status; runs it directly when not root.
int as_unprivileged(const std::function<int()>& body) {
    if (::geteuid() != 0) return body();
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(99);
        ::_exit(body());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

}  // namespace

TEST_CASE("parse_yen refuses absurd amounts instead of throwing or overflowing", "[hostile][parser]") {
    CHECK_FALSE(parse_yen(std::string(401, '9') + "億円"));      // std::stod threw std::out_of_range
    CHECK_FALSE(parse_yen(std::string(30'000, '1') + "円"));
    CHECK_FALSE(parse_yen("99999999999999兆円"));                // was stored as INT64_MIN
    CHECK_FALSE(parse_yen("10001兆円"));
    CHECK_FALSE(parse_yen("1e17"));
    CHECK_FALSE(parse_yen("9999兆9999兆円"));                    // parts in range, their sum is not
    CHECK(parse_yen("10000兆円") == kMaxYen);
    CHECK(parse_yen("1兆2,000億円") == 1'200'000'000'000);
    CHECK(parse_yen("0.3億円") == 30'000'000);
    CHECK(parse_yen("9,916 億円") == 991'600'000'000);
    CHECK(parse_yen("1.617億円") == 161'700'000);
}

TEST_CASE("huge lines and numbers are parsed in linear time without recursion", "[hostile][parser]") {
    SECTION("a title line of 27 KB") {
        std::string title;
        while (title.size() < 27'000) title += "次世代蓄電池の研究開発事業";
        const ParseResult r = parse(sheet(title) + sheet("二つ目の事業"));
        REQUIRE(r.sheets.size() == 2);
        CHECK(r.sheets[0].title == title);
        CHECK(r.sheets[1].title == "二つ目の事業");
    }
    SECTION("a sub-project title of 9,000 characters") {
        const std::string rest(9'000, 'x');
        const ParseResult r = parse(sheet("(1) " + rest));
        REQUIRE(r.sheets.size() == 1);
        CHECK(r.sheets[0].sub_label == "(1)");
        CHECK(r.sheets[0].title == rest);
    }
    SECTION("a 予算配分額 line with a 30,000-digit amount is reported with its line") {
        const std::string text = "月面の事業\n主担当庁：文部科学省\n予算配分額\n令和6年度(当初)配分額：" + std::string(30'000, '7') +
                                 "億円(文科省)\n令和7年度(当初)配分額：10.3億円(経産省)\n背景・必要性\n月面で発電する。\n";
        const ParseResult r = parse(text);
        REQUIRE(r.sheets.size() == 1);
        CHECK(has_warning(r, 4, "予算配分額の金額を読み取れません"));
        CHECK(r.sheets[0].allocations.size() == 1);
        CHECK(r.sheets[0].amount == 1'030'000'000);
    }
    SECTION("a budget line with a 401-digit amount stays a budget line, reported as unreadable") {
        const ParseResult r = parse(sheet("前の事業") + sheet("巨額の事業", "令和7年度予算額 " + std::string(401, '9') + "億円"));
        REQUIRE(r.sheets.size() == 2);
        CHECK(r.sheets[1].title == "巨額の事業");
        CHECK_FALSE(r.sheets[1].amount);
        CHECK(has_warning(r, 11, "予算額の行から金額を読み取れません"));
        for (const ParseWarning& w : r.warnings) CHECK(w.message.size() < 400);  // the line is quoted short
    }
    SECTION("99999999999999兆円 is out of range, never a negative amount") {
        const ParseResult r = parse(sheet("兆の事業", "令和7年度予算額 99999999999999兆円"));
        REQUIRE(r.sheets.size() == 1);
        CHECK_FALSE(r.sheets[0].amount);
        CHECK(has_warning(r, 2, "金額を読み取れません"));
    }
    // Quadratic scanning would hang here (ctest's timeout catches that); the sheet is read, and the
    // digits of the body are not taken for its amount.
    SECTION("a million digits in a row in the body leave the budget line's amount as it is") {
        const ParseResult r = parse(sheet("桁の事業", "令和7年度予算額 10億円", std::string(1'000'000, '1') + "円と" + std::string(1'000'000, '2')));
        REQUIRE(r.sheets.size() == 1);
        CHECK(r.sheets[0].title == "桁の事業");
        REQUIRE(r.sheets[0].amount);
        CHECK(*r.sheets[0].amount == 1'000'000'000);
    }
}

TEST_CASE("a line of megabytes goes to MeCab in bounded pieces, positions continuing", "[hostile][analysis]") {
    std::string line;
    // MeCab refuses one sentence of 4–5 MB and more ("too long sentence"); the line was 50 MB.
    while (line.size() < 6'000'000) line += "蓄電池の製造基盤を強化し、サプライチェーンを強靱化する。";
    line += std::string(20'000, 'x');  // one "word" of 20,000 letters: cut, and never a search term
    const std::vector<Token> tokens = test::analyzer().analyze(line + "\n次の行");
    REQUIRE(tokens.size() > 100'000);
    bool ordered = true, in_range = true, short_terms = true;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        ordered &= i == 0 || tokens[i].position >= tokens[i - 1].position;
        in_range &= tokens[i].begin < tokens[i].end && tokens[i].end <= line.size() + 10;
        short_terms &= !tokens[i].indexed || tokens[i].term.size() <= 120;
    }
    CHECK(ordered);
    CHECK(in_range);
    CHECK(short_terms);
    CHECK(tokens.back().surface == "行");
    // The words of the line are all there: every sentence gives 製造 once.
    std::size_t batteries = 0;
    for (const Token& t : tokens) batteries += t.surface == "製造";
    CHECK(batteries >= 6'000'000 / std::string("蓄電池の製造基盤を強化し、サプライチェーンを強靱化する。").size() - 1);
}

TEST_CASE("hostile files fail or warn alone, the run goes on and exits 3", "[hostile][index]") {
    Docs d;
    REQUIRE(d.run().exit_status() == 0);
    const auto total = d.count();
    std::string title;
    while (title.size() < 27'000) title += "次世代蓄電池の研究開発事業";
    d.write("title.txt", sheet(title));
    d.write("sub.txt", sheet("(1) " + std::string(9'000, 'x')));
    d.write("alloc.txt", "月面の事業\n主担当庁：文部科学省\n予算配分額\n令和6年度(当初)配分額：" + std::string(30'000, '7') +
                             "億円(文科省)\n令和7年度(当初)配分額：10.3億円(経産省)\n背景・必要性\n月面で発電する。\n");
    d.write("digits.txt", sheet("巨額の事業", "令和7年度予算額 " + std::string(401, '9') + "億円"));
    d.write("cho.txt", sheet("兆の事業", "令和7年度予算額 99999999999999兆円"));
    // A path longer than Xapian allows for a term: its XF term is hashed (core/terms.h), so it indexes.
    const std::string long_name = std::string(70, 'x') + std::string(60 * 3 / 3, 'y') + "蓄電池蓄電池蓄電池蓄電池蓄電池蓄電池蓄電池蓄電池蓄電池蓄電池.txt";
    d.write("deep/" + long_name, sheet("長い名前のファイルの事業"));

    const ReindexReport r = d.run();
    CHECK(r.committed);
    CHECK(r.exit_status() == 3);
    CHECK(r.failed_files.empty());
    CHECK_FALSE(d.warned("索引語が長すぎます"));
    CHECK(d.warned("alloc.txt:4: 予算配分額の金額を読み取れません"));
    CHECK(d.warned("digits.txt:2: 予算額の行から金額を読み取れません"));
    CHECK(d.warned("cho.txt:2: 予算額の行から金額を読み取れません"));
    CHECK(d.count() == total + 6);
    // The next run finds the long-named file unchanged: nothing deleted, nothing added twice.
    const ReindexReport again = d.run();
    CHECK(again.deleted == 0);
    CHECK(again.added == 0);
    CHECK(d.count() == total + 6);
    // No amount was stored from the absurd figures.
    Xapian::Database db(d.index);
    for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
        const auto j = nlohmann::json::parse(document_data::decode_json(db.get_document(*it).get_data()));
        if (j.contains("amount")) CHECK(j["amount"].get<std::int64_t>() > 0);
    }
}

TEST_CASE("only regular files are read: a FIFO or a symlink in a file's place never blocks or leads out", "[hostile][index]") {
    test::TempDir dir("not-regular");
    const std::string fifo = dir.file("fifo.txt");
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    // Opening a FIFO without a writer blocks for ever: were it opened, this test would hang (and ctest's
    // timeout fail it) instead of getting the error.
    CHECK_THROWS_AS(read_regular_file(fifo), InputError);
    CHECK_THROWS_WITH(read_sheet_file(fifo), Catch::Contains("通常のファイルではありません"));
    std::ofstream(dir.file("target.txt")) << sheet("リンク先の事業");
    fs::create_symlink(dir.file("target.txt"), dir.file("link.txt"));
    CHECK_THROWS_WITH(read_regular_file(dir.file("link.txt")), Catch::Contains("シンボリックリンク"));
    CHECK(read_regular_file(dir.file("target.txt")).bytes.size() > 10);
}

TEST_CASE("a symlinked lock file is refused, its target untouched", "[hostile][index]") {
    test::TempDir dir("lock-link");
    const std::string index = dir.file("index");
    std::ofstream(dir.file("precious")) << "keep me";
    fs::create_symlink(dir.file("precious"), RunLock::lock_path(index));
    CHECK_THROWS_WITH(RunLock(index), Catch::Contains("シンボリックリンク"));
    try {
        RunLock lock(index);
    } catch (const LockHeldError&) {
        FAIL("a symlink is not another run");
    } catch (const IndexError& e) {
        CHECK(e.exit_status() == 1);
    }
    CHECK(test::read_file(dir.file("precious")) == "keep me");
}

TEST_CASE("a read-only index names the real cause, not a held lock", "[hostile][index]") {
    Docs d;
    REQUIRE(d.run().committed);
    DocumentBuilder builder(test::analyzer(), d.config);
    if (::geteuid() != 0) fs::permissions(d.index, fs::perms::owner_write, fs::perm_options::remove);
    const int status = as_unprivileged([&] {
        try {
            IndexWriter w(d.index, builder);
        } catch (const LockHeldError&) {
            return 4;
        } catch (const IndexError& e) {
            return e.describe().find("書き込めません") != std::string::npos && e.describe().find(d.index) != std::string::npos ? 0 : 2;
        }
        return 3;
    });
    if (::geteuid() != 0) fs::permissions(d.index, fs::perms::owner_write, fs::perm_options::add);
    CHECK(status == 0);
}

TEST_CASE("sheets under an unreadable folder or a missing root are never deleted", "[hostile][index]") {
    Docs d;
    d.write("sub/other.txt", sheet("副フォルダの事業") + sheet("副フォルダの二つ目") + sheet("副フォルダの三つ目"));
    const fs::path second = d.dir.path() / "mount";
    fs::create_directories(second);
    std::ofstream(second / "c.txt") << sheet("別の場所の事業") + sheet("別の場所の二つ目");
    REQUIRE(d.run({d.docs.string(), second.string()}).exit_status() == 0);
    const auto total = d.count();

    SECTION("a second root whose mount is down") {
        fs::rename(second, d.dir.path() / "unmounted");
        const ReindexReport r = d.run({d.docs.string(), second.string()});
        CHECK(r.exit_status() == 3);
        CHECK(r.missing_inputs.size() == 1);
        CHECK(r.kept_unchecked == 2);
        CHECK(r.deleted == 0);
        CHECK(d.count() == total);
        CHECK(d.warned("削除せずに残しました"));
    }
    SECTION("a sub-folder that cannot be listed") {
        // The unreadable run happens as nobody: open the tree to it, close the sub-folder.
        for (const auto& e : fs::recursive_directory_iterator(d.dir.path()))
            fs::permissions(e.path(), fs::perms::all, fs::perm_options::add);
        fs::permissions(d.dir.path(), fs::perms::all, fs::perm_options::add);
        fs::permissions(d.docs / "sub", fs::perms::none, fs::perm_options::replace);
        const std::string json = d.dir.file("report.json");
        const int status = as_unprivileged([&] {
            const ReindexReport r = d.run({d.docs.string(), second.string()});
            std::ofstream(json) << r.to_json();
            return r.exit_status();
        });
        fs::permissions(d.docs / "sub", fs::perms::owner_all, fs::perm_options::replace);
        CHECK(status == 3);
        const auto j = nlohmann::json::parse(test::read_file(json));
        CHECK(j["unreadable_inputs"].size() == 1);
        CHECK(j["kept_unchecked"] == 3);
        CHECK(j["deleted"] == 0);
        CHECK(d.count() == total);
    }
}

TEST_CASE("a file cut short is warned about, and a file still being written waits", "[hostile][index]") {
    Docs d;
    REQUIRE(d.run().exit_status() == 0);
    const auto total = d.count();
    // A copy stopped at a line boundary: b.txt (sheets 50–108) loses its last 15 sheets, few enough for
    // the mass-delete guard (14% of the index), many for one file (25%).
    d.write("b.txt", d.text.substr(d.offset_of_sheet(50), d.offset_of_sheet(94) - d.offset_of_sheet(50)));

    SECTION("younger than settle_seconds: left for the next run, with a notice") {
        const ReindexReport r = d.run({}, 60);
        CHECK(r.exit_status() == 0);
        CHECK(r.settling_files.size() == 1);
        CHECK(d.count() == total);
        CHECK(d.warned("変更されたばかり"));
    }
    SECTION("settled: indexed, with a warning about the lost sheets") {
        const auto past = fs::last_write_time(d.docs / "b.txt") - std::chrono::hours(1);
        fs::last_write_time(d.docs / "b.txt", past);
        const ReindexReport r = d.run({}, 60);
        CHECK(r.settling_files.empty());
        CHECK(r.deleted == 15);
        CHECK(r.exit_status() == 3);
        CHECK(d.warned("b.txt: シートが 59 件から 44 件に減りました"));
    }
}

TEST_CASE("ids for 10,000 sheets sharing one title: each keeps its own, one more gets the next", "[hostile][index]") {
    Sheet s;
    s.title = "同じ題名の事業";
    s.year = 2025;
    s.kind = "当初";
    std::vector<SheetRecord> sheets(10'000, SheetRecord::of(s, "同じ題名.txt"));
    IdAllocator first;
    first.keep_previous(sheets, {});
    first.assign_rest(sheets);
    std::vector<std::string> previous;
    for (const SheetRecord& x : sheets) previous.emplace_back(x.id);
    CHECK(previous.back() == base_id(s) + "-10000");

    sheets.push_back(SheetRecord::of(s, "同じ題名.txt"));  // one more (a quadratic allocator took 9-35 s here)
    IdAllocator again;
    again.keep_previous(sheets, previous);
    again.assign_rest(sheets);
    for (std::size_t i = 0; i < previous.size(); ++i) CHECK(std::string(sheets[i].id) == previous[i]);
    CHECK(std::string(sheets.back().id) == base_id(s) + "-10001");
}

TEST_CASE("the shipped config has no key the reader does not know", "[hostile][config]") {
    const Config c = Config::load(test::source_path("config/yosan.toml"));
    CHECK(c.warnings.empty());
    CHECK_FALSE(c.assignments_path.empty());
}

TEST_CASE("a config with wrong types is refused naming the key, unknown keys are warned about", "[hostile][config]") {
    test::TempDir dir("bad-config");
    const auto load = [&](const std::string& toml) {
        std::ofstream(dir.file("yosan.toml")) << toml;
        return Config::load(dir.file("yosan.toml"));
    };
    CHECK_THROWS_WITH(load("[index]\nmax_delete_share = \"lots\"\n"), Catch::Contains("index.max_delete_share") && Catch::Contains("数値"));
    CHECK_THROWS_WITH(load("[weights]\ntitle = -1\n"), Catch::Contains("weights.title") && Catch::Contains("整数"));
    CHECK_THROWS_WITH(load("[weights]\ntitle = 2.5\n"), Catch::Contains("weights.title"));
    CHECK_THROWS_WITH(load("[ranking]\nbm25_b = 7\n"), Catch::Contains("ranking.bm25_b"));
    CHECK_THROWS_WITH(load("[corpus]\npaths = \"../data\"\n"), Catch::Contains("corpus.paths") && Catch::Contains("配列"));
    CHECK_THROWS_WITH(load("index = 3\n"), Catch::Contains("index"));
    CHECK_THROWS_AS(load("[index]\nsettle_seconds = -5\n"), ConfigError);
    const Config ok = load("[index]\nmax_delete_share = 0.5\nsettle_secs = 3\n[colour]\nx = 1\n");
    CHECK(ok.max_delete_share == 0.5);
    REQUIRE(ok.warnings.size() == 2);
    const std::string both = ok.warnings[0] + ok.warnings[1];
    CHECK(both.find("index.settle_secs") != std::string::npos);
    CHECK(both.find("[colour]") != std::string::npos);

    // yosan-index: exit 2, the key named on stderr.
    std::ofstream(dir.file("yosan.toml")) << "[index]\nmax_delete_share = \"lots\"\n";
    std::string out;
    CHECK(test::run_command(test::binary("yosan-index") + " -c " + dir.file("yosan.toml") + " --dump " + dir.file("x") + " 2>&1", &out) == 2);
    CHECK(out.find("index.max_delete_share") != std::string::npos);
}

TEST_CASE("a missing user dictionary is refused, the analysis fingerprint is stored at each commit", "[hostile][config]") {
    Config c = test::test_config();
    c.analysis.user_dictionary = (fs::path(YOSAN_BINARY_DIR) / "dict" / "no-such.dic").string();
    CHECK_THROWS_AS(Analyzer(c.analysis), ConfigError);
    try {
        Analyzer a(c.analysis);
    } catch (const ConfigError& e) {
        CHECK(e.describe().find("no-such.dic: MeCab のユーザー辞書がありません") != std::string::npos);
        CHECK(e.exit_status() == 2);
    }

    const std::string print = analysis_fingerprint(test::test_config());
    CHECK(print.find("unidic sys.dic=") == 0);
    CHECK(print.find("user=-") == std::string::npos);
    CHECK(print.find("charmap=-") == std::string::npos);
    Config no_user = test::test_config();
    no_user.analysis.user_dictionary.clear();
    CHECK(analysis_fingerprint(no_user) != print);

    Docs d;
    REQUIRE(d.run().committed);
    CHECK(Xapian::Database(d.index).get_metadata(std::string(schema::kMetaAnalysis)) == print);
}
