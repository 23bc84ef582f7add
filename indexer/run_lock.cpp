#include "indexer/run_lock.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace yosan {

namespace {

std::string read_all(int fd) {
    std::string out;
    char buf[256];
    ssize_t n;
    if (::lseek(fd, 0, SEEK_SET) < 0) return out;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
}

}  // namespace

RunLock::RunLock(const std::string& index_path) : path_(lock_path(index_path)) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
    // O_CLOEXEC: a child process must not inherit (and so prolong) the lock. O_NOFOLLOW: the holder text is
    // written into the file, so a symlink put in its place would have us truncate whatever it points at.
    // O_NONBLOCK: a FIFO in its place would block the open.
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd_ < 0) {
        const int err = errno;
        if (err == ELOOP)
            throw IndexError("ロックファイルがシンボリックリンクになっています。削除してから実行してください（リンク先には触れていません）", path_);
        throw IndexError(std::string("ロックファイルを作れません: ").append(std::strerror(err)), path_);
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd_);
        fd_ = -1;
        throw IndexError("ロックファイルが通常のファイルではありません。削除してから実行してください", path_);
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        std::string holder = read_all(fd_);
        ::close(fd_);
        fd_ = -1;
        if (err != EWOULDBLOCK) throw IndexError(std::string("ロックを取得できません: ").append(std::strerror(err)), path_);
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
        std::string msg = "別の索引処理が実行中です";
        if (!holder.empty()) msg.append("（").append(holder).append("）");
        msg.append("。終わってから実行してください");
        throw LockHeldError(msg, path_);
    }
    // Who holds it, for the message of a second run. A failure here does not matter.
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    std::string info = "PID ";
    info.append(std::to_string(::getpid())).append("、").append(when).append(" 開始\n");
    if (::ftruncate(fd_, 0) == 0 && ::lseek(fd_, 0, SEEK_SET) == 0) {
        [[maybe_unused]] ssize_t w = ::write(fd_, info.data(), info.size());
    }
}

RunLock::~RunLock() {
    // Closing the descriptor releases the flock. The holder text stays; it is only read while locked.
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace yosan
