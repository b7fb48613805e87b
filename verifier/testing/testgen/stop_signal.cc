#include "verifier/testing/testgen/stop_signal.h"

#include <signal.h>

namespace teeverify::testgen {
namespace {

volatile sig_atomic_t stop_requested = 0;

void OnStop(int) { stop_requested = 1; }

}  // namespace

void InstallStopHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnStop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking poll(2) or accept(2) returns EINTR
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hung up is an error return, not a kill
}

bool StopRequested() { return stop_requested != 0; }

}  // namespace teeverify::testgen
