// Boost.Asio (with its SSL part) and Boost.Beast compiled once for the WWSF,
// here, rather than in every file that includes them: isthmus_wwsf_server_dep
// sets BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION
// for every user (as the eP-CSCF's transport_boost_impl.cpp does for its
// own binary; the two are never linked together). GCC's -Wnull-dereference
// trips on Asio's scheduler (thread_call_stack::contains() may return null
// in general, never where compensating_work_started() is called).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#pragma GCC diagnostic pop
