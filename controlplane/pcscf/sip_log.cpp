// The eP-CSCF's SIP debug line fields (sip_log.hpp).
#include "pcscf/sip_log.hpp"

#include <cctype>

#include "isthmus/log/log.hpp"
#include "pcscf/p_headers.hpp"

namespace isthmus::pcscf {
namespace {

// Headers are looked for in the first octets only: a debug line does not
// walk a 64 KiB message.
constexpr std::size_t kScanLimit = 8192;

bool same_name(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// The next line of `rest` (without CRLF or LF); `rest` moves past it.
std::string_view next_line(std::string_view& rest) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

}  // namespace

std::string sip_log_fields(std::string_view message) {
    std::string_view rest = message.substr(0, kScanLimit);
    const std::string_view start = next_line(rest);
    std::string out;
    bool response = false;
    if (start.substr(0, 8) == "SIP/2.0 ") {
        const std::string_view code = start.substr(8, 3);
        const bool digits = code.size() == 3 && std::isdigit(static_cast<unsigned char>(code[0])) &&
                            std::isdigit(static_cast<unsigned char>(code[1])) &&
                            std::isdigit(static_cast<unsigned char>(code[2]));
        if (!digits) return "start=unreadable";
        out = "status=" + std::string(code);
        response = true;
    } else {
        const std::size_t space = start.find(' ');
        if (space == 0 || space == std::string_view::npos ||
            start.find(" SIP/2.0") == std::string_view::npos)
            return "start=unreadable";
        out = "method=" + log::escape_value(start.substr(0, space), 32);
    }
    std::string_view call_id;
    std::string_view cseq_method;
    while (!rest.empty()) {
        const std::string_view line = next_line(rest);
        if (line.empty()) break;  // the end of the header
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (call_id.empty() && (same_name(name, "Call-ID") || same_name(name, "i"))) {
            call_id = value;
        } else if (response && cseq_method.empty() && same_name(name, "CSeq")) {
            const std::size_t space = value.find_first_of(" \t");
            if (space != std::string_view::npos) cseq_method = trim(value.substr(space + 1));
        }
    }
    if (response) out += " cseq=" + log::escape_value(cseq_method, 32);
    out += " call_id=" + log::escape_value(call_id, 128);
    return out;
}

std::string peer_log_fields(const Peer& peer) {
    std::string transport(sip::transport_name(peer.transport));
    for (char& c : transport)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string address = address_text(peer.address);
    const bool v6 = address.find(':') != std::string::npos;
    return "transport=" + transport + " peer=" + (v6 ? "[" + address + "]" : address) + ":" +
           std::to_string(peer.port) + " flow=" + std::to_string(peer.flow);
}

}  // namespace isthmus::pcscf
