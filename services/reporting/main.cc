// The reporting service process: configuration, store, ingest and wiring.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/client/shard_streams.h"
#include "libs/server/admin_service.h"
#include "libs/server/event_stream_service.h"
#include "libs/server/service_host.h"
#include "libs/store/store.h"
#include "libs/tiers/tiers.h"
#include "mileagebank/config/v1/reporting.pb.h"
#include "services/reporting/accrual_analysis.h"
#include "services/reporting/consistency.h"
#include "services/reporting/expiring_miles.h"
#include "services/reporting/ingest.h"
#include "services/reporting/liability.h"
#include "services/reporting/members.h"
#include "services/reporting/module_queries.h"
#include "services/reporting/partner_settlement.h"
#include "services/reporting/redemptions.h"
#include "services/reporting/sales_offices.h"
#include "services/reporting/service.h"

namespace mileagebank::reporting {
namespace {

// The source each *_target field names.
std::map<std::string, std::string> Sources(
    const config::v1::ReportingConfig& config) {
  return {{kMembershipSource, config.membership_target()},
          {kAccrualSource, config.accrual_target()},
          {kRedemptionSource, config.redemption_target()},
          {kSettlementSource, config.settlement_target()}};
}

// The streams followed, one per shard of a sharded source ("accrual-0"...),
// and their addresses.
std::map<std::string, std::string> Targets(
    const config::v1::ReportingConfig& config) {
  std::map<std::string, std::string> streams;
  for (const auto& [source, targets] : Sources(config)) {
    for (const client::ShardStream& stream : client::ShardStreams(source, targets)) {
      streams[stream.source] = stream.target;
    }
  }
  return streams;
}

absl::Status CheckConfig(const config::v1::ReportingConfig& config) {
  for (const auto& [source, target] : Sources(config)) {
    if (target.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, "_target: required (host:port of the ", source,
                       " service, whose event stream reporting follows)"));
    }
  }
  if (config.commit_every_events() < 0) {
    return absl::InvalidArgumentError(
        "commit_every_events: must not be negative");
  }
  if (config.commit_every_ms() < 0) {
    return absl::InvalidArgumentError("commit_every_ms: must not be negative");
  }
  if (config.catchup_commit_every_events() < 0) {
    return absl::InvalidArgumentError(
        "catchup_commit_every_events: must not be negative");
  }
  if (config.has_cost_per_thousand_miles() &&
      (config.cost_per_thousand_miles().currency_code().size() != 3 ||
       config.cost_per_thousand_miles().minor_units() < 0)) {
    return absl::InvalidArgumentError(
        "cost_per_thousand_miles: needs a 3-letter currency_code and "
        "minor_units of 0 or more");
  }
  return absl::OkStatus();
}

int Run(int argc, char** argv) {
  config::v1::ReportingConfig config;
  auto host = server::ServiceHost::Create("reporting", argc, argv, &config);
  if (!host.ok()) return server::ExitWithError(host.status());
  absl::Status configured = CheckConfig(config);
  if (!configured.ok()) return server::ExitWithError(configured);
  if (!config.has_cost_per_thousand_miles()) {
    config.mutable_cost_per_thousand_miles()->set_currency_code("CNY");
    config.mutable_cost_per_thousand_miles()->set_minor_units(6000);
  }
  absl::StatusOr<tiers::TierThresholds> thresholds =
      tiers::TierThresholds::FromConfig(config.tiers());
  if (!thresholds.ok()) {
    return server::ExitWithError(absl::InvalidArgumentError(
        absl::StrCat("tiers: ", thresholds.status().message())));
  }

  auto members = MembersProjection::FromConfig(config.tiers());
  if (!members.ok()) return server::ExitWithError(members.status());
  LiabilityProjection liability;
  ExpiringMilesProjection expiring_miles;
  AccrualAnalysisProjection accrual_analysis;
  SalesOfficesProjection sales_offices;
  RedemptionsProjection redemptions;
  PartnerSettlementProjection partner_settlement;
  const std::vector<Projection*> projections = {
      members->get(),    &liability,     &expiring_miles,
      &accrual_analysis, &sales_offices, &redemptions,
      &partner_settlement};

  const std::string data_dir = (*host)->server_config().data_dir();
  auto store = store::Store::Open(
      {.path = data_dir + "/reporting", .tables = Ingest::Tables(projections)});
  if (!store.ok()) return server::ExitWithError(store.status());

  IngestOptions options{.targets = Targets(config)};
  if (config.commit_every_events() > 0) {
    options.commit_every_events = config.commit_every_events();
  }
  if (config.commit_every_ms() > 0) {
    options.commit_every = absl::Milliseconds(config.commit_every_ms());
  }
  if (config.catchup_commit_every_events() > 0) {
    options.catchup_commit_every_events = config.catchup_commit_every_events();
  }
  Ingest ingest(store->get(), projections, options, &(*host)->metrics());
  IngestViews<Ingest> views(&ingest);

  const auto clock = [] { return absl::Now(); };
  GrpcAccrualLedger accrual(config.accrual_target());
  GrpcSourceLogs logs(Targets(config));
  ConsistencyChecker checker({.views = &views,
                              .store = store->get(),
                              .figures = ModuleFigures(clock),
                              .accrual = &accrual,
                              .logs = &logs,
                              .thresholds = *thresholds,
                              .clock = clock});
  ReportingService service({.views = &views,
                            .store = store->get(),
                            .config = &config,
                            .checker = &checker,
                            .queries = ModuleQueries(),
                            .clock = clock});
  server::EventStreamService events(store->get());
  server::AdminService admin("reporting",
                             (*host)->server_config().data_dir(), store->get());

  ingest.Start();
  (*host)->OnShutdown([&] {
    ingest.Stop();
    (*store)->StopWaiters();
  });
  absl::Status serving =
      (*host)->Serve({&service, &events, admin.grpc_service()});
  if (!serving.ok()) return server::ExitWithError(serving);
  (*host)->RunUntilSignalled();
  return 0;
}

}  // namespace
}  // namespace mileagebank::reporting

int main(int argc, char** argv) {
  return mileagebank::reporting::Run(argc, argv);
}
