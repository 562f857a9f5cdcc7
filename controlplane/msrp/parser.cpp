#include "msrp/parser.hpp"

#include <algorithm>
#include <utility>

#include "msrp/scanner.hpp"

namespace isthmus::msrp {

ParseResult parse_message(std::string_view bytes, const ParseLimits& limits) {
    detail::Scanner scanner(limits);
    ParseResult r;
    switch (scanner.advance(bytes)) {
        case detail::Step::Done:
            if (scanner.size() != bytes.size()) {
                r.error = ParseError::TrailingBytes;
                r.reason =
                    std::to_string(bytes.size() - scanner.size()) + " bytes after the end line";
                break;
            }
            r.consumed = scanner.size();
            break;
        case detail::Step::NeedMore:
            r.error = ParseError::Truncated;
            r.reason = scanner.missing();
            break;
        case detail::Step::Failed:
            r.error = scanner.error();
            r.reason = scanner.reason();
            break;
    }
    r.message = std::move(scanner.message());
    return r;
}

StreamFramer::StreamFramer(const ParseLimits& limits)
    : limits_(limits), scanner_(std::make_unique<detail::Scanner>(limits)) {}
StreamFramer::~StreamFramer() = default;
StreamFramer::StreamFramer(StreamFramer&&) noexcept = default;
StreamFramer& StreamFramer::operator=(StreamFramer&&) noexcept = default;

ParseError StreamFramer::fail(ParseError e, std::string reason) {
    error_ = e;
    reason_ = std::move(reason);
    buffer_.clear();
    buffer_.shrink_to_fit();
    start_ = 0;
    return error_;
}

ParseError StreamFramer::feed(std::string_view bytes, std::vector<Message>& out) {
    if (error_ != ParseError::None) return error_;
    while (!bytes.empty()) {
        // Take no more than the buffer may hold; messages completed below
        // make room for the rest of `bytes`.
        if (start_ > 0 && (start_ == buffer_.size() || start_ >= buffer_.size() / 2)) {
            buffer_.erase(0, start_);
            start_ = 0;
        }
        const std::size_t held = buffer_.size() - start_;
        if (held >= limits_.max_buffered_bytes)
            return fail(ParseError::BufferFull, "over " +
                                                    std::to_string(limits_.max_buffered_bytes) +
                                                    " buffered bytes without a complete message");
        const std::size_t take = std::min(bytes.size(), limits_.max_buffered_bytes - held);
        buffer_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);

        while (start_ < buffer_.size()) {
            const std::string_view view = std::string_view(buffer_).substr(start_);
            const detail::Step step = scanner_->advance(view);
            if (step == detail::Step::NeedMore) break;
            if (step == detail::Step::Failed) return fail(scanner_->error(), scanner_->reason());
            out.push_back(std::move(scanner_->message()));
            start_ += scanner_->size();
            scanner_->reset();
        }
    }
    return ParseError::None;
}

}  // namespace isthmus::msrp
