#include "services/reporting/service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/server/respond.h"
#include "libs/status/errors.h"
#include "libs/status/grpc_status.h"
#include "libs/status/status_macros.h"
#include "libs/validation/dates.h"
#include "services/reporting/csv_export.h"

namespace mileagebank::reporting {
namespace {

std::string DateText(const common::v1::Date& date) {
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

// What ExportReportCsv needs of any report it ran.
struct RanReport {
  std::unique_ptr<google::protobuf::Message> response;
  v1::DateRange range;
  google::protobuf::Map<std::string, uint64_t> positions;
};

}  // namespace

absl::Time DeadlineOf(const grpc::ServerContext& context) {
  const absl::Time deadline = absl::FromChrono(context.deadline());
  // A call without a deadline carries "infinitely far".
  if (deadline > absl::Now() + absl::Hours(24 * 365)) {
    return absl::Now() + kDefaultWait;
  }
  return deadline;
}

template <typename Request, typename Response>
absl::StatusOr<Response> ReportingService::Run(
    const ReportQuery<Request, Response>& query, const Request& request,
    absl::Time deadline) const {
  // The range is checked before any wait: a bad request fails at once.
  MB_RETURN_IF_ERROR(CheckRange(request.range()).status());
  MB_RETURN_IF_ERROR(
      parts_.views->WaitFor(request.min_stream_positions(), deadline));
  std::unique_ptr<ViewReader> reader = parts_.views->Reader();
  const absl::Time now = parts_.clock();
  MB_ASSIGN_OR_RETURN(
      Response response,
      query(*reader, request, ReportContext{now, parts_.config}));
  response.mutable_stream_positions()->clear();
  for (const auto& [source, sequence] : reader->positions()) {
    (*response.mutable_stream_positions())[source] = sequence;
  }
  *response.mutable_generated_at() = validation::ToProtoTimestamp(now);
  return response;
}

#define MB_DEFINE_REPORT_RPC(Name, field)                                 \
  grpc::Status ReportingService::Get##Name##Report(                       \
      grpc::ServerContext* context,                                       \
      const v1::Get##Name##ReportRequest* request,                        \
      v1::Get##Name##ReportResponse* response) {                          \
    return server::Respond(                                               \
        Run(parts_.queries.field, *request, DeadlineOf(*context)),        \
        response);                                                        \
  }
MB_REPORTING_REPORTS(MB_DEFINE_REPORT_RPC)
#undef MB_DEFINE_REPORT_RPC

grpc::Status ReportingService::ExportReportCsv(
    grpc::ServerContext* context, const v1::ExportReportCsvRequest* request,
    grpc::ServerWriter<v1::ExportReportCsvResponse>* writer) {
  auto run = [&]() -> absl::StatusOr<RanReport> {
    const absl::Time deadline = DeadlineOf(*context);
    RanReport ran;
#define MB_RUN_REPORT(Name, field)                                            \
  if (request->has_##field()) {                                               \
    /* An unknown table fails before any wait. */                             \
    MB_RETURN_IF_ERROR(                                                       \
        CsvTable::Of(v1::Get##Name##ReportResponse::default_instance(),       \
                     request->table())                                        \
            .status());                                                       \
    MB_ASSIGN_OR_RETURN(                                                      \
        v1::Get##Name##ReportResponse response,                               \
        Run(parts_.queries.field, request->field(), deadline));               \
    ran.range = request->field().range();                                     \
    ran.positions = response.stream_positions();                              \
    ran.response = std::make_unique<v1::Get##Name##ReportResponse>(           \
        std::move(response));                                                 \
    return ran;                                                               \
  }
    MB_REPORTING_REPORTS(MB_RUN_REPORT)
#undef MB_RUN_REPORT
    return InvalidField("report", "one report is required");
  };

  auto export_csv = [&]() -> absl::Status {
    MB_ASSIGN_OR_RETURN(RanReport ran, run());
    MB_ASSIGN_OR_RETURN(CsvTable table,
                        CsvTable::Of(*ran.response, request->table()));
    const std::string report =
        request->GetDescriptor()
            ->FindFieldByNumber(static_cast<int>(request->report_case()))
            ->name();
    // Recorded before any byte leaves, so that no export goes unaudited
    // even when the client breaks off midway.
    v1::ReportExported exported;
    exported.set_report(report);
    exported.set_table(request->table());
    *exported.mutable_range() = ran.range;
    exported.set_rows(table.rows());
    *exported.mutable_stream_positions() = ran.positions;
    *exported.mutable_actor() = request->actor();
    store::WriteBatch batch = parts_.store->NewBatch();
    batch.AppendEvent(report, exported);
    MB_RETURN_IF_ERROR(parts_.store->Commit(batch));

    v1::ExportReportCsvResponse head;
    v1::CsvExportHeader* header = head.mutable_header();
    header->set_file_name(absl::StrCat(report, "_", request->table(), "_",
                                       DateText(ran.range.from_date()), "_",
                                       DateText(ran.range.to_date()), ".csv"));
    for (const std::string& column : table.columns()) {
      header->add_columns(column);
    }
    header->set_rows(table.rows());
    *header->mutable_stream_positions() = ran.positions;
    if (!writer->Write(head)) return absl::CancelledError("client went away");
    const bool sent = table.Write(kMaxCsvChunkBytes, [&](std::string chunk) {
      v1::ExportReportCsvResponse part;
      part.set_chunk(std::move(chunk));
      return writer->Write(part);
    });
    if (!sent) return absl::CancelledError("client went away");
    return absl::OkStatus();
  };
  return ToGrpcStatus(export_csv());
}

grpc::Status ReportingService::CheckConsistency(
    grpc::ServerContext* context, const v1::CheckConsistencyRequest* request,
    v1::CheckConsistencyResponse* response) {
  return server::Respond(parts_.checker->Check(*request, DeadlineOf(*context)),
                         response);
}

}  // namespace mileagebank::reporting
