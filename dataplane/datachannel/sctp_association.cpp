#include "datachannel/sctp_association.hpp"

#include <arpa/inet.h>
#include <usrsctp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "datachannel/dcep.hpp"

namespace isthmus::datachannel {

namespace {

constexpr std::size_t kScratch = 64 * 1024;  // one usrsctp_recvv
constexpr std::size_t kCommonHeader = 12;    // RFC 9260 3.1

// usrsctp is process-global: so is the stack that drives it.
std::atomic<SctpStack*> g_stack{nullptr};
// usrsctp started and not finished (a stack whose usrsctp_finish failed
// leaves it running for the next one).
bool g_usrsctp_running = false;

void check(int rc, const char* what) {
    if (rc != 0) throw std::runtime_error(std::string("usrsctp: cannot set ") + what);
}

sockaddr_conn conn_address(uintptr_t token, uint16_t port) {
    sockaddr_conn a{};
    a.sconn_family = AF_CONN;
    a.sconn_port = htons(port);
    a.sconn_addr = reinterpret_cast<void*>(token);
    return a;
}

}  // namespace

// usrsctp's C callbacks, routed to the stack and its associations.
struct SctpGlue {
    static bool on_owner_thread(SctpStack* stack) {
        if (std::this_thread::get_id() == stack->owner_) return true;
        stack->foreign_thread_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }

    // A packet usrsctp wants sent; `addr` is the association's token.
    static int conn_output(void* addr, void* buffer, size_t length, uint8_t /*tos*/,
                           uint8_t /*set_df*/) {
        SctpStack* stack = g_stack.load(std::memory_order_acquire);
        if (stack == nullptr || !on_owner_thread(stack)) return 0;
        const auto it = stack->by_token_.find(reinterpret_cast<uintptr_t>(addr));
        if (it == stack->by_token_.end()) {
            ++stack->counters_.orphan_packets;
            return 0;
        }
        // Nothing may unwind through usrsctp's C frames.
        try {
            it->second->output({static_cast<const uint8_t*>(buffer), length});
        } catch (...) {
            ++stack->counters_.send_packet_threw;
        }
        return 0;
    }

    // The socket became readable or writable (or failed): mark it; the stack
    // reads it once usrsctp has returned.
    static void upcall(struct socket* /*sock*/, void* arg, int /*flags*/) {
        auto* assoc = static_cast<SctpAssociation*>(arg);
        if (assoc == nullptr || !on_owner_thread(&assoc->stack_)) return;
        ++assoc->stack_.counters_.upcalls;
        assoc->stack_.mark(*assoc);
    }
};

// --- SctpStack ----------------------------------------------------------------

SctpStack::SctpStack(SctpStackOptions options)
    : options_(options), owner_(std::this_thread::get_id()), scratch_(kScratch) {
    SctpStack* expected = nullptr;
    if (!g_stack.compare_exchange_strong(expected, this))
        throw std::logic_error("SctpStack: usrsctp is process-global, one stack at a time");
    try {
        if (!g_usrsctp_running) {
            // Port 0: no UDP encapsulation; no threads of usrsctp's own
            // (but see the header about the iterator thread).
            usrsctp_init_nothreads(0, &SctpGlue::conn_output, nullptr);
            g_usrsctp_running = true;
        }
        // usrsctp_init resets the sysctls to their defaults: set them after.
        check(usrsctp_sysctl_set_sctp_ecn_enable(0), "ecn_enable");
        check(usrsctp_sysctl_set_sctp_asconf_enable(0), "asconf_enable");  // before auth
        check(usrsctp_sysctl_set_sctp_auth_enable(0), "auth_enable");
        check(usrsctp_sysctl_set_sctp_pr_enable(1), "pr_enable");              // RFC 3758
        check(usrsctp_sysctl_set_sctp_reconfig_enable(1), "reconfig_enable");  // RFC 6525
        check(usrsctp_sysctl_set_sctp_sendspace(options_.send_buffer), "sendspace");
        check(usrsctp_sysctl_set_sctp_recvspace(options_.receive_buffer), "recvspace");
        check(usrsctp_sysctl_set_sctp_rto_initial_default(options_.rto_initial_ms), "rto_initial");
        check(usrsctp_sysctl_set_sctp_rto_min_default(options_.rto_min_ms), "rto_min");
        check(usrsctp_sysctl_set_sctp_rto_max_default(options_.rto_max_ms), "rto_max");
        check(usrsctp_sysctl_set_sctp_init_rto_max_default(options_.rto_max_ms), "init_rto_max");
        check(usrsctp_sysctl_set_sctp_init_rtx_max_default(options_.max_init_retransmits),
              "init_rtx_max");
        check(usrsctp_sysctl_set_sctp_assoc_rtx_max_default(options_.max_assoc_retransmits),
              "assoc_rtx_max");
        check(usrsctp_sysctl_set_sctp_path_rtx_max_default(options_.max_assoc_retransmits),
              "path_rtx_max");
        check(usrsctp_sysctl_set_sctp_delayed_sack_time_default(options_.delayed_sack_ms),
              "delayed_sack_time");
        check(usrsctp_sysctl_set_sctp_heartbeat_interval_default(options_.heartbeat_interval_ms),
              "heartbeat_interval");
        check(usrsctp_sysctl_set_sctp_max_chunks_on_queue(options_.max_chunks_on_queue),
              "max_chunks_on_queue");
    } catch (...) {
        g_stack.store(nullptr);
        throw;
    }
}

SctpStack::~SctpStack() {
    if (!by_token_.empty()) {
        std::fprintf(stderr, "SctpStack destroyed with %zu associations alive\n", by_token_.size());
        std::abort();
    }
    // usrsctp_finish refuses while endpoints wait for their kill timers.
    for (int attempt = 0; attempt < 100 && g_usrsctp_running; ++attempt) {
        if (usrsctp_finish() == 0)
            g_usrsctp_running = false;
        else
            usrsctp_handle_timers(1000);
    }
    g_stack.store(nullptr);
}

void SctpStack::tick(uint64_t now_ms) {
    if (!last_tick_ms_) {
        last_tick_ms_ = now_ms;
        return;
    }
    if (now_ms > *last_tick_ms_) {
        const uint64_t elapsed = std::min<uint64_t>(now_ms - *last_tick_ms_, UINT32_MAX);
        last_tick_ms_ = now_ms;
        ++counters_.ticks;
        usrsctp_handle_timers(static_cast<uint32_t>(elapsed));
    }
    dispatch();
}

uintptr_t SctpStack::attach(SctpAssociation& a) {
    const uintptr_t token = next_token_++;
    by_token_.emplace(token, &a);
    return token;
}

void SctpStack::detach(SctpAssociation& a, uintptr_t token) {
    by_token_.erase(token);
    unmark(a);
}

void SctpStack::unmark(SctpAssociation& a) {
    if (!a.marked_) return;
    std::erase(marked_, &a);
    a.marked_ = false;
}

void SctpStack::mark(SctpAssociation& a) {
    if (a.marked_) return;
    a.marked_ = true;
    marked_.push_back(&a);
}

void SctpStack::dispatch() {
    if (dispatching_) return;  // a callback's call: the loop below goes on
    dispatching_ = true;
    struct Reset {
        bool& flag;
        ~Reset() { flag = false; }
    } reset{dispatching_};
    while (!marked_.empty()) {
        SctpAssociation* a = marked_.back();
        marked_.pop_back();
        a->marked_ = false;
        a->drain();
    }
}

// --- SctpAssociation ------------------------------------------------------------

SctpAssociation::SctpAssociation(SctpStack& stack, SctpOptions options, SctpCallbacks callbacks)
    : stack_(stack), options_(options), cb_(std::move(callbacks)) {
    if (options_.streams == 0) throw std::invalid_argument("SctpAssociation: streams must be > 0");
    if (options_.max_message_size == 0)
        throw std::invalid_argument("SctpAssociation: max_message_size must be > 0");
    if (options_.max_packet_size < 576 || options_.max_packet_size > 9000)
        throw std::invalid_argument("SctpAssociation: max_packet_size outside 576..9000");

    token_ = stack_.attach(*this);
    try {
        usrsctp_register_address(reinterpret_cast<void*>(token_));
        registered_ = true;
        sock_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
        if (sock_ == nullptr) throw std::runtime_error("usrsctp: cannot make a socket");
        check(usrsctp_set_upcall(sock_, &SctpGlue::upcall, this), "upcall");
        check(usrsctp_set_non_blocking(sock_, 1), "non-blocking");

        const auto set = [this](int level, int name, const auto& value, const char* what) {
            check(usrsctp_setsockopt(sock_, level, name, &value, sizeof(value)), what);
        };
        // close() aborts at once: nothing of ours lingers in usrsctp.
        linger lg{};
        lg.l_onoff = 1;
        lg.l_linger = 0;
        set(SOL_SOCKET, SO_LINGER, lg, "SO_LINGER");
        sctp_assoc_value reset{};
        reset.assoc_id = SCTP_FUTURE_ASSOC;
        reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
        set(IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset, "SCTP_ENABLE_STREAM_RESET");
        const int on = 1;
        set(IPPROTO_SCTP, SCTP_RECVRCVINFO, on, "SCTP_RECVRCVINFO");
        set(IPPROTO_SCTP, SCTP_NODELAY, on, "SCTP_NODELAY");  // RFC 8831 6.6: no Nagle
        const int interleave = 0;                             // one message read at a time
        set(IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, interleave, "SCTP_FRAGMENT_INTERLEAVE");
        constexpr std::array<uint16_t, 3> kEvents = {SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_EVENT,
                                                     SCTP_STREAM_RESET_EVENT};
        for (const uint16_t type : kEvents) {
            sctp_event ev{};
            ev.se_assoc_id = SCTP_FUTURE_ASSOC;
            ev.se_type = type;
            ev.se_on = 1;
            set(IPPROTO_SCTP, SCTP_EVENT, ev, "SCTP_EVENT");
        }
        // RFC 8261 5: no PMTU discovery over DTLS, a fixed safe size.
        sctp_paddrparams pp{};
        pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
        pp.spp_flags = SPP_HB_ENABLE | SPP_PMTUD_DISABLE;
        pp.spp_pathmtu = static_cast<uint32_t>(options_.max_packet_size - kCommonHeader);
        set(IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, pp, "SCTP_PEER_ADDR_PARAMS");
        sctp_initmsg init{};
        init.sinit_num_ostreams = options_.streams;
        init.sinit_max_instreams = options_.streams;
        set(IPPROTO_SCTP, SCTP_INITMSG, init, "SCTP_INITMSG");

        sockaddr_conn local = conn_address(token_, options_.local_port);
        if (usrsctp_bind(sock_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0)
            throw std::runtime_error("usrsctp: cannot bind port " +
                                     std::to_string(options_.local_port) + ": " +
                                     std::strerror(errno));
    } catch (...) {
        stack_.detach(*this, token_);
        release();
        throw;
    }
}

SctpAssociation::~SctpAssociation() {
    if (draining_) {  // destroyed from inside its own callback: drain() would go on
        std::fprintf(stderr, "SctpAssociation destroyed inside its own callback\n");
        std::abort();
    }
    // The token first: whatever usrsctp writes while closing is an orphan.
    stack_.detach(*this, token_);
    release();
}

void SctpAssociation::release() {
    if (sock_ != nullptr) {
        usrsctp_set_upcall(sock_, nullptr, nullptr);
        usrsctp_close(sock_);  // SO_LINGER 0: ABORT if the association lives
        sock_ = nullptr;
    }
    if (registered_) {
        usrsctp_deregister_address(reinterpret_cast<void*>(token_));
        registered_ = false;
    }
    stack_.unmark(*this);
}

void SctpAssociation::output(std::span<const uint8_t> packet) {
    ++counters_.packets_out;
    counters_.packet_bytes_out += packet.size();
    if (cb_.send_packet) cb_.send_packet(packet);
}

void SctpAssociation::connect() {
    if (state_ != SctpState::Idle || sock_ == nullptr) return;
    state_ = SctpState::Connecting;
    sockaddr_conn remote = conn_address(token_, options_.remote_port);
    if (usrsctp_connect(sock_, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0 &&
        errno != EINPROGRESS) {
        state_ = SctpState::Failed;
        reason_ = SctpCloseReason::ConnectFailed;
    }
}

void SctpAssociation::receive_packet(std::span<const uint8_t> packet) {
    if (state_ == SctpState::Idle) connect();
    if (packet.empty() || sock_ == nullptr) {
        ++counters_.packets_refused;
        return;
    }
    ++counters_.packets_in;
    counters_.packet_bytes_in += packet.size();
    usrsctp_conninput(reinterpret_cast<void*>(token_), packet.data(), packet.size(), 0);
    stack_.dispatch();
}

SendResult SctpAssociation::refuse(SendResult r) {
    ++counters_.send_refused;
    return r;
}

SendResult SctpAssociation::send(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data,
                                 const SendOptions& options) {
    if (sock_ == nullptr || state_ > SctpState::Up) return refuse(SendResult::Closed);
    if (state_ != SctpState::Up) return refuse(SendResult::NotUp);
    if (stream >= outbound_streams_) return refuse(SendResult::Invalid);
    // usrsctp says EAGAIN for it, which would read as a full buffer.
    if (std::ranges::find(resetting_, stream) != resetting_.end())
        return refuse(SendResult::StreamResetting);

    // RFC 8831 6.6: an empty message is one 0 octet with the "empty" PPID.
    static constexpr uint8_t kZero = 0;
    std::span<const uint8_t> payload = data;
    if (data.empty() && ppid == static_cast<uint32_t>(Ppid::String))
        ppid = static_cast<uint32_t>(Ppid::StringEmpty);
    if (data.empty() && ppid == static_cast<uint32_t>(Ppid::Binary))
        ppid = static_cast<uint32_t>(Ppid::BinaryEmpty);
    if (is_empty_ppid(ppid))
        payload = {&kZero, 1};
    else if (payload.empty())
        return refuse(SendResult::Invalid);

    const uint32_t peer_max = options_.peer_max_message_size;
    if ((peer_max != 0 && payload.size() > peer_max) ||
        payload.size() > stack_.options().send_buffer) {
        ++counters_.send_too_large;
        return SendResult::TooLarge;
    }

    sctp_sendv_spa spa{};
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID | SCTP_SEND_PRINFO_VALID;
    spa.sendv_sndinfo.snd_sid = stream;
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    spa.sendv_sndinfo.snd_flags = static_cast<uint16_t>(options.ordered ? 0 : SCTP_UNORDERED);
    switch (options.policy) {
        case PrPolicy::Reliable:
            spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_NONE;
            break;
        case PrPolicy::MaxRetransmits:
            spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
            spa.sendv_prinfo.pr_value = options.pr_value;
            break;
        case PrPolicy::MaxLifetime:
            spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
            spa.sendv_prinfo.pr_value = options.pr_value;
            break;
    }
    // Implicit end of record: each call is one whole message, taken whole or
    // refused whole (EWOULDBLOCK) on our non-blocking socket.
    if (usrsctp_sendv(sock_, payload.data(), payload.size(), nullptr, 0, &spa, sizeof(spa),
                      SCTP_SENDV_SPA, 0) < 0) {
        switch (errno) {
            case EWOULDBLOCK:
                want_writable_ = true;
                ++counters_.send_would_block;
                return SendResult::WouldBlock;
            case EMSGSIZE:
                ++counters_.send_too_large;
                return SendResult::TooLarge;
            case ECONNRESET:
            case EPIPE:
            case ENOTCONN:
            case ESHUTDOWN:
                return refuse(SendResult::Closed);
            default:
                return refuse(SendResult::Invalid);
        }
    }
    ++counters_.messages_out;
    counters_.message_bytes_out += data.size();
    return SendResult::Ok;
}

SendResult SctpAssociation::reset_stream(uint16_t stream) {
    if (sock_ == nullptr || state_ > SctpState::Up) return refuse(SendResult::Closed);
    if (state_ != SctpState::Up) return refuse(SendResult::NotUp);
    if (stream >= outbound_streams_) return refuse(SendResult::Invalid);
    if (std::ranges::find(resetting_, stream) != resetting_.end()) return SendResult::Ok;
    alignas(sctp_reset_streams) uint8_t buf[sizeof(sctp_reset_streams) + sizeof(uint16_t)] = {};
    auto* srs = reinterpret_cast<sctp_reset_streams*>(buf);
    srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    srs->srs_number_streams = 1;
    std::memcpy(buf + sizeof(sctp_reset_streams), &stream, sizeof(stream));
    if (usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_RESET_STREAMS, buf, sizeof(buf)) != 0)
        return refuse(errno == EOPNOTSUPP ? SendResult::Invalid : SendResult::Closed);
    resetting_.push_back(stream);
    ++counters_.stream_resets_out;
    return SendResult::Ok;
}

void SctpAssociation::close(CloseMode mode) {
    if (sock_ == nullptr) return;
    if (mode == CloseMode::Shutdown && state_ == SctpState::ShuttingDown) return;
    if (mode == CloseMode::Shutdown && state_ == SctpState::Up &&
        usrsctp_shutdown(sock_, SHUT_WR) == 0) {
        state_ = SctpState::ShuttingDown;
        return;
    }
    if (state_ != SctpState::Closed && state_ != SctpState::Failed) {
        state_ = SctpState::Closed;
        reason_ = SctpCloseReason::LocalAbort;
    }
    release();  // the token stays: the ABORT reaches send_packet
}

uint32_t SctpAssociation::queued_chunks() const {
    if (sock_ == nullptr) return 0;
    sctp_status st{};
    socklen_t len = sizeof(st);
    if (usrsctp_getsockopt(sock_, IPPROTO_SCTP, SCTP_STATUS, &st, &len) != 0) return 0;
    return uint32_t{st.sstat_unackdata} + st.sstat_penddata;
}

void SctpAssociation::end(SctpState state, SctpCloseReason reason) {
    if (state_ == SctpState::Closed || state_ == SctpState::Failed) return;
    state_ = state;
    reason_ = reason;
    if (cb_.on_state) cb_.on_state(state);
}

// --- names ----------------------------------------------------------------------

std::string_view sctp_state_name(SctpState s) {
    switch (s) {
        case SctpState::Idle:
            return "idle";
        case SctpState::Connecting:
            return "connecting";
        case SctpState::Up:
            return "up";
        case SctpState::ShuttingDown:
            return "shutting_down";
        case SctpState::Closed:
            return "closed";
        case SctpState::Failed:
            return "failed";
    }
    return "?";
}

std::string_view sctp_close_reason_name(SctpCloseReason r) {
    switch (r) {
#define ISTHMUS_X(name, label, doc) \
    case SctpCloseReason::name:     \
        return label;
        ISTHMUS_SCTP_CLOSE_REASON(ISTHMUS_X)
#undef ISTHMUS_X
    }
    return "?";
}

std::string_view send_result_name(SendResult r) {
    switch (r) {
#define ISTHMUS_X(name, label, doc) \
    case SendResult::name:          \
        return label;
        ISTHMUS_SCTP_SEND_RESULT(ISTHMUS_X)
#undef ISTHMUS_X
    }
    return "?";
}

}  // namespace isthmus::datachannel
