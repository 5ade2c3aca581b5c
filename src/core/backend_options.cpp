#include "core/backend_options.h"

#include "core/errors.h"

namespace alexnet {

MathMode parse_math_mode(std::string_view text) {
  if (text == "fp32") return MathMode::kFp32;
  if (text == "tf32") return MathMode::kTf32;
  throw UserError("--math: '" + std::string(text) + "' is not fp32 or tf32");
}

const char* math_mode_name(MathMode mode) {
  return mode == MathMode::kTf32 ? "tf32" : "fp32";
}

}  // namespace alexnet
