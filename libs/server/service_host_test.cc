#include "libs/server/service_host.h"

#include <cstdlib>
#include <filesystem>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "gtest/gtest.h"
#include "libs/server/event_stream_service.h"
#include "libs/server/http_get.h"
#include "mileagebank/common/v1/common.pb.h"
#include "mileagebank/common/v1/events.grpc.pb.h"
#include "mileagebank/config/v1/membership.pb.h"

namespace mileagebank::server {
namespace {

class ServiceHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = std::string(std::getenv("TEST_TMPDIR")) + "/host";
    std::filesystem::remove_all(data_dir_);
  }

  absl::StatusOr<std::unique_ptr<ServiceHost>> Create(
      std::vector<std::string> args) {
    std::vector<const char*> argv = {"test"};
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    return ServiceHost::Create("test", argv.size(), argv.data(), &config_);
  }

  std::string data_dir_;
  config::v1::MembershipConfig config_;
};

TEST_F(ServiceHostTest, MissingDataDirRefusesToStart) {
  auto host = Create({});
  EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(host.status().message().find("server.data_dir"),
            absl::string_view::npos);
}

TEST_F(ServiceHostTest, BadAddressRefusesToStart) {
  auto host = Create({"--server.data_dir=" + data_dir_,
                      "--server.listen_address=nowhere"});
  EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ServiceHostTest, ServesHealthEventsAndMetricsThenShutsDown) {
  auto host = Create({"--server.data_dir=" + data_dir_,
                      "--server.port_file=" + data_dir_ + ".ports"});
  ASSERT_TRUE(host.ok()) << host.status();
  auto store = store::Store::Open({.path = data_dir_, .tables = {}});
  ASSERT_TRUE(store.ok());
  EventStreamService events(store->get());
  ASSERT_TRUE((*host)->Serve({&events}).ok());
  ASSERT_GT((*host)->grpc_port(), 0);
  ASSERT_GT((*host)->metrics_port(), 0);
  EXPECT_TRUE(std::filesystem::exists(data_dir_ + ".ports"));

  auto channel = grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*host)->grpc_port()),
      grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext health_context;
  grpc::health::v1::HealthCheckRequest health_request;
  grpc::health::v1::HealthCheckResponse health_response;
  ASSERT_TRUE(
      health->Check(&health_context, health_request, &health_response).ok());
  EXPECT_EQ(health_response.status(),
            grpc::health::v1::HealthCheckResponse::SERVING);

  common::v1::Money payload;
  payload.set_minor_units(7);
  store::WriteBatch batch = (*store)->NewBatch();
  batch.AppendEvent("k", payload);
  ASSERT_TRUE((*store)->Commit(batch).ok());
  auto stream = common::v1::EventStream::NewStub(channel);
  grpc::ClientContext head_context;
  common::v1::GetHeadResponse head;
  ASSERT_TRUE(stream->GetHead(&head_context, {}, &head).ok());
  EXPECT_EQ(head.last_sequence(), 1u);
  grpc::ClientContext subscribe_context;
  common::v1::SubscribeRequest subscribe;
  auto reader = stream->Subscribe(&subscribe_context, subscribe);
  common::v1::Event event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.sequence(), 1u);
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_TRUE(reader->Finish().ok());

  auto metrics = HttpGet((*host)->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_NE(metrics->find("mileagebank_rpc_requests_total{code=\"OK\",method="
                          "\"/mileagebank.common.v1.EventStream/GetHead\""),
            std::string::npos)
      << *metrics;
  EXPECT_NE(metrics->find("mileagebank_rpc_duration_seconds_bucket"),
            std::string::npos);
  EXPECT_NE(metrics->find("method=\"/grpc.health.v1.Health/Check\""),
            std::string::npos);

  // A follower that never leaves must not hold shutdown past the grace.
  grpc::ClientContext follow_context;
  subscribe.set_follow(true);
  subscribe.set_after_sequence(1);
  auto follower = stream->Subscribe(&follow_context, subscribe);
  store::WriteBatch second = (*store)->NewBatch();
  second.AppendEvent("k", payload);
  ASSERT_TRUE((*store)->Commit(second).ok());
  ASSERT_TRUE(follower->Read(&event));  // Now it is following, caught up.
  EXPECT_EQ(event.sequence(), 2u);
  (*host)->OnShutdown([&] { (*store)->StopWaiters(); });
  (*host)->Shutdown();
  EXPECT_FALSE(follower->Read(&event));
  EXPECT_EQ(follower->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

// A unary call of `method` with an empty request, however it is named.
grpc::Status CallNamed(const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& method) {
  grpc::ClientContext context;
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(),
      grpc::internal::RpcMethod(method.c_str(),
                                grpc::internal::RpcMethod::NORMAL_RPC),
      &context, request, &response);
}

TEST_F(ServiceHostTest, AnswersMethodsItDoesNotServeByName) {
  auto host = Create({"--server.data_dir=" + data_dir_});
  ASSERT_TRUE(host.ok()) << host.status();
  ASSERT_TRUE((*host)->Serve({}).ok());
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*host)->grpc_port()),
                          grpc::InsecureChannelCredentials());
  const std::string contract = "/mileagebank.common.v1.EventStream/GetHead";
  grpc::Status unserved = CallNamed(channel, contract);
  EXPECT_EQ(unserved.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(unserved.error_message(), contract + ": no such method in test");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(
        CallNamed(channel, "/made.Up/Name" + std::to_string(i)).error_code(),
        grpc::StatusCode::UNIMPLEMENTED);
  }
  // Made-up names are counted under one label, not a series each.
  auto metrics = HttpGet((*host)->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_NE(metrics->find("method=\"unknown\""), std::string::npos) << *metrics;
  EXPECT_EQ(metrics->find("made.Up"), std::string::npos) << *metrics;
  EXPECT_NE(metrics->find("method=\"" + contract + "\""), std::string::npos);
  (*host)->Shutdown();
}

TEST_F(ServiceHostTest, TheAnswerToUnservedMethodsCanBeChosen) {
  auto host = Create({"--server.data_dir=" + data_dir_});
  ASSERT_TRUE(host.ok()) << host.status();
  (*host)->AnswerUnknownMethods([](const std::string& method) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no: " + method);
  });
  ASSERT_TRUE((*host)->Serve({}).ok());
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*host)->grpc_port()),
                          grpc::InsecureChannelCredentials());
  grpc::Status refused = CallNamed(channel, "/a.B/C");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(refused.error_message(), "no: /a.B/C");
  (*host)->Shutdown();
}

}  // namespace
}  // namespace mileagebank::server
