// The dataplane's debug line per dpif command (dataplane/control/
// command_log.hpp): the command's type, session, result and reason.
#include "control/command_log.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace isthmus::dataplane {
namespace {

dpif::Event result_of(dpif::MsgType command, uint64_t session, dpif::ResultCode code) {
    dpif::Event ev{};
    ev.hdr.type = dpif::MsgType::Result;
    ev.hdr.reserved = static_cast<uint32_t>(command);
    ev.hdr.seq = 7;
    ev.hdr.generation = 3;
    ev.hdr.session_id = session;
    ev.result = code;
    ev.worker = 1;
    return ev;
}

TEST(CommandLog, ResultLine) {
    EXPECT_EQ(
        command_result_text(result_of(dpif::MsgType::SessionCreate, 42, dpif::ResultCode::Ok)),
        "event=dpif_command type=session_create session=42 seq=7 generation=3 worker=1 "
        "result=ok");
    dpif::Event refused = result_of(dpif::MsgType::SessionUpdate, 9, dpif::ResultCode::BadParams);
    std::snprintf(refused.detail, sizeof refused.detail, "%s", "access leg: port 0\nlevel=x");
    EXPECT_EQ(command_result_text(refused),
              "event=dpif_command type=session_update session=9 seq=7 generation=3 worker=1 "
              "result=bad_params detail=access%20leg:%20port%200%0Alevel=x");
}

TEST(CommandLog, EveryCommandTypeHasAName) {
    using dpif::MsgType;
    for (MsgType t :
         {MsgType::SessionCreate, MsgType::SessionUpdate, MsgType::SessionDelete,
          MsgType::SessionQuery, MsgType::ResyncBegin, MsgType::ResyncEnd, MsgType::Ping}) {
        EXPECT_NE(msg_type_name(t), "unknown") << static_cast<int>(t);
    }
    EXPECT_EQ(msg_type_name(MsgType::Ping), "ping");
    EXPECT_EQ(msg_type_name(MsgType::ResyncEnd), "resync_end");
    EXPECT_EQ(msg_type_name(static_cast<MsgType>(999)), "unknown");
}

}  // namespace
}  // namespace isthmus::dataplane
