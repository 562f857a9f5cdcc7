#include "control/command_service.hpp"

#include <cstdio>

namespace isthmus::dataplane {

using dpif::MsgType;
using dpif::ResultCode;

dpif::Event CommandService::handle(const dpif::Command& cmd) {
    dpif::Event ev{};
    ev.hdr = cmd.hdr;
    ev.hdr.version = dpif::kAbiVersion;
    ev.hdr.type = MsgType::Result;
    ev.result = ResultCode::Ok;
    const auto refuse = [&ev](ResultCode code, const char* why) {
        ev.result = code;
        std::snprintf(ev.detail, sizeof ev.detail, "%s", why);
        return ev;
    };
    if (cmd.hdr.version != dpif::kAbiVersion) {
        return refuse(ResultCode::BadVersion, "ABI version differs");
    }
    if (cmd.hdr.type == MsgType::ResyncBegin) {
        if (cmd.hdr.generation <= generation_) {
            return refuse(ResultCode::StaleGeneration, "generation not newer than the current one");
        }
        generation_ = cmd.hdr.generation;
        resyncing_ = true;
        return ev;
    }
    if (cmd.hdr.generation < generation_) {
        return refuse(ResultCode::StaleGeneration, "command of an older control-plane generation");
    }
    switch (cmd.hdr.type) {
        case MsgType::Ping:
            ev.hdr.type = MsgType::Pong;
            return ev;
        case MsgType::ResyncEnd:
            if (!resyncing_ || cmd.hdr.generation != generation_) {
                return refuse(ResultCode::BadParams, "no resync of this generation is open");
            }
            resyncing_ = false;
            return ev;
        case MsgType::SessionCreate:
        case MsgType::SessionUpdate:
        case MsgType::SessionDelete:
        case MsgType::SessionQuery:
            return refuse(ResultCode::NotSupported,
                          "sessions are not implemented in this dataplane yet");
        default:
            return refuse(ResultCode::BadType, "not a command");
    }
}

}  // namespace isthmus::dataplane
