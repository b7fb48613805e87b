// SIGTERM and SIGINT end tee-testgen's servers cleanly: the handler only sets a flag, which the
// serving loops check between polls (and blocking calls return early with EINTR).
#ifndef TEE_VERIFIER_TESTING_TESTGEN_STOP_SIGNAL_H_
#define TEE_VERIFIER_TESTING_TESTGEN_STOP_SIGNAL_H_

namespace teeverify::testgen {

void InstallStopHandlers();
bool StopRequested();

}  // namespace teeverify::testgen

#endif  // TEE_VERIFIER_TESTING_TESTGEN_STOP_SIGNAL_H_
