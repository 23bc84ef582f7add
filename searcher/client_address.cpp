#include "searcher/client_address.h"

#include <arpa/inet.h>

#include "core/error.h"
#include "core/text.h"

namespace yosan {

namespace {

// One X-Forwarded-For entry without spaces, and without a port: "1.2.3.4:5678" and "[::1]:80" are sent by
// some proxies.
std::string_view bare_address(std::string_view entry) {
    entry = trim(entry);
    if (!entry.empty() && entry.front() == '[') {
        const auto close = entry.find(']');
        return close == std::string_view::npos ? entry : entry.substr(1, close - 1);
    }
    if (const auto colon = entry.find(':'); colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos)
        return entry.substr(0, colon);  // one colon: IPv4 with a port (an IPv6 address has several)
    return entry;
}

}  // namespace

std::optional<TrustedProxies::Bytes> TrustedProxies::parse(std::string_view text) {
    const std::string s(bare_address(text));
    Bytes b{};
    in_addr v4{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        b[10] = b[11] = 0xff;
        const auto* p = reinterpret_cast<const std::uint8_t*>(&v4.s_addr);
        std::copy(p, p + 4, b.begin() + 12);
        return b;
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(&v6);
        std::copy(p, p + 16, b.begin());
        return b;
    }
    return std::nullopt;
}

TrustedProxies::TrustedProxies(const std::vector<std::string>& entries) {
    for (const std::string& e : entries) {
        const auto bad = [&] {
            return ConfigError("server.trusted_proxies には IP アドレスか CIDR（10.0.0.0/8 など）を書いてください: " + e,
                               "server.trusted_proxies");
        };
        const auto slash = e.find('/');
        const std::string address = e.substr(0, slash);
        const std::optional<Bytes> b = address.find_first_of("[]") == std::string::npos ? parse(address) : std::nullopt;
        if (!b) throw bad();
        const bool v4 = address.find(':') == std::string::npos;
        int prefix = 128;
        if (slash != std::string::npos) {
            const std::string bits = e.substr(slash + 1);
            if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos) throw bad();
            prefix = std::stoi(bits);
            if (prefix > (v4 ? 32 : 128)) throw bad();
            if (v4) prefix += 96;
        }
        blocks_.push_back({*b, prefix});
    }
}

bool TrustedProxies::contains(std::string_view address) const {
    const std::optional<Bytes> a = parse(address);
    if (!a) return false;
    for (const Block& block : blocks_) {
        int bits = block.prefix;
        bool match = true;
        for (std::size_t i = 0; i < 16 && bits > 0 && match; ++i, bits -= 8) {
            const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
            match = ((*a)[i] & mask) == (block.address[i] & mask);
        }
        if (match) return true;
    }
    return false;
}

std::string TrustedProxies::client(const std::string& peer, std::string_view forwarded_for, std::string_view real_ip) const {
    if (blocks_.empty() || !contains(peer)) return peer;
    // Right to left: the nearest hop first. An entry that is not an address (garbage, "unknown") ends the
    // walk; the trusted hop that passed it on is then the best answer there is.
    std::string client = peer;
    std::string_view rest = forwarded_for;
    bool any = false;
    while (!trim(rest).empty()) {
        const auto comma = rest.rfind(',');
        const std::string_view entry = bare_address(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
        if (!parse(entry)) break;
        any = true;
        client = std::string(entry);
        if (!contains(entry)) break;
    }
    if (!any && parse(real_ip)) client = std::string(bare_address(real_ip));
    return client;
}

}  // namespace yosan
