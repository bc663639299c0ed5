#include "services/gateway/login.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/store/store.h"
#include "libs/testing/testing.h"
#include "libs/validation/member_number.h"
#include "services/gateway/sessions.h"

namespace mileagebank::gateway {
namespace {

namespace mv1 = membership::v1;
using google::protobuf::util::TimeUtil;

const std::string kMember = validation::MemberNumberFromSerial(100000001);
const std::string kOther = validation::MemberNumberFromSerial(100000002);

// Membership as login sees it: members by e-mail, one password each, and a
// status to answer with instead (to play a membership that is down).
class FakeDirectory : public MemberDirectory {
 public:
  absl::StatusOr<std::string> FindByEmail(absl::string_view email) override {
    ++calls;
    if (!fail_with.ok()) return fail_with;
    auto it = emails.find(email);
    if (it == emails.end()) return absl::NotFoundError("no such e-mail");
    return it->second;
  }
  absl::StatusOr<PasswordCheck> VerifyPassword(
      absl::string_view member_number, absl::string_view password) override {
    ++calls;
    if (!fail_with.ok()) return fail_with;
    if (member_number != kMember) {
      if (now != nullptr) *now += lookup_cost;
      return absl::NotFoundError("no member");
    }
    if (now != nullptr) *now += check_cost;
    PasswordCheck check;
    check.locked_until = locked_until;
    check.verified = locked_until == absl::InfinitePast() &&
                     password == "correct horse";
    check.attempts_remaining = check.verified ? 5 : 4;
    return check;
  }

  absl::flat_hash_map<std::string, std::string> emails = {
      {"ann@example.com", kMember}};
  absl::Time locked_until = absl::InfinitePast();
  absl::Status fail_with;
  int calls = 0;
  // When set, each VerifyPassword moves it on by what the answer took: a
  // lookup for an unknown member, a hash for a known one.
  absl::Time* now = nullptr;
  absl::Duration lookup_cost = absl::Milliseconds(2);
  absl::Duration check_cost;
};

class MemberLoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *store::Store::Open(
        {.path = testing::FreshTestDir(), .tables = Sessions::Tables()});
    sessions_ = *Sessions::Open(store_.get(),
                                *TokenSigner::Create(std::string(32, 'k')),
                                SessionOptions());
    login_ = std::make_unique<MemberLogin>(&directory_, sessions_.get());
  }

  void ExpectWrong(const absl::Status& status) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
    EXPECT_EQ(status.message(), kWrongLoginMessage);
  }

  FakeDirectory directory_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Sessions> sessions_;
  std::unique_ptr<MemberLogin> login_;
};

TEST_F(MemberLoginTest, MemberNumberAndPasswordStartSession) {
  absl::StatusOr<v1::LoginResponse> pair =
      login_->Login(kMember, "correct horse");
  ASSERT_TRUE(pair.ok()) << pair.status();
  EXPECT_EQ(pair->member_number(), kMember);
  EXPECT_EQ(sessions_->Authenticate(pair->access_token())->member_number,
            kMember);
}

TEST_F(MemberLoginTest, EmailAndPasswordStartSession) {
  absl::StatusOr<v1::LoginResponse> pair =
      login_->Login(" ann@example.com ", "correct horse");
  ASSERT_TRUE(pair.ok()) << pair.status();
  EXPECT_EQ(pair->member_number(), kMember);
}

TEST_F(MemberLoginTest, EveryWrongLoginSaysTheSame) {
  ExpectWrong(login_->Login(kMember, "wrong").status());
  ExpectWrong(login_->Login("bob@example.com", "correct horse").status());
  ExpectWrong(login_->Login(kOther, "correct horse").status());
  directory_.fail_with = absl::FailedPreconditionError("no password set");
  ExpectWrong(login_->Login(kMember, "correct horse").status());
  directory_.fail_with = absl::InvalidArgumentError("password: too long");
  ExpectWrong(login_->Login(kMember, "correct horse").status());
}

TEST_F(MemberLoginTest, MistypedMemberNumberIsWrongWithoutAskingMembership) {
  std::string mistyped = kMember;
  mistyped.back() = mistyped.back() == '0' ? '1' : '0';  // Check digit off.
  ExpectWrong(login_->Login(mistyped, "correct horse").status());
  ExpectWrong(login_->Login("FM12", "correct horse").status());
  EXPECT_EQ(directory_.calls, 0);
}

TEST_F(MemberLoginTest, UnknownLoginsTakeAsLongAsATypicalPasswordCheck) {
  absl::Time now = absl::FromUnixSeconds(1800000000);
  std::vector<absl::Duration> slept;
  directory_.now = &now;
  MemberLogin login(
      &directory_, sessions_.get(), [&] { return now; },
      [&](absl::Duration pause) {
        slept.push_back(pause);
        now += pause;
      });
  ExpectWrong(login.Login(kOther, "x").status());
  EXPECT_TRUE(slept.empty()) << "no check measured yet";

  directory_.check_cost = absl::Milliseconds(40);
  ExpectWrong(login.Login(kMember, "wrong").status());
  EXPECT_TRUE(slept.empty()) << "a checked password is not padded";
  ExpectWrong(login.Login(kOther, "x").status());
  ExpectWrong(login.Login("bob@example.com", "x").status());
  EXPECT_EQ(slept, (std::vector<absl::Duration>{absl::Milliseconds(38),
                                                absl::Milliseconds(40)}));

  directory_.check_cost = absl::Milliseconds(56);
  ASSERT_TRUE(login.Login(kMember, "correct horse").ok());
  ExpectWrong(login.Login("bob@example.com", "x").status());
  EXPECT_EQ(slept.back(), absl::Milliseconds(41)) << "40 + (56 - 40) / 16";

  slept.clear();
  directory_.fail_with = absl::UnavailableError("connect failed");
  EXPECT_EQ(login.Login(kOther, "x").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(slept.empty()) << "membership down is said at once";
}

TEST_F(MemberLoginTest, LockedMemberIsToldWhenToComeBack) {
  directory_.locked_until = absl::FromUnixSeconds(1800000900);
  absl::Status status = login_->Login(kMember, "correct horse").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("2027-01-15T08:15:00Z"), std::string::npos)
      << status;
}

TEST_F(MemberLoginTest, MembershipDownIsUnavailable) {
  for (absl::Status down :
       {absl::UnavailableError("connect failed"),
        absl::DeadlineExceededError("deadline")}) {
    directory_.fail_with = down;
    EXPECT_EQ(login_->Login(kMember, "x").status().code(),
              absl::StatusCode::kUnavailable);
    EXPECT_EQ(login_->Login("ann@example.com", "x").status().code(),
              absl::StatusCode::kUnavailable);
  }
}

TEST_F(MemberLoginTest, EmptyLoginOrPasswordIsInvalidArgument) {
  absl::Status status = login_->Login("  ", "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(testing::NamesField(status, "login"));
  EXPECT_TRUE(testing::NamesField(status, "password"));
}

// Membership over gRPC on port 0: answers FindMembers and VerifyPassword from
// fixed data.
class FakeMembership final : public mv1::Membership::Service {
 public:
  grpc::Status FindMembers(grpc::ServerContext*,
                           const mv1::FindMembersRequest* request,
                           mv1::FindMembersResponse* response) override {
    if (request->email() == "ann@example.com") {
      mv1::Member* merged = response->add_members();
      merged->set_member_number(kOther);
      merged->set_status(mv1::MERGED);
      mv1::Member* member = response->add_members();
      member->set_member_number(kMember);
      member->set_status(mv1::ACTIVE);
    } else if (request->email() == "twins@example.com") {
      response->add_members()->set_member_number(kMember);
      response->add_members()->set_member_number(kOther);
    }
    return grpc::Status::OK;
  }
  grpc::Status VerifyPassword(grpc::ServerContext*,
                              const mv1::VerifyPasswordRequest* request,
                              mv1::VerifyPasswordResponse* response) override {
    ++verify_calls;
    if (request->member_number() != kMember) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "member_number: unknown");
    }
    response->set_verified(request->password() == "correct horse");
    response->set_attempts_remaining(3);
    if (request->password() == "locked") {
      *response->mutable_locked_until() = TimeUtil::SecondsToTimestamp(1800000900);
    }
    return grpc::Status::OK;
  }
  std::atomic<int> verify_calls{0};
};

TEST(GrpcMemberDirectoryTest, AsksMembership) {
  FakeMembership service;
  int port = 0;
  std::unique_ptr<grpc::Server> server =
      grpc::ServerBuilder()
          .AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                            &port)
          .RegisterService(&service)
          .BuildAndStart();
  ASSERT_NE(port, 0);
  client::ServiceClient<mv1::Membership> membership(
      "127.0.0.1:" + std::to_string(port));
  GrpcMemberDirectory directory(&membership, absl::Seconds(5));

  EXPECT_EQ(*directory.FindByEmail("ann@example.com"), kMember);
  EXPECT_EQ(directory.FindByEmail("nobody@example.com").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(directory.FindByEmail("twins@example.com").status().code(),
            absl::StatusCode::kNotFound);

  absl::StatusOr<PasswordCheck> right =
      directory.VerifyPassword(kMember, "correct horse");
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_TRUE(right->verified);
  EXPECT_EQ(right->locked_until, absl::InfinitePast());
  absl::StatusOr<PasswordCheck> locked =
      directory.VerifyPassword(kMember, "locked");
  EXPECT_FALSE(locked->verified);
  EXPECT_EQ(locked->attempts_remaining, 3);
  EXPECT_EQ(locked->locked_until, absl::FromUnixSeconds(1800000900));
  EXPECT_EQ(directory.VerifyPassword(kOther, "x").status().code(),
            absl::StatusCode::kNotFound);
  server->Shutdown();
}

TEST(GrpcMemberDirectoryTest, NobodyListeningIsUnavailable) {
  // A port that was free a moment ago.
  int port = 0;
  {
    FakeMembership service;
    std::unique_ptr<grpc::Server> server =
        grpc::ServerBuilder()
            .AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                              &port)
            .RegisterService(&service)
            .BuildAndStart();
    server->Shutdown();
  }
  client::ServiceClient<mv1::Membership> membership(
      "127.0.0.1:" + std::to_string(port));
  GrpcMemberDirectory directory(&membership, absl::Seconds(2));
  absl::Status status = directory.VerifyPassword(kMember, "x").status();
  EXPECT_TRUE(absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status))
      << status;
}

}  // namespace
}  // namespace mileagebank::gateway
