// Read replicas with Xapian's own replication (docs/replicas.md), on loopback: a writer indexes the real
// corpus with XAPIAN_MAX_CHANGESETS set, xapian-replicate-server serves the writer's index folder, two
// xapian-replicate clients keep two replicas, and two `yosan-search serve` processes answer from them.
// While a client searches both servers without pause, the writer runs an incremental change, a --full
// rebuild (a new generation behind the stub) and another incremental change; each time both servers must
// answer with the writer's new revision, with no failed request. The time each change takes to reach both
// replicas is printed; the only time condition is a generous bound meaning "never arrived".
//
// Needs xapian-replicate and xapian-replicate-server (Debian xapian-tools); without them the test exits
// with status 77, which ctest reports as skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>
#include <xapian.h>

#include "core/schema.h"
#include "indexer/index_writer.h"
#include "tests/test_support.h"

using namespace yosan;
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kSkipped = 77;
// "Never arrived": with replicas polling every second a change takes about a second; this only catches a
// replica that stopped following.
constexpr std::chrono::seconds kNeverArrived{60};
constexpr const char* kNewWord = "離島";  // only in the sheet the test adds, never in the corpus

std::optional<std::string> find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const fs::path p = fs::path(dir.empty() ? "." : dir) / name;
        if (::access(p.c_str(), X_OK) == 0) return p.string();
    }
    return std::nullopt;
}

// A process started without a shell, stdout and stderr appended to `log`, in a process group of its own;
// the group is sent SIGTERM and the process reaped when the object goes away, so that a failing REQUIRE
// leaves no replication process behind. The own group matters: xapian-replicate-server answers SIGTERM by
// killing its whole process group (xapian-core net/tcpserver.cc), which would otherwise be ours and ctest's.
class Child {
public:
    Child(const std::vector<std::string>& args, const std::string& log) : log_(log) {
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        std::vector<char*> argv;
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        const int rc = ::posix_spawnp(&pid_, argv[0], &actions, &attr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
    }
    ~Child() {
        if (pid_ <= 0) return;
        ::kill(-pid_, SIGTERM);  // with the server's per-connection children
        ::kill(-pid_, SIGCONT);  // a paused client must run to act on it
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    bool running() {
        if (pid_ <= 0) return false;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
        pid_ = -1;  // reaped: nothing to stop any more
        return false;
    }
    std::string output() const { return test::read_file(log_); }
    void pause() const { ::kill(pid_, SIGSTOP); }
    void resume() const { ::kill(pid_, SIGCONT); }

private:
    std::string log_;
    pid_t pid_ = -1;
};

// A loopback port nobody listens on right now. Another process could take it before the child binds it;
// the caller then sees its child exit and asks again.
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    ::close(fd);
    REQUIRE(ok);
    return ntohs(a.sin_port);
}

bool accepts_connections(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// Polls `done` every 20 ms; the time it took, or nothing when it did not happen within `bound`.
template <class Pred>
std::optional<double> wait_for(Pred done, std::chrono::seconds bound = kNeverArrived) {
    const auto start = Clock::now();
    while (Clock::now() - start < bound) {
        if (done()) return std::chrono::duration<double>(Clock::now() - start).count();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
}

// config/yosan.toml with the index at `index_path` and the corpus at `docs`; the dictionaries of this
// build, as test::test_config() resolves them; files are indexed as soon as they are written.
void write_config(const std::string& file, const std::string& index_path, const std::string& docs) {
    toml::table t = toml::parse_file(test::source_path("config/yosan.toml"));
    const Config c = test::test_config();
    t.insert_or_assign("index", toml::table{{"path", index_path}, {"max_delete_share", c.max_delete_share}, {"settle_seconds", 0}});
    t.insert_or_assign("corpus", toml::table{{"paths", toml::array{docs}}});
    toml::table* analysis = t["analysis"].as_table();
    REQUIRE(analysis);
    analysis->insert_or_assign("dictionary_path", c.analysis.dictionary_path);
    analysis->insert_or_assign("user_dictionary", c.analysis.user_dictionary);
    t.insert_or_assign("dict", toml::table{{"bureaus", c.bureaus_path}, {"synonyms", c.synonyms_path},
                                           {"assignments", c.assignments_path}, {"char_fixes", c.char_fixes_path}});
    std::ofstream(file) << t << "\n";
}

// What identifies a database's state: its UUID (a new one for each --full generation, kept by the
// replicas) and revision; nothing while it cannot be opened yet.
std::optional<std::string> state_of(const std::string& path) {
    try {
        const Xapian::Database db(path);
        return db.get_uuid() + "@" + std::to_string(db.get_revision());
    } catch (const Xapian::Error&) {
        return std::nullopt;
    }
}

// What a replica's server must answer once it has the writer's latest commit.
struct Expected {
    Xapian::rev revision = 0;
    Xapian::doccount sheets = 0;
    std::string indexed_at;
    bool new_word_found = false;  // whether kNewWord finds the sheets of the added file
};

Expected expected_from(const std::string& writer_index) {
    const Xapian::Database db(writer_index);
    return {db.get_revision(), db.get_doccount(), db.get_metadata(std::string(schema::kMetaIndexedAt)), false};
}

std::optional<json> get_json(int port, const std::string& path) {
    httplib::Client cli("127.0.0.1", port);
    cli.set_connection_timeout(5, 0);
    cli.set_read_timeout(30, 0);
    auto r = cli.Get(path.c_str());
    if (!r || r->status != 200) return std::nullopt;
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

std::string search_path(const std::string& word) {
    std::string encoded;
    static const char* hex = "0123456789ABCDEF";
    for (unsigned char c : word) {
        encoded += '%';
        encoded += hex[c >> 4];
        encoded += hex[c & 15];
    }
    return "/api/search?q=" + encoded;
}

// Whether the server on `port` answers from the writer's latest commit: /healthz shows its revision
// (when the server reports one), sheet count and index time, and the added sheets are found or not.
bool serves(int port, const Expected& e) {
    const auto health = get_json(port, "/healthz");
    if (!health || (*health)["status"] != "ok") return false;
    const json& rev = (*health)["revision"];
    if (!rev.is_null() && rev.get<Xapian::rev>() != e.revision) return false;
    if ((*health)["sheets"] != e.sheets || (*health)["indexed_at"] != e.indexed_at) return false;
    const auto found = get_json(port, search_path(kNewWord));
    return found && ((*found)["total"].get<std::size_t>() > 0) == e.new_word_found;
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

// The changeset files (glass: changes<N>) a database directory keeps for its replicas.
std::size_t changesets_in(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& entry : fs::directory_iterator(dir)) n += entry.path().filename().string().rfind("changes", 0) == 0;
    return n;
}

// The bytes of a database's own files (not its changesets): what a whole copy sends.
std::uintmax_t database_bytes(const fs::path& dir) {
    std::uintmax_t n = 0;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.is_regular_file() && entry.path().filename().string().rfind("changes", 0) != 0) n += entry.file_size();
    return n;
}

int port_in_banner(const std::string& output) {
    // "yosan-search: http://127.0.0.1:PORT/ ..." once it listens.
    const std::string marker = "http://127.0.0.1:";
    const auto at = output.find(marker);
    return at == std::string::npos ? 0 : std::atoi(output.c_str() + at + marker.size());
}

}  // namespace

TEST_CASE("two read replicas follow the writer through xapian-replicate with no failed request", "[replicas][http]") {
    const auto server_program = find_program("xapian-replicate-server");
    const auto client_program = find_program("xapian-replicate");
    if (!server_program || !client_program) {
        std::cout << "SKIPPED: xapian-replicate-server and xapian-replicate (Debian package xapian-tools, "
                     "scripts/deps.sh) are not installed; the replica test needs them."
                  << std::endl;
        std::exit(kSkipped);
    }

    test::TempDir dir("replicas");
    const fs::path docs = dir.path() / "docs";
    fs::copy(test::source_path("data"), docs, fs::copy_options::recursive);
    const fs::path master = dir.path() / "master";  // what xapian-replicate-server serves
    fs::create_directories(master);
    const std::string writer_index = (master / "index").string();
    const std::string writer_config = dir.file("writer.toml");
    write_config(writer_config, writer_index, docs.string());

    // The writer as the yosan-reindex unit runs it: XAPIAN_MAX_CHANGESETS makes each commit keep a changeset.
    const auto run_writer = [&](const std::string& flags) {
        std::string out;
        const int status = test::run_command("env XAPIAN_MAX_CHANGESETS=10 " + test::binary("yosan-index") + " -c " +
                                                 writer_config + " --quiet " + flags + " 2>&1",
                                             &out);
        INFO(out);
        REQUIRE(status == 0);
    };
    run_writer("");
    REQUIRE(fs::is_directory(writer_index));

    // The master side. It has no port 0; a port taken meanwhile makes it exit, and another is tried.
    std::unique_ptr<Child> replicate_server;
    int master_port = 0;
    for (int attempt = 0; attempt < 5 && !replicate_server; ++attempt) {
        master_port = free_port();
        replicate_server = std::make_unique<Child>(
            std::vector<std::string>{*server_program, "-I", "127.0.0.1", "-p", std::to_string(master_port), master.string()},
            dir.file("replicate-server.log"));
        if (!wait_for([&] { return !replicate_server->running() || accepts_connections(master_port); }, std::chrono::seconds(10)) ||
            !replicate_server->running())
            replicate_server.reset();
    }
    REQUIRE(replicate_server);

    // The replica side: two clients, each keeping its own replica folder (they create it), polling every
    // second, -v so that each update says whether it came as changesets or as a full copy.
    struct Replica {
        std::string name, path, config;
        std::unique_ptr<Child> client, server;
        int port = 0;
    };
    std::vector<Replica> replicas(2);
    for (std::size_t i = 0; i < replicas.size(); ++i) {
        Replica& r = replicas[i];
        r.name = std::string("replica-") + char('a' + i);
        r.path = dir.file(r.name);
        r.client = std::make_unique<Child>(
            std::vector<std::string>{*client_program, "-h", "127.0.0.1", "-p", std::to_string(master_port), "-m", "index", "-i", "1",
                                     "-v", r.path},
            dir.file(r.name + "-replicate.log"));
    }
    const auto writer_state = [&] { return state_of(writer_index); };
    for (Replica& r : replicas)
        if (!wait_for([&] { return state_of(r.path) == writer_state(); })) FAIL(r.name << " never got the index: " << r.client->output());

    // A yosan-search server on each replica. Replica a is configured with the replica folder, replica b
    // with the stub file xapian-replicate keeps in it (docs/replicas.md): both must follow every change.
    replicas[0].config = replicas[0].path;
    replicas[1].config = (fs::path(replicas[1].path) / "XAPIANDB").string();
    for (Replica& r : replicas) {
        const std::string config = dir.file(r.name + ".toml");
        write_config(config, r.config, docs.string());
        r.server = std::make_unique<Child>(
            std::vector<std::string>{test::binary("yosan-search"), "serve", "-c", config, "--listen", "127.0.0.1:0", "--cache-entries", "0"},
            dir.file(r.name + "-serve.log"));
        wait_for([&] { return (r.port = port_in_banner(r.server->output())) != 0 || !r.server->running(); });
        if (r.port == 0) FAIL(r.name << ": yosan-search serve did not start: " << r.server->output());
    }
    Expected expected = expected_from(writer_index);
    for (Replica& r : replicas)
        if (!wait_for([&] { return serves(r.port, expected); })) FAIL(r.name << " does not serve the index: " << r.server->output());

    // A client per server that searches it without pause until the end: every answer must be a 200 with hits.
    std::atomic<bool> done{false};
    std::atomic<int> requests{0}, failures{0};
    std::mutex m;
    std::string first_failure;
    const auto load = [&](const Replica& r) {
        const std::string q = search_path("蓄電池");
        while (!done) {
            httplib::Client cli("127.0.0.1", r.port);
            cli.set_connection_timeout(5, 0);
            cli.set_read_timeout(30, 0);
            auto res = cli.Get(q.c_str());
            bool ok = res && res->status == 200;
            if (ok) {
                const json j = json::parse(res->body, nullptr, false);
                ok = !j.is_discarded() && j.contains("hits") && !j["hits"].empty();
            }
            ++requests;
            if (!ok) {
                ++failures;
                const std::lock_guard lock(m);
                if (first_failure.empty())
                    first_failure = r.name + ": " + (res ? std::to_string(res->status) + " " + res->body.substr(0, 300) : "no answer");
            }
        }
    };
    // Stops the load even when a REQUIRE below throws, before the servers go away.
    struct LoadThreads {
        std::atomic<bool>& done;
        std::vector<std::thread> threads;
        void stop() {
            done = true;
            for (std::thread& t : threads)
                if (t.joinable()) t.join();
        }
        ~LoadThreads() { stop(); }
    } loads{done, {}};
    for (const Replica& r : replicas) loads.threads.emplace_back(load, std::cref(r));

    // The added file: one whole sheet of another ministry (離島活性化交付金), the only one to mention 離島.
    const std::string fixture = test::read_file(test::source_path("tests/fixtures/other-ministries.txt"));
    const auto from = fixture.find("離島活性化交付金"), to = fixture.find("少額研究委託費");
    REQUIRE((from != std::string::npos && to != std::string::npos && from < to));
    const std::string new_sheet = fixture.substr(from, to - from);
    // One step: change the corpus, run the writer, then wait until both servers answer from its commit.
    const auto step = [&](const std::string& what, const std::string& flags, bool new_word_found) {
        std::vector<std::string> logs_before;
        for (const Replica& r : replicas) logs_before.push_back(r.client->output());
        // The replicas do not poll while the writer commits. Xapian makes a commit's changeset file visible
        // just after its new revision (glass set_revision_number: version file, then changeset), so a poll
        // in between gets a whole copy: correct, and rare with production intervals, but then this test
        // could not tell whether changesets are used at all.
        for (const Replica& r : replicas) r.client->pause();
        run_writer(flags);
        for (const Replica& r : replicas) r.client->resume();
        expected = expected_from(writer_index);
        expected.new_word_found = new_word_found;
        const auto committed = Clock::now();
        std::vector<double> seconds;
        for (const Replica& r : replicas) {
            if (!wait_for([&] { return serves(r.port, expected); }))
                FAIL(what << ": " << r.name << " never served revision " << expected.revision << "\n" << r.client->output() << r.server->output());
            seconds.push_back(std::chrono::duration<double>(Clock::now() - committed).count());
            CHECK(state_of(r.path) == writer_state());  // the writer's generation (UUID), not only its figures
        }
        std::ostringstream line;
        line.precision(2);
        line << std::fixed << "replicas: " << what << ": both replicas serve revision " << expected.revision << " ("
             << expected.sheets << " sheets) " << *std::max_element(seconds.begin(), seconds.end())
             << " s after the writer's commit (" << replicas[0].name << " " << seconds[0] << " s, " << replicas[1].name << " "
             << seconds[1] << " s)";
        // What went over the wire: the commit's changeset (glass names it after the revision it starts from),
        // and the database a whole copy sends.
        const fs::path live = IndexLayout::inspect(writer_index).live_dir;
        const fs::path changeset = live / ("changes" + std::to_string(expected.revision - 1));
        line << "; database " << database_bytes(live) / 1e6 << " MB";
        if (fs::exists(changeset)) line << ", its changeset " << fs::file_size(changeset) / 1e6 << " MB";
        std::cout << line.str() << std::endl;
        // How each replica got there, from what its client logged during this step (it logs the update just
        // after making it live, so the line may follow the first answer by a moment).
        std::vector<std::string> updates;
        for (std::size_t i = 0; i < replicas.size(); ++i) {
            const auto update = [&] { return replicas[i].client->output().substr(logs_before[i].size()); };
            wait_for([&] { return update().find("new live database") != std::string::npos; }, std::chrono::seconds(10));
            updates.push_back(update());
        }
        return updates;
    };

    std::ofstream(docs / "other.txt", std::ios::binary) << new_sheet;
    for (const std::string& log : step("incremental run adding a file", "", true)) {
        INFO(log);
        CHECK(count_of(log, "0 copies, 1 changesets, new live database") == 1);  // the changeset, not a full copy
        CHECK(count_of(log, "1 copies") == 0);
    }
    CHECK(changesets_in(writer_index) > 0);

    fs::remove(docs / "other.txt");  // the file vanished: its sheet goes
    for (const std::string& log : step("--full rebuild (new generation) dropping the file", "--full", false)) {
        INFO(log);
        CHECK(count_of(log, "1 copies, 0 changesets, new live database") == 1);  // a new database: one full copy
    }
    const IndexLayout layout = IndexLayout::inspect(writer_index);
    REQUIRE(layout.kind == IndexLayout::Kind::stub);

    std::ofstream(docs / "other.txt", std::ios::binary) << new_sheet;
    for (const std::string& log : step("incremental run on the new generation", "", true)) {
        INFO(log);
        CHECK(count_of(log, "0 copies, 1 changesets, new live database") == 1);
    }
    CHECK(changesets_in(layout.live_dir) > 0);

    loads.stop();
    INFO(first_failure);
    CHECK(failures == 0);
    CHECK(requests > 0);
    std::cout << "replicas: " << requests << " searches during the run, " << failures << " failed" << std::endl;
    for (const Replica& r : replicas) CHECK(r.client->running());
}
