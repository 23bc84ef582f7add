#include "core/run_state.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/error.h"

namespace yosan {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A file descriptor closed when it goes (which also releases an flock taken on it).
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    // Closes now, reporting whether close() succeeded (it can report a failed write-back).
    bool close() {
        const int fd = fd_;
        fd_ = -1;
        return ::close(fd) == 0;
    }

private:
    int fd_;
};

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw IndexError(what + ": " + std::strerror(errno), path);
}

void write_all(int fd, const std::string& text, const std::string& path) {
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("実行記録を書き込めません", path);
        }
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

json RunRecord::to_json() const {
    json j = {{"status", status},         {"exit_status", exit_status}, {"started_at", started_at},
              {"finished_at", finished_at}, {"seconds", seconds}};
    if (!error.empty()) j["error"] = error;
    if (!report.is_null()) j["report"] = report;
    return j;
}

RunRecord RunRecord::from_json(const json& j) {
    RunRecord r;
    r.status = j.value("status", std::string());
    r.exit_status = j.value("exit_status", 0);
    r.started_at = j.value("started_at", std::string());
    r.finished_at = j.value("finished_at", std::string());
    r.seconds = j.value("seconds", 0.0);
    r.error = j.value("error", std::string());
    if (j.contains("report")) r.report = j["report"];
    return r;
}

std::string run_status(int exit_status) {
    switch (exit_status) {
        case 0: return "ok";
        case 3: return "partial";
        case 4: return "lock-held";
        case 5: return "refused";
        default: return "failed";
    }
}

bool run_succeeded(std::string_view status) { return status == "ok" || status == "partial"; }

std::string run_state_path(const Config& config) {
    return config.state_file.empty() ? config.index_path + ".last-run.json" : config.state_file;
}

std::optional<RunState> read_run_state(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::error_code ec;
        if (!fs::exists(path, ec) && !ec) return std::nullopt;
        throw IndexError("実行記録を読めません", path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    try {
        const json j = json::parse(text.str());
        if (!j.is_object()) throw IndexError("実行記録の形式が違います", path);
        RunState state;
        if (j.contains("last_run") && j["last_run"].is_object()) state.last_run = RunRecord::from_json(j["last_run"]);
        if (j.contains("last_success") && j["last_success"].is_object()) state.last_success = RunRecord::from_json(j["last_success"]);
        return state;
    } catch (const json::exception& e) {
        throw IndexError(std::string("実行記録の形式が違います: ") + e.what(), path);
    }
}

void record_run(const std::string& path, const RunRecord& run) {
    const fs::path target(path);
    const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    std::error_code ec;
    fs::create_directories(dir, ec);
    const Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0) fail("実行記録のフォルダを開けません", dir.string());
    // Held while the file is read, merged and replaced: two recording runs must not each keep the other's
    // old last_success.
    while (::flock(dir_fd.get(), LOCK_EX) != 0)
        if (errno != EINTR) fail("実行記録のフォルダをロックできません", dir.string());

    RunState state;
    try {
        if (auto old = read_run_state(path)) state = std::move(*old);
    } catch (const IndexError&) {
        // A damaged record is replaced: recording this run matters more than what the old file said.
    }
    const auto started = parse_utc_timestamp(run.started_at);
    const auto newer = state.last_run ? parse_utc_timestamp(state.last_run->finished_at) : std::nullopt;
    if (!(started && newer && *newer > *started)) state.last_run = run;
    if (run_succeeded(run.status)) state.last_success = run;

    json j = json::object();
    if (state.last_run) j["last_run"] = state.last_run->to_json();
    if (state.last_success) j["last_success"] = state.last_success->to_json();
    const std::string text = j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";

    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (out.get() < 0) fail("実行記録を書き込めません", tmp);
    write_all(out.get(), text, tmp);
    // Durable before the rename, so that a crash leaves the old record or the new one, never an empty file.
    if (::fsync(out.get()) != 0 || !out.close()) {
        ::unlink(tmp.c_str());
        fail("実行記録を書き込めません", tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        errno = err;
        fail("実行記録を置き換えられません", path);
    }
    ::fsync(dir_fd.get());  // the rename itself; a failure here only risks the record, not the index
}

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_utc_timestamp(std::string_view text) {
    std::tm tm{};
    const std::string s(text);
    const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end != '\0') return std::nullopt;
    const std::time_t secs = ::timegm(&tm);
    if (secs == static_cast<std::time_t>(-1)) return std::nullopt;
    return std::chrono::system_clock::from_time_t(secs);
}

}  // namespace yosan
