// Who sent a request, when a reverse proxy (nginx) stands in front of the server: the access log must name
// the staff member's machine, not the proxy.
//
// A peer in [server] trusted_proxies is believed about the client: the client is the right-most address in
// X-Forwarded-For that is not itself a trusted proxy (each proxy appends the address it got the request
// from, so everything left of the first untrusted hop may be made up by the client), or X-Real-IP when
// there is no X-Forwarded-For. Any other peer is the client itself, whatever headers it sends.
//
// Thread safe after construction (read-only).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yosan {

class TrustedProxies {
public:
    TrustedProxies() = default;
    // Each entry an IPv4 or IPv6 address, or a CIDR block ("10.0.0.0/8", "fd00::/8"). Throws ConfigError
    // naming [server] trusted_proxies and the entry when one is neither.
    explicit TrustedProxies(const std::vector<std::string>& entries);

    // Whether `address` (an IPv4 or IPv6 address as text; an IPv4-mapped IPv6 address counts as its IPv4
    // address) lies in one of the entries. False for anything that is not an address.
    bool contains(std::string_view address) const;

    // The client of a request that came from `peer` with these header values (empty when absent; several
    // X-Forwarded-For headers joined with ","), as described above.
    std::string client(const std::string& peer, std::string_view forwarded_for, std::string_view real_ip) const;

private:
    using Bytes = std::array<std::uint8_t, 16>;  // IPv4 as ::ffff:a.b.c.d
    struct Block {
        Bytes address;
        int prefix;  // bits, out of 128
    };
    static std::optional<Bytes> parse(std::string_view text);
    std::vector<Block> blocks_;
};

}  // namespace yosan
