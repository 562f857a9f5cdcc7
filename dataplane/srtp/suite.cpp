#include "srtp/suite.hpp"

namespace isthmus::srtp {

std::optional<Suite> suite_from_name(std::string_view name) {
    for (Suite s : kAllSuites) {
        if (suite_info(s).name == name) return s;
    }
    return std::nullopt;
}

}  // namespace isthmus::srtp
