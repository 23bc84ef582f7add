// An httplib::Server that a few slow clients cannot stop (slowloris).
//
// cpp-httplib 0.11 (Debian's libcpp-httplib) reads each request on a worker thread of its TaskQueue, with
// a per-read timeout only: a client that sends one header byte every few seconds holds a thread for as
// long as it likes, and 33 such clients stopped a 32-thread server. The library offers no whole-request
// deadline, no bound on its queue and no hook that sees the socket before a worker does, except the
// virtual Server::process_and_close_socket(sock) (there for SSLServer) and the protected
// Server::process_request(Stream&, ...). This class uses those two:
//
//   listener thread (httplib)   accept(), then TaskQueue::enqueue(fn): our queue runs fn at once, and fn
//                               is our process_and_close_socket(sock), which only hands sock to the gate
//   gate thread (one, poll())   reads request bytes into a per-connection buffer, non-blocking; a request
//                               goes to the workers only when its header is complete. A connection whose
//                               request is not complete by the deadline gets 408 and is closed; one over
//                               the connection limit, or finding the ready queue full, gets 503
//   worker threads              run httplib's own request handling (process_request) over a Stream that
//                               serves the buffered bytes first, and gives up reading the body at the
//                               same deadline; a kept-alive connection goes back to the gate between
//                               requests, so an idle browser holds no worker either
//
// So workers only ever run requests that are already there, slow or idle clients cost a buffer and a
// pollfd each (up to max_connections), and a saturated server answers 503 instead of going silent.
// Many cheap threads would not have done: each still waits as long as its client trickles.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <httplib.h>

namespace yosan {

struct ConnectionLimits {
    // Worker threads running requests. Requests take milliseconds, so a few dozen are plenty.
    std::size_t threads = 32;
    // The request line, headers and body must all have arrived this long after the connection was
    // accepted (or, on a kept-alive connection, after the first byte of the next request).
    std::chrono::milliseconds request_deadline{5000};
    // Open connections at once, in any state; one more is answered 503 and closed. Kept well under 1024:
    // Debian's httplib waits with select(), and its process_request answers 500 for an fd >= FD_SETSIZE.
    std::size_t max_connections = 512;
    // Complete requests waiting for a worker; one more is answered 503 and closed.
    std::size_t max_queued = 256;
};

class GuardedHttpServer : public httplib::Server {
public:
    explicit GuardedHttpServer(ConnectionLimits limits);
    ~GuardedHttpServer() override;

    // Counters since construction, for tests and logs.
    struct Stats {
        std::uint64_t accepted = 0;
        std::uint64_t timed_out = 0;  // answered 408: the request was not complete by the deadline
        std::uint64_t refused = 0;    // answered 503: too many connections, or the ready queue was full
    };
    Stats stats() const;

    // When the request this thread is serving had arrived whole (its header complete), for the access log
    // and the latency histogram: the time it waited for a worker counts. Valid inside the handlers, the
    // error handler, the post-routing handler and the logger, which run on the worker serving that request.
    static std::chrono::steady_clock::time_point request_arrived();

    // Called after binding: httplib listens with a backlog of 5, so a burst of connections (a page load
    // and a few API calls from several browsers, or a flood) sees dropped SYNs and 1 s retransmits before
    // the gate even gets to answer.
    void widen_backlog(int backlog);

private:
    // Called by httplib's listener thread for each accepted socket, through our inline TaskQueue.
    bool process_and_close_socket(socket_t sock) override;

    class Gate;
    std::unique_ptr<Gate> gate_;
};

}  // namespace yosan
