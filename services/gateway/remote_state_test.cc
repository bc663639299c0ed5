// The fronts' view of the gateway's state (remote_state.h) against a real
// state owner: store-backed ApiKeys, Sessions and AuditLog over a real
// store, served by GatewayStateService on loopback. Two fronts share one
// owner as two gateway replicas would.
#include "services/gateway/remote_state.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "libs/store/store.h"
#include "libs/testing/loopback_server.h"
#include "libs/testing/testing.h"
#include "services/gateway/api_keys.h"
#include "services/gateway/audit_log.h"
#include "services/gateway/sessions.h"
#include "services/gateway/state_service.h"
#include "services/gateway/tokens.h"

namespace mileagebank::gateway {
namespace {

constexpr char kMember[] = "1000000018";
const std::string kTokenKey(32, 'k');

// Whether `call` succeeds within a few seconds: a restarted owner is found
// again at the channel's next reconnection attempt.
bool SucceedsSoon(const std::function<absl::Status()>& call) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!call().ok()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return true;
}

// One gateway replica's state at the owner.
struct Front {
  Front(const std::string& target, const std::string& secret,
        RemoteApiKeys::Clock clock = absl::Now)
      : client(target, secret, absl::Seconds(2)),
        keys(&client, absl::Seconds(1), std::move(clock)),
        sessions(&client, *TokenSigner::Create(kTokenKey)),
        audit(&client) {}

  StateClient client;
  RemoteApiKeys keys;
  RemoteSessions sessions;
  RemoteAuditLog audit;
};

class RemoteStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    configured_key_ = "mbk_0123456789ab_" + RandomBase64Url(32);
    config::v1::ConfiguredApiKey entry;
    entry.mutable_key()->set_key_id("0123456789ab");
    entry.mutable_key()->add_roles(v1::ADMIN);
    entry.set_sha256(absl::BytesToHexString(Sha256Bytes(configured_key_)));
    configured_.push_back(entry);
    StartOwner();
  }

  void TearDown() override { StopOwner(); }

  // Opens the owner's store and serves it: a (re)start of the owner.
  void StartOwner() {
    std::vector<std::string> tables = Sessions::Tables();
    for (const auto& part : {ApiKeys::Tables(), AuditLog::Tables()}) {
      tables.insert(tables.end(), part.begin(), part.end());
    }
    store_ = *store::Store::Open({.path = dir_, .tables = tables});
    keys_ = *ApiKeys::Open(store_.get(), configured_);
    sessions_ = *Sessions::Open(store_.get(), *TokenSigner::Create(kTokenKey),
                                SessionOptions());
    audit_ = *AuditLog::Open(store_.get());
    service_ = std::make_unique<GatewayStateService>(
        keys_.get(), sessions_.get(), audit_.get(),
        GatewayStateSecret(kTokenKey));
    // The same port across restarts, as a Service's address would be.
    grpc::ServerBuilder builder;
    builder.AddListeningPort(
        port_ == 0 ? "127.0.0.1:0" : "127.0.0.1:" + std::to_string(port_),
        grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    target_ = "127.0.0.1:" + std::to_string(port_);
  }

  void StopOwner() {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    service_.reset();
    audit_.reset();
    sessions_.reset();
    keys_.reset();
    store_.reset();
  }

  std::unique_ptr<Front> NewFront(RemoteApiKeys::Clock clock = absl::Now) {
    return std::make_unique<Front>(target_, GatewayStateSecret(kTokenKey),
                                   std::move(clock));
  }

  static v1::ApiKey AgentKey() {
    v1::ApiKey key;
    key.set_label("front test");
    key.add_roles(v1::AGENT);
    key.set_office_code("LHR1");
    return key;
  }

  std::string dir_;
  std::string configured_key_;
  std::vector<config::v1::ConfiguredApiKey> configured_;
  int port_ = 0;
  std::string target_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ApiKeys> keys_;
  std::unique_ptr<Sessions> sessions_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<GatewayStateService> service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(RemoteStateTest, KeyMadeThroughOneFrontAuthenticatesOnAnotherAtOnce) {
  auto one = NewFront();
  auto two = NewFront();
  absl::StatusOr<v1::CreateApiKeyResponse> made = one->keys.Create(AgentKey());
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_TRUE(keys_->Authenticate(made->secret()).ok());  // At the owner.
  EXPECT_TRUE(one->keys.Authenticate(made->secret()).ok());
  // Two has never fetched: the unknown key id makes it fetch.
  absl::StatusOr<Principal> who = two->keys.Authenticate(made->secret());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->key_id, made->key().key_id());
  EXPECT_EQ(who->office_code, "LHR1");
  ASSERT_EQ(who->roles.size(), 1u);
  EXPECT_EQ(who->roles[0], v1::AGENT);
  // A configured key of the owner's authenticates on a front too.
  EXPECT_TRUE(two->keys.Authenticate(configured_key_).ok());
  // A wrong secret for a known id does not.
  std::string wrong = made->secret();
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(two->keys.Authenticate(wrong).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(RemoteStateTest, RevocationThroughOneFrontReachesAnotherAtItsNextFetch) {
  auto one = NewFront();
  auto two = NewFront();
  v1::CreateApiKeyResponse made = *one->keys.Create(AgentKey());
  ASSERT_TRUE(two->keys.Authenticate(made.secret()).ok());
  ASSERT_TRUE(one->keys.Revoke(made.key().key_id()).ok());
  EXPECT_FALSE(one->keys.Authenticate(made.secret()).ok());  // At once here.
  EXPECT_TRUE(two->keys.Authenticate(made.secret()).ok());   // Its copy.
  ASSERT_TRUE(two->keys.Fetch().ok());
  EXPECT_EQ(two->keys.Authenticate(made.secret()).status().code(),
            absl::StatusCode::kUnauthenticated);
  absl::StatusOr<std::vector<v1::ApiKey>> list = two->keys.List();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);  // The configured key and the revoked one.
  EXPECT_TRUE((*list)[1].has_revoked() || (*list)[0].has_revoked());
}

TEST_F(RemoteStateTest, UnknownKeyIdsFetchAtMostOncePerGap) {
  absl::Time now = absl::Now();
  auto front = NewFront([&now] { return now; });
  const std::string made_up = "mbk_0000000000ff_" + RandomBase64Url(32);
  EXPECT_FALSE(front->keys.Authenticate(made_up).ok());  // Fetches.
  // Made at the owner just after: within the gap the front does not ask.
  v1::CreateApiKeyResponse made = *keys_->Create(AgentKey());
  EXPECT_EQ(front->keys.Authenticate(made.secret()).status().code(),
            absl::StatusCode::kUnauthenticated);
  now += absl::Seconds(1);
  EXPECT_TRUE(front->keys.Authenticate(made.secret()).ok());
}

TEST_F(RemoteStateTest, LogoutThroughOneFrontReachesAnotherAtItsNextSync) {
  auto one = NewFront();
  auto two = NewFront();
  absl::StatusOr<v1::LoginResponse> login = one->sessions.Start(kMember);
  ASSERT_TRUE(login.ok()) << login.status();
  absl::StatusOr<Principal> who =
      two->sessions.Authenticate(login->access_token());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->member_number, kMember);
  ASSERT_TRUE(two->sessions.SyncEnded().ok());

  ASSERT_TRUE(one->sessions.End(who->session_id).ok());
  EXPECT_FALSE(one->sessions.Authenticate(login->access_token()).ok());
  EXPECT_FALSE(sessions_->Authenticate(login->access_token()).ok());
  EXPECT_TRUE(two->sessions.Authenticate(login->access_token()).ok());
  ASSERT_TRUE(two->sessions.SyncEnded().ok());
  EXPECT_EQ(two->sessions.Authenticate(login->access_token()).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Unknown sessions are the owner's NOT_FOUND, with the field named.
  absl::Status unknown = two->sessions.End("no-such-session");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(testing::NamesField(unknown, "session_id")) << unknown;
}

TEST_F(RemoteStateTest, FrontSyncingAfterOwnerRestartStillLearnsEveryLogout) {
  auto front = NewFront();
  std::vector<v1::LoginResponse> logins;
  std::vector<std::string> session_ids;
  for (int i = 0; i < 3; ++i) {
    logins.push_back(*front->sessions.Start(kMember));
    session_ids.push_back(
        front->sessions.Authenticate(logins.back().access_token())->session_id);
  }
  ASSERT_TRUE(keys_ != nullptr);
  ASSERT_TRUE(sessions_->End(session_ids[0]).ok());
  ASSERT_TRUE(sessions_->End(session_ids[1]).ok());
  ASSERT_TRUE(front->sessions.SyncEnded().ok());  // Cursor 2 of this run.
  EXPECT_FALSE(front->sessions.Authenticate(logins[1].access_token()).ok());

  StopOwner();
  // While the owner is down the front goes on checking tokens itself.
  EXPECT_FALSE(front->sessions.SyncEnded().ok());
  EXPECT_TRUE(front->sessions.Authenticate(logins[2].access_token()).ok());
  EXPECT_FALSE(front->sessions.Authenticate(logins[0].access_token()).ok());
  StartOwner();
  ASSERT_TRUE(sessions_->End(session_ids[2]).ok());
  // The new run numbers its feed afresh (the two reloaded, then this one):
  // only by noticing the new epoch does the front not skip it.
  ASSERT_TRUE(SucceedsSoon([&] { return front->sessions.SyncEnded(); }));
  EXPECT_EQ(
      front->sessions.Authenticate(logins[2].access_token()).status().code(),
      absl::StatusCode::kUnauthenticated);
}

TEST_F(RemoteStateTest, RefreshThroughAnotherFrontRotatesAndReuseEndsSession) {
  auto one = NewFront();
  auto two = NewFront();
  v1::LoginResponse first = *one->sessions.Start(kMember);
  absl::StatusOr<v1::LoginResponse> second =
      two->sessions.Refresh(first.refresh_token());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->refresh_token(), first.refresh_token());
  EXPECT_TRUE(one->sessions.Authenticate(second->access_token()).ok());
  // The used token again, through the first front: the session ends.
  absl::StatusOr<v1::LoginResponse> reused =
      one->sessions.Refresh(first.refresh_token());
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(one->sessions.SyncEnded().ok());
  ASSERT_TRUE(two->sessions.SyncEnded().ok());
  EXPECT_FALSE(one->sessions.Authenticate(second->access_token()).ok());
  EXPECT_FALSE(two->sessions.Authenticate(second->access_token()).ok());
  EXPECT_FALSE(two->sessions.Refresh(second->refresh_token()).ok());
}

TEST_F(RemoteStateTest, AuditRecordsFromBothFrontsAreOneTrail) {
  auto one = NewFront();
  auto two = NewFront();
  v1::AuditRecord record;
  record.set_key_id("0123456789ab");
  record.set_operation("/mileagebank.accrual.v1.Accrual/AdjustMiles");
  record.set_member_number(kMember);
  record.set_outcome("OK");
  absl::StatusOr<v1::AuditRecord> a = one->audit.Append(record);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<v1::AuditRecord> b = two->audit.Append(record);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->sequence(), a->sequence() + 1);
  v1::QueryAuditRequest query;
  query.set_member_number(kMember);
  absl::StatusOr<v1::QueryAuditResponse> page = one->audit.Query(query);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->records_size(), 2);
  EXPECT_EQ(page->records(1).sequence(), b->sequence());
  // The owner's validation reaches the caller with the field named.
  query.set_page_size(5000);
  absl::Status invalid = two->audit.Query(query).status();
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(testing::NamesField(invalid, "page_size")) << invalid;
  v1::ApiKey bad = AgentKey();
  bad.clear_office_code();
  absl::Status refused = one->keys.Create(bad).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(testing::NamesField(refused, "key.office_code")) << refused;
}

TEST_F(RemoteStateTest, OwnerDownFailsWritesAsUnavailableButLocalChecksGoOn) {
  auto front = NewFront();
  v1::CreateApiKeyResponse made = *front->keys.Create(AgentKey());
  v1::LoginResponse login = *front->sessions.Start(kMember);
  EXPECT_TRUE(front->audit.Writable().ok());
  StopOwner();
  absl::Status start = front->sessions.Start(kMember).status();
  EXPECT_EQ(start.code(), absl::StatusCode::kUnavailable) << start;
  EXPECT_EQ(start.message(), "gateway state is unavailable; try again shortly");
  EXPECT_EQ(front->keys.Create(AgentKey()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(front->audit.Append(v1::AuditRecord()).status().code(),
            absl::StatusCode::kUnavailable);
  // Known down: audited writes are to be refused before they are made.
  EXPECT_EQ(front->audit.Writable().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(front->keys.Authenticate(made.secret()).ok());
  EXPECT_TRUE(front->sessions.Authenticate(login.access_token()).ok());
  StartOwner();
  EXPECT_TRUE(
      SucceedsSoon([&] { return front->sessions.Start(kMember).status(); }));
  EXPECT_TRUE(front->audit.Writable().ok());
}

TEST_F(RemoteStateTest, FrontWithoutTheKeyIsRefused) {
  Front stranger(target_, GatewayStateSecret(std::string(32, 'x')));
  absl::Status start = stranger.sessions.Start(kMember).status();
  EXPECT_EQ(start.code(), absl::StatusCode::kInternal) << start;
  EXPECT_FALSE(stranger.keys.Fetch().ok());
  EXPECT_FALSE(stranger.keys.Authenticate(configured_key_).ok());
}

TEST_F(RemoteStateTest, FollowerKeepsAFrontsCopiesCurrent) {
  auto one = NewFront();
  auto two = NewFront();
  StateFollower follower(&two->keys, &two->sessions, absl::Milliseconds(50),
                         absl::Milliseconds(50));
  v1::LoginResponse login = *one->sessions.Start(kMember);
  const std::string session_id =
      one->sessions.Authenticate(login.access_token())->session_id;
  v1::CreateApiKeyResponse made = *one->keys.Create(AgentKey());
  ASSERT_TRUE(two->keys.Authenticate(made.secret()).ok());
  ASSERT_TRUE(one->keys.Revoke(made.key().key_id()).ok());
  ASSERT_TRUE(one->sessions.End(session_id).ok());
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while ((two->keys.Authenticate(made.secret()).ok() ||
          two->sessions.Authenticate(login.access_token()).ok()) &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE(two->keys.Authenticate(made.secret()).ok());
  EXPECT_FALSE(two->sessions.Authenticate(login.access_token()).ok());
}

}  // namespace
}  // namespace mileagebank::gateway
