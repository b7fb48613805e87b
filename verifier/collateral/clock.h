// The clock the collateral cache schedules with (backoff, Retry-After, refresh pacing), injected
// so that tests move time instead of sleeping. Validity is never judged by it: every lookup
// carries its verification time.
#ifndef TEE_VERIFIER_COLLATERAL_CLOCK_H_
#define TEE_VERIFIER_COLLATERAL_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace teeverify::collateral {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// For tests: time moves only when told.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teeverify::collateral

#endif  // TEE_VERIFIER_COLLATERAL_CLOCK_H_
