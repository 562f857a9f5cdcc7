// SctpAssociation's receive side (sctp_association.hpp): reading usrsctp's
// socket once the stack's dispatch finds it marked, reassembling messages
// from partial deliveries within max_message_size, and turning usrsctp's
// notifications (association change, shutdown, stream reset) into states
// and callbacks.
#include <arpa/inet.h>
#include <usrsctp.h>

#include <algorithm>
#include <cstring>

#include "datachannel/sctp_association.hpp"

namespace isthmus::datachannel {

namespace {

constexpr std::size_t kKeepPartial = 64 * 1024;     // reassembly buffer kept between messages
constexpr std::size_t kMaxNotification = 8 * 1024;  // a reset event naming ~4000 streams
constexpr uint8_t kAbortChunk = 6;                  // RFC 9260 3.3.7

}  // namespace

void SctpAssociation::drain() {
    std::vector<uint8_t>& buf = stack_.scratch_;
    draining_ = true;
    struct Done {
        bool& flag;
        ~Done() { flag = false; }
    } done{draining_};
    while (sock_ != nullptr) {
        sctp_rcvinfo info{};
        socklen_t infolen = sizeof(info);
        unsigned int infotype = SCTP_RECVV_NOINFO;
        int flags = 0;
        socklen_t fromlen = 0;
        const ssize_t n = usrsctp_recvv(sock_, buf.data(), buf.size(), nullptr, &fromlen, &info,
                                        &infolen, &infotype, &flags);
        // < 0: EWOULDBLOCK, or the association is gone (its notification
        // came first); 0: the peer shut down and everything is read.
        if (n <= 0) break;
        const std::span<const uint8_t> part(buf.data(), static_cast<std::size_t>(n));
        const bool eor = (flags & MSG_EOR) != 0;
        if ((flags & MSG_NOTIFICATION) != 0)
            on_notification_part(part, eor);
        else if (infotype == SCTP_RECVV_RCVINFO)
            on_data(info.rcv_sid, ntohl(info.rcv_ppid), part, eor);
        else if (in_message_)  // no rcvinfo: only a continuation can be placed
            on_data(msg_stream_, msg_ppid_, part, eor);
        else
            ++counters_.reassembly_broken;
    }
    if (want_writable_ && sock_ != nullptr && state_ == SctpState::Up) {
        const int events = usrsctp_get_events(sock_);
        if (events > 0 && (events & SCTP_EVENT_WRITE) != 0) {
            want_writable_ = false;
            if (cb_.on_writable) cb_.on_writable();
        }
    }
}

void SctpAssociation::on_data(uint16_t stream, uint32_t ppid, std::span<const uint8_t> part,
                              bool eor) {
    const std::size_t max = options_.max_message_size;
    if (!in_message_) {
        if (eor) {  // whole in one read: straight from the scratch buffer
            if (part.size() > max)
                ++counters_.dropped_oversize;
            else
                deliver(stream, ppid, part);
            return;
        }
        in_message_ = true;
        discarding_ = false;
        msg_stream_ = stream;
        msg_ppid_ = ppid;
    } else if (stream != msg_stream_) {  // cannot happen with interleave level 0
        ++counters_.reassembly_broken;
        partial_.clear();
        discarding_ = false;
        msg_stream_ = stream;
        msg_ppid_ = ppid;
    }
    if (!discarding_) {
        if (part.size() > max - partial_.size()) {
            discarding_ = true;  // read the rest and drop it: memory stays bounded
            partial_.clear();
        } else {
            const std::size_t need = partial_.size() + part.size();
            if (need > partial_.capacity())
                partial_.reserve(std::min(std::max(need, 2 * partial_.capacity()), max));
            partial_.insert(partial_.end(), part.begin(), part.end());
        }
    }
    if (!eor) return;
    in_message_ = false;
    if (discarding_) {
        discarding_ = false;
        ++counters_.dropped_oversize;
    } else {
        deliver(msg_stream_, msg_ppid_, partial_);
    }
    partial_.clear();
    if (partial_.capacity() > kKeepPartial) std::vector<uint8_t>().swap(partial_);
}

void SctpAssociation::deliver(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data) {
    if (is_empty_ppid(ppid)) data = {};  // RFC 8831 6.6: the 0 octet is not the message
    ++counters_.messages_in;
    counters_.message_bytes_in += data.size();
    if (cb_.on_message) cb_.on_message(stream, ppid, data);
}

void SctpAssociation::on_notification_part(std::span<const uint8_t> part, bool eor) {
    if (eor && notification_.empty() && !notification_discarding_) {
        on_notification(part);
        return;
    }
    if (!notification_discarding_) {
        if (notification_.size() + part.size() > kMaxNotification) {
            notification_discarding_ = true;
            notification_.clear();
        } else {
            notification_.insert(notification_.end(), part.begin(), part.end());
        }
    }
    if (!eor) return;
    if (notification_discarding_) {
        notification_discarding_ = false;
        ++counters_.notifications;
        ++counters_.notifications_dropped;
    } else {
        on_notification(notification_);
    }
    notification_.clear();
}

void SctpAssociation::on_notification(std::span<const uint8_t> n) {
    ++counters_.notifications;
    sctp_notification::sctp_tlv header{};
    if (n.size() < sizeof(header)) {
        ++counters_.notifications_dropped;
        return;
    }
    std::memcpy(&header, n.data(), sizeof(header));
    if (header.sn_length != n.size()) {
        ++counters_.notifications_dropped;
        return;
    }
    switch (header.sn_type) {
        case SCTP_ASSOC_CHANGE:
            on_assoc_change(n);
            break;
        case SCTP_SHUTDOWN_EVENT:  // the peer sent SHUTDOWN: no new data either way
            end(SctpState::Closed, SctpCloseReason::PeerShutdown);
            break;
        case SCTP_STREAM_RESET_EVENT:
            on_reset_event(n);
            break;
        default:
            break;
    }
}

void SctpAssociation::on_assoc_change(std::span<const uint8_t> n) {
    sctp_assoc_change ac{};
    if (n.size() < sizeof(ac)) {
        ++counters_.notifications_dropped;
        return;
    }
    std::memcpy(&ac, n.data(), sizeof(ac));
    switch (ac.sac_state) {
        case SCTP_COMM_UP:
            outbound_streams_ = ac.sac_outbound_streams;
            inbound_streams_ = ac.sac_inbound_streams;
            if (state_ == SctpState::Connecting) {
                state_ = SctpState::Up;
                if (cb_.on_state) cb_.on_state(SctpState::Up);
            }
            break;
        case SCTP_COMM_LOST: {
            // usrsctp appends the peer's ABORT chunk when there was one.
            const bool aborted = n.size() > sizeof(ac) && n[sizeof(ac)] == kAbortChunk;
            end(aborted ? SctpState::Closed : SctpState::Failed,
                aborted ? SctpCloseReason::PeerAbort : SctpCloseReason::Timeout);
            break;
        }
        case SCTP_RESTART:  // the peer lost its state (and its channels): end ours
            end(SctpState::Failed, SctpCloseReason::PeerRestart);
            release();  // ABORT
            break;
        case SCTP_SHUTDOWN_COMP:
            end(SctpState::Closed, state_ == SctpState::ShuttingDown
                                       ? SctpCloseReason::LocalShutdown
                                       : SctpCloseReason::PeerShutdown);
            break;
        case SCTP_CANT_STR_ASSOC:
            end(SctpState::Failed, SctpCloseReason::ConnectFailed);
            break;
        default:
            break;
    }
}

void SctpAssociation::on_reset_event(std::span<const uint8_t> n) {
    sctp_stream_reset_event ev{};
    if (n.size() < sizeof(ev)) {
        ++counters_.notifications_dropped;
        return;
    }
    std::memcpy(&ev, n.data(), sizeof(ev));
    const bool failed =
        (ev.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) != 0;
    const bool incoming = (ev.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) != 0;
    const bool outgoing = (ev.strreset_flags & SCTP_STREAM_RESET_OUTGOING_SSN) != 0;
    const std::size_t count = (n.size() - sizeof(ev)) / sizeof(uint16_t);
    for (std::size_t i = 0; i < count && sock_ != nullptr; ++i) {
        uint16_t stream = 0;
        std::memcpy(&stream, n.data() + sizeof(ev) + i * sizeof(uint16_t), sizeof(stream));
        if (outgoing) {
            std::erase(resetting_, stream);
            if (failed) ++counters_.stream_resets_failed;
            if (cb_.on_reset_done) cb_.on_reset_done(stream, !failed);
        } else if (incoming && !failed) {
            ++counters_.stream_resets_in;
            if (cb_.on_stream_reset) cb_.on_stream_reset(stream);
        }
    }
}

}  // namespace isthmus::datachannel
