// The run lock: at most one yosan-index run per index at a time.
//
// Xapian's own write lock lives inside one database directory, so it cannot stop an incremental run and a
// `--full` run (which writes a new directory beside the live one) from racing. RunLock takes flock(2) on a
// file beside the index path ("var/index" → "var/index.lock"). The kernel releases an flock when the
// process ends however it ends (kill -9 included), so a killed run never leaves a lock that blocks the next
// night. The file itself is never deleted: unlinking a lock file while another process waits on it is the
// classic way to end up with two holders.
//
// The file's content (pid and start time of the holder) is only for the message a second run prints.
// Not thread safe; one RunLock per process.
#pragma once

#include <string>

#include "core/error.h"

namespace yosan {

// Another run holds the lock. yosan-index exits with status 4.
class LockHeldError : public IndexError {
public:
    using IndexError::IndexError;
    int exit_status() const override { return 4; }
};

class RunLock {
public:
    // Takes the lock without waiting. Throws LockHeldError when another process holds it, IndexError when
    // the lock file cannot be created.
    explicit RunLock(const std::string& index_path);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

    const std::string& path() const { return path_; }
    static std::string lock_path(const std::string& index_path) { return index_path + ".lock"; }

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace yosan
