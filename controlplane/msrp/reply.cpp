#include "msrp/reply.hpp"

namespace isthmus::msrp {

namespace {

std::string comment_for(uint16_t code, std::optional<std::string_view> comment) {
    return std::string(comment ? *comment : default_comment(code));
}

}  // namespace

Message make_response(const Message& request, uint16_t code,
                      std::optional<std::string_view> comment) {
    Message r;
    r.kind = MessageKind::Response;
    r.transaction_id = request.transaction_id;
    r.status_code = code;
    r.comment = comment_for(code, comment);
    if (!request.from_path.empty()) r.to_path.push_back(request.from_path.front());
    if (!request.to_path.empty()) r.from_path.push_back(request.to_path.front());
    return r;
}

bool response_wanted(const Message& request, uint16_t code) {
    if (!request.is_request() || request.is_report()) return false;
    switch (request.failure_report.value_or(FailureReport::Yes)) {
        case FailureReport::No:
            return false;
        case FailureReport::Partial:
            return code != status::kOk;
        case FailureReport::Yes:
            break;
    }
    return true;
}

bool success_report_wanted(const Message& send) {
    return send.success_report.value_or(SuccessReport::No) == SuccessReport::Yes;
}

bool failure_report_wanted(const Message& send) {
    return send.failure_report.value_or(FailureReport::Yes) != FailureReport::No;
}

Message make_report(const Message& send, std::string_view transaction_id, const ByteRange& range,
                    uint16_t code, std::optional<std::string_view> comment) {
    Message r;
    r.kind = MessageKind::Request;
    r.method = "REPORT";
    r.transaction_id = std::string(transaction_id);
    r.to_path = send.from_path;
    if (!send.to_path.empty()) r.from_path.push_back(send.to_path.front());
    r.message_id = send.message_id;
    r.byte_range = range;
    r.status = StatusHeader{0, code, comment_for(code, comment)};
    return r;
}

ByteRange whole_message_range(const Message& send) {
    uint64_t total = send.body.size();
    if (send.byte_range) {
        if (send.byte_range->total)
            total = *send.byte_range->total;
        else if (send.byte_range->end)
            total = *send.byte_range->end;
        else
            total = send.byte_range->start - 1 + send.body.size();
    }
    return ByteRange{1, total, total};
}

}  // namespace isthmus::msrp
