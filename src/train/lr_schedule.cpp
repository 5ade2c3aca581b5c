#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "train/run_config.h"

namespace alexnet {

namespace {

LrSchedule::Kind parse_kind(const std::string& name) {
  if (name == "plateau") return LrSchedule::Kind::kPlateau;
  if (name == "step") return LrSchedule::Kind::kStep;
  if (name == "fixed") return LrSchedule::Kind::kFixed;
  if (name == "cosine") return LrSchedule::Kind::kCosine;
  throw UserError("--schedule: unknown schedule '" + name + "' (expected plateau, step, fixed or cosine)");
}

}  // namespace

LrSchedule::LrSchedule(const std::string& name, int patience, int step_epochs, double factor,
                       double warmup_epochs)
    : kind_(parse_kind(name)),
      patience_(patience),
      step_epochs_(step_epochs),
      factor_(factor),
      warmup_epochs_(warmup_epochs) {
  if (patience < 1) throw UserError("--patience must be at least 1, got " + std::to_string(patience));
  if (step_epochs < 1)
    throw UserError("--step-epochs must be at least 1, got " + std::to_string(step_epochs));
  if (!(warmup_epochs >= 0) || warmup_epochs > 1e6)
    throw UserError("--warmup-epochs must be a number of epochs >= 0, got " + std::to_string(warmup_epochs));
}

LrSchedule LrSchedule::from_config(const RunConfig& c) {
  return LrSchedule(c.schedule, c.patience, c.step_epochs, c.lr_factor, c.warmup_epochs);
}

bool LrSchedule::end_epoch(int64_t epochs_done, double error, TrainState& s) const {
  switch (kind_) {
    case Kind::kFixed:
    case Kind::kCosine:
      return false;
    case Kind::kStep:
      if (epochs_done % step_epochs_ != 0) return false;
      s.lr *= factor_;
      return true;
    case Kind::kPlateau:
      // An improvement smaller than rounding noise is no improvement.
      if (error < s.best_val_error - 1e-9) {
        s.best_val_error = error;
        s.bad_epochs = 0;
        return false;
      }
      if (++s.bad_epochs < patience_) return false;
      s.lr *= factor_;
      s.bad_epochs = 0;
      return true;
  }
  return false;
}

double LrSchedule::rate(int64_t step, int64_t steps_per_epoch, int64_t epochs, const TrainState& s) const {
  double lr = s.lr;
  const auto warmup_steps = static_cast<int64_t>(std::llround(warmup_epochs_ * steps_per_epoch));
  if (step < warmup_steps) lr *= double(step + 1) / double(warmup_steps);
  if (kind_ == Kind::kCosine) {
    const double total = std::max<double>(double(steps_per_epoch) * double(epochs), 1.0);
    lr *= 0.5 * (1.0 + std::cos(M_PI * std::min(double(step), total) / total));
  }
  return lr;
}

}  // namespace alexnet
