// ReportingService: the gRPC face of reporting (reporting.proto). Each
// Get*Report waits until the ingest has applied the request's
// min_stream_positions (or the call's deadline passes), takes one
// consistent snapshot, asks the report's module for the figures and stamps
// them with the snapshot's stream positions and the time. ExportReportCsv
// runs a report the same way and streams one of its tables as CSV
// (csv_export.h); CheckConsistency hands over to ConsistencyChecker. Both
// append their audit event to reporting's own event log.
//
// Who may see which report is the gateway's to decide (as for every
// service); this layer checks requests, not callers.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_REPORTING_SERVICE_H_
#define MILEAGEBANK_SERVICES_REPORTING_SERVICE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "libs/store/store.h"
#include "mileagebank/config/v1/reporting.pb.h"
#include "mileagebank/reporting/v1/reporting.grpc.pb.h"
#include "services/reporting/consistency.h"
#include "services/reporting/report_range.h"
#include "services/reporting/view_state.h"
#include "services/reporting/views.h"

namespace mileagebank::reporting {

// The reports: X(Name, field) for v1::Get<Name>ReportRequest, the module's
// <Name>Report and the ExportReportCsvRequest.report field `field`.
#define MB_REPORTING_REPORTS(X)        \
  X(Members, members)                  \
  X(Liability, liability)              \
  X(AccrualAnalysis, accrual_analysis) \
  X(Redemptions, redemptions)          \
  X(TopMembers, top_members)           \
  X(ExpiringMiles, expiring_miles)     \
  X(PartnerSettlement, partner_settlement) \
  X(SalesOffice, sales_offices)

template <typename Request, typename Response>
using ReportQuery = std::function<absl::StatusOr<Response>(
    const ViewReader&, const Request&, const ReportContext&)>;

// One query per report; module_queries.h binds the modules' functions, tests
// bind fakes.
struct ReportQueries {
#define MB_REPORT_QUERY_FIELD(Name, field)                          \
  ReportQuery<v1::Get##Name##ReportRequest, v1::Get##Name##ReportResponse> \
      field;
  MB_REPORTING_REPORTS(MB_REPORT_QUERY_FIELD)
#undef MB_REPORT_QUERY_FIELD
};

// What the service works with; all outlive it.
struct ServiceParts {
  Views* views;
  // Reporting's own store: the audit events go to its log.
  store::Store* store;
  const config::v1::ReportingConfig* config;
  ConsistencyChecker* checker;
  ReportQueries queries;
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

// How long a report waits for min_stream_positions when the call has no
// deadline.
inline constexpr absl::Duration kDefaultWait = absl::Seconds(10);

// The call's deadline, or kDefaultWait from now when it has none.
absl::Time DeadlineOf(const grpc::ServerContext& context);

class ReportingService final : public v1::Reporting::Service {
 public:
  explicit ReportingService(ServiceParts parts) : parts_(std::move(parts)) {}

#define MB_DECLARE_REPORT_RPC(Name, field)                             \
  grpc::Status Get##Name##Report(                                      \
      grpc::ServerContext* context,                                    \
      const v1::Get##Name##ReportRequest* request,                     \
      v1::Get##Name##ReportResponse* response) override;
  MB_REPORTING_REPORTS(MB_DECLARE_REPORT_RPC)
#undef MB_DECLARE_REPORT_RPC

  grpc::Status ExportReportCsv(
      grpc::ServerContext* context, const v1::ExportReportCsvRequest* request,
      grpc::ServerWriter<v1::ExportReportCsvResponse>* writer) override;
  grpc::Status CheckConsistency(grpc::ServerContext* context,
                                const v1::CheckConsistencyRequest* request,
                                v1::CheckConsistencyResponse* response) override;

  // A report as Get<Name>Report answers it, for `deadline`.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Run(
      const ReportQuery<Request, Response>& query, const Request& request,
      absl::Time deadline) const;

 private:
  const ServiceParts parts_;
};

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_SERVICE_H_
