#include "cli/command_clock.h"

#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "types/value.h"
#include "types/value_cast.h"

namespace millrace {

Result<std::unique_ptr<Clock>> make_command_clock() {
    const char* text = std::getenv(kFixedNowVariable);
    if (text == nullptr || *text == '\0')
        return std::unique_ptr<Clock>(std::make_unique<SystemClock>());
    auto value = cast_value(Value::string(text), DataType::kTimestamp);
    if (!value.ok() || value->is_null()) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("{}=`{}`: expected a UTC timestamp such as 2026-03-01T12:00:00Z",
                                 kFixedNowVariable, text));
    }
    return std::unique_ptr<Clock>(std::make_unique<ManualClock>(value->as_int64()));
}

}  // namespace millrace
