// The IMS-ALG's calls, exchanges and dataplane commands (media_alg.hpp).
#include "pcscf/media_alg.hpp"

#include <arpa/inet.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iterator>
#include <set>
#include <stdexcept>
#include <utility>

#include "isthmus/dpif/sdes.hpp"
#include "sdp/attributes.hpp"
#include "sdp/grammar.hpp"
#include "sdp/parser.hpp"
#include "sdp/serializer.hpp"
#include "sip/headers.hpp"

namespace isthmus::pcscf {

namespace {

constexpr std::size_t kMaxMediaLines = 32;  // session id = call << 5 | index
constexpr std::size_t kMaxRtpLines = 8;     // audio/video m= lines in use per offer (ports)

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// The body is SDP: Content-Type application/sdp (parameters ignored).
bool has_sdp(const sip::Message& m) {
    if (m.body.empty()) return false;
    const auto ct = m.header("Content-Type");
    if (!ct) return false;
    std::string_view type = *ct;
    if (const std::size_t semi = type.find(';'); semi != std::string_view::npos)
        type = type.substr(0, semi);
    return lower(trim(type)) == "application/sdp";
}

std::string tag_of(const sip::Message& m, std::string_view header) {
    const auto v = m.header(header);
    if (!v) return {};
    const auto na = sip::parse_name_addr(*v);
    if (!na) return {};
    const auto t = na->tag();
    return t ? std::string(*t) : std::string();
}

std::string cseq_method(const sip::Message& m) {
    const auto v = m.header("CSeq");
    if (!v) return {};
    const auto c = sip::parse_cseq(*v);
    return c ? c->method : std::string();
}

// An IP literal as a dpif endpoint; family 0 when it is none.
dpif::IpEndpoint endpoint(std::string_view address, uint16_t port) {
    dpif::IpEndpoint ep{};
    const std::string a(address);
    if (::inet_pton(AF_INET, a.c_str(), ep.addr) == 1) {
        ep.family = 4;
    } else if (::inet_pton(AF_INET6, a.c_str(), ep.addr) == 1) {
        ep.family = 6;
    } else {
        std::memset(ep.addr, 0, sizeof ep.addr);
        return ep;
    }
    ep.port = port;
    return ep;
}

sdp::Connection connection(const std::string& address, const dpif::IpEndpoint& ep) {
    return {"IN", ep.family == 6 ? "IP6" : "IP4", address};
}

void copy_text(char* dst, std::size_t size, std::string_view s) {
    std::memset(dst, 0, size);
    std::memcpy(dst, s.data(), std::min(s.size(), size - 1));
}

bool is_rtp_media(const sdp::MediaDescription& m) {
    return m.m.port != 0 && (m.m.media == "audio" || m.m.media == "video");
}

// A payload type on two audio or video m= lines in use of an IMS offer: a
// BUNDLE of them could not be told apart by payload type (its m= lines
// have no a=mid the IMS side would write in its RTP).
bool shared_payload_type(const sdp::SessionDescription& d) {
    std::set<std::string> seen;
    for (const sdp::MediaDescription& m : d.media) {
        if (!is_rtp_media(m)) continue;
        for (const std::string& f : m.m.formats)
            if (!seen.insert(f).second) return true;
    }
    return false;
}

// An audio or video m= line an offer puts in use: a port, or bundle-only
// in a BUNDLE group (RFC 8843 6: max-bundle offers' later lines).
bool rtp_in_use(const sdp::SessionDescription& d, std::size_t i) {
    const sdp::MediaDescription& m = d.media[i];
    if (!(m.m.media == "audio" || m.m.media == "video")) return false;
    if (m.m.port != 0) return true;
    if (!m.has_attribute("bundle-only")) return false;
    const auto mid = sdp::mid(m);
    if (!mid) return false;
    for (const sdp::Group& g : sdp::bundle_groups(d.session))
        if (std::find(g.mids.begin(), g.mids.end(), *mid) != g.mids.end()) return true;
    return false;
}

// The m= line indexes of each BUNDLE group of `d`, in the group's order.
std::vector<std::vector<std::size_t>> bundle_indexes(const sdp::SessionDescription& d) {
    std::vector<std::vector<std::size_t>> out;
    for (const sdp::Group& g : sdp::bundle_groups(d.session)) {
        std::vector<std::size_t> idx;
        for (const std::string& tag : g.mids)
            for (std::size_t i = 0; i < d.media.size(); ++i)
                if (const auto mid = sdp::mid(d.media[i]); mid && *mid == tag) idx.push_back(i);
        out.push_back(std::move(idx));
    }
    return out;
}

// The audio/video m= lines in use of an offer whose payload types overlap
// an earlier one's of the same group: the gateway tells a bundle's m=
// lines apart by payload type (IMS-side RTP has no a=mid), so each such
// line is rejected (port 0, bundle-only gone: as if its sender had; it
// reaches the other side rejected and so does the answer). A browser's
// second video line (camera and screen) is the usual case. Returns how
// many.
std::size_t reject_shared_payload_types(sdp::SessionDescription& d,
                                        const std::vector<std::vector<std::size_t>>& groups) {
    std::size_t rejected = 0;
    for (const std::vector<std::size_t>& g : groups) {
        std::set<std::string> seen;
        for (std::size_t i : g) {
            if (!rtp_in_use(d, i)) continue;
            sdp::MediaDescription& m = d.media[i];
            bool shared = false;
            for (const std::string& f : m.m.formats)
                shared = shared || seen.count(f) != 0;
            if (shared) {
                m.m.port = 0;
                m.remove_attributes("bundle-only");
                ++rejected;
            } else {
                seen.insert(m.m.formats.begin(), m.m.formats.end());
            }
        }
    }
    return rejected;
}

// Rejects m= line `i` of an answer written toward the browser: port 0, out
// of its BUNDLE group, no session for it.
void reject_in_answer(sdp::RewriteResult& r, std::size_t i) {
    r.media[i].active = false;
    sdp::MediaDescription& m = r.description.media[i];
    m.m.port = 0;
    const auto mid = sdp::mid(m);
    if (!mid) return;
    std::vector<std::string> groups;
    for (const sdp::Attribute& a : r.description.session.attributes("group")) {
        auto g = a.value ? sdp::parse_group(*a.value) : std::nullopt;
        if (!g) continue;
        if (sdp::iequals(g->semantics, "BUNDLE")) std::erase(g->mids, std::string(*mid));
        if (!g->mids.empty()) groups.push_back(sdp::to_string(*g));
    }
    r.description.session.remove_attributes("group");
    for (const std::string& g : groups)
        r.description.session.add_attribute("group", g);
}

// The payload types of an m= line's formats (RTP: 0..127), at most `max`.
std::vector<uint8_t> payload_types(const std::vector<std::string>& formats, std::size_t max) {
    std::vector<uint8_t> out;
    for (const std::string& f : formats) {
        if (out.size() == max) break;
        unsigned v = 0;
        const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
        if (ec != std::errc{} || end != f.data() + f.size() || v > 127) continue;
        out.push_back(static_cast<uint8_t>(v));
    }
    return out;
}

// A browser's data channel carrying MSRP (an a=dcmap with subprotocol MSRP).
bool is_chat_media(const sdp::MediaDescription& m) {
    if (m.m.port == 0 || !sdp::iequals(m.m.media, "application")) return false;
    for (const sdp::Attribute& a : m.attributes("dcmap")) {
        const auto d = a.value ? sdp::parse_dcmap(*a.value) : std::nullopt;
        if (d && d->subprotocol && sdp::iequals(*d->subprotocol, "MSRP")) return true;
    }
    return false;
}

void set_body(sip::Message& m, std::string body) {
    m.body = std::move(body);
    m.set("Content-Type", "application/sdp");
}

// The URI of a Contact value: between < and >, else up to a ';'.
std::string contact_uri(std::string_view v) {
    if (const std::size_t lt = v.find('<'); lt != std::string_view::npos) {
        const std::size_t gt = v.find('>', lt);
        if (gt != std::string_view::npos) return std::string(v.substr(lt + 1, gt - lt - 1));
    }
    return std::string(trim(v.substr(0, v.find(';'))));
}

void strip_body(sip::Message& m) {
    m.body.clear();
    m.remove("Content-Type");
    m.remove("Content-Disposition");
}

}  // namespace

MediaAlg::MediaAlg(const MediaConfig& config, std::function<uint64_t()> random)
    : config_(config), random_(std::move(random)), ports_([&] {
          try {
              return MediaPorts(config.access_ports, config.core_ports, config.workers);
          } catch (const std::invalid_argument& e) {
              throw std::invalid_argument(std::string("pcscf.media ports: ") + e.what());
          }
      }()) {
    access_ip_ = endpoint(config_.access_address, 0);
    if (access_ip_.family == 0)
        throw std::invalid_argument("pcscf.media.access_address: '" + config_.access_address +
                                    "' is not an IPv4 or IPv6 address");
    core_ip_ = endpoint(config_.core_address, 0);
    if (core_ip_.family == 0)
        throw std::invalid_argument("pcscf.media.core_address: '" + config_.core_address +
                                    "' is not an IPv4 or IPv6 address");
    if (config_.max_calls == 0)
        throw std::invalid_argument("pcscf.media.max_calls: must be at least 1");
    if (config_.max_calls_per_flow == 0)
        throw std::invalid_argument("pcscf.media.max_calls_per_flow: must be at least 1");
    access_connection_ = connection(config_.access_address, access_ip_);
    core_connection_ = connection(config_.core_address, core_ip_);
}

void MediaAlg::secret(uint8_t* out, std::size_t n) {
    if (config_.secret_random) return config_.secret_random(out, n);
    if (RAND_bytes(out, static_cast<int>(n)) != 1)
        throw std::runtime_error("RAND_bytes failed");  // never in practice
}

std::string MediaAlg::ice_string(std::size_t n) {
    // ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 5.4): 64 symbols, 6
    // bits of each random octet.
    static constexpr char kChars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::vector<uint8_t> raw(n);
    secret(raw.data(), raw.size());
    std::string s(n, 'a');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = kChars[raw[i] & 63];
    return s;
}

std::string MediaAlg::msrp_session_id() {
    // RFC 4975 9 session-id characters; letters and digits only, so that the
    // id never holds a '/' or ';' of the URI around it.
    static constexpr char kChars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789xy";
    uint8_t raw[16];
    secret(raw, sizeof raw);
    std::string s(sizeof raw, 'a');
    for (std::size_t i = 0; i < sizeof raw; ++i)
        s[i] = kChars[raw[i] & 63];
    return s;
}

std::string MediaAlg::key(std::string_view call_id, uint64_t flow) {
    std::string k(call_id);
    k += '\n';
    k += std::to_string(flow);
    return k;
}

MediaAlg::Call* MediaAlg::find(std::string_view call_id, uint64_t flow) {
    const auto it = calls_.find(key(call_id, flow));
    return it == calls_.end() ? nullptr : &it->second;
}

AlgVerdict MediaAlg::refuse(MediaCounter c, uint16_t status, std::string reason) {
    count(c);
    return AlgVerdict{status, std::move(reason)};
}

void MediaAlg::set_dataplane(std::optional<std::string> fingerprint, bool restarted) {
    fingerprint_ = std::move(fingerprint);
    // Results of what the last attachment was sent may never come.
    creates_in_flight_.clear();
    if (!fingerprint_) return;
    if (restarted) {
        std::vector<uint64_t> ids;
        for (auto& [k, call] : calls_)
            ids.push_back(call.id);
        for (uint64_t id : ids) {
            const auto it = by_id_.find(id);
            if (it == by_id_.end()) continue;
            Call& call = calls_.at(it->second);
            bool any = false;
            for (const Slot& s : call.slots)
                any = any || s.programmed;
            if (!any) continue;
            // The new dataplane never had these sessions: nothing to delete.
            for (Slot& s : call.slots) {
                if (!s.programmed) continue;
                s.programmed = false;
                s.early = Slot::Early::No;
                s.bundle = {};
                s.stale = false;
                --sessions_;
            }
            call.bundle_transport.reset();
            if (call.release) fail_call(id << 5);
        }
    }
    // The resync creates each session as the ALG has it: a completion on
    // the ring is re-sent whole.
    for (auto& [k, call] : calls_)
        for (Slot& s : call.slots)
            if (s.early == Slot::Early::Completing) s.early = Slot::Early::No;
    count(MediaCounter::Resyncs);
    push(dpif::MsgType::ResyncBegin, 0, nullptr, nullptr);
    for (auto& [k, call] : calls_)
        resync_call(call);
    push(dpif::MsgType::ResyncEnd, 0, nullptr, nullptr);
}

void MediaAlg::resync_call(const Call& call) {
    // BUNDLE transports (and sessions of their own) first, then the m=
    // lines that send on them.
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t i = 0; i < call.slots.size(); ++i) {
            const Slot& s = call.slots[i];
            const uint64_t id = call.id << 5 | i;
            const bool member = s.bundle.transport != 0 && s.bundle.transport != id;
            if (!s.programmed || member != (pass == 1)) continue;
            // (A chat's data channel and MSRP parts too.)
            push_session(dpif::MsgType::SessionCreate, id, s);
            commands_.back().stamp_ns = kNoStamp;  // no SIP answer made it
        }
    }
}

// --- requests ------------------------------------------------------------------

AlgVerdict MediaAlg::on_request(sip::Message& m, Side from, uint64_t flow, uint64_t txn) {
    const std::string_view method = m.method;
    const auto call_id = m.header("Call-ID");
    if (!call_id) return {};
    Call* call = find(*call_id, flow);
    if (method == "BYE") {
        // The dialog's end (either side): its sessions go now, whatever the
        // BYE's fate (RFC 3261 15: the dialog is over once BYE is sent).
        if (call == nullptr) return {};
        const std::string from_tag = tag_of(m, "From");
        const std::string to_tag = tag_of(m, "To");
        const bool ours = (from_tag == call->initiator_tag && to_tag == call->confirmed_tag) ||
                          (to_tag == call->initiator_tag && from_tag == call->confirmed_tag);
        // A BYE for another fork's dialog (a second 2xx the browser ends),
        // or for an early dialog while the INVITE runs, leaves the call to
        // its confirmed dialog or to the INVITE's outcome.
        if (ours) end_call(key(*call_id, flow));
        return {};
    }
    if (call != nullptr && method != "ACK" && method != "CANCEL") {
        if (const auto cs = m.header("CSeq")) {
            if (const auto c = sip::parse_cseq(*cs)) {
                uint32_t& mine = from == Side::W2 ? call->browser_cseq : call->ims_cseq;
                mine = std::max(mine, c->number);
            }
        }
    }
    const bool sdp_method =
        method == "INVITE" || method == "UPDATE" || method == "PRACK" || method == "ACK";
    if (!sdp_method) return {};
    const bool initial = method == "INVITE" && tag_of(m, "To").empty();
    if (initial) {
        if (call != nullptr)
            return refuse(MediaCounter::Merged, 482, "Loop Detected (merged request)");
        if (const AlgVerdict v = start_call(m, from, flow, txn); v.status != 0) return v;
        call = find(*call_id, flow);
    }
    if (!has_sdp(m)) {
        if (!m.body.empty() && method != "ACK") {
            if (initial) end_call(key(*call_id, flow));  // refused: no call to keep
            return AlgVerdict{415, "Unsupported Media Type (only application/sdp)"};
        }
        // An INVITE without SDP: the offer comes in its response.
        if (method == "INVITE" && call != nullptr) call->offerless_invite_txn = txn;
        return {};
    }
    if (call == nullptr) {
        // SDP inside a dialog we hold no call for (begun before a restart, or
        // never a call): it cannot be relayed without its media.
        if (method == "ACK") {
            count(MediaCounter::BodyStripped);
            strip_body(m);
            return {};
        }
        return refuse(MediaCounter::RewriteFailed, 488, "Not Acceptable Here (no call)");
    }
    std::string out;
    Exchange* p = call->pending ? &*call->pending : nullptr;
    if (p != nullptr && p->offerer != from && p->in_response) {
        // ACK or PRACK answering an offer made in a response: the exchange
        // ends with it.
        if (!answer(*call, *p, from, m.body, out)) {
            count(MediaCounter::BodyStripped);
            strip_body(m);
            return {};
        }
        close_exchange(*call);
        set_body(m, std::move(out));
        return {};
    }
    if (method == "ACK" && p == nullptr && call->last && call->last->offerer != from &&
        call->last->in_response && call->last->answered && call->last->answer_in_bytes == m.body) {
        count(MediaCounter::Repeats);  // the ACK again, for a retransmitted 2xx
        set_body(m, call->last->answer_out_bytes);
        return {};
    }
    if (method == "ACK") {
        // An ACK carries an answer or nothing (RFC 3264 / RFC 6337 2.2).
        count(MediaCounter::BodyStripped);
        strip_body(m);
        return {};
    }
    if (p != nullptr && p->offerer != from && !p->answered)
        return refuse(MediaCounter::Glare, 491, "Request Pending");
    const AlgVerdict v = offer(*call, from, m.body, txn, false, out);
    if (v.status != 0) {
        if (initial) end_call(key(*call_id, flow));
        return v;
    }
    set_body(m, std::move(out));
    return {};
}

AlgVerdict MediaAlg::start_call(const sip::Message& m, Side from, uint64_t flow, uint64_t txn) {
    if (!fingerprint_)
        return refuse(MediaCounter::NoDataplane, 503, "Service Unavailable (no media gateway)");
    if (calls_.size() >= config_.max_calls)
        return refuse(MediaCounter::CallsFull, 503, "Service Unavailable (calls)");
    const auto on_flow = by_flow_.equal_range(flow);
    if (static_cast<std::size_t>(std::distance(on_flow.first, on_flow.second)) >=
        config_.max_calls_per_flow)
        return refuse(MediaCounter::CallsFull, 503, "Service Unavailable (calls on this flow)");
    Call call;
    call.id = ++next_call_;
    call.flow = flow;
    call.call_id = std::string(*m.header("Call-ID"));
    call.initiator = from;
    call.initiator_tag = tag_of(m, "From");
    call.initial_txn = txn;
    call.initial_from = std::string(m.header("From").value_or(""));
    call.initial_to = std::string(m.header("To").value_or(""));
    if (from == Side::Mw) {
        call.ims_contact = std::string(m.header("Contact").value_or(""));
        for (std::string_view rr : m.headers("Record-Route"))
            call.ims_record_route.emplace_back(rr);
        if (const auto cs = m.header("CSeq")) {
            if (const auto c = sip::parse_cseq(*cs)) call.ims_cseq = c->number;
        }
    } else {
        call.browser_contact = contact_uri(m.header("Contact").value_or(""));
        if (const auto cs = m.header("CSeq")) {
            if (const auto c = sip::parse_cseq(*cs)) call.browser_cseq = c->number;
        }
    }
    call.ice = {ice_string(8), ice_string(24)};
    const std::string sess = std::to_string(random_() >> 2);
    call.web_origin = {"-", sess, "0", "IN", access_connection_.addr_type, config_.access_address};
    call.ims_origin = {"-", sess, "0", "IN", core_connection_.addr_type, config_.core_address};
    const std::string k = key(call.call_id, flow);
    by_id_[call.id] = k;
    by_flow_.emplace(flow, k);
    calls_.emplace(k, std::move(call));
    count(MediaCounter::CallsStarted);
    return {};
}

// --- responses -------------------------------------------------------------------

void MediaAlg::on_response(sip::Message& m, Side from, uint64_t flow, uint64_t txn) {
    const auto call_id = m.header("Call-ID");
    if (!call_id) return;
    Call* call = find(*call_id, flow);
    if (call == nullptr) {
        // No call (ended, or never one): its SDP cannot go to the other side
        // as it is (addresses, keys of the far side).
        if (has_sdp(m)) {
            count(MediaCounter::BodyStripped);
            strip_body(m);
        }
        return;
    }
    const std::string method = cseq_method(m);
    const uint16_t code = m.status_code;
    if (code >= 300) {
        if (method == "INVITE" && txn == call->initial_txn && call->confirmed_tag.empty())
            return end_call(key(*call_id, flow));
        if (call->pending && call->pending->txn == txn) rollback(*call);
        return;
    }
    if (method == "INVITE" && code >= 200 && txn == call->initial_txn &&
        call->confirmed_tag.empty()) {
        call->confirmed_tag = tag_of(m, "To");
        confirm(*call, m);
    }
    const bool sdp_method = method == "INVITE" || method == "UPDATE" || method == "PRACK";
    if (sdp_method && code > 100 && has_sdp(m)) {
        std::string out;
        Exchange* p = call->pending && call->pending->txn == txn ? &*call->pending : nullptr;
        Exchange* closed = call->last && call->last->txn == txn ? &*call->last : nullptr;
        // A 2xx of another fork than the confirmed dialog: rewritten for the
        // browser (which will ACK and BYE it), never programmed. (Only the
        // initial INVITE forks: a re-INVITE's answer is the dialog's, whose
        // To tag is the browser's when the IMS sent it.)
        const bool other_fork = method == "INVITE" && txn == call->initial_txn &&
                                !call->confirmed_tag.empty() &&
                                tag_of(m, "To") != call->confirmed_tag;
        bool ok = false;
        if (p != nullptr && p->offerer != from && !p->in_response) {
            ok = answer(*call, *p, from, m.body, out, !other_fork);
        } else if (p != nullptr && p->offerer == from && p->in_response &&
                   p->offer_in_bytes == m.body) {
            count(MediaCounter::Repeats);
            out = p->offer_out_bytes;
            ok = true;
        } else if (p == nullptr && closed != nullptr && closed->offerer != from &&
                   !closed->in_response) {
            // The exchange ended with its first 2xx: this is that 2xx again
            // (UDP retransmission) or another fork's.
            ok = answer(*call, *closed, from, m.body, out, !other_fork);
        } else if (p == nullptr && closed != nullptr && closed->offerer == from &&
                   closed->in_response && closed->offer_in_bytes == m.body) {
            count(MediaCounter::Repeats);
            out = closed->offer_out_bytes;
            ok = true;
        } else if (p == nullptr && method == "INVITE" && txn == call->offerless_invite_txn) {
            // An offer in a response: the INVITE had none (RFC 3261 13.2.1).
            ok = offer(*call, from, m.body, txn, true, out).status == 0;
        }
        if (ok) {
            set_body(m, std::move(out));
        } else {
            count(MediaCounter::BodyStripped);
            strip_body(m);
        }
    } else if (has_sdp(m)) {
        count(MediaCounter::BodyStripped);
        strip_body(m);
    }
    // The exchange of this transaction is over with its final response;
    // an answerless one (the 2xx carried none) leaves nothing reserved.
    if (code >= 200 && call->pending && call->pending->txn == txn && !call->pending->in_response) {
        if (!call->pending->answered) {
            rollback(*call);
        } else {
            close_exchange(*call);
        }
    }
}

void MediaAlg::close_exchange(Call& call) {
    call.last = std::move(call.pending);
    call.pending.reset();
}

void MediaAlg::on_failed(std::string_view call_id, std::string_view method, uint64_t flow,
                         uint64_t txn) {
    Call* call = find(call_id, flow);
    if (call == nullptr) return;
    if (method == "INVITE" && txn == call->initial_txn && call->confirmed_tag.empty())
        return end_call(key(call_id, flow));
    if (call->pending && call->pending->txn == txn) rollback(*call);
}

void MediaAlg::confirm(Call& call, const sip::Message& ok) {
    DialogRelease r;
    r.flow = call.flow;
    r.call_id = call.call_id;
    if (call.initiator == Side::W2) {
        // The browser's route set is the 2xx's Record-Route reversed (RFC
        // 3261 12.1.2); the IMS party is the 2xx's Contact.
        r.from = call.initial_from;
        r.to = std::string(ok.header("To").value_or(""));
        r.remote_target = contact_uri(ok.header("Contact").value_or(""));
        for (std::string_view rr : ok.headers("Record-Route"))
            r.route_set.emplace_back(rr);
        std::reverse(r.route_set.begin(), r.route_set.end());
    } else {
        // The browser answered: its route set is the INVITE's Record-Route
        // in order (12.1.1), the IMS party the INVITE's Contact.
        r.from = std::string(ok.header("To").value_or(""));
        r.to = call.initial_from;
        r.remote_target = contact_uri(call.ims_contact);
        r.route_set = call.ims_record_route;
        call.browser_contact = contact_uri(ok.header("Contact").value_or(""));
    }
    if (r.remote_target.empty()) return;  // no Contact: nothing to send a BYE to
    call.release = std::move(r);
}

std::vector<DialogRelease> MediaAlg::on_flow_closed(uint64_t flow) {
    std::vector<std::string> keys;
    std::vector<DialogRelease> releases;
    const auto [first, last] = by_flow_.equal_range(flow);
    for (auto f = first; f != last; ++f)
        keys.push_back(f->second);
    for (const std::string& k : keys) {
        Call& call = calls_.at(k);
        if (call.release) {
            call.release->cseq = call.browser_cseq + 1;
            releases.push_back(std::move(*call.release));
        }
    }
    for (const std::string& k : keys)
        end_call(k);
    return releases;
}

// --- offers and answers --------------------------------------------------------------

sdp::WebRtcSide MediaAlg::web_side(Call& call, const std::vector<bool>& on_transport) const {
    sdp::WebRtcSide w;
    w.origin = call.web_origin;
    w.address = access_connection_;
    w.ice = call.ice;
    w.fingerprint = {"sha-256", fingerprint_.value_or("")};
    w.dtls_role = call.dtls_role;
    w.bundle = true;  // offer() declines it for an IMS offer the browser could not demultiplex
    const Slot* transport = call.bundle_transport ? &call.slots[*call.bundle_transport] : nullptr;
    for (std::size_t i = 0; i < call.slots.size(); ++i) {
        const Slot& s = call.slots[i];
        const bool shared =
            transport != nullptr && transport->legs && i < on_transport.size() && on_transport[i];
        const Slot& port_of = shared ? *transport : s;
        w.ports.push_back(port_of.legs ? port_of.legs->access : 0);
        w.msrp_session_ids.push_back(s.msrp_sid);
        w.chat_streams.push_back(s.chat_stream);
    }
    return w;
}

sdp::ImsSide MediaAlg::ims_side(Call& call) const {
    sdp::ImsSide s;
    s.origin = call.ims_origin;
    s.address = core_connection_;
    s.srtp = config_.core_srtp;
    s.rtcp_mux = config_.core_rtcp_mux;
    s.bundle = true;
    for (const Slot& slot : call.slots) {
        sdp::CoreMedia m;
        m.port = slot.legs ? slot.legs->core : 0;
        m.keys = slot.keys;
        m.msrp_session_id = slot.msrp_sid;
        s.media.push_back(std::move(m));
    }
    return s;
}

bool MediaAlg::allocate_for(Call& call, const sdp::SessionDescription& offer, Side from) {
    if (call.slots.size() < offer.media.size()) call.slots.resize(offer.media.size());
    for (std::size_t i = 0; i < offer.media.size(); ++i) {
        Slot& s = call.slots[i];
        const sdp::MediaDescription& md = offer.media[i];
        // The same tests as the rewrite's (case-insensitive, RFC 8866 5.14):
        // a chat it rewrites always has its ports and session-id here.
        const bool chat = from == Side::W2
                              ? is_chat_media(md)
                              : md.m.port != 0 && sdp::iequals(md.m.media, "message") &&
                                    sdp::iequals(md.m.proto, "TCP/MSRP");
        const bool rtp = from == Side::W2 ? rtp_in_use(offer, i) : is_rtp_media(md);
        if (s.legs || !(rtp || chat)) continue;
        // All of a call's m= lines on one worker (a BUNDLE's sessions must
        // be; the others gain locality).
        std::optional<uint32_t> worker;
        for (const Slot& other : call.slots)
            if (other.legs) worker = other.legs->worker;
        s.legs = worker ? ports_.allocate_on(*worker) : ports_.allocate();
        if (!s.legs) return false;
        s.reserved_by_pending = true;
        if (chat) {
            // The access port carries the channel's DTLS; the core port is
            // where our MSRP TCP side listens (a=path).
            s.keys.clear();
            s.msrp_sid = msrp_session_id();
            continue;
        }
        // SDES keys we send with toward the IMS: offered when core_srtp
        // (one AES_CM_128_HMAC_SHA1_80 line); for an IMS offer, one per
        // suite so whichever it offers first can be answered.
        s.keys.clear();
        std::vector<dpif::SdesSuite> suites;
        if (from == Side::W2 && config_.core_srtp) {
            suites = {dpif::SdesSuite::AesCm128HmacSha1_80};
        } else if (from == Side::Mw) {
            suites = {dpif::SdesSuite::AesCm128HmacSha1_80, dpif::SdesSuite::AesCm128HmacSha1_32,
                      dpif::SdesSuite::AesCm256HmacSha1_80, dpif::SdesSuite::AesCm256HmacSha1_32,
                      dpif::SdesSuite::AeadAes128Gcm,       dpif::SdesSuite::AeadAes256Gcm};
        }
        for (dpif::SdesSuite suite : suites) {
            const dpif::SdesSuiteInfo info = dpif::sdes_suite_info(suite);
            dpif::SrtpKeys k{};
            k.suite = static_cast<uint8_t>(suite);
            k.key_len = info.master_key_len;
            k.salt_len = info.master_salt_len;
            secret(k.master_key, k.key_len);
            secret(k.master_salt, k.salt_len);
            s.keys.push_back(k);
        }
    }
    return true;
}

void MediaAlg::rollback(Call& call) {
    for (std::size_t i = 0; i < call.slots.size(); ++i) {
        Slot& s = call.slots[i];
        // The offer's sessions that awaited the browser's answer go with it.
        if (s.reserved_by_pending && s.early != Slot::Early::No) delete_session(call, i);
        if (s.reserved_by_pending && !s.programmed && s.legs) {
            ports_.release(*s.legs);
            s.legs.reset();
            s.keys.clear();
            s.msrp_sid.clear();
            s.chat_stream = -1;
        }
        s.reserved_by_pending = false;
    }
    call.pending.reset();
}

AlgVerdict MediaAlg::offer(Call& call, Side from, std::string_view body, uint64_t txn,
                           bool in_response, std::string& out) {
    if (call.pending && call.pending->offerer == from && call.pending->txn == txn &&
        call.pending->offer_in_bytes == body) {
        count(MediaCounter::Repeats);
        out = call.pending->offer_out_bytes;
        return {};
    }
    sdp::ParseResult parsed = sdp::parse_sdp(body);
    if (!parsed.ok())
        return refuse(MediaCounter::SdpUnparsable, 488,
                      "Not Acceptable Here (SDP " + parsed.reason + ")");
    std::size_t rtp_lines = 0;
    for (std::size_t i = 0; i < parsed.description.media.size(); ++i)
        rtp_lines += rtp_in_use(parsed.description, i) ? 1U : 0U;
    if (parsed.description.media.size() > kMaxMediaLines || rtp_lines > kMaxRtpLines)
        return refuse(MediaCounter::RewriteFailed, 488, "Not Acceptable Here (too many m-lines)");
    // m= lines a bundle could not tell apart are rejected: of a browser's
    // groups, or of an IMS re-offer in a bundled call (its lines all go to
    // the browser in one group).
    std::vector<std::vector<std::size_t>> groups;
    if (from == Side::W2) {
        groups = bundle_indexes(parsed.description);
    } else if (call.bundle_transport) {
        groups.emplace_back();
        for (std::size_t i = 0; i < parsed.description.media.size(); ++i)
            groups.back().push_back(i);
    }
    stats_.counters[static_cast<std::size_t>(MediaCounter::BundleRejected)] +=
        reject_shared_payload_types(parsed.description, groups);
    // The m= line that carries a bundle's transport cannot go while others
    // of its group stay: they would need a transport the browser does not
    // have (its DTLS association is that line's session's).
    if (call.bundle_transport && *call.bundle_transport < parsed.description.media.size()) {
        const std::size_t t = *call.bundle_transport;
        const bool gone = from == Side::W2 ? !rtp_in_use(parsed.description, t)
                                           : !is_rtp_media(parsed.description.media[t]);
        bool others = false;
        for (std::size_t i = 0; i < call.slots.size() && i < parsed.description.media.size(); ++i) {
            const sdp::MediaDescription& md = parsed.description.media[i];
            others = others ||
                     (i != t && call.slots[i].bundle.transport != 0 &&
                      (from == Side::W2 ? rtp_in_use(parsed.description, i) : is_rtp_media(md)));
            // Its chat's data channel is on that DTLS too.
            others = others || (i != t && call.slots[i].riding && md.m.port != 0);
        }
        if (gone && others)
            return refuse(MediaCounter::BundleRejected, 488,
                          "Not Acceptable Here (the m-line of the BUNDLE transport removed)");
    }
    if (call.pending) rollback(call);  // a new offer replaces an unanswered one
    if (!allocate_for(call, parsed.description, from)) {
        rollback(call);
        return refuse(MediaCounter::NoPorts, 503, "Service Unavailable (media ports)");
    }
    sdp::RewriteResult r;
    if (from == Side::W2) {
        sdp::ImsSide ims = ims_side(call);
        ims.origin.session_version = std::to_string(++call.ims_version);
        r = sdp::webrtc_offer_to_ims(parsed.description, ims);
    } else {
        // A re-offer of a bundled call: every audio/video line on the
        // transport's port (RFC 8843 7.5: the BUNDLE address).
        std::vector<bool> on_transport(call.slots.size(), call.bundle_transport.has_value());
        for (std::size_t i = 0; i < on_transport.size(); ++i)
            on_transport[i] = on_transport[i] && i < parsed.description.media.size() &&
                              (is_rtp_media(parsed.description.media[i]) || call.slots[i].riding);
        sdp::WebRtcSide web = web_side(call, on_transport);
        // A chat whose data channel is in the bundle stays there; a new one
        // is offered bundle-only beside audio/video; one on a transport of
        // its own stays there (docs/pcscf.md "BUNDLE").
        for (std::size_t i = 0; i < call.slots.size(); ++i)
            web.chats_in_bundle.push_back(on_transport[i] && call.slots[i].riding);
        web.origin.session_version = std::to_string(++call.web_version);
        // A first offer whose m= lines the browser could not tell apart is
        // not bundled (a re-offer's were rejected above).
        if (!call.bundle_transport) web.bundle = !shared_payload_type(parsed.description);
        r = sdp::ims_offer_to_webrtc(parsed.description, web);
    }
    if (!r.ok()) {
        ++stats_.rewrite_errors[static_cast<std::size_t>(r.error)];
        rollback(call);
        const uint16_t status = r.error == sdp::RewriteError::MissingResource ? 500 : 488;
        return refuse(MediaCounter::RewriteFailed, status,
                      std::string(status == 500 ? "Server Internal Error" : "Not Acceptable Here") +
                          " (" + r.reason + ")");
    }
    count(from == Side::W2 ? MediaCounter::OffersFromBrowser : MediaCounter::OffersFromIms);
    Exchange e;
    e.offerer = from;
    e.txn = txn;
    e.in_response = in_response;
    e.offer_in = std::move(parsed.description);
    e.offer_out = std::move(r.description);
    e.offer_in_bytes = std::string(body);
    e.offer_out_bytes = sdp::serialize(e.offer_out);
    out = e.offer_out_bytes;
    call.pending = std::move(e);
    if (from == Side::Mw) await_answer(call);
    return {};
}

void MediaAlg::await_answer(Call& call) {
    // A re-offer of a bundled call: the browser checks the transport it has.
    if (call.bundle_transport || !call.pending) return;
    const sdp::SessionDescription& out = call.pending->offer_out;
    for (std::size_t i = 0; i < call.slots.size() && i < out.media.size(); ++i) {
        Slot& s = call.slots[i];
        // New audio/video lines offered to the browser (a chat's session
        // is made with the answer).
        if (!s.legs || s.programmed || !s.reserved_by_pending || !s.msrp_sid.empty() ||
            out.media[i].m.port == 0)
            continue;
        // The access leg as an answer would make it, less what only the
        // answer tells (the browser's ufrag, fingerprint and our role).
        dpif::LegSpec access{};
        leg_specs_access(call, i, sdp::MediaPlan{}, access);
        access.awaiting_answer = 1;
        s.access = access;
        s.core = {};
        s.bundle = {};
        s.dc = {};
        s.msrp = {};
        s.police_kbps[0] = s.police_kbps[1] = 0;  // nothing is relayed before the answer
        s.programmed = true;
        s.early = Slot::Early::Awaiting;
        s.idle = false;
        ++sessions_;
        count(MediaCounter::SessionsCreated);
        push_session(dpif::MsgType::SessionCreate, call.id << 5 | i, s);
    }
}

bool MediaAlg::answer(Call& call, Exchange& e, Side from, std::string_view body, std::string& out,
                      bool program_media) {
    if (e.answered && e.answer_in_bytes == body) {
        count(MediaCounter::Repeats);
        out = e.answer_out_bytes;
        return true;
    }
    sdp::ParseResult parsed = sdp::parse_sdp(body);
    if (!parsed.ok()) {
        count(MediaCounter::SdpUnparsable);
        return false;
    }
    sdp::RewriteResult r;
    if (from == Side::Mw) {
        // The browser's offer: the lines of the group its transport's line
        // is in are answered on the transport's port.
        std::vector<bool> on_transport(call.slots.size(), false);
        if (call.bundle_transport) {
            for (const std::vector<std::size_t>& g : bundle_indexes(e.offer_in)) {
                if (std::find(g.begin(), g.end(), *call.bundle_transport) == g.end()) continue;
                for (std::size_t i : g)
                    if (i < on_transport.size()) on_transport[i] = true;
            }
        }
        sdp::WebRtcSide web = web_side(call, on_transport);
        web.origin.session_version = std::to_string(++call.web_version);
        r = sdp::ims_answer_to_webrtc(e.offer_in, e.offer_out, parsed.description, web);
        if (r.ok()) reject_renumbered(r);
    } else {
        sdp::ImsSide ims = ims_side(call);
        ims.origin.session_version = std::to_string(++call.ims_version);
        r = sdp::webrtc_answer_to_ims(e.offer_in, e.offer_out, parsed.description, ims);
    }
    if (!r.ok()) {
        ++stats_.rewrite_errors[static_cast<std::size_t>(r.error)];
        count(MediaCounter::RewriteFailed);
        return false;
    }
    // A chat whose data channel rode on a transport whose line is gone now
    // (rejected by either side): its port and its MSRP URI name the
    // transport's, which no session would have any more. Rejected.
    for (std::size_t i = 0; i < r.media.size() && i < call.slots.size(); ++i) {
        const sdp::MediaPlan& p = r.media[i];
        if (!call.slots[i].riding || !p.active || !p.msrp || p.access.bundle_transport) continue;
        reject_in_answer(r, i);
        count(MediaCounter::BundleTransportLost);
    }
    count(from == Side::W2 ? MediaCounter::AnswersFromBrowser : MediaCounter::AnswersFromIms);
    if (program_media) program(call, r.media);
    e.answered = true;
    e.answer_in_bytes = std::string(body);
    e.answer_out_bytes = sdp::serialize(r.description);
    out = e.answer_out_bytes;
    // Ports kept by an accepted m= line are the call's now; those of a
    // rejected one go back.
    for (std::size_t i = 0; i < call.slots.size(); ++i) {
        Slot& s = call.slots[i];
        s.reserved_by_pending = false;
        const bool active = i < r.media.size() && r.media[i].active;
        // (A riding chat has no session of its own, and may be in use: an
        // answer that programs nothing, another fork's, frees nothing.)
        if (!active && !s.programmed && !(s.riding && !program_media) && s.legs) {
            ports_.release(*s.legs);
            s.legs.reset();
            s.keys.clear();
            s.msrp_sid.clear();
            s.chat_stream = -1;
        }
    }
    return true;
}

// --- the dataplane ---------------------------------------------------------------------

bool MediaAlg::leg_specs_access(const Call& call, std::size_t index, const sdp::MediaPlan& plan,
                                dpif::LegSpec& access) {
    const Slot& s = call.slots[index];
    access = {};
    access.local = access_ip_;
    access.local.port = s.legs->access;
    access.security = dpif::LegSecurity::DtlsSrtp;
    access.rtcp_mux = 1;
    access.dtls_active = plan.access.dtls_role == sdp::SetupRole::Active ? 1 : 0;
    copy_text(access.ice_ufrag, sizeof access.ice_ufrag, call.ice.ufrag);
    copy_text(access.ice_pwd, sizeof access.ice_pwd, call.ice.pwd);
    if (plan.access.remote_ice)
        copy_text(access.remote_ufrag, sizeof access.remote_ufrag, plan.access.remote_ice->ufrag);
    if (plan.access.remote_fingerprint) {
        const std::vector<uint8_t> fp = plan.access.remote_fingerprint->bytes();
        if (fp.size() != sizeof access.remote_fingerprint) return false;
        std::memcpy(access.remote_fingerprint, fp.data(), fp.size());
    }
    return true;
}

bool MediaAlg::leg_specs(const Call& call, std::size_t index, const sdp::MediaPlan& plan,
                         dpif::LegSpec& access, dpif::LegSpec& core) {
    const Slot& s = call.slots[index];
    core = {};
    if (!leg_specs_access(call, index, plan, access)) return false;
    core.local = core_ip_;
    core.local.port = s.legs->core;
    core.rtcp_mux = plan.core.rtcp_mux ? 1 : 0;
    if (!plan.core.rtcp_mux) {
        core.local_rtcp = core_ip_;
        core.local_rtcp.port = static_cast<uint16_t>(s.legs->core + 1);
    }
    if (!plan.core.remote_rtp) return false;
    core.remote = endpoint(plan.core.remote_rtp->connection.host(), plan.core.remote_rtp->port);
    if (core.remote.family == 0) return false;
    if (!plan.core.rtcp_mux) {
        if (!plan.core.remote_rtcp) return false;
        core.remote_rtcp =
            endpoint(plan.core.remote_rtcp->connection.host(), plan.core.remote_rtcp->port);
        if (core.remote_rtcp.family == 0) return false;
    }
    core.security = plan.core.security;
    if (plan.core.security == dpif::LegSecurity::Sdes) {
        if (!plan.core.rx || !plan.core.tx) return false;
        core.rx = *plan.core.rx;
        core.tx = *plan.core.tx;
    }
    return true;
}

bool MediaAlg::chat_specs(const Call& call, std::size_t index, const sdp::MediaPlan& plan,
                          dpif::LegSpec& access, dpif::DataChannelSpec& dc, dpif::MsrpSpec& msrp) {
    const Slot& s = call.slots[index];
    const sdp::MsrpPlan& c = *plan.msrp;
    if (!leg_specs_access(call, index, plan, access)) return false;
    access.security = dpif::LegSecurity::DtlsSctp;
    dc = {};
    dc.local_sctp_port = 5000;
    dc.remote_sctp_port = c.remote_sctp_port;
    dc.max_message_size = c.max_message_size;
    dc.peer_max_message_size = c.peer_max_message_size;
    msrp = {};
    msrp.tcp_local = core_ip_;
    msrp.tcp_local.port = s.legs->core;
    msrp.channel_id = c.stream_id;
    if (c.tcp_role == sdp::SetupRole::Active) {
        msrp.setup = dpif::kMsrpActive;
        if (!c.ue_address) return false;
        msrp.tcp_remote = endpoint(c.ue_address->connection.host(), c.ue_address->port);
        if (msrp.tcp_remote.family == 0 || msrp.tcp_remote.port == 0) return false;
    } else if (c.tcp_role == sdp::SetupRole::Passive) {
        msrp.setup = dpif::kMsrpPassive;
    } else {
        return false;
    }
    const auto text = [](char* field, std::size_t size, const std::string& v) {
        if (v.size() > size) return false;
        std::memset(field, 0, size);
        std::memcpy(field, v.data(), v.size());
        return true;
    };
    return text(msrp.session_id, sizeof msrp.session_id, c.session_id) &&
           text(msrp.browser_path, sizeof msrp.browser_path, c.browser_path) &&
           text(msrp.ue_path, sizeof msrp.ue_path, c.ue_path);
}

void MediaAlg::reject_renumbered(sdp::RewriteResult& r) {
    // An IMS answer may renumber (RFC 3264 6.1): a payload type on two
    // bundled lines toward the browser could not be told apart, either way.
    std::vector<std::set<std::string>> seen(r.media.size());
    for (std::size_t i = 0; i < r.media.size(); ++i) {
        const sdp::MediaPlan& p = r.media[i];
        if (!p.active || p.msrp || !p.access.bundle_transport) continue;
        const std::size_t t = *p.access.bundle_transport;
        if (t >= seen.size()) continue;
        bool shared = false;
        for (const std::string& f : p.formats)
            shared = shared || seen[t].count(f) != 0;
        if (shared) {
            reject_in_answer(r, i);
            count(MediaCounter::BundleConflicts);
            continue;
        }
        seen[t].insert(p.formats.begin(), p.formats.end());
    }
}

std::vector<dpif::BundleSpec> MediaAlg::bundle_specs(const Call& call,
                                                     const std::vector<sdp::MediaPlan>& plans,
                                                     std::size_t& conflicts) const {
    const std::size_t n = call.slots.size();
    std::vector<dpif::BundleSpec> out(n);
    const auto active = [&](std::size_t i) {
        return i < plans.size() && plans[i].active && !plans[i].msrp &&
               call.slots[i].legs.has_value();
    };
    // Which active m= lines share a transport, by its tag's index; a
    // transport with one m= line is one of its own.
    std::vector<std::optional<std::size_t>> tag(n);
    std::vector<std::size_t> members(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        if (!active(i) || !plans[i].access.bundle_transport) continue;
        const std::size_t t = *plans[i].access.bundle_transport;
        if (t >= n || !active(t)) continue;
        tag[i] = t;
        ++members[t];
    }
    // The dataplane's transport of a group: the one it has been (its port
    // and DTLS association are what the browser uses, whichever m= line
    // the SDP tags now), else the tagged line.
    std::vector<std::size_t> transport(n);
    for (std::size_t t = 0; t < n; ++t) {
        transport[t] = t;
        const std::optional<std::size_t> old = call.bundle_transport;
        if (old && *old < n && tag[*old] == t) transport[t] = *old;
    }
    // Payload types are claimed in m= line order: one on two bundled lines
    // stays the first's (RFC 8843 9.1 allows that only with a=mid, which
    // IMS-side RTP lacks; offer() rejects such lines, so only an IMS
    // answer that renumbers gets here), counted.
    std::vector<std::set<uint8_t>> claimed(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (!tag[i] || members[*tag[i]] < 2) continue;
        dpif::BundleSpec& b = out[i];
        b.transport = call.id << 5 | transport[*tag[i]];
        for (uint8_t pt : payload_types(plans[i].formats, 128)) {
            if (b.pt_count == dpif::kMaxBundlePayloadTypes) break;
            if (!claimed[*tag[i]].insert(pt).second) {
                ++conflicts;
                continue;
            }
            b.payload_types[b.pt_count++] = pt;
        }
    }
    return out;
}

void MediaAlg::program(Call& call, const std::vector<sdp::MediaPlan>& plans) {
    static const sdp::MediaPlan kNone{};
    std::size_t conflicts = 0;
    const std::vector<dpif::BundleSpec> bundles = bundle_specs(call, plans, conflicts);
    stats_.counters[static_cast<std::size_t>(MediaCounter::BundleConflicts)] += conflicts;
    call.bundle_transport.reset();
    // A chat in a BUNDLE with audio or video: its data channel is on the
    // transport's DTLS, so its specs ride on that session (one chat per
    // transport: a browser has one m=application line per bundle).
    const std::size_t n = call.slots.size();
    std::vector<std::optional<std::size_t>> carried(n);  // transport -> its chat
    for (std::size_t c = 0; c < n; ++c) {
        Slot& chat = call.slots[c];
        chat.riding = false;
        if (c < plans.size() && plans[c].active && plans[c].msrp)
            chat.chat_stream = plans[c].msrp->stream_id;
        if (c >= plans.size() || !plans[c].active || !plans[c].msrp || !chat.legs ||
            !plans[c].access.bundle_transport)
            continue;
        const std::size_t t = *plans[c].access.bundle_transport;
        if (t >= n || t >= plans.size() || !plans[t].active || plans[t].msrp || !call.slots[t].legs)
            continue;
        const std::size_t dt =
            bundles[t].transport != 0 ? static_cast<std::size_t>(bundles[t].transport & 31) : t;
        if (dt >= n || carried[dt]) continue;
        carried[dt] = c;
        chat.riding = true;
        if (chat.programmed) delete_session(call, c);  // it had a transport of its own
    }
    // BUNDLE transports and sessions of their own first, then the m= lines
    // that send on a transport (the dataplane needs it first).
    for (std::size_t i = 0; i < n; ++i) {
        const uint64_t id = call.id << 5 | i;
        if (bundles[i].transport != 0 && bundles[i].transport != id) continue;
        if (call.slots[i].riding) continue;
        program_slot(call, i, i < plans.size() ? plans[i] : kNone, bundles[i], carried[i],
                     carried[i] ? &plans[*carried[i]] : nullptr);
        const bool transport =
            (bundles[i].transport == id && call.slots[i].bundle.transport == id) ||
            carried[i].has_value();
        if (transport && call.slots[i].programmed && !call.bundle_transport)
            call.bundle_transport = i;  // (of a browser's first group, if it has several)
    }
    for (std::size_t c = 0; c < n; ++c) {
        if (!call.slots[c].riding) continue;
        // Its transport could not be programmed: the chat has no session.
        bool on = false;
        for (std::size_t t = 0; t < n; ++t)
            on = on ||
                 (carried[t] == c && call.slots[t].programmed && call.slots[t].msrp.setup != 0);
        if (!on) count(MediaCounter::BundleTransportLost);
    }
    for (std::size_t i = 0; i < call.slots.size(); ++i) {
        const uint64_t id = call.id << 5 | i;
        if (bundles[i].transport == 0 || bundles[i].transport == id) continue;
        const std::size_t t = bundles[i].transport & 31;
        if (!call.slots[t].programmed || call.slots[t].bundle.transport != bundles[i].transport) {
            // Its transport could not be programmed: it has nothing to send
            // on (and the dataplane would refuse it).
            count(MediaCounter::BundleTransportLost);
            if (call.slots[i].programmed) delete_session(call, i);
            continue;
        }
        program_slot(call, i, i < plans.size() ? plans[i] : kNone, bundles[i]);
    }
}

void MediaAlg::program_slot(Call& call, std::size_t i, const sdp::MediaPlan& plan,
                            const dpif::BundleSpec& bundle, std::optional<std::size_t> chat,
                            const sdp::MediaPlan* chat_plan) {
    Slot& s = call.slots[i];
    const bool active = plan.active && s.legs.has_value();
    if (!active) {
        if (s.programmed) delete_session(call, i);
        return;
    }
    if (plan.msrp) {
        // A chat: its data channel's session, no UDP core leg.
        dpif::LegSpec access{};
        dpif::DataChannelSpec dc{};
        dpif::MsrpSpec msrp{};
        if (!chat_specs(call, i, plan, access, dc, msrp)) {
            count(MediaCounter::BadRemote);
            if (s.programmed) delete_session(call, i);
            return;
        }
        if (plan.access.dtls_role) call.dtls_role = plan.access.dtls_role;
        const uint64_t session = call.id << 5 | i;
        const bool changed = std::memcmp(&access, &s.access, sizeof access) != 0 ||
                             std::memcmp(&dc, &s.dc, sizeof dc) != 0 ||
                             std::memcmp(&msrp, &s.msrp, sizeof msrp) != 0;
        s.access = access;
        s.core = {};
        s.bundle = {};
        s.dc = dc;
        s.msrp = msrp;
        s.police_kbps[0] = s.police_kbps[1] = 0;  // nothing of it is relayed by a worker
        if (!s.programmed) {
            s.programmed = true;
            s.idle = false;
            ++sessions_;
            count(MediaCounter::SessionsCreated);
            push_session(dpif::MsgType::SessionCreate, session, s);
        } else if (changed) {
            count(MediaCounter::SessionsUpdated);
            push_session(dpif::MsgType::SessionUpdate, session, s);
        }
        return;
    }
    dpif::LegSpec access{};
    dpif::LegSpec core{};
    if (!leg_specs(call, i, plan, access, core)) {
        count(MediaCounter::BadRemote);
        if (s.programmed) delete_session(call, i);
        return;
    }
    // c=0.0.0.0 (RFC 2543 hold, RFC 3264 8.4): no new address; the leg
    // keeps the one it had (the direction attributes say the rest).
    const auto unspecified = [](const dpif::IpEndpoint& ep) {
        return std::all_of(std::begin(ep.addr), std::end(ep.addr),
                           [](uint8_t b) { return b == 0; });
    };
    if (unspecified(core.remote)) {
        if (!s.programmed || s.early == Slot::Early::Awaiting) {
            count(MediaCounter::BadRemote);  // no address to send to yet
            if (s.programmed) delete_session(call, i);
            return;
        }
        core.remote = s.core.remote;
        core.remote_rtcp = s.core.remote_rtcp;
    }
    if (plan.access.dtls_role) call.dtls_role = plan.access.dtls_role;
    const uint64_t session = call.id << 5 | i;
    // A bundled m= line other than the tagged one sends on its transport:
    // no access leg of its own.
    if (bundle.transport != 0 && bundle.transport != session) access = dpif::LegSpec{};
    // The chat of its bundle: SCTP on the same DTLS (DtlsSrtpSctp).
    dpif::DataChannelSpec dc{};
    dpif::MsrpSpec msrp{};
    if (chat && chat_plan != nullptr && access.security == dpif::LegSecurity::DtlsSrtp) {
        dpif::LegSpec chat_access{};
        if (chat_specs(call, *chat, *chat_plan, chat_access, dc, msrp)) {
            access.security = dpif::LegSecurity::DtlsSrtpSctp;
        } else {
            count(MediaCounter::BadRemote);
            dc = {};
            msrp = {};
        }
    }
    // What the browser may send is what the IMS side said it receives,
    // and the other way round.
    const uint32_t police[2] = {police_rate(plan.media, plan.core_as_kbps),
                                police_rate(plan.media, plan.access_as_kbps)};
    if (!s.programmed) {
        s.access = access;
        s.core = core;
        s.bundle = bundle;
        s.dc = dc;
        s.msrp = msrp;
        std::copy(std::begin(police), std::end(police), s.police_kbps);
        s.programmed = true;
        s.idle = false;
        ++sessions_;
        count(MediaCounter::SessionsCreated);
        push_session(dpif::MsgType::SessionCreate, session, s);
    } else if (s.stale || std::memcmp(&access, &s.access, sizeof access) != 0 ||
               std::memcmp(&core, &s.core, sizeof core) != 0 ||
               std::memcmp(&bundle, &s.bundle, sizeof bundle) != 0 ||
               std::memcmp(&dc, &s.dc, sizeof dc) != 0 ||
               std::memcmp(&msrp, &s.msrp, sizeof msrp) != 0 ||
               !std::equal(std::begin(police), std::end(police), s.police_kbps)) {
        s.access = access;
        s.core = core;
        s.bundle = bundle;
        s.dc = dc;
        s.msrp = msrp;
        s.stale = false;
        std::copy(std::begin(police), std::end(police), s.police_kbps);
        if (s.early == Slot::Early::Awaiting) s.early = Slot::Early::Completing;
        count(MediaCounter::SessionsUpdated);
        push_session(dpif::MsgType::SessionUpdate, session, s);
    }
}

void MediaAlg::delete_session(Call& call, std::size_t index) {
    Slot& s = call.slots[index];
    if (!s.programmed) return;
    s.programmed = false;
    s.early = Slot::Early::No;
    s.bundle = {};
    s.stale = false;
    if (call.bundle_transport && *call.bundle_transport == index) call.bundle_transport.reset();
    --sessions_;
    count(MediaCounter::SessionsDeleted);
    push(dpif::MsgType::SessionDelete, call.id << 5 | index, nullptr, nullptr);
}

void MediaAlg::end_call(const std::string& k) {
    const auto it = calls_.find(k);
    if (it == calls_.end()) return;
    Call& call = it->second;
    for (std::size_t i = 0; i < call.slots.size(); ++i) {
        delete_session(call, i);
        if (call.slots[i].legs) ports_.release(*call.slots[i].legs);
    }
    for (std::size_t i = 0; i < call.slots.size(); ++i)
        creates_in_flight_.erase(call.id << 5 | i);  // ids are not used again
    by_id_.erase(call.id);
    const auto [first, last] = by_flow_.equal_range(call.flow);
    for (auto f = first; f != last; ++f) {
        if (f->second == k) {
            by_flow_.erase(f);
            break;
        }
    }
    calls_.erase(it);
    count(MediaCounter::CallsEnded);
}

// The dataplane took an update: a session that awaited the browser's answer
// is complete.
void MediaAlg::completed(uint64_t session_id) {
    const auto it = by_id_.find(session_id >> 5);
    if (it == by_id_.end()) return;
    Call& call = calls_.at(it->second);
    const std::size_t index = session_id & 31;
    if (index < call.slots.size() && call.slots[index].early == Slot::Early::Completing)
        call.slots[index].early = Slot::Early::No;
}

// The dataplane kept the session as it was: what was sent is not what it
// has, so the next answer sends its update again.
void MediaAlg::refused_update(uint64_t session_id) {
    const auto it = by_id_.find(session_id >> 5);
    if (it == by_id_.end()) return;
    Call& call = calls_.at(it->second);
    const std::size_t index = session_id & 31;
    if (index < call.slots.size() && call.slots[index].programmed &&
        call.slots[index].early == Slot::Early::Completing) {
        // The leg still awaits an answer it will never get: no media can
        // flow on it. Gone, and made again by the next answer; a confirmed
        // call is ended, as when a create is refused.
        delete_session(call, index);
        if (call.pending) call.pending->answer_in_bytes.clear();
        if (call.last) call.last->answer_in_bytes.clear();
        if (call.release) fail_call(session_id);
        return;
    }
    if (index < call.slots.size()) call.slots[index].stale = true;
    if (call.pending) call.pending->answer_in_bytes.clear();
    if (call.last) call.last->answer_in_bytes.clear();
}

void MediaAlg::refused_create(uint64_t session_id) {
    const auto it = by_id_.find(session_id >> 5);
    if (it == by_id_.end()) return;
    Call& call = calls_.at(it->second);
    const std::size_t index = session_id & 31;
    if (index >= call.slots.size() || !call.slots[index].programmed) return;
    // Not in the dataplane: the next answer makes it again (no "repeat").
    call.slots[index].programmed = false;
    call.slots[index].early = Slot::Early::No;
    call.slots[index].bundle = {};
    if (call.bundle_transport && *call.bundle_transport == index) call.bundle_transport.reset();
    --sessions_;
    if (call.pending) call.pending->answer_in_bytes.clear();
    if (call.last) call.last->answer_in_bytes.clear();
    if (call.release) fail_call(session_id);  // confirmed: no media will come
}

bool dtls_event_is_close(const dpif::Event& ev) {
    const std::string_view detail(ev.detail, strnlen(ev.detail, sizeof ev.detail));
    return ev.hdr.type == dpif::MsgType::DtlsFailed &&
           detail.find("closed:") != std::string_view::npos;
}

void MediaAlg::fail_call(uint64_t session_id, bool timeout) {
    const auto it = by_id_.find(session_id >> 5);
    if (it == by_id_.end()) return;  // gone already
    const std::string k = it->second;
    Call& call = calls_.at(k);
    if (!call.release) return;  // not confirmed: the proxy's own failure paths end it
    count(MediaCounter::MediaFailedCalls);
    DialogRelease to_ims = *call.release;
    to_ims.cseq = call.browser_cseq + 1;
    to_ims.media_timeout = timeout;
    if (!call.browser_contact.empty()) {
        DialogRelease to_browser;
        to_browser.toward = Side::W2;
        to_browser.flow = call.flow;
        to_browser.call_id = call.call_id;
        to_browser.from = to_ims.to;
        to_browser.to = to_ims.from;
        to_browser.cseq = call.ims_cseq + 1;
        to_browser.remote_target = call.browser_contact;
        to_browser.media_timeout = timeout;
        releases_.push_back(std::move(to_browser));
    }
    releases_.push_back(std::move(to_ims));
    end_call(k);
}

// Media inactivity ([dataplane] media_timeout_s): a confirmed call none of
// whose sessions relays anything either way is over — both parties are
// gone or mute beyond RTCP (a held call still sends RTCP) — and ends with
// BYEs both ways, as when its media fails. One idle session of several
// (video turned off) ends nothing.
void MediaAlg::session_idle(uint64_t session_id, bool idle) {
    const auto it = by_id_.find(session_id >> 5);
    if (it == by_id_.end()) return;
    Call& call = calls_.at(it->second);
    const std::size_t index = session_id & 31;
    if (index >= call.slots.size() || !call.slots[index].programmed) return;
    call.slots[index].idle = idle;
    if (!idle || !call.release) return;
    for (const Slot& s : call.slots)
        if (s.programmed && !s.idle) return;
    count(MediaCounter::MediaTimeouts);
    fail_call(session_id, true);
}

void MediaAlg::push(dpif::MsgType type, uint64_t session, const dpif::LegSpec* access,
                    const dpif::LegSpec* core) {
    dpif::Command c{};
    c.hdr.type = type;
    c.hdr.session_id = session;
    if (access != nullptr) c.access = *access;
    if (core != nullptr) c.core = *core;
    commands_.push_back(c);
    if (type == dpif::MsgType::SessionCreate) ++creates_in_flight_[session];
}

void MediaAlg::push_session(dpif::MsgType type, uint64_t session, const Slot& s) {
    push(type, session, &s.access, &s.core);
    dpif::Command& c = commands_.back();
    c.datachannel = s.dc;
    c.msrp = s.msrp;
    c.police_kbps[0] = s.police_kbps[0];
    c.police_kbps[1] = s.police_kbps[1];
    c.bundle = s.bundle;
}

uint32_t MediaAlg::police_rate(const std::string& media, uint32_t as_kbps) const {
    const MediaConfig::Policing& p = config_.police;
    if (!p.enabled) return 0;
    const uint64_t floor = sdp::iequals(media, "video") ? p.video_kbps : p.audio_kbps;
    const uint64_t from_sdp = uint64_t{as_kbps} * p.percent / 100U;
    // The dataplane's range (dpif Command::police_kbps).
    return static_cast<uint32_t>(std::clamp<uint64_t>(std::max(floor, from_sdp), 8, 10000000));
}

std::optional<dpif::Command> MediaAlg::poll_command() {
    if (commands_.empty()) return std::nullopt;
    dpif::Command c = commands_.front();
    commands_.pop_front();
    return c;
}

void MediaAlg::on_event(const dpif::Event& ev) {
    switch (ev.hdr.type) {
        case dpif::MsgType::Result: {
            const auto of = static_cast<dpif::MsgType>(ev.hdr.reserved);
            bool latest = true;
            if (of == dpif::MsgType::SessionCreate) {
                const auto f = creates_in_flight_.find(ev.hdr.session_id);
                if (f != creates_in_flight_.end()) {
                    latest = f->second == 1;
                    if (--f->second == 0) creates_in_flight_.erase(f);
                }
            }
            if (ev.result == dpif::ResultCode::Ok) {
                if (of == dpif::MsgType::SessionUpdate) completed(ev.hdr.session_id);
                return;
            }
            if (of == dpif::MsgType::SessionUpdate) {
                count(MediaCounter::DataplaneRefused);  // the session as it was still works
                refused_update(ev.hdr.session_id);
            } else if (of == dpif::MsgType::SessionCreate) {
                count(MediaCounter::DataplaneRefused);
                // (An earlier create of this id, its session deleted since.)
                if (!latest) return;
                refused_create(ev.hdr.session_id);
            }
            return;
        }
        case dpif::MsgType::SessionInfo:
            stats_.relayed[0] += ev.relayed[0];
            stats_.relayed[1] += ev.relayed[1];
            return;
        case dpif::MsgType::IceSelected:
            return count(MediaCounter::IceSelected);
        case dpif::MsgType::DtlsUp:
            return count(MediaCounter::DtlsUp);
        case dpif::MsgType::DtlsFailed: {
            if (dtls_event_is_close(ev)) return count(MediaCounter::DtlsClosed);
            count(MediaCounter::DtlsFailed);
            fail_call(ev.hdr.session_id);
            return;
        }
        case dpif::MsgType::ConsentLost:
            return count(MediaCounter::ConsentLost);
        case dpif::MsgType::SessionIdle:
            count(MediaCounter::SessionsIdle);
            return session_idle(ev.hdr.session_id, true);
        case dpif::MsgType::SessionActive:
            return session_idle(ev.hdr.session_id, false);
        default:
            return;
    }
}

}  // namespace isthmus::pcscf
