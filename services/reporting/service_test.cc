#include "services/reporting/service.h"

#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/store/store.h"
#include "libs/testing/loopback_server.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "services/reporting/csv_export.h"
#include "services/reporting/fake_views.h"

namespace mileagebank::reporting {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kFakeTable[] = "fake";

int64_t Figure(const ViewReader& view, absl::string_view name) {
  auto row = view.Counters(kFakeTable, name);
  return row.ok() && !row->empty() ? (*row)[0] : 0;
}

common::v1::Date Day(int year, int month, int day) {
  common::v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

template <typename Request>
Request InRange(Request request) {
  *request.mutable_range()->mutable_from_date() = Day(2026, 1, 1);
  *request.mutable_range()->mutable_to_date() = Day(2026, 3, 31);
  return request;
}

class NoLedger final : public AccrualLedger {
 public:
  absl::StatusOr<accrual::v1::VerifyLedgerResponse> VerifyLedger(
      absl::Time) override {
    accrual::v1::VerifyLedgerResponse response;
    response.set_total_balance(700);
    response.set_as_of_sequence(4);
    return response;
  }
};

class NoLogs final : public SourceLogs {
 public:
  absl::Status Replay(const std::string&, uint64_t,
                      const std::function<void(const common::v1::Event&)>&,
                      absl::Time) override {
    return absl::UnimplementedError("no replay here");
  }
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened =
        store::Store::Open({.path = testing::FreshTestDir(), .tables = {}});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
    MemoryView& view = views_.view();
    for (const char* source :
         {kMembershipSource, kAccrualSource, kRedemptionSource,
          kSettlementSource}) {
      view.mutable_positions()[source] = 0;
    }
    view.mutable_positions()[kAccrualSource] = 4;
    ASSERT_TRUE(view.Add(kFakeTable, "liability", {700}).ok());
    config_.mutable_cost_per_thousand_miles()->set_currency_code("CNY");

    ReportQueries queries;
#define MB_FAKE_QUERY(Name, field)                                          \
  queries.field = [this](const ViewReader&,                                 \
                         const v1::Get##Name##ReportRequest&,               \
                         const ReportContext&)                              \
      -> absl::StatusOr<v1::Get##Name##ReportResponse> {                    \
    called_.insert(#field);                                                 \
    return v1::Get##Name##ReportResponse();                                 \
  };
    MB_REPORTING_REPORTS(MB_FAKE_QUERY)
#undef MB_FAKE_QUERY
    queries.liability = [this](const ViewReader& view,
                               const v1::GetLiabilityReportRequest& request,
                               const ReportContext& context)
        -> absl::StatusOr<v1::GetLiabilityReportResponse> {
      EXPECT_EQ(context.now, kNow);
      EXPECT_EQ(context.config, &config_);
      v1::GetLiabilityReportResponse response;
      response.mutable_summary()->set_outstanding_miles(
          Figure(view, "liability"));
      *response.mutable_summary()->mutable_cost_per_thousand_miles() =
          context.config->cost_per_thousand_miles();
      // Rows enough to need several chunks when the view asks for them.
      const int64_t rows = Figure(view, "rows");
      for (int64_t i = 0; i < rows; ++i) {
        v1::LiabilityMonthRow* row = response.add_monthly();
        row->set_year(2026);
        row->set_month(static_cast<int32_t>(i % 12 + 1));
        row->set_closing_miles(i);
      }
      // Stale positions from a module must not survive.
      (*response.mutable_stream_positions())["bogus"] = 1;
      return response;
    };

    checker_ = std::make_unique<ConsistencyChecker>(ConsistencyParts{
        .views = &views_,
        .store = store_.get(),
        .figures = {.liability_total =
                        [](const ViewReader& view) -> absl::StatusOr<int64_t> {
                      return Figure(view, "liability");
                    },
                    .sum_of_member_balances =
                        [](const ViewReader& view) -> absl::StatusOr<int64_t> {
                      return Figure(view, "liability");
                    },
                    .current_tier_counts =
                        [](const ViewReader&) -> absl::StatusOr<TierCounts> {
                      return TierCounts{{membership::v1::GOLD, 2}};
                    },
                    .recount_tiers =
                        [](const ViewReader&) -> absl::StatusOr<TierCounts> {
                      return TierCounts{{membership::v1::GOLD, 2}};
                    }},
        .accrual = &ledger_,
        .logs = &logs_,
        .clock = [] { return kNow; }});
    service_ = std::make_unique<ReportingService>(
        ServiceParts{.views = &views_,
                     .store = store_.get(),
                     .config = &config_,
                     .checker = checker_.get(),
                     .queries = queries,
                     .clock = [] { return kNow; }});
    testing::LoopbackServer served = testing::ServeOnLoopback({service_.get()});
    server_ = std::move(served.server);
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Reporting::NewStub(grpc::CreateChannel(
        served.target, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::vector<common::v1::Event> Events() {
    auto events = store_->ReadEvents(0, 100);
    EXPECT_TRUE(events.ok());
    return events.ok() ? *events : std::vector<common::v1::Event>();
  }

  struct Export {
    grpc::Status status;
    std::vector<v1::ExportReportCsvResponse> parts;
    std::string csv;
  };
  Export RunExport(const v1::ExportReportCsvRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    auto reader = stub_->ExportReportCsv(&context, request);
    Export result;
    v1::ExportReportCsvResponse part;
    while (reader->Read(&part)) {
      result.parts.push_back(part);
      result.csv += part.chunk();
    }
    result.status = reader->Finish();
    return result;
  }

  static inline const absl::Time kNow =
      absl::FromUnixSeconds(1780000000);  // 2026-05-28

  FakeViews views_;
  config::v1::ReportingConfig config_;
  std::set<std::string> called_;
  NoLedger ledger_;
  NoLogs logs_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ConsistencyChecker> checker_;
  std::unique_ptr<ReportingService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Reporting::Stub> stub_;
};

TEST_F(ServiceTest, EveryReportReachesItsModuleAndIsStamped) {
#define MB_CALL_REPORT(Name, field)                                          \
  {                                                                          \
    grpc::ClientContext context;                                             \
    v1::Get##Name##ReportResponse response;                                  \
    grpc::Status status = stub_->Get##Name##Report(                          \
        &context, InRange(v1::Get##Name##ReportRequest()), &response);       \
    EXPECT_TRUE(status.ok()) << #Name << ": " << status.error_message();     \
    EXPECT_EQ(response.stream_positions().size(), 4u) << #Name;              \
    EXPECT_EQ(response.stream_positions().at("accrual"), 4u) << #Name;       \
    EXPECT_EQ(validation::FromProtoTimestamp(response.generated_at()), kNow) \
        << #Name;                                                            \
  }
  MB_REPORTING_REPORTS(MB_CALL_REPORT)
#undef MB_CALL_REPORT
  EXPECT_EQ(called_.size(), 7u);  // All but liability, which has its own.
  EXPECT_EQ(called_.count("liability"), 0u);
}

TEST_F(ServiceTest, LiabilityAnswersFromTheSnapshotWithThePositions) {
  grpc::ClientContext context;
  v1::GetLiabilityReportRequest request =
      InRange(v1::GetLiabilityReportRequest());
  (*request.mutable_min_stream_positions())["accrual"] = 4;
  v1::GetLiabilityReportResponse response;
  ASSERT_TRUE(stub_->GetLiabilityReport(&context, request, &response).ok());
  EXPECT_EQ(response.summary().outstanding_miles(), 700);
  EXPECT_EQ(response.summary().cost_per_thousand_miles().currency_code(),
            "CNY");
  EXPECT_EQ(response.stream_positions().count("bogus"), 0u);
  EXPECT_TRUE(Events().empty());  // Reports change nothing.
}

TEST_F(ServiceTest, ABadRangeFailsAtOnceNamingTheField) {
  v1::GetLiabilityReportRequest request;
  *request.mutable_range()->mutable_from_date() = Day(2026, 1, 1);
  (*request.mutable_min_stream_positions())["accrual"] = 99;
  grpc::ClientContext context;
  v1::GetLiabilityReportResponse response;
  grpc::Status status = stub_->GetLiabilityReport(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("range.to_date"));
}

TEST_F(ServiceTest, MinStreamPositionsWaitUntilTheDeadline) {
  v1::GetMembersReportRequest request = InRange(v1::GetMembersReportRequest());
  (*request.mutable_min_stream_positions())["membership"] = 1;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(300));
  v1::GetMembersReportResponse response;
  const absl::Time start = absl::Now();
  grpc::Status status = stub_->GetMembersReport(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));

  (*request.mutable_min_stream_positions())["billing"] = 1;
  grpc::ClientContext unknown;
  status = stub_->GetMembersReport(&unknown, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("min_stream_positions"));
}

TEST_F(ServiceTest, ExportStreamsTheHeaderThenTheCsvAndRecordsIt) {
  ASSERT_TRUE(views_.view().Add(kFakeTable, "rows", {3}).ok());
  v1::ExportReportCsvRequest request;
  *request.mutable_liability() = InRange(v1::GetLiabilityReportRequest());
  request.set_table("monthly");
  request.mutable_actor()->set_operator_id("fin01");
  Export exported = RunExport(request);
  ASSERT_TRUE(exported.status.ok()) << exported.status.error_message();
  ASSERT_EQ(exported.parts.size(), 2u);
  ASSERT_TRUE(exported.parts[0].has_header());
  const v1::CsvExportHeader& header = exported.parts[0].header();
  EXPECT_EQ(header.file_name(), "liability_monthly_2026-01-01_2026-03-31.csv");
  EXPECT_EQ(header.rows(), 3);
  EXPECT_EQ(header.columns(0), "year");
  EXPECT_EQ(header.columns_size(), 10);
  EXPECT_EQ(header.stream_positions().at("accrual"), 4u);
  EXPECT_EQ(exported.csv,
            "year,month,opening_miles,issued_miles,reversed_miles,"
            "redeemed_miles,expired_miles,adjusted_miles,fee_miles,"
            "closing_miles\n"
            "2026,1,0,0,0,0,0,0,0,0\n"
            "2026,2,0,0,0,0,0,0,0,1\n"
            "2026,3,0,0,0,0,0,0,0,2\n");

  std::vector<common::v1::Event> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key(), "liability");
  v1::ReportExported recorded;
  ASSERT_TRUE(events[0].payload().UnpackTo(&recorded));
  EXPECT_EQ(recorded.report(), "liability");
  EXPECT_EQ(recorded.table(), "monthly");
  EXPECT_EQ(recorded.rows(), 3);
  EXPECT_EQ(recorded.range().to_date().month(), 3);
  EXPECT_EQ(recorded.actor().operator_id(), "fin01");
  EXPECT_EQ(recorded.stream_positions().at("accrual"), 4u);
}

TEST_F(ServiceTest, ExportOfTheSummaryIsOneRow) {
  v1::ExportReportCsvRequest request;
  *request.mutable_liability() = InRange(v1::GetLiabilityReportRequest());
  request.set_table("summary");
  Export exported = RunExport(request);
  ASSERT_TRUE(exported.status.ok());
  EXPECT_EQ(exported.parts[0].header().rows(), 1);
  EXPECT_THAT(exported.csv, HasSubstr("\n700,CNY,0,,\n"));
}

TEST_F(ServiceTest, LargeExportsComeInChunksOfAtMostOneMiB) {
  ASSERT_TRUE(views_.view().Add(kFakeTable, "rows", {120000}).ok());
  v1::ExportReportCsvRequest request;
  *request.mutable_liability() = InRange(v1::GetLiabilityReportRequest());
  request.set_table("monthly");
  Export exported = RunExport(request);
  ASSERT_TRUE(exported.status.ok()) << exported.status.error_message();
  ASSERT_GT(exported.parts.size(), 3u);
  EXPECT_GT(exported.csv.size(), 2 * kMaxCsvChunkBytes);
  for (size_t i = 1; i < exported.parts.size(); ++i) {
    EXPECT_LE(exported.parts[i].chunk().size(), kMaxCsvChunkBytes);
    EXPECT_FALSE(exported.parts[i].has_header());
  }
  int64_t lines = 0;
  for (char c : exported.csv) lines += c == '\n';
  EXPECT_EQ(lines, 120001);
}

TEST_F(ServiceTest, ExportRefusesAnUnknownTableOrNoReportAndRecordsNothing) {
  v1::ExportReportCsvRequest request;
  *request.mutable_liability() = InRange(v1::GetLiabilityReportRequest());
  request.set_table("by_office");
  Export exported = RunExport(request);
  EXPECT_EQ(exported.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(exported.status.error_message(),
              HasSubstr("table: \"by_office\" is no table of this report; one "
                        "of: summary, by_tier, monthly"));
  EXPECT_TRUE(exported.parts.empty());

  request.clear_liability();
  exported = RunExport(request);
  EXPECT_EQ(exported.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(exported.status.error_message(), HasSubstr("report"));
  EXPECT_TRUE(Events().empty());
}

TEST_F(ServiceTest, CheckConsistencyAnswersAndIsRecorded) {
  grpc::ClientContext context;
  v1::CheckConsistencyResponse response;
  grpc::Status status = stub_->CheckConsistency(
      &context, v1::CheckConsistencyRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.consistent());
  EXPECT_EQ(response.liability_total(), 700);
  EXPECT_EQ(validation::FromProtoTimestamp(response.checked_at()), kNow);
  std::vector<common::v1::Event> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key(), "consistency");
  EXPECT_TRUE(events[0].payload().Is<v1::ConsistencyChecked>());
}

TEST(DeadlineOfTest, ACallWithoutDeadlineWaitsTheDefault) {
  grpc::ServerContext context;
  const absl::Time deadline = DeadlineOf(context);
  EXPECT_LE(deadline, absl::Now() + kDefaultWait);
  EXPECT_GT(deadline, absl::Now() + kDefaultWait - absl::Seconds(1));
}

}  // namespace
}  // namespace mileagebank::reporting
