// The dataplane's debug line per dpif command (command_log.hpp).
#include "control/command_log.hpp"

#include <cstring>

#include "isthmus/log/log.hpp"

namespace isthmus::dataplane {

std::string_view msg_type_name(dpif::MsgType type) {
    using dpif::MsgType;
    switch (type) {
        case MsgType::SessionCreate:
            return "session_create";
        case MsgType::SessionUpdate:
            return "session_update";
        case MsgType::SessionDelete:
            return "session_delete";
        case MsgType::SessionQuery:
            return "session_query";
        case MsgType::ResyncBegin:
            return "resync_begin";
        case MsgType::ResyncEnd:
            return "resync_end";
        case MsgType::Ping:
            return "ping";
        case MsgType::Result:
            return "result";
        case MsgType::SessionInfo:
            return "session_info";
        case MsgType::Pong:
            return "pong";
        case MsgType::IceSelected:
            return "ice_selected";
        case MsgType::DtlsUp:
            return "dtls_up";
        case MsgType::DtlsFailed:
            return "dtls_failed";
        case MsgType::ConsentLost:
            return "consent_lost";
        case MsgType::ConsentRestored:
            return "consent_restored";
        case MsgType::SessionIdle:
            return "session_idle";
        case MsgType::SessionActive:
            return "session_active";
        default:  // a type added later reads "unknown" until named here
            break;
    }
    return "unknown";
}

std::string command_result_text(const dpif::Event& result) {
    std::string line = "event=dpif_command type=";
    line += msg_type_name(static_cast<dpif::MsgType>(result.hdr.reserved));
    log::appendf(line, " session=%llu seq=%llu generation=%llu worker=%u result=",
                 static_cast<unsigned long long>(result.hdr.session_id),
                 static_cast<unsigned long long>(result.hdr.seq),
                 static_cast<unsigned long long>(result.hdr.generation),
                 static_cast<unsigned>(result.worker));
    line += dpif::result_name(result.result);
    const std::size_t detail = strnlen(result.detail, sizeof result.detail);
    if (detail != 0) {
        line += " detail=";
        line += log::escape_value(std::string_view(result.detail, detail));
    }
    return line;
}

}  // namespace isthmus::dataplane
