// loadgen's gateway mode: members' web sessions through the gateway's REST
// face, the way the portal drives it. Each of `concurrency` sessions keeps
// one HTTP/1.1 connection open, logs in as its members first (outside the
// figures: Argon2id makes logins slow by design), then reads dashboards
// (GET /v1/members/{n}/dashboard), and every --statement_every-th op a
// statement page, for the measured window; one thread on an event loop
// drives all the sessions' connections.
#ifndef MILEAGEBANK_BENCH_LOADGEN_GATEWAY_H_
#define MILEAGEBANK_BENCH_LOADGEN_GATEWAY_H_

#include <string>
#include <vector>

namespace mileagebank::loadgen {

struct GatewayLoad {
  // The REST face, "127.0.0.1:8080".
  std::string http_address;
  std::vector<std::string> members;
  std::string member_password;
  // Sessions, each with its own connection and one request in flight.
  int concurrency = 64;
  double duration_s = 10;
  double warmup_s = 1;
  // Every n-th op of a worker reads a statement instead; 0 never.
  int statement_every = 0;
};

// Runs the load and prints the figures, ending with loadgen's summary line;
// the process exit code (0 ran, 3 the gateway does not answer or a login
// fails).
int RunGatewayLoad(const GatewayLoad& load);

}  // namespace mileagebank::loadgen

#endif  // MILEAGEBANK_BENCH_LOADGEN_GATEWAY_H_
