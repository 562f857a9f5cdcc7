// ws-register-load's calls: INVITE, ACK, BYE and the response summary (see
// the header).
#include "ws_register_load_call.hpp"

#include <algorithm>
#include <charconv>
#include <random>
#include <utility>

namespace isthmus::bench {

namespace {

constexpr std::string_view kLws = " \t";

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    const std::size_t b = s.find_first_not_of(kLws);
    if (b == std::string_view::npos) return {};
    const std::size_t e = s.find_last_not_of(kLws);
    return s.substr(b, e - b + 1);
}

// A Chrome-like audio offer (Chrome 120's shape, one host candidate, no
// trickle): opus, PCMU and telephone-event, DTLS-SRTP with a SHA-256
// fingerprint (32 octets), rtcp-mux, BUNDLE of its one m= line. The same
// for every call: the P-CSCF's work per offer does not depend on the values.
constexpr std::string_view kOffer =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS wsload\r\n"
    "m=audio 40000 UDP/TLS/RTP/SAVPF 111 0 126\r\n"
    "c=IN IP4 198.18.0.10\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1467250027 1 udp 2122260223 198.18.0.10 40000 typ host generation 0 "
    "network-id 1\r\n"
    "a=ice-ufrag:wsLd\r\n"
    "a=ice-pwd:ws0load0bench0ice0pwd0x0\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3C:1E:71:93:A5:B0:94:AA:48:"
    "2D:6C:F0\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\n"
    "a=msid:wsload wsload-audio\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:3735928559 cname:wsloadbenchcname\r\n"
    "a=ssrc:3735928559 msid:wsload wsload-audio\r\n";

// The URI of a Contact value: inside <> when there are any, else up to the
// first ';' (header parameters).
std::string_view contact_uri(std::string_view value) {
    const std::size_t open = value.find('<');
    if (open != std::string_view::npos) {
        const std::size_t close = value.find('>', open);
        if (close == std::string_view::npos) return {};
        return value.substr(open + 1, close - open - 1);
    }
    return trim(value.substr(0, value.find(';')));
}

// Appends each comma-separated element of a Record-Route value (commas
// inside <> or quotes do not separate). False when there are too many.
bool split_routes(std::string_view value, CallResponse& out) {
    std::size_t start = 0;
    bool in_angle = false, in_quote = false;
    for (std::size_t i = 0; i <= value.size(); ++i) {
        const char c = i < value.size() ? value[i] : ',';
        if (in_quote) {
            if (c == '\\') ++i;
            if (c == '"') in_quote = false;
            continue;
        }
        if (c == '"') in_quote = true;
        if (c == '<') in_angle = true;
        if (c == '>') in_angle = false;
        if (c != ',' || in_angle) continue;
        const std::string_view element = trim(value.substr(start, i - start));
        start = i + 1;
        if (element.empty()) continue;
        if (out.record_routes == CallResponse::kMaxRoutes) return false;
        out.record_route[out.record_routes++] = element;
    }
    return true;
}

}  // namespace

bool parse_call_response(std::string_view bytes, CallResponse& out) {
    out = {};
    while (bytes.starts_with("\r\n"))
        bytes.remove_prefix(2);
    if (bytes.size() < 12 || !bytes.starts_with("SIP/2.0 ") || bytes[11] != ' ') return false;
    uint16_t status = 0;
    for (std::size_t i = 8; i < 11; ++i) {
        if (bytes[i] < '0' || bytes[i] > '9') return false;
        status = static_cast<uint16_t>(status * 10 + (bytes[i] - '0'));
    }
    std::size_t pos = bytes.find("\r\n");
    if (pos == std::string_view::npos) return false;
    pos += 2;
    bool have_cseq = false, have_contact = false;
    while (pos < bytes.size()) {
        std::size_t eol = bytes.find("\r\n", pos);
        if (eol == std::string_view::npos) eol = bytes.size();
        const std::string_view line = bytes.substr(pos, eol - pos);
        pos = eol + 2;
        if (line.empty()) {
            out.body = pos <= bytes.size() ? bytes.substr(pos) : std::string_view{};
            break;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "CSeq")) {
            uint32_t n = 0;
            auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc{} || p == value.data()) return false;
            out.cseq = n;
            out.method = trim(value.substr(static_cast<std::size_t>(p - value.data())));
            have_cseq = true;
        } else if (iequals(name, "Call-ID") || iequals(name, "i")) {
            out.call_id = value;
        } else if (iequals(name, "To") || iequals(name, "t")) {
            out.to = value;
        } else if (!have_contact && (iequals(name, "Contact") || iequals(name, "m"))) {
            out.contact_uri = contact_uri(value);
            have_contact = true;
        } else if (iequals(name, "Record-Route")) {
            if (!split_routes(value, out)) return false;
        } else if (iequals(name, "Retry-After")) {
            std::from_chars(value.data(), value.data() + value.size(), out.retry_after_s);
        }
    }
    out.status = status;
    return have_cseq && !out.call_id.empty();
}

bool parse_call_request(std::string_view bytes, CallRequest& out) {
    out = {};
    while (bytes.starts_with("\r\n"))
        bytes.remove_prefix(2);
    std::size_t pos = bytes.find("\r\n");
    if (pos == std::string_view::npos || bytes.starts_with("SIP/2.0 ")) return false;
    const std::string_view line = bytes.substr(0, pos);
    const std::size_t sp = line.find(' ');
    if (sp == 0 || sp == std::string_view::npos || !line.ends_with(" SIP/2.0")) return false;
    out.method = line.substr(0, sp);
    pos += 2;
    bool have_cseq = false;
    while (pos < bytes.size()) {
        std::size_t eol = bytes.find("\r\n", pos);
        if (eol == std::string_view::npos) eol = bytes.size();
        const std::string_view header = bytes.substr(pos, eol - pos);
        pos = eol + 2;
        if (header.empty()) break;
        const std::size_t colon = header.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(header.substr(0, colon));
        const std::string_view value = trim(header.substr(colon + 1));
        if (iequals(name, "CSeq")) {
            auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), out.cseq);
            have_cseq = ec == std::errc{} && p != value.data();
        } else if (iequals(name, "Call-ID") || iequals(name, "i")) {
            out.call_id = value;
        }
    }
    return have_cseq && !out.call_id.empty();
}

void respond(std::string_view request, uint16_t status, std::string_view reason, std::string& out,
             std::string_view extra) {
    out.clear();
    out += "SIP/2.0 ";
    out += std::to_string(status);
    out += ' ';
    out += reason;
    out += "\r\n";
    std::size_t pos = request.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < request.size()) {
        pos += 2;
        std::size_t eol = request.find("\r\n", pos);
        if (eol == std::string_view::npos) eol = request.size();
        const std::string_view header = request.substr(pos, eol - pos);
        if (header.empty()) break;
        const std::string_view name = trim(header.substr(0, header.find(':')));
        for (std::string_view copied :
             {"Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq"}) {
            if (!iequals(name, copied)) continue;
            out += header;
            // 8.2.6.2: a To tag on every response but 100 (no dialog
            // here: a fixed one).
            if ((copied == "To" || copied == "t") && header.find(";tag=") == std::string_view::npos)
                out += ";tag=wsload";
            out += "\r\n";
            break;
        }
        pos = eol;
    }
    out += extra;
    out += "Content-Length: 0\r\n\r\n";
}

bool is_webrtc_answer(std::string_view sdp) {
    return sdp.find("a=ice-lite") != std::string_view::npos &&
           sdp.find("UDP/TLS/RTP/SAVPF") != std::string_view::npos &&
           sdp.find("a=candidate:") != std::string_view::npos;
}

CallLeg::CallLeg(const CallIdentity& id)
    : from_("<sip:" + id.user + "@" + id.domain + ">"),
      callee_(id.callee),
      call_id_prefix_(id.call_id_prefix) {
    via_head_ = "Via: SIP/2.0/" + id.via_transport + " " + id.host + ";branch=" + id.branch_prefix;
    invite_head_ = "INVITE " + id.callee + " SIP/2.0\r\n" + via_head_;
    from_head_ = "\r\nMax-Forwards: 70\r\nFrom: " + from_ + ";tag=";
    to_callee_ = "\r\nTo: <" + id.callee + ">\r\nCall-ID: ";
    invite_tail_ = "\r\nCSeq: 1 INVITE\r\nContact: <sip:" + id.user + "@" + id.host +
                   ";transport=ws>\r\n"
                   "Allow: INVITE,ACK,CANCEL,BYE\r\n"
                   "User-Agent: ws-register-load\r\n"
                   "Content-Type: application/sdp\r\nContent-Length: " +
                   std::to_string(kOffer.size()) + "\r\n\r\n" + std::string(kOffer);
}

void CallLeg::invite(std::string& out) {
    ++number_;
    number_text_ = std::to_string(number_);
    call_id_ = call_id_prefix_ + number_text_;
    to_.clear();
    remote_target_.clear();
    route_set_.clear();
    out.clear();
    out += invite_head_;
    out += number_text_;
    out += 'i';
    out += from_head_;
    out += call_id_;
    out += to_callee_;
    out += call_id_;
    out += invite_tail_;
}

void CallLeg::in_dialog(std::string_view method, char suffix, uint32_t cseq, std::string_view uri,
                        std::string_view to, bool routes, std::string& out) const {
    out.clear();
    out += method;
    out += ' ';
    out += uri;
    out += " SIP/2.0\r\n";
    out += via_head_;
    out += number_text_;
    out += suffix;
    out += "\r\n";
    if (routes) {
        for (const std::string& r : route_set_) {
            out += "Route: ";
            out += r;
            out += "\r\n";
        }
    }
    out += "Max-Forwards: 70\r\nFrom: ";
    out += from_;
    out += ";tag=";
    out += call_id_;
    out += "\r\nTo: ";
    out += to;
    out += "\r\nCall-ID: ";
    out += call_id_;
    out += "\r\nCSeq: ";
    out += std::to_string(cseq);
    out += ' ';
    out += method;
    out += "\r\n";
}

void CallLeg::answered(const CallResponse& ok, std::string& out) {
    to_.assign(ok.to);
    remote_target_.assign(ok.contact_uri.empty() ? std::string_view(callee_) : ok.contact_uri);
    route_set_.clear();
    // RFC 3261 12.1.2: the UAC's route set is the Record-Route in reverse.
    for (std::size_t i = ok.record_routes; i-- > 0;)
        route_set_.emplace_back(ok.record_route[i]);
    in_dialog("ACK", 'a', 1, remote_target_, to_, true, out);
    out += "Content-Length: 0\r\n\r\n";
}

void CallLeg::bye(std::string& out) const {
    in_dialog("BYE", 'b', kByeCseq, remote_target_, to_, true, out);
    out += "User-Agent: ws-register-load\r\nContent-Length: 0\r\n\r\n";
}

void CallLeg::failed(const CallResponse& final_response, std::string& out) const {
    // 17.1.1.3: the INVITE's Request-URI, Via (branch), From, Call-ID and
    // CSeq number; the response's To; no Route (the INVITE had none).
    in_dialog("ACK", 'i', 1, callee_, final_response.to, false, out);
    out += "Content-Length: 0\r\n\r\n";
}

CallSlots::CallSlots(const std::vector<CallIdentity>& slots, const Policy& policy,
                     std::atomic<std::size_t>* active)
    : policy_(policy), active_(active) {
    slots_.reserve(slots.size());
    for (const CallIdentity& id : slots)
        slots_.emplace_back(id);
}

void CallSlots::start(CallTransport& t, Clock::time_point now, bool counting, LoadCounters& c) {
    const auto hold_ms = static_cast<uint64_t>(policy_.hold.count());
    for (uint32_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].state != State::Idle) continue;
        if (!policy_.stagger || hold_ms == 0) {
            start_call(i, t, now, counting, c);
            continue;
        }
        thread_local std::minstd_rand rng(std::random_device{}());
        slots_[i].state = State::Waiting;
        arm(i, t, std::chrono::milliseconds(rng() % hold_ms));
    }
}

void CallSlots::start_call(uint32_t i, CallTransport& t, Clock::time_point now, bool counting,
                           LoadCounters& c) {
    if (!t.may_start()) return;
    Slot& s = slots_[i];
    std::string m = t.buffer();
    s.leg.invite(m);
    s.state = State::Inviting;
    s.sent = now;
    if (active_ != nullptr) active_->fetch_add(1, std::memory_order_relaxed);
    if (counting) ++c.invites;
    t.write(std::move(m));
}

void CallSlots::send_bye(uint32_t i, CallTransport& t, Clock::time_point now) {
    Slot& s = slots_[i];
    std::string m = t.buffer();
    s.leg.bye(m);
    s.state = State::Ending;
    s.sent = now;
    t.write(std::move(m));
}

void CallSlots::end_call(uint32_t i) {
    slots_[i].state = State::Idle;
    if (active_ != nullptr) active_->fetch_sub(1, std::memory_order_relaxed);
}

void CallSlots::on_response(const CallResponse& r, std::string_view bytes, Clock::time_point now,
                            bool counting, LoadCounters& c, std::string& first_unexpected,
                            CallTransport& t) {
    uint32_t i = 0;
    while (i < slots_.size() &&
           (slots_[i].state == State::Idle || slots_[i].state == State::Waiting ||
            slots_[i].leg.call_id() != r.call_id)) {
        ++i;
    }
    if (i == slots_.size()) {
        if (counting) ++c.unmatched;  // late: after a timeout, or the call is over
        return;
    }
    Slot& s = slots_[i];
    const bool invite = r.method == "INVITE";
    if (!invite && r.method != "BYE") {
        if (counting) ++c.unmatched;
        return;
    }
    if (r.status < 200) {
        if (counting) {
            ++c.provisional;
            if (invite && s.state == State::Inviting) ++c.by_status[r.status];
        }
        return;
    }
    if (invite && s.state != State::Inviting) {
        // RFC 3261 13.2.2.4: a retransmitted 2xx is ACKed again (the callee
        // retransmits until an ACK reaches it).
        if (r.status < 300 && r.cseq == 1) {
            if (counting) ++c.acks_repeated;
            std::string m = t.buffer();
            m.assign(s.ack);
            t.write(std::move(m));
        } else if (counting) {
            ++c.unmatched;
        }
        return;
    }
    if (!invite && (s.state != State::Ending || r.cseq != CallLeg::kByeCseq)) {
        if (counting) ++c.unmatched;
        return;
    }
    const std::size_t code = r.status < c.by_status.size() ? r.status : c.by_status.size() - 1;
    if (r.status >= 300 && first_unexpected.empty()) first_unexpected.assign(bytes);
    if (invite) {
        if (counting) ++c.by_status[code];
        std::string m = t.buffer();
        if (r.status >= 300) {
            s.leg.failed(r, m);
            t.write(std::move(m));
            end_call(i);
            if (policy_.retry_after && r.retry_after_s > 0) {
                if (counting) ++c.retry_waits;
                s.state = State::Waiting;
                arm(i, t, std::chrono::seconds(std::min<uint32_t>(r.retry_after_s, 60)));
                return;
            }
            start_call(i, t, now, counting, c);
            return;
        }
        if (counting) {
            c.latency.record(now - s.sent);
            if (!is_webrtc_answer(r.body)) ++c.bad_sdp;
        }
        s.leg.answered(r, m);
        s.ack.assign(m);
        t.write(std::move(m));
        s.state = State::Holding;
        if (policy_.hold.count() == 0) {
            send_bye(i, t, now);
        } else {
            arm(i, t, policy_.hold);
        }
        return;
    }
    if (counting) {
        ++c.bye_by_status[code];
        c.teardown.record(now - s.sent);
        if (r.status < 300) ++c.calls;
    }
    end_call(i);
    start_call(i, t, now, counting, c);
}

void CallSlots::on_request(const CallRequest& r, std::string_view bytes, Clock::time_point now,
                           bool counting, LoadCounters& c, CallTransport& t) {
    if (r.method == "ACK") return;
    uint32_t i = 0;
    while (i < slots_.size() &&
           (slots_[i].state == State::Idle || slots_[i].state == State::Waiting ||
            slots_[i].leg.call_id() != r.call_id)) {
        ++i;
    }
    std::string m = t.buffer();
    if (r.method != "BYE" || i == slots_.size()) {
        if (counting) ++c.requests_refused;
        if (r.method == "BYE" || r.method == "CANCEL")
            respond(bytes, 481, "Call/Transaction Does Not Exist", m);
        else
            respond(bytes, 405, "Method Not Allowed", m, "Allow: INVITE,ACK,CANCEL,BYE\r\n");
        t.write(std::move(m));
        return;
    }
    respond(bytes, 200, "OK", m);
    t.write(std::move(m));
    if (slots_[i].state == State::Ending) return;  // ours crossed it: its answer ends the call
    if (counting) ++c.byes_received;
    end_call(i);
    start_call(i, t, now, counting, c);
}

void CallSlots::arm(uint32_t i, CallTransport& t, std::chrono::milliseconds delay) {
    t.hold(i, ++slots_[i].hold_token, delay);
}

void CallSlots::hold_expired(uint32_t slot, uint64_t token, Clock::time_point now, CallTransport& t,
                             bool counting, LoadCounters& c) {
    if (slot >= slots_.size() || token != slots_[slot].hold_token) return;
    if (slots_[slot].state == State::Holding) return send_bye(slot, t, now);
    if (slots_[slot].state == State::Waiting) {
        slots_[slot].state = State::Idle;
        start_call(slot, t, now, counting, c);
    }
}

void CallSlots::sweep(Clock::time_point now, bool counting, LoadCounters& c, CallTransport& t) {
    for (uint32_t i = 0; i < slots_.size(); ++i) {
        Slot& s = slots_[i];
        if (s.state != State::Inviting && s.state != State::Ending) continue;
        if (now - s.sent < policy_.timeout) continue;
        // Timer B / Timer F as the bench sees them: the call is given up
        // here (a CANCEL or BYE would wait for the same stuck path).
        if (counting) ++(s.state == State::Inviting ? c.invite_timeouts : c.bye_timeouts);
        end_call(i);
        start_call(i, t, now, counting, c);
    }
}

void CallSlots::abandon() {
    for (uint32_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].state == State::Waiting) slots_[i].state = State::Idle;
        if (slots_[i].state != State::Idle) end_call(i);
    }
}

}  // namespace isthmus::bench
