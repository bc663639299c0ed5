#include "services/gateway/sessions.h"

#include <memory>

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "libs/store/store.h"
#include "libs/testing/testing.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kMember[] = "1000000018";

class SessionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    Reopen();
  }

  // Closes and opens the store and the sessions again: a restart.
  void Reopen() {
    sessions_.reset();
    store_.reset();
    auto store = store::Store::Open({.path = dir_, .tables = Sessions::Tables()});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto sessions =
        Sessions::Open(store_.get(), *TokenSigner::Create(std::string(32, 'k')),
                       options_, [this] { return now_; });
    ASSERT_TRUE(sessions.ok()) << sessions.status();
    sessions_ = std::move(*sessions);
  }

  absl::StatusCode AuthCode(const std::string& access_token) {
    return sessions_->Authenticate(access_token).status().code();
  }

  std::string dir_;
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  SessionOptions options_{absl::Minutes(15), absl::Hours(24)};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Sessions> sessions_;
};

TEST_F(SessionsTest, StartGivesPairThatAuthenticatesTheMember) {
  absl::StatusOr<v1::LoginResponse> login = sessions_->Start(kMember);
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->member_number(), kMember);
  EXPECT_EQ(TimeUtil::TimestampToSeconds(login->access_token_expires()),
            absl::ToUnixSeconds(now_ + absl::Minutes(15)));
  EXPECT_EQ(TimeUtil::TimestampToSeconds(login->refresh_token_expires()),
            absl::ToUnixSeconds(now_ + absl::Hours(24)));
  absl::StatusOr<Principal> who = sessions_->Authenticate(login->access_token());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->kind, Principal::Kind::kMember);
  EXPECT_EQ(who->member_number, kMember);
  EXPECT_FALSE(who->session_id.empty());
  EXPECT_NE(sessions_->Start(kMember)->refresh_token(), login->refresh_token());
}

TEST_F(SessionsTest, AccessTokenExpires) {
  v1::LoginResponse login = *sessions_->Start(kMember);
  now_ += absl::Minutes(15);
  EXPECT_EQ(AuthCode(login.access_token()),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(SessionsTest, RefreshGivesNewWorkingPair) {
  v1::LoginResponse login = *sessions_->Start(kMember);
  now_ += absl::Minutes(20);
  absl::StatusOr<v1::LoginResponse> next =
      sessions_->Refresh(login.refresh_token());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_NE(next->refresh_token(), login.refresh_token());
  EXPECT_EQ(next->member_number(), kMember);
  EXPECT_TRUE(sessions_->Authenticate(next->access_token()).ok());
  EXPECT_EQ(sessions_->Authenticate(next->access_token())->session_id,
            sessions_->Authenticate(next->access_token())->session_id);
  now_ += absl::Minutes(20);
  EXPECT_TRUE(sessions_->Refresh(next->refresh_token()).ok());
}

TEST_F(SessionsTest, ReusedRefreshTokenEndsTheWholeSession) {
  v1::LoginResponse login = *sessions_->Start(kMember);
  v1::LoginResponse next = *sessions_->Refresh(login.refresh_token());
  absl::Status reuse = sessions_->Refresh(login.refresh_token()).status();
  EXPECT_EQ(reuse.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(reuse.message().find("already used"), std::string::npos);
  // Neither the thief's nor the member's newer tokens work any more.
  EXPECT_EQ(AuthCode(next.access_token()), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(AuthCode(login.access_token()), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(sessions_->Refresh(next.refresh_token()).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Other sessions of the member are untouched.
  v1::LoginResponse other = *sessions_->Start(kMember);
  EXPECT_TRUE(sessions_->Authenticate(other.access_token()).ok());
}

TEST_F(SessionsTest, RefreshTokenExpires) {
  v1::LoginResponse login = *sessions_->Start(kMember);
  now_ += absl::Hours(24);
  absl::Status status = sessions_->Refresh(login.refresh_token()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "refresh token has expired");
}

TEST_F(SessionsTest, UnknownOrMalformedRefreshTokenIsRefused) {
  v1::LoginResponse login = *sessions_->Start(kMember);
  for (const std::string& bad :
       {std::string(""), std::string("nonsense"), RandomBase64Url(32),
        login.refresh_token() + "A", login.access_token()}) {
    absl::Status status = sessions_->Refresh(bad).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << bad;
    EXPECT_EQ(status.message(), "refresh token is not valid") << bad;
  }
  EXPECT_TRUE(sessions_->Refresh(login.refresh_token()).ok());
}

TEST_F(SessionsTest, EndStopsAccessAndRefreshAtOnce) {
  v1::LoginResponse login = *sessions_->Start(kMember);
  v1::LoginResponse other = *sessions_->Start(kMember);
  std::string session_id =
      sessions_->Authenticate(login.access_token())->session_id;
  ASSERT_TRUE(sessions_->End(session_id).ok());
  EXPECT_EQ(AuthCode(login.access_token()), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(sessions_->Refresh(login.refresh_token()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(sessions_->Authenticate(other.access_token()).ok());
  EXPECT_TRUE(sessions_->End(session_id).ok());  // Again: nothing to do.
}

TEST_F(SessionsTest, EndOfUnknownSessionIsNotFound) {
  EXPECT_EQ(sessions_->End("nope").code(), absl::StatusCode::kNotFound);
}

TEST_F(SessionsTest, EndedSessionStaysEndedAfterRestart) {
  v1::LoginResponse ended = *sessions_->Start(kMember);
  v1::LoginResponse live = *sessions_->Start(kMember);
  ASSERT_TRUE(
      sessions_->End(sessions_->Authenticate(ended.access_token())->session_id)
          .ok());
  now_ += absl::Minutes(1);
  Reopen();
  EXPECT_EQ(AuthCode(ended.access_token()), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(sessions_->Refresh(ended.refresh_token()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(sessions_->Authenticate(live.access_token()).ok());
  EXPECT_TRUE(sessions_->Refresh(live.refresh_token()).ok());
}

TEST_F(SessionsTest, UsedRefreshTokenStaysUsedAfterRestart) {
  v1::LoginResponse login = *sessions_->Start(kMember);
  v1::LoginResponse next = *sessions_->Refresh(login.refresh_token());
  Reopen();
  EXPECT_EQ(sessions_->Refresh(login.refresh_token()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(AuthCode(next.access_token()), absl::StatusCode::kUnauthenticated);
}

// Rows of `table` in the store, all durable once the sessions answered.
int RowCount(store::Store& store, const char* table) {
  int rows = 0;
  EXPECT_TRUE(store
                  .Scan(table, {},
                        [&](absl::string_view, absl::string_view) {
                          ++rows;
                          return true;
                        })
                  .ok());
  return rows;
}

TEST_F(SessionsTest, PurgeDeletesOnlyWhatNoTokenCanUse) {
  options_.purge_chunk_rows = 2;  // Chunks resume where the last one ended.
  Reopen();
  const absl::Time start = now_;
  v1::LoginResponse refreshed = *sessions_->Start(kMember);
  v1::LoginResponse ended = *sessions_->Start(kMember);
  v1::LoginResponse idle = *sessions_->Start(kMember);
  ASSERT_TRUE(
      sessions_->End(sessions_->Authenticate(ended.access_token())->session_id)
          .ok());
  now_ = start + absl::Hours(1);
  v1::LoginResponse next = *sessions_->Refresh(refreshed.refresh_token());
  EXPECT_EQ(*sessions_->Purge(), 2);  // The ended session and its entry.
  EXPECT_EQ(RowCount(*store_, "sessions"), 2);
  EXPECT_EQ(RowCount(*store_, "sessions_ended"), 0);
  EXPECT_EQ(RowCount(*store_, "session_refresh"), 4);
  absl::Status gone = sessions_->Refresh(ended.refresh_token()).status();
  EXPECT_EQ(gone.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(gone.message(), "refresh token is not valid");

  // The first three refresh tokens expire; the idle session's access token
  // is long expired, but its refresh token was exchangeable until now.
  now_ = start + absl::Hours(24);
  EXPECT_EQ(*sessions_->Purge(), 3);
  EXPECT_EQ(RowCount(*store_, "session_refresh"), 1);
  EXPECT_EQ(RowCount(*store_, "sessions"), 2);
  // Now no token of the idle session can be used; the refreshed one's
  // latest refresh token still can.
  now_ = start + absl::Hours(24) + absl::Minutes(16);
  EXPECT_EQ(*sessions_->Purge(), 1);
  EXPECT_EQ(RowCount(*store_, "sessions"), 1);
  EXPECT_EQ(sessions_->Refresh(idle.refresh_token()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(*sessions_->Purge(), 0);

  Reopen();
  absl::StatusOr<v1::LoginResponse> last =
      sessions_->Refresh(next.refresh_token());
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_TRUE(sessions_->Authenticate(last->access_token()).ok());
}

TEST_F(SessionsTest, PurgeKeepsEndedSessionsWhileTheirTokensAreUnexpired) {
  v1::LoginResponse ended = *sessions_->Start(kMember);
  ASSERT_TRUE(
      sessions_->End(sessions_->Authenticate(ended.access_token())->session_id)
          .ok());
  now_ += absl::Minutes(14);
  EXPECT_EQ(*sessions_->Purge(), 0);
  Reopen();
  EXPECT_EQ(AuthCode(ended.access_token()), absl::StatusCode::kUnauthenticated);
}

TEST(SessionOptionsTest, ConfigLifetimesWithDefaults) {
  config::v1::GatewayConfig config;
  SessionOptions defaults = SessionOptionsFromConfig(config);
  EXPECT_EQ(defaults.access_token_lifetime, absl::Minutes(15));
  EXPECT_EQ(defaults.refresh_token_lifetime, absl::Hours(24 * 7));
  config.set_access_token_seconds(60);
  config.set_refresh_token_seconds(3600);
  SessionOptions set = SessionOptionsFromConfig(config);
  EXPECT_EQ(set.access_token_lifetime, absl::Minutes(1));
  EXPECT_EQ(set.refresh_token_lifetime, absl::Hours(1));
}

}  // namespace
}  // namespace mileagebank::gateway
