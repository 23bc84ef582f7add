#include "searcher/guarded_http_server.h"

#include <algorithm>
#include <optional>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace yosan {

namespace {

using Clock = std::chrono::steady_clock;

// GuardedHttpServer::request_arrived(): set by the worker before it hands a request to httplib.
thread_local Clock::time_point t_request_arrived;

// A request whose header is not complete after this many bytes is not a request we answer (httplib's own
// limit is 8 KB per line; a long percent-encoded query still has to reach it to get its 400).
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

// The whole answer must be written within this. The write timeout alone is per wait, so a client reading
// a byte now and then (a slow read) could hold a worker for as long as the answer lasts; most answers fit
// in the socket buffer at once, and the largest (a whole long sheet) is a few MB: 30 s is generous.
constexpr std::chrono::seconds kMaxResponseTime{30};

// How long a connection answered by the gate is kept open for the client to read the answer and close.
constexpr std::chrono::seconds kLinger{1};

// Answers written by the gate itself, without a worker: small enough for any socket send buffer, so one
// non-blocking send() delivers them. Same JSON shape as every other error of the API.
std::string canned(int status, std::string_view reason, std::string_view error, std::string_view detail) {
    const std::string body =
        std::string(R"({"error":")").append(error).append(R"(","detail":")").append(detail).append(R"("})");
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    out += "Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n";
    out += "X-Content-Type-Options: nosniff\r\nConnection: close\r\n";
    if (status == 503) out += "Retry-After: 1\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return out;
}

const std::string& busy_answer() {
    static const std::string s = canned(503, "Service Unavailable", "サーバーが混み合っています",
                                        "しばらくしてからもう一度検索してください");
    return s;
}
const std::string& timeout_answer() {
    static const std::string s =
        canned(408, "Request Timeout", "リクエストが時間内に届きませんでした", "request not complete before the deadline");
    return s;
}
const std::string& too_large_answer() {
    static const std::string s = canned(400, "Bad Request", "検索語または条件が長すぎます", "request header too large");
    return s;
}

int millis_until(Clock::time_point t, Clock::time_point now) {
    if (t <= now) return 0;
    return static_cast<int>(std::min<long long>(std::chrono::ceil<std::chrono::milliseconds>(t - now).count(), 60'000));
}

// Waits for `events` on fd for at most `ms` milliseconds; true when they came.
bool wait_for(int fd, short events, int ms) {
    pollfd p{fd, events, 0};
    for (;;) {
        const int r = ::poll(&p, 1, ms);
        if (r < 0 && errno == EINTR) continue;
        return r > 0;
    }
}

// One client connection: the socket (closed when this goes away) and the bytes read but not yet consumed
// by httplib.
struct Connection {
    Connection(int f, std::atomic<std::size_t>& open_count) : fd(f), open(open_count) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() {
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
        --open;
    }
    std::size_t pending() const { return buffer.size() - consumed; }
    // Whether the buffered bytes hold a whole request header (httplib accepts bare LF line ends too).
    bool header_complete() {
        const std::string_view b(buffer);
        const std::size_t from = std::max(consumed, scanned >= 3 ? scanned - 3 : 0);
        scanned = buffer.size();
        return b.find("\r\n\r\n", from) != std::string_view::npos || b.find("\n\n", from) != std::string_view::npos;
    }
    // Reads whatever the socket has, without blocking. False on end of stream or an error.
    bool fill() {
        if (consumed > 0) {  // what httplib has read is dropped; the rest (a pipelined request) stays
            buffer.erase(0, consumed);
            scanned = scanned > consumed ? scanned - consumed : 0;
            consumed = 0;
        }
        char chunk[4096];
        for (;;) {
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
            if (n > 0) {
                buffer.append(chunk, static_cast<std::size_t>(n));
                if (buffer.size() > kMaxHeaderBytes || static_cast<std::size_t>(n) < sizeof chunk) return true;
                continue;
            }
            if (n == 0) return false;
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
    }
    // An answer from the gate itself (408, 503, 400), then the connection lingers, read and discarded,
    // until the client closes it or `linger` passes. Closing at once with unread request bytes would make
    // the kernel send a reset, which can destroy the answer before the client has read it.
    void answer(const std::string& response, Clock::time_point linger_until) {
        ::send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::shutdown(fd, SHUT_WR);
        closing = true;
        deadline = linger_until;
        buffer.clear();
        consumed = scanned = 0;
    }
    // While closing: discards what the client still sends. False once it has closed its side.
    bool drain() {
        char sink[4096];
        for (;;) {
            const ssize_t n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
    }

    const int fd;
    std::atomic<std::size_t>& open;
    std::string buffer;
    std::size_t consumed = 0;
    std::size_t scanned = 0;
    Clock::time_point deadline;  // the current request must be complete by then (or, when idle, start)
    Clock::time_point arrived;   // when the current request's header was complete
    bool idle = false;           // kept alive between requests, no byte of the next one yet
    bool closing = false;        // answered by the gate; lingering until the client closes
    bool recheck = false;        // back from a worker with buffered bytes: look at them without waiting
    std::size_t served = 0;
};

// httplib reads and writes a request through this: the gate's buffer first, then the socket, never past
// the connection's deadline; writes wait for the socket at most the write timeout.
class ConnectionStream : public httplib::Stream {
public:
    ConnectionStream(Connection& c, std::chrono::milliseconds read_timeout, std::chrono::milliseconds write_timeout)
        : c_(c), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

    bool is_readable() const override { return c_.pending() > 0 || wait_for(c_.fd, POLLIN, read_budget()); }
    bool is_writable() const override {
        // The answer's deadline runs from its first byte: the handler's own time (a long CSV export) is not
        // the client's slowness.
        if (!write_deadline_) write_deadline_ = Clock::now() + kMaxResponseTime;
        const int budget = std::min(static_cast<int>(write_timeout_.count()), millis_until(*write_deadline_, Clock::now()));
        return budget > 0 && wait_for(c_.fd, POLLOUT, budget);
    }

    ssize_t read(char* ptr, size_t size) override {
        if (c_.pending() > 0) {
            const std::size_t n = std::min(size, c_.pending());
            std::memcpy(ptr, c_.buffer.data() + c_.consumed, n);
            c_.consumed += n;
            return static_cast<ssize_t>(n);
        }
        for (;;) {
            const int budget = read_budget();
            if (budget <= 0 || !wait_for(c_.fd, POLLIN, budget)) return -1;
            const ssize_t n = ::recv(c_.fd, ptr, size, MSG_DONTWAIT);
            if (n >= 0) return n;
            if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        }
    }
    ssize_t write(const char* ptr, size_t size) override {
        for (;;) {
            if (!is_writable()) return -1;
            const ssize_t n = ::send(c_.fd, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) return n;
            if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        }
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override { name_of(::getpeername, ip, port); }
    void get_local_ip_and_port(std::string& ip, int& port) const override { name_of(::getsockname, ip, port); }
    socket_t socket() const override { return c_.fd; }

private:
    int read_budget() const {
        return std::min(static_cast<int>(read_timeout_.count()), millis_until(c_.deadline, Clock::now()));
    }
    void name_of(int (*get)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        if (get(c_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
            ::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, serv, sizeof serv,
                          NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
            ip = host;
            port = std::atoi(serv);
        }
    }

    Connection& c_;
    std::chrono::milliseconds read_timeout_, write_timeout_;
    mutable std::optional<Clock::time_point> write_deadline_;  // set when the answer starts
};

}  // namespace

class GuardedHttpServer::Gate {
public:
    Gate(GuardedHttpServer& server, ConnectionLimits limits) : server_(server), limits_(limits) {}
    ~Gate() { stop(); }

    // Started by the TaskQueue httplib creates when it starts listening, stopped when it shuts it down.
    void start() {
        std::lock_guard lock(mutex_);
        if (running_) return;
        stopping_ = false;
        wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        running_ = true;
        poller_ = std::thread([this] { poll_loop(); });
        for (std::size_t i = 0; i < std::max<std::size_t>(limits_.threads, 1); ++i) workers_.emplace_back([this] { work_loop(); });
    }
    void stop() {
        {
            std::lock_guard lock(mutex_);
            if (!running_) return;
            stopping_ = true;
        }
        wake();
        ready_cv_.notify_all();
        poller_.join();
        for (std::thread& t : workers_) t.join();
        workers_.clear();
        std::lock_guard lock(mutex_);
        incoming_.clear();
        ready_.clear();
        ::close(wake_fd_);
        wake_fd_ = -1;
        running_ = false;
    }

    // A socket httplib just accepted. Never blocks: the listener thread must get back to accept().
    void admit(int fd) {
        ++stats_accepted_;
        const int flags = ::fcntl(fd, F_GETFL);
        ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        auto c = std::make_unique<Connection>(fd, open_);
        const std::size_t open = ++open_;
        const Clock::time_point now = Clock::now();
        c->deadline = now + limits_.request_deadline;
        if (open > limits_.max_connections) {
            ++stats_refused_;
            // Answered connections linger for a second; under a flood beyond twice the limit even that
            // stops, and the connection is just closed.
            if (open > 2 * limits_.max_connections) return;
            c->answer(busy_answer(), now + kLinger);
        }
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            incoming_.push_back(std::move(c));
        }
        wake();
    }

    Stats stats() const { return {stats_accepted_.load(), stats_timed_out_.load(), stats_refused_.load()}; }

private:
    void wake() {
        const std::uint64_t one = 1;
        if (wake_fd_ >= 0) {
            [[maybe_unused]] const auto r = ::write(wake_fd_, &one, sizeof one);
        }
    }

    // The only thread that reads from connections waiting for a request; it never blocks on one.
    void poll_loop() {
        std::vector<std::unique_ptr<Connection>> waiting;
        std::vector<pollfd> fds;
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                if (stopping_) break;
                for (auto& c : incoming_) waiting.push_back(std::move(c));
                incoming_.clear();
            }
            Clock::time_point now = Clock::now();
            int timeout = 1000;
            fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
            for (const auto& c : waiting) {
                fds.push_back(pollfd{c->fd, POLLIN, 0});
                timeout = c->recheck ? 0 : std::min(timeout, millis_until(c->deadline, now));
            }
            if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) break;
            if (fds[0].revents & POLLIN) {
                std::uint64_t n;
                [[maybe_unused]] auto r = ::read(wake_fd_, &n, sizeof n);
            }
            now = Clock::now();
            // fds[i + 1] belongs to waiting[i]; finished connections are moved out and erased afterwards.
            for (std::size_t i = 0; i < waiting.size(); ++i) {
                Connection& c = *waiting[i];
                if (c.closing) {
                    if ((fds[i + 1].revents != 0 && !c.drain()) || now >= c.deadline) waiting[i].reset();
                    continue;
                }
                if (fds[i + 1].revents != 0 || c.recheck) {
                    c.recheck = false;
                    const bool was_idle = c.idle;
                    if (fds[i + 1].revents != 0 && !c.fill()) {  // the client went away (or closed a kept-alive connection)
                        waiting[i].reset();
                        continue;
                    }
                    if (was_idle && c.pending() > 0) {  // the next request starts: its own deadline
                        c.idle = false;
                        c.deadline = now + limits_.request_deadline;
                    }
                    if (c.header_complete()) {
                        if (enqueue_ready(waiting[i])) continue;
                        ++stats_refused_;
                        c.answer(busy_answer(), now + kLinger);
                        continue;
                    }
                    if (c.pending() > kMaxHeaderBytes) {
                        c.answer(too_large_answer(), now + kLinger);
                        continue;
                    }
                }
                if (now >= c.deadline) {
                    if (c.idle) {
                        waiting[i].reset();  // the keep-alive timeout: closed without a word, as usual
                    } else {
                        ++stats_timed_out_;
                        c.answer(timeout_answer(), now + kLinger);
                    }
                }
            }
            std::erase_if(waiting, [](const auto& c) { return !c; });
        }
        // Stopping: every waiting connection is closed with it.
    }

    // Moves c to the workers' queue, unless that is full (then c stays with the caller).
    bool enqueue_ready(std::unique_ptr<Connection>& c) {
        std::lock_guard lock(mutex_);
        if (ready_.size() >= limits_.max_queued) return false;
        c->arrived = Clock::now();
        ready_.push_back(std::move(c));
        ready_cv_.notify_one();
        return true;
    }

    void work_loop() {
        for (;;) {
            std::unique_ptr<Connection> c;
            {
                std::unique_lock lock(mutex_);
                ready_cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
                if (stopping_) return;
                c = std::move(ready_.front());
                ready_.pop_front();
            }
            serve(std::move(c));
        }
    }

    // httplib's own request handling (parsing, routing, the error handler, writing the response).
    void serve(std::unique_ptr<Connection> c) {
        using std::chrono::milliseconds, std::chrono::seconds, std::chrono::microseconds;
        const auto read_timeout = std::chrono::duration_cast<milliseconds>(seconds(server_.read_timeout_sec_) +
                                                                           microseconds(server_.read_timeout_usec_));
        const auto write_timeout = std::chrono::duration_cast<milliseconds>(seconds(server_.write_timeout_sec_) +
                                                                            microseconds(server_.write_timeout_usec_));
        ConnectionStream stream(*c, read_timeout, write_timeout);
        t_request_arrived = c->arrived;
        bool close_connection = ++c->served >= server_.keep_alive_max_count_;
        {
            std::lock_guard lock(mutex_);
            close_connection |= stopping_;
        }
        bool connection_closed = false;
        const bool ok = server_.process_request(stream, close_connection, connection_closed, nullptr);
        if (!ok || connection_closed || close_connection) return;  // c closes the socket
        // Kept alive: back to the gate until the next request (or the keep-alive timeout). Bytes of a
        // pipelined next request may already be buffered; then its deadline starts now.
        c->idle = c->pending() == 0;
        c->recheck = !c->idle;
        c->scanned = c->consumed;
        c->deadline = Clock::now() + (c->idle ? std::chrono::duration_cast<milliseconds>(seconds(server_.keep_alive_timeout_sec_))
                                               : limits_.request_deadline);
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            incoming_.push_back(std::move(c));
        }
        wake();
    }

    GuardedHttpServer& server_;
    const ConnectionLimits limits_;
    std::atomic<std::size_t> open_{0};
    std::atomic<std::uint64_t> stats_accepted_{0}, stats_timed_out_{0}, stats_refused_{0};
    std::mutex mutex_;
    std::condition_variable ready_cv_;
    bool running_ = false;
    bool stopping_ = false;
    int wake_fd_ = -1;
    std::vector<std::unique_ptr<Connection>> incoming_;  // accepted or kept alive, not yet seen by the gate
    std::deque<std::unique_ptr<Connection>> ready_;      // a complete header buffered, waiting for a worker
    std::thread poller_;
    std::vector<std::thread> workers_;
};

namespace {

// httplib's listener hands each accepted socket to its TaskQueue as fn = process_and_close_socket(sock).
// Ours runs fn at once on the listener thread (it only passes the socket to the gate, without blocking),
// and owns the gate's threads for as long as httplib listens.
class InlineQueue : public httplib::TaskQueue {
public:
    explicit InlineQueue(std::function<void()> on_shutdown) : on_shutdown_(std::move(on_shutdown)) {}
    void enqueue(std::function<void()> fn) override { fn(); }
    void shutdown() override { on_shutdown_(); }

private:
    std::function<void()> on_shutdown_;
};

}  // namespace

GuardedHttpServer::GuardedHttpServer(ConnectionLimits limits) : gate_(std::make_unique<Gate>(*this, limits)) {
    // httplib owns what new_task_queue returns (a raw pointer is its API) and deletes it after shutdown().
    new_task_queue = [this]() -> httplib::TaskQueue* {
        gate_->start();
        return new InlineQueue([this] { gate_->stop(); });
    };
}

// The gate's threads call into this object, so they stop before any member goes.
GuardedHttpServer::~GuardedHttpServer() { gate_->stop(); }

bool GuardedHttpServer::process_and_close_socket(socket_t sock) {
    gate_->admit(sock);
    return true;
}

std::chrono::steady_clock::time_point GuardedHttpServer::request_arrived() { return t_request_arrived; }

GuardedHttpServer::Stats GuardedHttpServer::stats() const { return gate_->stats(); }

void GuardedHttpServer::widen_backlog(int backlog) {
    // listen() again on a listening socket only changes its backlog (Linux).
    if (svr_sock_ != INVALID_SOCKET) ::listen(svr_sock_, backlog);
}

}  // namespace yosan
