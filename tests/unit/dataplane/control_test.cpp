// The dataplane's command service: answers, ABI check, generations.
#include <gtest/gtest.h>

#include <string>

#include "control/command_service.hpp"

namespace isthmus::dataplane {
namespace {

using dpif::Command;
using dpif::MsgType;
using dpif::ResultCode;

Command cmd(MsgType type, uint64_t generation, uint64_t seq = 1) {
    Command c{};
    c.hdr = {dpif::kAbiVersion, type, 0, seq, generation, 77};
    return c;
}

TEST(CommandService, PingIsAnsweredWithPongEchoingTheHeader) {
    CommandService s;
    const auto ev = s.handle(cmd(MsgType::Ping, 5, 42));
    EXPECT_EQ(ev.hdr.type, MsgType::Pong);
    EXPECT_EQ(ev.hdr.seq, 42U);
    EXPECT_EQ(ev.hdr.generation, 5U);
    EXPECT_EQ(ev.hdr.session_id, 77U);
    EXPECT_EQ(ev.result, ResultCode::Ok);
}

TEST(CommandService, OtherAbiVersionsAreRefused) {
    CommandService s;
    Command c = cmd(MsgType::Ping, 1);
    c.hdr.version = dpif::kAbiVersion + 1;
    const auto ev = s.handle(c);
    EXPECT_EQ(ev.hdr.type, MsgType::Result);
    EXPECT_EQ(ev.result, ResultCode::BadVersion);
    EXPECT_EQ(std::string(ev.detail), "ABI version differs");
}

TEST(CommandService, ResyncOpensANewerGenerationAndFencesOlderOnes) {
    CommandService s;
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncBegin, 10)).result, ResultCode::Ok);
    EXPECT_EQ(s.generation(), 10U);
    EXPECT_TRUE(s.resyncing());
    // The predecessor (generation 9) is fenced off; a newer one is not.
    EXPECT_EQ(s.handle(cmd(MsgType::Ping, 9)).result, ResultCode::StaleGeneration);
    EXPECT_EQ(s.handle(cmd(MsgType::Ping, 10)).result, ResultCode::Ok);
    // Closing: only the open generation's resync.
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncEnd, 11)).result, ResultCode::BadParams);
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncEnd, 10)).result, ResultCode::Ok);
    EXPECT_FALSE(s.resyncing());
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncEnd, 10)).result, ResultCode::BadParams);
    // A generation must grow.
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncBegin, 10)).result, ResultCode::StaleGeneration);
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncBegin, 3)).result, ResultCode::StaleGeneration);
    EXPECT_EQ(s.handle(cmd(MsgType::ResyncBegin, 12)).result, ResultCode::Ok);
    EXPECT_EQ(s.generation(), 12U);
}

TEST(CommandService, SessionsAreNotSupportedYetAndEventsAreNotCommands) {
    CommandService s;
    for (MsgType t : {MsgType::SessionCreate, MsgType::SessionUpdate, MsgType::SessionDelete,
                      MsgType::SessionQuery}) {
        const auto ev = s.handle(cmd(t, 1));
        EXPECT_EQ(ev.result, ResultCode::NotSupported);
        EXPECT_EQ(ev.hdr.type, MsgType::Result);
    }
    EXPECT_EQ(s.handle(cmd(MsgType::DtlsUp, 1)).result, ResultCode::BadType);
    EXPECT_EQ(s.handle(cmd(static_cast<MsgType>(999), 1)).result, ResultCode::BadType);
}

}  // namespace
}  // namespace isthmus::dataplane
