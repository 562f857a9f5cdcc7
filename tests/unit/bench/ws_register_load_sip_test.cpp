// ws-register-load's SIP side (bench/ws_register_load_sip.hpp): the
// registration time a 2xx to REGISTER grants, which paces the refreshes of
// a call run (the soak's registrations outlive the core's bindings).
#include "ws_register_load_sip.hpp"

#include <gtest/gtest.h>

#include <string>

namespace isthmus::bench {
namespace {

TEST(GrantedExpires, ContactParameterThenExpiresField) {
    const std::string head = "SIP/2.0 200 OK\r\nVia: SIP/2.0/WS h;branch=z9hG4bK1\r\n";
    EXPECT_EQ(granted_expires(head + "Contact: <sip:u@h.invalid;transport=ws>;expires=3600\r\n"
                                     "Expires: 60\r\n\r\n"),
              3600u);
    EXPECT_EQ(granted_expires(head + "m: <sip:u@h.invalid>;q=0.5;EXPIRES=120\r\n\r\n"), 120u);
    // A URI parameter is the URI's; the field then decides.
    EXPECT_EQ(granted_expires(head + "Contact: <sip:u@h.invalid;expires=5>\r\nExpires: 90\r\n\r\n"),
              90u);
    // Only the first contact's parameters.
    EXPECT_EQ(granted_expires(head + "Contact: <sip:a@x>, <sip:b@y>;expires=70\r\n\r\n"), 0u);
    EXPECT_EQ(granted_expires(head + "Contact: <sip:a@x>;expires=bad\r\n\r\n"), 0u);
    EXPECT_EQ(granted_expires(head + "\r\nContact: <sip:a@x>;expires=9\r\n"), 0u);  // in the body
    EXPECT_EQ(granted_expires(""), 0u);
}

}  // namespace
}  // namespace isthmus::bench
