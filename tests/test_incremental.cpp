// The nightly job (indexer/reindex.h): incremental runs, --full rebuilds with the atomic switch, the
// mass-delete guard, failed files, the run lock and kill -9 safety. The corpus is the real one, split at
// sheet boundaries into six files so that files can be changed, renamed and deleted one at a time.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <atomic>
#include <mutex>

#include <httplib.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/document_data.h"
#include "core/error.h"
#include "core/schema.h"
#include "core/terms.h"
#include "indexer/bureau_inference.h"
#include "indexer/document_builder.h"
#include "indexer/file_state.h"
#include "indexer/index_writer.h"
#include "indexer/reindex.h"
#include "indexer/run_lock.h"
#include "searcher/server.h"
#include "tests/test_support.h"

using namespace yosan;
namespace fs = std::filesystem;

namespace {

// The corpus lines, cut into `parts` files at sheet boundaries: part0.txt ... partN.txt.
std::vector<std::string> split_corpus(int parts) {
    const std::string text = test::read_file(test::corpus_path());
    std::vector<std::string> lines;
    for (std::size_t start = 0; start < text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    const auto& sheets = test::corpus_sheets();
    std::vector<std::string> out;
    std::size_t from = 0;  // 0-based line
    for (int p = 1; p <= parts; ++p) {
        const std::size_t to = p == parts ? lines.size() : sheets[sheets.size() * p / parts].first_line - 1;
        std::string part;
        for (std::size_t i = from; i < to; ++i) part.append(lines[i]).append("\n");
        out.push_back(part);
        from = to;
    }
    return out;
}

struct Corpus {
    test::TempDir dir{"incremental"};
    fs::path docs = dir.path() / "docs";
    std::string index = dir.file("index");
    Config config = test::test_config(index);

    explicit Corpus(int parts = 6) {
        fs::create_directories(docs);
        const auto texts = split_corpus(parts);
        for (std::size_t i = 0; i < texts.size(); ++i) write("part" + std::to_string(i) + ".txt", texts[i]);
    }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(docs / name, std::ios::binary) << text;
    }
    std::string read(const std::string& name) const { return test::read_file((docs / name).string()); }

    ReindexReport run(bool full = false, bool allow_mass_delete = false,
                      std::function<void(const char*, std::size_t, std::size_t)> progress = {}) const {
        ReindexOptions o;
        o.progress = std::move(progress);
        o.inputs = {docs.string()};
        o.full = full;
        o.allow_mass_delete = allow_mass_delete;
        o.max_delete_share = 0.2;
        o.settle_seconds = 0;  // files written a moment ago are indexed at once
        return reindex(config, o);
    }
    Xapian::Database db() const { return Xapian::Database(index); }
    // id → source file of every indexed sheet.
    std::map<std::string, std::string> ids() const {
        std::map<std::string, std::string> out;
        Xapian::Database d = db();
        for (auto it = d.postlist_begin(""); it != d.postlist_end(""); ++it) {
            const auto j = nlohmann::json::parse(document_data::decode_json(d.get_document(*it).get_data()));
            out[j["id"].get<std::string>()] = j["source"]["file"].get<std::string>();
        }
        return out;
    }
    // The reading lexicon (core/terms.h): the "R" metadata keys.
    std::set<std::string> readings() const {
        std::set<std::string> out;
        Xapian::Database d = db();
        const std::string prefix(schema::kReading);
        for (auto it = d.metadata_keys_begin(prefix); it != d.metadata_keys_end(prefix); ++it) out.insert(*it);
        return out;
    }
    // How many sheet ids the file states list, over all files.
    std::size_t ids_in_states() const {
        std::size_t n = 0;
        Xapian::Database d = db();
        const std::string prefix(FileState::kKeyPrefix);
        for (auto it = d.metadata_keys_begin(prefix); it != d.metadata_keys_end(prefix); ++it)
            if (const auto state = FileState::from_json(d.get_metadata(*it))) n += state->ids.size();
        return n;
    }
    // How many stored sheets contain `text` in their JSON.
    std::size_t stored_with(const std::string& text) const {
        std::size_t n = 0;
        Xapian::Database d = db();
        for (auto it = d.postlist_begin(""); it != d.postlist_end(""); ++it) n += document_data::decode_json(d.get_document(*it).get_data()).find(text) != std::string::npos;
        return n;
    }
    std::size_t count_in(const std::string& name) const {
        std::size_t n = 0;
        for (const auto& [id, file] : ids()) n += fs::path(file).filename() == name;
        return n;
    }
};

std::string replace_first(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("sha256_hex matches FIPS 180-4 test vectors", "[index]") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("IdAllocator gives a full run the same ids as assign_ids", "[index]") {
    std::vector<SheetRecord> sheets = records_of(test::corpus_sheets(), test::corpus_sheets().front().file);
    // Twins across files: the corpus twice, as two files.
    std::vector<SheetRecord> second = records_of(test::corpus_sheets(), test::corpus_sheets().front().file);
    IdAllocator ids;
    ids.keep_previous(sheets, {});
    ids.keep_previous(second, {});
    ids.assign_rest(sheets);
    ids.assign_rest(second);
    std::vector<Sheet> both = test::corpus_sheets();
    both.insert(both.end(), test::corpus_sheets().begin(), test::corpus_sheets().end());
    std::vector<Sheet*> ptrs;
    for (Sheet& s : both) ptrs.push_back(&s);
    assign_ids(ptrs);
    for (std::size_t i = 0; i < sheets.size(); ++i) {
        CHECK(std::string(sheets[i].id) == both[i].id);
        CHECK(std::string(second[i].id) == both[sheets.size() + i].id);
    }
}

TEST_CASE("IdAllocator keeps previous ids and never takes a reserved one", "[index]") {
    const Sheet& s = test::corpus_sheets().front();
    const std::string base = base_id(s);
    SECTION("a twin in another, unchanged file keeps its id; the re-parsed one keeps its own") {
        IdAllocator ids;
        ids.reserve(base);  // the unchanged file holds the first twin
        std::vector<SheetRecord> file{SheetRecord::of(s, s.file)};
        ids.keep_previous(file, {base + "-2"});
        ids.assign_rest(file);
        CHECK(std::string(file[0].id) == base + "-2");
    }
    SECTION("a sheet keeps its suffixed id after the twin that pushed it there is gone") {
        IdAllocator ids;
        std::vector<SheetRecord> file{SheetRecord::of(s, s.file)};
        ids.keep_previous(file, {base + "-2"});
        ids.assign_rest(file);
        CHECK(std::string(file[0].id) == base + "-2");
    }
    SECTION("a new twin gets the first free id") {
        IdAllocator ids;
        ids.reserve(base);
        ids.reserve(base + "-2");
        std::vector<SheetRecord> file{SheetRecord::of(s, s.file)};
        ids.keep_previous(file, {});
        ids.assign_rest(file);
        CHECK(std::string(file[0].id) == base + "-3");
    }
}

TEST_CASE("incremental runs: add, no change, modify, rename, delete", "[index]") {
    Corpus c;
    const std::size_t total = test::corpus_sheets().size();

    const ReindexReport first = c.run();
    CHECK(first.committed);
    CHECK(first.added == static_cast<int>(total));
    CHECK(first.files_parsed == 6);
    REQUIRE(c.db().get_doccount() == total);
    const auto ids_before = c.ids();

    SECTION("a run without changes parses nothing and writes nothing") {
        const auto revision = c.db().get_revision();
        const ReindexReport r = c.run();
        CHECK_FALSE(r.committed);
        CHECK(r.files_parsed == 0);
        CHECK(r.files_skipped == 6);
        CHECK(r.unchanged == static_cast<int>(total));
        CHECK(r.added + r.updated + r.deleted == 0);
        CHECK(r.exit_status() == 0);
        CHECK(c.db().get_revision() == revision);
        CHECK(r.summary().find("added 0, updated 0, deleted 0, unchanged " + std::to_string(total)) != std::string::npos);
    }
    SECTION("touching a file without changing it parses nothing") {
        fs::last_write_time(c.docs / "part2.txt", fs::file_time_type::clock::now());
        CHECK(c.run().files_parsed == 0);
    }
    SECTION("a modified file is re-parsed alone; only the changed sheet is rewritten") {
        c.write("part2.txt", replace_first(c.read("part2.txt"), "事業目的", "事業目的\n夜間の再索引で見つかるべき追記です。"));
        const ReindexReport r = c.run();
        CHECK(r.committed);
        CHECK(r.files_parsed == 1);
        CHECK(r.files_skipped == 5);
        CHECK(r.added == 0);
        CHECK(r.deleted == 0);
        CHECK(r.updated >= 1);  // the sheet itself, and those below it whose line numbers moved
        CHECK(r.updated + r.unchanged == static_cast<int>(total));
        CHECK(c.ids() == ids_before);
        Xapian::Enquire e(c.db());
        e.set_query(Xapian::Query(std::string(schema::kFile) + (c.docs / "part2.txt").string()));
        CHECK(e.get_mset(0, 200).size() == c.count_in("part2.txt"));
    }
    SECTION("a renamed file moves its sheets under the same ids") {
        const std::size_t n = c.count_in("part3.txt");
        fs::rename(c.docs / "part3.txt", c.docs / "part3-renamed.txt");
        const ReindexReport r = c.run();
        CHECK(r.added == 0);
        CHECK(r.deleted == 0);
        CHECK(r.updated == static_cast<int>(n));
        const auto after = c.ids();
        CHECK(after.size() == ids_before.size());
        for (const auto& [id, file] : after) {
            REQUIRE(ids_before.count(id));
            if (fs::path(ids_before.at(id)).filename() == "part3.txt") CHECK(fs::path(file).filename() == "part3-renamed.txt");
        }
    }
    SECTION("a deleted file takes its sheets along, and the readings of the words only it had") {
        const std::size_t n = c.count_in("part5.txt");
        const std::set<std::string> readings_before = c.readings();
        fs::remove(c.docs / "part5.txt");
        const ReindexReport r = c.run();
        CHECK(r.deleted == static_cast<int>(n));
        CHECK(r.unchanged == static_cast<int>(total - n));
        CHECK(c.db().get_doccount() == total - n);
        CHECK(c.count_in("part5.txt") == 0);
        // A reading entry stays exactly when its word still has a sheet.
        const std::set<std::string> readings_after = c.readings();
        std::size_t dropped = 0;
        for (const std::string& entry : readings_before) {
            INFO(entry);
            const bool word_left = c.db().term_exists(entry.substr(entry.find('\t') + 1));
            CHECK(readings_after.count(entry) == (word_left ? 1u : 0u));
            dropped += !word_left;
        }
        CHECK(dropped > 0);
        CHECK(readings_after.size() + dropped == readings_before.size());
        // The file's state went with it: putting it back adds the sheets again under the same ids.
        c.write("part5.txt", split_corpus(6)[5]);
        CHECK(c.run().added == static_cast<int>(n));
        CHECK(c.ids() == ids_before);
        CHECK(c.readings() == readings_before);
    }
    SECTION("a new file is added without touching the others") {
        c.write("other.txt", test::read_file(test::source_path("tests/fixtures/other-ministries.txt")));
        const ReindexReport r = c.run();
        CHECK(r.files_parsed == 1);
        CHECK(r.added == 6);
        CHECK(r.unchanged == static_cast<int>(total));
    }
}

TEST_CASE("the bureaus a run infers reach the sheets it writes", "[index]") {
    // The run decides bureaus on its records and applies them to the sheets it parses again (reindex.h,
    // "Two passes"); what it stores must be what bureau inference gives the same sheets in one go.
    std::vector<Sheet> expected = test::corpus_sheets();
    std::vector<Sheet*> ptrs;
    for (Sheet& s : expected) ptrs.push_back(&s);
    Corpus c;
    const InferenceReport inferred = enrich_run_sheets(ptrs, c.config);
    REQUIRE(inferred.by_assignment > 0);
    REQUIRE(inferred.by_same_project > 0);
    std::map<std::string, const Sheet*> by_id;
    for (const Sheet& s : expected) by_id[s.id] = &s;

    const auto check_stored = [&] {
        Xapian::Database d = c.db();
        REQUIRE(d.get_doccount() == expected.size());
        std::map<std::string, int> sources;
        for (auto it = d.postlist_begin(""); it != d.postlist_end(""); ++it) {
            const Sheet stored = document_data::decode(d.get_document(*it).get_data());
            const auto e = by_id.find(stored.id);
            REQUIRE(e != by_id.end());
            INFO(stored.id << " " << stored.title);
            CHECK(stored.bureau_source == e->second->bureau_source);
            CHECK(stored.bureau_reason.empty() == e->second->bureau_reason.empty());
            REQUIRE(stored.bureaus.size() == e->second->bureaus.size());
            for (std::size_t i = 0; i < stored.bureaus.size(); ++i) {
                CHECK(stored.bureaus[i].top == e->second->bureaus[i].top);
                CHECK(stored.bureaus[i].divisions == e->second->bureaus[i].divisions);
            }
            ++sources[stored.bureau_source];
        }
        CHECK(sources["assignment"] == inferred.by_assignment);
        CHECK(sources["same事業"] == inferred.by_same_project);
    };
    SECTION("a first run") {
        REQUIRE(c.run().committed);
        check_stored();
    }
    SECTION("a full rebuild") {
        REQUIRE(c.run(true).committed);
        check_stored();
    }
}

TEST_CASE("document data that cannot be read stops no run; a changed file and --full rewrite it", "[index]") {
    Corpus c;
    const std::size_t total = test::corpus_sheets().size();
    REQUIRE(c.run().committed);
    // The data of every sheet of part2.txt damaged, as a bad disk or a build with another dictionary would
    // leave it. (The runs must not read it to know the file: its state names it.)
    std::set<std::string> damaged;
    {
        Xapian::WritableDatabase w(c.index);
        const std::string term = terms::boolean(schema::kFile, fs::weakly_canonical(c.docs / "part2.txt").string());
        std::vector<Xapian::docid> docs(w.postlist_begin(term), w.postlist_end(term));
        REQUIRE(docs.size() >= 3);
        for (Xapian::docid did : docs) {
            Xapian::Document doc = w.get_document(did);
            damaged.insert(doc.get_value(schema::kSlotId));
            doc.set_data(std::string("\x28\xb5\x2f\xfd damaged", 12));
            w.replace_document(did, doc);
        }
        w.commit();
    }
    CHECK_THROWS_AS(c.ids(), IndexError);
    const ReindexReport unchanged = c.run();
    CHECK(unchanged.exit_status() == 0);
    CHECK(unchanged.files_parsed == 0);

    c.write("part2.txt", replace_first(c.read("part2.txt"), "事業目的", "事業目的\n夜間の再索引で書き直されるべき追記です。"));
    const ReindexReport changed = c.run();
    CHECK(changed.committed);
    CHECK(changed.exit_status() == 0);
    CHECK(changed.updated >= static_cast<int>(damaged.size()));  // damaged data holds no sheet: all rewritten
    const auto ids = c.ids();  // every document reads again
    CHECK(ids.size() == total);
    for (const std::string& id : damaged) CHECK(ids.count(id));

    // --full with a damaged document in the live index: rebuilt, and counted against it as updated.
    {
        Xapian::WritableDatabase w(c.index);
        Xapian::Document doc = w.get_document(*w.postlist_begin(""));
        doc.set_data("garbage");
        w.replace_document(*w.postlist_begin(""), doc);
        w.commit();
    }
    const ReindexReport full = c.run(true);
    CHECK(full.committed);
    CHECK(full.updated >= 1);
    CHECK(c.ids().size() == total);
}

TEST_CASE("an index written before file states existed is taken over without twins", "[index]") {
    Corpus c(1);
    const std::string file = (c.docs / "part0.txt").string();
    {
        // As the first yosan-index wrote it: documents only, no file states, no fingerprint.
        const DocumentBuilder builder(test::analyzer(), c.config);
        IndexWriter w(c.index, builder);
        SheetParser parser(test::bureaus());
        ParseResult r = parser.parse(read_sheet_file(file), fs::weakly_canonical(file).string());
        std::vector<Sheet*> ptrs;
        for (Sheet& s : r.sheets) ptrs.push_back(&s);
        assign_ids(ptrs);
        w.replace_file(fs::weakly_canonical(file).string(), r.sheets);
        w.commit();
    }
    const auto before = c.ids();
    const ReindexReport r = c.run();
    CHECK(r.committed);
    CHECK(r.added == 0);
    CHECK(r.deleted == 0);
    CHECK(c.ids() == before);
    CHECK_FALSE(c.run().committed);  // from now on, file states
}

TEST_CASE("skipping unchanged files never changes the ids of twins in other files", "[index]") {
    Corpus c(2);
    c.write("part0z.txt", c.read("part0.txt"));  // every sheet of part0 gets a twin "-2"
    c.run();
    const auto before = c.ids();
    std::map<std::string, std::string> copy_ids;
    for (const auto& [id, file] : before)
        if (fs::path(file).filename() == "part0z.txt") copy_ids[id] = file;
    REQUIRE(!copy_ids.empty());
    for (const auto& [id, file] : copy_ids) CHECK(id.find('-') != std::string::npos);

    SECTION("changing the first of the twins") {
        c.write("part0.txt", c.read("part0.txt") + "\n");
        c.run();
    }
    SECTION("changing the second of the twins") {
        c.write("part0z.txt", c.read("part0z.txt") + "\n");
        c.run();
    }
    SECTION("a new third twin sorted before both") {
        c.write("a-first.txt", c.read("part0.txt"));
        c.run();
        std::size_t third = 0;
        for (const auto& [id, file] : c.ids()) third += fs::path(file).filename() == "a-first.txt" && id.ends_with("-3");
        CHECK(third == copy_ids.size());
    }
    const auto after = c.ids();
    for (const auto& [id, file] : before) {
        REQUIRE(after.count(id));
        CHECK(after.at(id) == file);
    }
}

TEST_CASE("a file that cannot be read or parsed keeps its sheets", "[index]") {
    Corpus c;
    c.run();
    const std::size_t total = c.db().get_doccount();
    const std::size_t n = c.count_in("part1.txt");

    c.write("binary.txt", std::string("\x7f" "ELF\0\0\0", 7));
    c.write("part1.txt", c.read("part1.txt").append(std::string("\0\0", 2)));  // now binary
    const ReindexReport r = c.run();
    CHECK(r.failed_files.size() == 2);
    CHECK(r.exit_status() == 3);
    CHECK(c.db().get_doccount() == total);
    CHECK(c.count_in("part1.txt") == n);

    SECTION("once fixed, the file is current again") {
        c.write("part1.txt", split_corpus(6)[1]);
        const ReindexReport fixed = c.run();
        // Back to the bytes the index was built from: its stored state matches, nothing to parse.
        CHECK(fixed.files_parsed == 0);
        CHECK(fixed.failed_files.size() == 1);  // binary.txt still
        CHECK(fixed.updated + fixed.added == 0);
        CHECK(fixed.unchanged == static_cast<int>(total));
    }
    SECTION("a --full rebuild copies the failed file's sheets over, and the readings of their words") {
        const std::set<std::string> readings_before = c.readings();
        const ReindexReport full = c.run(true);
        CHECK(full.failed_files.size() == 2);
        CHECK(c.db().get_doccount() == total);
        CHECK(c.count_in("part1.txt") == n);
        CHECK(c.readings() == readings_before);
    }
}

TEST_CASE("a file rewritten between the two passes of a run keeps its sheets until the next run", "[index]") {
    // The first pass parses every changed file and keeps only records of its sheets; the second parses
    // each file again when it writes it (indexer/reindex.h, "Two passes"). Bytes that changed in between
    // are not what the run decided ids and bureaus for: that file fails, the others are written.
    const bool full = GENERATE(false, true);
    Corpus c;
    c.run();
    const std::size_t total = c.db().get_doccount();
    const std::size_t in_part4 = c.count_in("part4.txt");
    const auto add_marker = [](const std::string& text, const std::string& marker) { return replace_first(text, "。", marker + "。"); };
    const std::string part4 = c.read("part4.txt");
    c.write("part1.txt", add_marker(c.read("part1.txt"), "第一の追記"));
    c.write("part4.txt", add_marker(part4, "第二の追記"));
    bool rewritten = false;
    const ReindexReport r = c.run(full, false, [&](const char* phase, std::size_t done, std::size_t total) {
        // The first pass has read every file: part4.txt changes under the run.
        if (std::string_view(phase) == "読込" && done == total && !rewritten) {
            c.write("part4.txt", add_marker(part4, "第三の追記"));
            rewritten = true;
        }
    });
    REQUIRE(rewritten);
    REQUIRE(r.failed_files.size() == 1);
    CHECK(fs::path(r.failed_files[0]).filename() == "part4.txt");
    CHECK(r.exit_status() == 3);
    CHECK(r.committed);
    CHECK(c.stored_with("第一の追記") == 1);
    CHECK(c.stored_with("第二の追記") == 0);
    CHECK(c.stored_with("第三の追記") == 0);
    CHECK(c.count_in("part4.txt") == in_part4);
    CHECK(c.db().get_doccount() == total);

    const ReindexReport next = c.run();
    CHECK(next.failed_files.empty());
    CHECK(next.files_parsed == 1);
    CHECK(c.stored_with("第三の追記") == 1);
    CHECK(c.count_in("part4.txt") == in_part4);
}

TEST_CASE("a sheet that moved into a file that fails is held by no file, and comes back with that file", "[index]") {
    // part4.txt takes over the id of a sheet that moved there from part1.txt, then fails (rewritten between
    // the passes). The sheet's old document came from part1.txt, which was read and no longer has it: it
    // goes, and no document is left that no file state lists (an incremental and a --full run agree).
    const bool full = GENERATE(false, true);
    Corpus c;
    c.run();
    const std::size_t total = c.db().get_doccount();
    const std::size_t in_part1 = c.count_in("part1.txt"), in_part4 = c.count_in("part4.txt");
    REQUIRE(c.ids_in_states() == total);

    // The first sheet of part1.txt, its lines up to the second sheet's, moves to the end of part4.txt.
    const auto& sheets = test::corpus_sheets();
    const std::size_t k = sheets.size() * 1 / 6;  // split_corpus(6): part1.txt starts at this sheet
    const std::string part1 = c.read("part1.txt");
    std::size_t cut = 0;
    for (std::uint32_t n = sheets[k].first_line; n < sheets[k + 1].first_line; ++n) cut = part1.find('\n', cut) + 1;
    const std::string part4 = c.read("part4.txt") + part1.substr(0, cut);
    c.write("part1.txt", part1.substr(cut));
    c.write("part4.txt", part4);
    bool rewritten = false;
    const ReindexReport r = c.run(full, false, [&](const char* phase, std::size_t done, std::size_t total_files) {
        if (std::string_view(phase) == "読込" && done == total_files && !rewritten) {
            c.write("part4.txt", replace_first(part4, "。", "追記。"));
            rewritten = true;
        }
    });
    REQUIRE(r.failed_files.size() == 1);
    CHECK(fs::path(r.failed_files[0]).filename() == "part4.txt");
    CHECK(c.count_in("part1.txt") == in_part1 - 1);
    CHECK(c.count_in("part4.txt") == in_part4);
    CHECK(c.db().get_doccount() == total - 1);
    CHECK(c.ids_in_states() == total - 1);

    const ReindexReport next = c.run();
    CHECK(next.failed_files.empty());
    CHECK(c.count_in("part4.txt") == in_part4 + 1);
    CHECK(c.db().get_doccount() == total);
    CHECK(c.ids_in_states() == total);
}

TEST_CASE("the mass-delete guard refuses to empty the index", "[index]") {
    Corpus c;
    c.run();
    const std::size_t total = c.db().get_doccount();
    fs::remove(c.docs / "part0.txt");
    fs::remove(c.docs / "part1.txt");
    const auto revision = c.db().get_revision();

    SECTION("incremental") {
        const ReindexReport r = c.run();
        CHECK_FALSE(r.committed);
        CHECK(r.exit_status() == kExitRefused);
        CHECK(r.refused.find("--allow-mass-delete") != std::string::npos);
        CHECK(c.db().get_revision() == revision);
        CHECK(c.db().get_doccount() == total);
        const ReindexReport allowed = c.run(false, true);
        CHECK(allowed.committed);
        CHECK(c.db().get_doccount() == total - static_cast<std::size_t>(allowed.deleted));
    }
    SECTION("a missing folder") {
        fs::rename(c.docs, c.dir.path() / "unmounted");
        const ReindexReport r = c.run();
        CHECK(r.exit_status() == kExitRefused);
        CHECK(r.missing_inputs.size() == 1);
        CHECK(c.db().get_doccount() == total);
    }
    SECTION("--full") {
        const ReindexReport r = c.run(true);
        CHECK(r.exit_status() == kExitRefused);
        CHECK(c.db().get_doccount() == total);
        CHECK(fs::is_directory(c.index));  // never switched
        CHECK(IndexLayout::inspect(c.index).stale_generations().empty());
    }
}

TEST_CASE("a full rebuild (--full) writes beside the live index and switches atomically", "[index]") {
    Corpus c;
    c.run();  // a plain database directory, as a first run makes it
    REQUIRE(fs::is_directory(c.index));
    const std::size_t total = c.db().get_doccount();
    const Synonyms synonyms = Synonyms::load(c.config.synonyms_path, test::analyzer());
    Searcher searcher(c.config, test::analyzer(), test::bureaus(), synonyms);
    SearchRequest q;
    q.query = "蓄電池";
    const auto hits = searcher.search(q).total;
    REQUIRE(hits > 0);

    const ReindexReport r = c.run(true);
    CHECK(r.committed);
    CHECK(r.added + r.updated + r.deleted == 0);  // the same sheets, compared with the live index
    CHECK(r.unchanged == static_cast<int>(total));
    REQUIRE(fs::is_regular_file(c.index));  // now a stub naming a generation directory
    const IndexLayout l1 = IndexLayout::inspect(c.index);
    CHECK(l1.kind == IndexLayout::Kind::stub);
    CHECK(fs::path(l1.live_dir).filename() == "index.g1");
    CHECK(c.db().get_doccount() == total);
    // The searcher that had the old directory open still answers, and picks up the new index.
    CHECK(searcher.search(q).total == hits);
    CHECK(searcher.reopen());
    CHECK(searcher.search(q).total == hits);

    // The old directory was kept as generation 0 until the next run.
    CHECK(fs::exists(c.dir.file("index.g0") + "/iamglass"));

    SECTION("a second --full replaces the generation; the next run removes the old ones") {
        c.write("other.txt", test::read_file(test::source_path("tests/fixtures/other-ministries.txt")));
        const ReindexReport r2 = c.run(true);
        CHECK(r2.added == 6);
        const IndexLayout l2 = IndexLayout::inspect(c.index);
        CHECK(fs::path(l2.live_dir).filename() == "index.g2");
        CHECK(fs::exists(l1.live_dir));
        c.run();
        CHECK_FALSE(fs::exists(l1.live_dir));
        CHECK_FALSE(fs::exists(c.dir.file("index.g0")));
        CHECK(fs::exists(l2.live_dir));
        CHECK(c.db().get_doccount() == total + 6);
        CHECK(searcher.reopen());
        CHECK(searcher.search(q).total == hits);
    }
    SECTION("incremental runs after --full update the live generation in place") {
        const ReindexReport same = c.run();
        CHECK_FALSE(same.committed);
        CHECK(same.files_parsed == 0);  // --full stored the file states too
        fs::remove(c.docs / "part4.txt");
        const ReindexReport r2 = c.run();
        CHECK(r2.deleted > 0);
        CHECK(IndexLayout::inspect(c.index).live_dir == l1.live_dir);
        CHECK(c.db().get_doccount() == total - static_cast<std::size_t>(r2.deleted));
    }
    SECTION("leftovers of a killed --full are cleaned up by the next run; folders that are not ours stay") {
        IndexLayout::create_generation((c.dir.path() / "index.g7").string());  // as a --full killed at once
        std::ofstream(c.dir.path() / "index.g7" / "junk") << "half written";
        fs::create_directories(c.dir.path() / "index.g8");  // someone's folder that merely has the name
        std::ofstream(c.dir.path() / "index.g8" / "precious") << "not an index";
        CHECK(IndexLayout::inspect(c.index).stale_generations().size() == 2);  // g0 (the old directory) and g7
        CHECK(IndexLayout::inspect(c.index).foreign_generations().size() == 1);
        c.run();
        CHECK_FALSE(fs::exists(c.dir.path() / "index.g7"));
        CHECK(fs::exists(c.dir.path() / "index.g8" / "precious"));
        CHECK(fs::exists(l1.live_dir));
    }
}

TEST_CASE("a second run while one holds the lock exits at once with status 4", "[index]") {
    Corpus c(2);
    const std::string config = test::source_path("config/yosan.toml");
    const std::string cmd = test::binary("yosan-index") + " -c " + config + " --index " + c.index + " " + c.docs.string() + " 2>&1";
    std::string out;
    {
        const RunLock held(c.index);
        CHECK(test::run_command(cmd, &out) == 4);
        CHECK(out.find("別の索引処理が実行中です") != std::string::npos);
        CHECK(out.find("PID ") != std::string::npos);
        CHECK_FALSE(fs::exists(c.index));  // it gave up before touching anything
        // Monitoring with --json gets an answer on stdout too.
        CHECK(test::run_command(cmd.substr(0, cmd.size() - 5) + " --json 2>/dev/null", &out) == 4);
        CHECK(nlohmann::json::parse(out)["status"] == 4);
        CHECK_THROWS_AS(RunLock(c.index), LockHeldError);
    }
    // Released with its holder; the lock file stays and does not block.
    CHECK(fs::exists(RunLock::lock_path(c.index)));
    CHECK(test::run_command(cmd, &out) == 0);  // the corpus's only warnings are notices (line 792 has no title)
    CHECK(out.find("added " + std::to_string(test::corpus_sheets().size())) != std::string::npos);
    CHECK(test::run_command(cmd.substr(0, cmd.size() - 5) + " --json 2>/dev/null", &out) == 0);
    const auto j = nlohmann::json::parse(out);
    CHECK(j.at("unchanged") == test::corpus_sheets().size());
    CHECK(j.at("committed") == false);
    CHECK(j.at("status") == 0);
}

TEST_CASE("kill -9 in the middle of a large run leaves the previous index searchable", "[index][slow]") {
    Corpus c(2);
    const std::string config = test::source_path("config/yosan.toml");
    const std::string base = test::binary("yosan-index") + " -c " + config + " --index " + c.index + " ";
    std::string out;
    REQUIRE(test::run_command(base + c.docs.string() + " 2>&1", &out) == 0);
    const std::size_t before = c.db().get_doccount();
    // Twelve more copies of the corpus: their sheets are twins of the first ones, with ids "-2" ... "-13".
    const std::string text = test::read_file(test::corpus_path());
    for (int i = 0; i < 12; ++i) c.write("copy" + std::to_string(i) + ".txt", text);
    const bool full = GENERATE(false, true);
    INFO((full ? "--full" : "incremental"));
    const std::string log = c.dir.file("stderr.log");
    // A low flush threshold: without the run's one transaction Xapian would commit every 50 documents.
    const std::string cmd = "exec env XAPIAN_FLUSH_THRESHOLD=50 " + base + (full ? "--full " : "") + "--progress " +
                            c.docs.string() + " >/dev/null 2>" + log;
    pid_t pid = 0;
    const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    REQUIRE(::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) == 0);
    // Wait until it has written a few hundred documents (no timing: the progress lines say where it is).
    const auto indexed = [&] {  // the number in the last "progress: 索引 N/total" line
        const std::string text = test::read_file(log);
        const auto at = text.rfind("progress: 索引 ");
        return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + std::string("progress: 索引 ").size());
    };
    for (int i = 0; i < 6000 && indexed() < 200; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO(test::read_file(log));
    CHECK(WIFSIGNALED(status));

    // Still the previous index, and searchable.
    CHECK(c.db().get_doccount() == before);
    const Synonyms synonyms = Synonyms::load(c.config.synonyms_path, test::analyzer());
    Searcher searcher(c.config, test::analyzer(), test::bureaus(), synonyms);
    SearchRequest q;
    q.query = "蓄電池";
    CHECK(searcher.search(q).total > 0);
    // The next run is not blocked and completes.
    CHECK(test::run_command(base + c.docs.string() + " 2>&1", &out) == 0);
    INFO(out);
    CHECK(c.db().get_doccount() == before * 13);
    CHECK(IndexLayout::inspect(c.index).stale_generations().empty());
}

TEST_CASE("the server answers throughout re-indexing, and picks up each new index by itself", "[index][http]") {
    Corpus c;
    c.run();
    ServerOptions options;
    options.port = 0;
    options.cache_entries = 0;  // every request goes to the index
    HttpServer server(c.config, options);
    const int port = server.bind();
    std::thread serving([&] { server.run(); });
    for (int i = 0; i < 500 && !server.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(server.running());

    std::atomic<bool> done{false};
    std::atomic<int> requests{0}, failures{0};
    std::mutex m;
    std::string first_failure;
    std::thread client([&] {
        httplib::Client cli("127.0.0.1", port);
        const std::string q = "/api/search?q=%E8%93%84%E9%9B%BB%E6%B1%A0";  // 蓄電池
        while (!done) {
            auto r = cli.Get(q.c_str());
            bool ok = r && r->status == 200;
            if (ok) {
                const auto j = nlohmann::json::parse(r->body, nullptr, false);
                ok = !j.is_discarded() && j.contains("hits") && !j["hits"].empty();
            }
            if (!ok) {
                ++failures;
                const std::lock_guard lock(m);
                if (first_failure.empty()) first_failure = r ? std::to_string(r->status) + " " + r->body : "no answer";
            }
            ++requests;
        }
    });
    // Each step waits until the client has been answered a few more times, so that requests overlap every
    // kind of run (no timing involved).
    const auto some_requests = [&] {
        const int target = requests + 3;
        while (requests < target && failures == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    };
    some_requests();
    c.write("other.txt", test::read_file(test::source_path("tests/fixtures/other-ministries.txt")));
    c.run();  // incremental, in place
    some_requests();
    c.run(true);  // --full: the directory becomes a stub
    some_requests();
    c.write("part2.txt", replace_first(c.read("part2.txt"), "事業目的", "事業目的\n追記。"));
    c.run();  // incremental on the live generation
    some_requests();
    c.run(true);  // --full again: generation 2
    some_requests();
    fs::remove(c.docs / "other.txt");
    c.run();  // a deletion; also removes the old generations
    some_requests();
    done = true;
    client.join();
    INFO(first_failure);
    CHECK(failures == 0);
    CHECK(requests > 0);

    // The server sees the last commit without a restart.
    httplib::Client cli("127.0.0.1", port);
    auto health = cli.Get("/healthz");
    REQUIRE(health);
    CHECK(nlohmann::json::parse(health->body)["sheets"] == c.db().get_doccount());
    server.stop();
    serving.join();
}

TEST_CASE("a kept Searcher counts the facets of the index it reopened, not of the one it read first", "[index]") {
    // The searcher reads the facet records of an opened index once (searcher/facet_table.h); sheets that
    // an incremental run adds or removes must show in its counts and totals after reopen().
    Corpus c;
    const std::string part4 = c.read("part4.txt"), part5 = c.read("part5.txt");
    fs::remove(c.docs / "part4.txt");
    fs::remove(c.docs / "part5.txt");
    c.run();
    const Synonyms synonyms = Synonyms::load(c.config.synonyms_path, test::analyzer());
    Searcher kept(c.config, test::analyzer(), test::bureaus(), synonyms);
    SearchRequest browse;  // every sheet
    const SearchResult before = kept.search(browse);
    REQUIRE(before.total == c.db().get_doccount());

    // Back come part4 and part5 (new docids beyond the first index's), out goes part1.
    c.write("part4.txt", part4);
    c.write("part5.txt", part5);
    fs::remove(c.docs / "part1.txt");
    const ReindexReport r = c.run(false, true);  // a quarter of the sheets go: more than the guard lets by
    REQUIRE(r.committed);
    REQUIRE(r.added > 0);
    REQUIRE(r.deleted > 0);
    CHECK(kept.reopen());
    const SearchResult after = kept.search(browse);
    Searcher fresh(c.config, test::analyzer(), test::bureaus(), synonyms);
    const SearchResult expected = fresh.search(browse);
    CHECK(after.total == c.db().get_doccount());
    CHECK(after.totals.sheets == after.total);
    CHECK(before.totals.sheets != after.totals.sheets);
    const auto summary = [](const SearchResult& res) {
        std::vector<std::string> out;
        for (const auto& [facet, values] : res.facets)
            for (const FacetValue& v : values)
                out.push_back(facet + " " + v.value + " " + std::to_string(v.count) + " " + std::to_string(v.amount_yen));
        for (const TotalsCell& cell : res.totals.cells)
            out.push_back(cell.year + " " + cell.kind + " " + std::to_string(cell.sheets) + " " + std::to_string(cell.yen) + " " +
                          std::to_string(cell.with_previous) + " " + std::to_string(cell.previous_yen));
        return out;
    };
    CHECK(summary(after) == summary(expected));
    CHECK(summary(after) != summary(before));
    // And with a filter (a selected facet is counted in a pass of its own).
    SearchRequest filtered;
    filtered.query = "支援";
    filtered.filters.values["kind"] = {"当初"};
    CHECK(summary(kept.search(filtered)) == summary(fresh.search(filtered)));
}
